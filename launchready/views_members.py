"""Members page: list, invite, change role, remove, leave; revoke and resend invitations."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from . import selectors, tenancy
from .forms import InviteForm, RoleForm
from .models import Membership, Role
from .views_common import SESSION_WORKSPACE_KEY, workspace_view

logger = logging.getLogger(__name__)


def _members_page(
    request: HttpRequest, m: Membership, invite_form: InviteForm | None = None, *, status: int = 200
) -> HttpResponse:
    members = list(selectors.members_of(m.workspace))
    roles = tenancy.assignable_roles(m)
    rows = [
        {
            "membership": x,
            "manageable": tenancy.can_manage(m, x) or (x.pk == m.pk and m.role == Role.OWNER),
            "is_me": x.pk == m.pk,
        }
        for x in members
    ]
    context = {
        "rows": rows,
        "invitations": selectors.pending_invitations(m.workspace),
        "invite_form": invite_form or InviteForm(roles=roles),
        "assignable_roles": [(r, Role(r).label) for r in roles],
    }
    return render(request, "members/list.html", context, status=status)


def _act(request: HttpRequest, m: Membership, action: Callable[[], object], success: str) -> HttpResponse:
    """Run a tenancy action; its refusal (a sentence) or ``success`` is flashed on the members page."""
    try:
        action()
    except tenancy.TenancyError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, success)
    return redirect("member_list", workspace=m.workspace.uuid)


@workspace_view()
def member_list(request: HttpRequest, m: Membership) -> HttpResponse:
    return _members_page(request, m)


@workspace_view(write=Role.ADMIN, methods=["POST"])
def member_invite(request: HttpRequest, m: Membership) -> HttpResponse:
    form = InviteForm(request.POST, roles=tenancy.assignable_roles(m))
    if form.is_valid():
        try:
            inv = tenancy.invite(m, form.cleaned_data["email"], form.cleaned_data["role"])
        except tenancy.InvitationLimitReached as exc:
            # Not about the address: shown above the form, which keeps what was typed.
            form.add_error(None, str(exc))
            return _members_page(request, m, invite_form=form, status=429)
        except tenancy.TenancyError as exc:
            form.add_error("email", str(exc))
        else:
            messages.success(request, f"Invitation sent to {inv.email}. It is valid for 7 days.")
            return redirect("member_list", workspace=m.workspace.uuid)
    return _members_page(request, m, invite_form=form)


@workspace_view(write=Role.ADMIN, methods=["POST"])
def member_role(request: HttpRequest, m: Membership, member) -> HttpResponse:
    target = selectors.member_in(m.workspace, member)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose one of the listed roles.")
        return redirect("member_list", workspace=m.workspace.uuid)
    role = Role(form.cleaned_data["role"])
    success = f"{target.user.email} is now {role.label.lower()}."
    return _act(request, m, lambda: tenancy.change_role(m, target, role), success)


@workspace_view(write=Role.ADMIN, methods=["POST"])
def member_remove(request: HttpRequest, m: Membership, member) -> HttpResponse:
    target = selectors.member_in(m.workspace, member)
    success = f"{target.user.email} was removed from {m.workspace.name}."
    return _act(request, m, lambda: tenancy.remove_member(m, target), success)


# Any member may leave, viewers included: the one write a viewer can make.
@workspace_view(write=Role.VIEWER)
def workspace_leave(request: HttpRequest, m: Membership) -> HttpResponse:
    if request.method == "POST":
        try:
            tenancy.leave(m)
        except tenancy.TenancyError as exc:
            messages.error(request, str(exc))
            return redirect("member_list", workspace=m.workspace.uuid)
        request.session.pop(SESSION_WORKSPACE_KEY, None)
        messages.success(request, f"You left {m.workspace.name}.")
        return redirect("home")
    return render(request, "workspace/leave.html")


@workspace_view(write=Role.ADMIN, methods=["POST"])
def invitation_revoke(request: HttpRequest, m: Membership, invitation) -> HttpResponse:
    inv = selectors.invitation_in(m.workspace, invitation)
    success = f"The invitation for {inv.email} was revoked; its link no longer works."
    return _act(request, m, lambda: tenancy.revoke_invitation(inv), success)


@workspace_view(write=Role.ADMIN, methods=["POST"])
def invitation_resend(request: HttpRequest, m: Membership, invitation) -> HttpResponse:
    inv = selectors.invitation_in(m.workspace, invitation)
    success = f"Invitation sent again to {inv.email}; it is valid for another 7 days."
    return _act(request, m, lambda: tenancy.resend_invitation(m, inv), success)
