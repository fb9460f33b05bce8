"""The invitation link from the email: show, accept, decline.

These pages are reached by the invitation's secret token, not by workspace UUID,
because the person opening them is not a member yet. The token is never stored (only
its hash): the page passes it on to its own forms, and the session remembers the
invitation's uuid once this browser has shown it holds the token.

A logged-in user also sees their open invitations on the Workspaces page and can
answer them there by uuid (``received_*``): the invitation was sent to one of their
verified addresses, which proves as much as the token does.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from . import selectors, tenancy
from .models import Invitation
from .signals import INVITATION_SESSION_KEY
from .views_common import SESSION_WORKSPACE_KEY

logger = logging.getLogger(__name__)


def _page(request: HttpRequest, invitation: Invitation, token: str, *, status: int = 200) -> HttpResponse:
    problem = tenancy.invitation_problem(invitation)
    wrong_user = None
    if not problem and request.user.is_authenticated:
        wrong_user = tenancy.wrong_user_problem(invitation, request.user)
    context = {
        "invitation": invitation,
        "token": token,
        "problem": problem,
        "wrong_user": wrong_user,
        "login_url": reverse("account_login") + "?" + urlencode({"next": request.path}),
        "signup_url": reverse("account_signup") + "?" + urlencode({"email": invitation.email}),
    }
    if problem:
        status = 410
    elif wrong_user:
        status = 403
    return render(request, "invitations/detail.html", context, status=status)


@require_http_methods(["GET", "HEAD"])
def invitation_detail(request: HttpRequest, token: str) -> HttpResponse:
    invitation = selectors.invitation_by_token(token)
    if invitation.is_open and not request.user.is_authenticated:
        # Remembered so that signing up from here joins this workspace (signals.py)
        # and the invited address counts as verified (adapters.py).
        # (Not allauth's stash_verified_email: that would attach the invited address to
        # an account signed up under a different one.)
        request.session[INVITATION_SESSION_KEY] = str(invitation.uuid)
    return _page(request, invitation, token)


@require_POST
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    invitation = selectors.invitation_by_token(token)
    if not request.user.is_authenticated:
        return redirect_to_login(reverse("invitation_detail", kwargs={"token": token}))
    try:
        m = tenancy.accept_invitation(invitation, request.user)
    except tenancy.TenancyError:
        invitation.refresh_from_db()
        return _page(request, invitation, token)
    request.session[SESSION_WORKSPACE_KEY] = str(m.workspace.uuid)
    messages.success(request, f"Welcome to {m.workspace.name}. You joined as {m.get_role_display().lower()}.")
    return redirect("workspace_overview", workspace=m.workspace.uuid)


@require_POST
def invitation_decline(request: HttpRequest, token: str) -> HttpResponse:
    invitation = selectors.invitation_by_token(token)
    try:
        tenancy.decline_invitation(invitation, request.user)
    except tenancy.TenancyError:
        return _page(request, invitation, token)
    request.session.pop(INVITATION_SESSION_KEY, None)
    messages.info(request, f"You declined the invitation to {invitation.workspace.name}.")
    return redirect("home")


@login_required
@require_POST
def received_accept(request: HttpRequest, invitation) -> HttpResponse:
    received = selectors.received_invitation(request.user, invitation)
    try:
        m = tenancy.accept_invitation(received, request.user)
    except tenancy.TenancyError as exc:
        messages.error(request, str(exc))
        return redirect("workspace_list")
    request.session[SESSION_WORKSPACE_KEY] = str(m.workspace.uuid)
    messages.success(request, f"Welcome to {m.workspace.name}. You joined as {m.get_role_display().lower()}.")
    return redirect("workspace_overview", workspace=m.workspace.uuid)


@login_required
@require_POST
def received_decline(request: HttpRequest, invitation) -> HttpResponse:
    received = selectors.received_invitation(request.user, invitation)
    try:
        tenancy.decline_invitation(received, request.user)
    except tenancy.TenancyError as exc:
        messages.error(request, str(exc))
    else:
        messages.info(request, f"You declined the invitation to {received.workspace.name}.")
    return redirect("workspace_list")
