"""The one access module for tenant data.

Every view, task and API endpoint reaches workspaces and what they own through
these functions. They take the user and return objects or querysets already scoped
to the workspaces that user belongs to: a stranger gets ``Http404`` (so they never
learn an object exists) and a member whose role is too low gets ``PermissionDenied``.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from .models import Membership, Role, Site, Workspace


def memberships_for(user) -> QuerySet[Membership]:
    if not user.is_authenticated:
        return Membership.objects.none()
    return Membership.objects.filter(user=user).select_related("workspace").order_by("workspace__name")


def workspaces_for(user) -> QuerySet[Workspace]:
    if not user.is_authenticated:
        return Workspace.objects.none()
    return Workspace.objects.filter(memberships__user=user)


def membership(user, workspace_uuid, *, need: str = Role.VIEWER) -> Membership:
    """The user's membership in a workspace, or 404 for strangers and 403 for low roles."""
    if not user.is_authenticated:
        raise Http404
    try:
        m = Membership.objects.select_related("workspace").get(workspace__uuid=workspace_uuid, user=user)
    except (Membership.DoesNotExist, ValueError):
        raise Http404 from None
    if not m.can(need):
        raise PermissionDenied(f"Your role ({m.get_role_display()}) cannot make changes here.")
    return m


def sites_for(workspace: Workspace) -> QuerySet[Site]:
    return Site.objects.filter(workspace=workspace)


def site(user, workspace_uuid, site_uuid, *, need: str = Role.VIEWER) -> tuple[Membership, Site]:
    m = membership(user, workspace_uuid, need=need)
    try:
        return m, Site.objects.get(workspace=m.workspace, uuid=site_uuid)
    except (Site.DoesNotExist, ValueError):
        raise Http404 from None
