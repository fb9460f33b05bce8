"""Alert channels, escalation contacts, maintenance windows and API tokens."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import add_never_cache_headers

from launchready import ratelimit
from launchready.models import Membership, Role
from launchready.views_common import workspace_view

from . import outbox, selectors
from .forms import ApiTokenForm, ChannelForm, ContactForm, MaintenanceForm
from .models import AlertChannel, ApiToken, EscalationContact, MaintenanceWindow
from .tasks import send_notification

logger = logging.getLogger(__name__)

NEW_TOKEN_SESSION_KEY = "monitoring:new_api_token"  # noqa: S105 - the session key, not a secret


def _ctx(m: Membership, **extra) -> dict:
    return {"workspace": m.workspace, "membership": m, "can_edit": m.can(Role.MEMBER), **extra}


def _channels_page(
    request: HttpRequest, m: Membership, form: ChannelForm, contact_form: ContactForm, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "monitoring/channels.html",
        _ctx(
            m,
            form=form,
            channels=AlertChannel.objects.filter(workspace=m.workspace),
            contacts=EscalationContact.objects.filter(workspace=m.workspace),
            contact_form=contact_form,
            can_admin=m.can(Role.ADMIN),
        ),
        status=status,
    )


def _channel_form(request: HttpRequest) -> ChannelForm:
    """The form for the chosen kind. "Show the fields" (no JavaScript) or the kind list's htmx
    request asks for another kind's form, keeping the name typed so far; secrets are never kept."""
    if request.method == "POST" and "show_kind" not in request.POST:
        return ChannelForm(request.POST)
    asked = request.POST if request.method == "POST" else request.GET
    initial = {"name": asked["name"]} if asked.get("name") else {}
    return ChannelForm(initial=initial, kind=asked.get("kind"))


@workspace_view(write=Role.ADMIN)
def channels(request: HttpRequest, m: Membership) -> HttpResponse:
    form = _channel_form(request)
    if form.is_bound and form.is_valid():
        channel = form.save(m.workspace)
        messages.success(request, f"Channel “{channel.name}” added. Send a test to check it works.")
        return redirect("monitoring:channels", workspace=m.workspace.uuid)
    return _channels_page(request, m, form, ContactForm())


@workspace_view(write=Role.MEMBER, methods=("POST",))
def channel_test(request: HttpRequest, m: Membership, channel) -> HttpResponse:
    ch = selectors.channel_in(m.workspace, channel)
    limit = settings.MONITORING_TEST_ALERTS_PER_HOUR
    verdict = ratelimit.hit(f"test-alerts:{m.workspace.uuid}", limit, 3600)
    if not verdict.allowed:
        messages.error(
            request,
            f"No test alert sent: this workspace has sent its {limit} test alerts for this hour "
            f"(each one can be a paid text message). Try again in {verdict.retry_after_minutes} minutes.",
        )
        return redirect("monitoring:channels", workspace=m.workspace.uuid)
    n = outbox.queue_test(ch)
    send_notification.delay_on_commit(n.pk)
    messages.success(request, f"Test alert queued for “{ch.name}”.")
    return redirect("monitoring:channels", workspace=m.workspace.uuid)


@workspace_view(write=Role.ADMIN, methods=("POST",))
def channel_enable(request: HttpRequest, m: Membership, channel) -> HttpResponse:
    ch = selectors.channel_in(m.workspace, channel)
    AlertChannel.objects.filter(pk=ch.pk).update(disabled_at=None)
    messages.success(request, f"“{ch.name}” is enabled again.")
    return redirect("monitoring:channels", workspace=m.workspace.uuid)


@workspace_view(write=Role.ADMIN, methods=("POST",))
def channel_delete(request: HttpRequest, m: Membership, channel) -> HttpResponse:
    ch = selectors.channel_in(m.workspace, channel)
    ch.delete()
    messages.success(request, f"Channel “{ch.name}” deleted.")
    return redirect("monitoring:channels", workspace=m.workspace.uuid)


@workspace_view(write=Role.ADMIN, methods=("POST",))
def contact_add(request: HttpRequest, m: Membership) -> HttpResponse:
    form = ContactForm(request.POST)
    if not form.is_valid():
        # Show the form again with what was typed and the error next to each field.
        return _channels_page(request, m, ChannelForm(), form, status=400)
    contact = form.save(commit=False)
    contact.workspace = m.workspace
    contact.save()
    messages.success(request, f"{contact.name} added to the escalation list.")
    return redirect("monitoring:channels", workspace=m.workspace.uuid)


@workspace_view(write=Role.ADMIN, methods=("POST",))
def contact_delete(request: HttpRequest, m: Membership, contact) -> HttpResponse:
    selectors.contact_in(m.workspace, contact).delete()
    messages.success(request, "Contact removed from the escalation list.")
    return redirect("monitoring:channels", workspace=m.workspace.uuid)


def _maintenance_page(
    request: HttpRequest,
    m: Membership,
    *,
    form: MaintenanceForm | None = None,
    token_form: ApiTokenForm | None = None,
    new_token: str = "",
    status: int = 200,
) -> HttpResponse:
    windows = MaintenanceWindow.objects.filter(
        workspace=m.workspace, ends_at__gt=timezone.now()
    ).select_related("site")
    return render(
        request,
        "monitoring/maintenance.html",
        _ctx(
            m,
            form=form or MaintenanceForm(workspace=m.workspace),
            windows=windows,
            tokens=ApiToken.objects.filter(workspace=m.workspace).select_related("site", "created_by"),
            token_form=token_form or ApiTokenForm(workspace=m.workspace),
            new_token=new_token,
            can_admin=m.can(Role.ADMIN),
        ),
        status=status,
    )


@workspace_view(write=Role.MEMBER)
def maintenance(request: HttpRequest, m: Membership) -> HttpResponse:
    form = MaintenanceForm(request.POST or None, workspace=m.workspace)
    if request.method == "POST" and form.is_valid():
        window = form.save(commit=False)
        window.created_by = request.user.email
        window.save()
        messages.success(request, "Maintenance window scheduled: alerts are held while it is open.")
        return redirect("monitoring:maintenance", workspace=m.workspace.uuid)
    new_token = request.session.pop(NEW_TOKEN_SESSION_KEY, "") if request.method == "GET" else ""
    response = _maintenance_page(request, m, form=form, new_token=new_token)
    if new_token:
        add_never_cache_headers(response)  # the one page that shows it: no cache keeps it
    return response


@workspace_view(write=Role.MEMBER, methods=("POST",))
def window_delete(request: HttpRequest, m: Membership, window) -> HttpResponse:
    selectors.window_in(m.workspace, window).delete()
    messages.success(request, "Maintenance window removed.")
    return redirect("monitoring:maintenance", workspace=m.workspace.uuid)


@workspace_view(write=Role.ADMIN, methods=("POST",))
def token_create(request: HttpRequest, m: Membership) -> HttpResponse:
    """Create a token; the next view of the maintenance page shows it, once.

    The plain value waits in the server-side session (never a cookie) until then; only
    its hash is stored with the token.
    """
    form = ApiTokenForm(request.POST, workspace=m.workspace)
    if not form.is_valid():
        return _maintenance_page(request, m, token_form=form, status=400)
    token, plain = ApiToken.issue(
        m.workspace,
        form.cleaned_data["name"],
        request.user,
        site=form.cleaned_data["site"],
        read_only=form.cleaned_data["access"] == "read_only",
    )
    logger.info(
        "api token created workspace=%s token=%s by=%s", m.workspace.uuid, token.uuid, request.user.pk
    )
    request.session[NEW_TOKEN_SESSION_KEY] = plain
    return redirect("monitoring:maintenance", workspace=m.workspace.uuid)


@workspace_view(write=Role.ADMIN, methods=("POST",))
def token_delete(request: HttpRequest, m: Membership, token) -> HttpResponse:
    revoked = selectors.token_in(m.workspace, token)
    revoked.delete()
    logger.info(
        "api token revoked workspace=%s token=%s by=%s", m.workspace.uuid, revoked.uuid, request.user.pk
    )
    messages.success(request, f"Token “{revoked.name}” revoked: requests with it now get 401.")
    return redirect("monitoring:maintenance", workspace=m.workspace.uuid)
