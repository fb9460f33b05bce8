"""The unsubscribe link of every report email (works without logging in) and email preferences."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from launchready import selectors
from launchready.models import Membership

from . import delivery
from .forms import DigestForm
from .models import DigestSubscription, MemberReportSetting
from .render import read_unsubscribe_token
from .schedule import DEFAULT_HOUR, DEFAULT_WEEKDAY, next_slot


def _target(token: str) -> tuple[str, object] | None:
    try:
        kind, public_id = read_unsubscribe_token(token)
    except signing.BadSignature:
        return None
    if kind == "weekly":
        m = Membership.objects.select_related("workspace").filter(uuid=public_id).first()
        return (kind, m) if m else None
    sub = DigestSubscription.objects.filter(uuid=public_id).first()
    return (kind, sub) if sub else None


# One-click unsubscribe (RFC 8058): mail clients POST "List-Unsubscribe=One-Click" with no
# cookie and no CSRF token. The signed token is the authorisation; a GET only shows the
# button, so link scanners that open every URL do not unsubscribe anyone.
@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    target = _target(token)
    if target is None:
        return render(request, "reports/unsubscribe.html", {"invalid": True}, status=404)
    kind, obj = target
    what = f"the weekly report of {obj.workspace.name}" if kind == "weekly" else "the weekly portfolio digest"
    done = False
    if request.method == "POST":
        if kind == "weekly":
            delivery.opt_out(obj)
        else:
            DigestSubscription.objects.filter(pk=obj.pk).update(enabled=False)
        done = True
    return render(request, "reports/unsubscribe.html", {"what": what, "done": done})


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    """The user's report emails: each workspace's weekly report and the portfolio digest."""
    sub = DigestSubscription.objects.filter(user=request.user).first()
    form = DigestForm(
        request.POST or None,
        initial={"enabled": bool(sub and sub.enabled), "timezone": sub.timezone if sub else "UTC"},
    )
    if request.method == "POST" and form.is_valid():
        tz = form.cleaned_data["timezone"]
        DigestSubscription.objects.update_or_create(
            user=request.user,
            defaults={
                "enabled": form.cleaned_data["enabled"],
                "timezone": tz,
                "next_send_at": next_slot(timezone.now(), DEFAULT_WEEKDAY, DEFAULT_HOUR, tz),
            },
        )
        messages.success(request, "Digest preferences saved.")
        return redirect("reports_preferences")
    memberships = list(selectors.memberships_for(request.user))
    off = set(
        MemberReportSetting.objects.filter(
            membership__in=memberships, opted_out_at__isnull=False
        ).values_list("membership_id", flat=True)
    )
    rows = [(m, m.pk not in off) for m in memberships]
    return render(request, "reports/preferences.html", {"form": form, "rows": rows})
