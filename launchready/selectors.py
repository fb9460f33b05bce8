"""The one access module for tenant data.

Every view, task and API endpoint reaches workspaces and what they own through
these functions. They take the user and return objects or querysets already scoped
to the workspaces that user belongs to: a stranger gets ``Http404`` (so they never
learn an object exists) and a member whose role is too low gets ``PermissionDenied``.
"""

from __future__ import annotations

from typing import TypeVar

from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Case, Count, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.http import Http404

from . import fragments
from .models import (
    CampaignURL,
    CriticalRoute,
    Invitation,
    Membership,
    Role,
    Site,
    Subdomain,
    Workspace,
    hash_invitation_token,
)

T = TypeVar("T")


def memberships_for(user) -> QuerySet[Membership]:
    if not user.is_authenticated:
        return Membership.objects.none()
    return Membership.objects.filter(user=user).select_related("workspace").order_by("workspace__name")


def workspace_ids_of(user) -> list[int]:
    """The ids of the user's workspaces, in a stable order (one query)."""
    return list(
        Membership.objects.filter(user=user).order_by("workspace_id").values_list("workspace_id", flat=True)
    )


def membership(user, workspace_uuid, *, need: str = Role.VIEWER) -> Membership:
    """The user's membership in a workspace, or 404 for strangers and 403 for low roles.

    Read once per version of the user (``fragments.user_key``) and kept ``fragments.TTL``:
    every change it could show moves that version (the membership saved or deleted, its
    workspace saved: launchready.fragments), so a removed member gets the 404 and a new role
    applies on the next request. Only memberships are kept, never the lack of one."""
    if not user.is_authenticated:
        raise Http404
    key = fragments.user_key("membership", user.pk, workspace_uuid)
    m = cache.get(key)
    if not isinstance(m, Membership) or m.user_id != user.pk:
        try:
            m = Membership.objects.select_related("workspace").get(workspace__uuid=workspace_uuid, user=user)
        except (Membership.DoesNotExist, ValueError, ValidationError):
            raise Http404 from None
        cache.set(key, m, fragments.TTL)
    if not m.can(need):
        raise PermissionDenied(f"Your role ({m.get_role_display()}) cannot make changes here.")
    return m


def sites_for(workspace: Workspace) -> QuerySet[Site]:
    return Site.objects.filter(workspace=workspace)


def site(user, workspace_uuid, site_uuid, *, need: str = Role.VIEWER) -> tuple[Membership, Site]:
    m = membership(user, workspace_uuid, need=need)
    try:
        return m, Site.objects.get(workspace=m.workspace, uuid=site_uuid)
    except (Site.DoesNotExist, ValueError, ValidationError):
        raise Http404 from None


def workspace_list(user) -> QuerySet[Membership]:
    """The user's memberships with ``site_count`` and ``member_count``, in one query."""
    return (
        memberships_for(user)
        .annotate(
            site_count=Count("workspace__sites", distinct=True),
            member_count=Count("workspace__memberships", distinct=True),
        )
        .order_by("workspace__name")
    )


def last_used_membership(user, session_uuid: str | None = None) -> Membership | None:
    """The workspace ``/`` should open: the session's, else the most recently used one."""
    qs = memberships_for(user)
    if session_uuid:
        m = qs.filter(workspace__uuid=session_uuid).first()
        if m:
            return m
    return qs.order_by(F("last_used_at").desc(nulls_last=True), "workspace__name").first()


def members_of(workspace: Workspace) -> QuerySet[Membership]:
    return Membership.objects.filter(workspace=workspace).select_related("user").order_by("user__email")


def pending_invitations(workspace: Workspace) -> QuerySet[Invitation]:
    return Invitation.objects.filter(workspace=workspace, status=Invitation.Status.PENDING).select_related(
        "invited_by"
    )


def site_list(workspace: Workspace) -> QuerySet[Site]:
    """Sites with ``route_count`` and ``subdomain_count`` for the sites page, in one query."""
    return sites_for(workspace).annotate(
        route_count=Count("routes", distinct=True),
        subdomain_count=Count("subdomains", distinct=True),
    )


SITES_PER_PAGE = 24  # site cards on one page of the workspace overview


def overview_sites(workspace: Workspace) -> QuerySet[Site]:
    """The workspace overview's sites, worst first: not ready, ready with risks, not audited
    yet, ready (by their latest finished audit), then by domain. One query per page."""
    from audits.models import AuditRun  # audits builds on launchready: imported at call time

    latest_verdict = (
        AuditRun.objects.filter(site_id=OuterRef("pk"), status=AuditRun.Status.DONE)
        .order_by("-created_at")
        .values("verdict")[:1]
    )
    rank = Case(
        When(latest_verdict="not_ready", then=Value(0)),
        When(latest_verdict="ready_with_risks", then=Value(1)),
        When(latest_verdict="ready", then=Value(3)),
        default=Value(2),
        output_field=IntegerField(),
    )
    return (
        sites_for(workspace)
        .annotate(latest_verdict=Subquery(latest_verdict))
        .annotate(worst_rank=rank)
        .order_by("worst_rank", "domain", "pk")
    )


def get_or_404(qs: QuerySet[T], **lookup) -> T:
    """The one object of an already scoped queryset, or ``Http404``: a stranger's id, a
    missing one and a malformed one look the same, so nobody learns what exists elsewhere.
    The one home of this helper for views, selectors and the API (its 404 handler answers
    with the API's sentence)."""
    try:
        return qs.get(**lookup)
    except (qs.model.DoesNotExist, ValueError, ValidationError):
        raise Http404 from None


def site_in(workspace: Workspace, site_uuid) -> Site:
    return get_or_404(sites_for(workspace), uuid=site_uuid)


def member_in(workspace: Workspace, membership_uuid) -> Membership:
    return get_or_404(members_of(workspace), uuid=membership_uuid)


def invitation_in(workspace: Workspace, invitation_uuid) -> Invitation:
    return get_or_404(Invitation.objects.filter(workspace=workspace), uuid=invitation_uuid)


def invitation_by_token(token: str) -> Invitation:
    """Invitations are reached by their secret token from the email, not by workspace."""
    if not token or len(token) > 200:
        raise Http404
    qs = Invitation.objects.select_related("workspace", "invited_by")
    return get_or_404(qs, token_hash=hash_invitation_token(token))


def invitation_by_uuid(invitation_uuid) -> Invitation:
    """The invitation whose link this browser opened (its uuid is kept in the session)."""
    return get_or_404(Invitation.objects.select_related("workspace", "invited_by"), uuid=invitation_uuid)


def received_invitation(user, invitation_uuid) -> Invitation:
    """One of the user's own open invitations (sent to a verified address of theirs), or 404."""
    return get_or_404(open_invitations_for(user), uuid=invitation_uuid)


def route_in(site_: Site, route_uuid) -> CriticalRoute:
    return get_or_404(CriticalRoute.objects.filter(site=site_), uuid=route_uuid)


def subdomain_in(site_: Site, subdomain_uuid) -> Subdomain:
    return get_or_404(Subdomain.objects.filter(site=site_), uuid=subdomain_uuid)


def campaign_url_in(site_: Site, campaign_url_uuid) -> CampaignURL:
    return get_or_404(CampaignURL.objects.filter(site=site_), uuid=campaign_url_uuid)


def open_invitations_for(user) -> QuerySet[Invitation]:
    """Pending, unexpired invitations sent to any of the user's verified addresses."""
    from django.utils import timezone

    from .tenancy import user_emails

    emails = user_emails(user) if user.is_authenticated else set()
    if not emails:
        return Invitation.objects.none()
    q = Q()
    for email in emails:
        q |= Q(email__iexact=email)
    return (
        Invitation.objects.filter(q, status=Invitation.Status.PENDING, expires_at__gt=timezone.now())
        .exclude(workspace__memberships__user=user)
        .select_related("workspace")
    )
