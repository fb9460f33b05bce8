"""Changes to workspaces and their people: the write side of tenancy.

Reads go through ``launchready.selectors``; everything that creates a workspace,
invites, accepts, changes a role or removes someone goes through here, so the
rules (who may manage whom, the last owner stays) live in one place and the views
stay thin. Rule violations raise ``TenancyError`` with a sentence for the user.
"""

from __future__ import annotations

import logging
import math
import time

from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from launchready import ratelimit
from launchready.formats import human_date

from .models import ROLE_RANK, Invitation, Membership, Role, Workspace

logger = logging.getLogger(__name__)


class TenancyError(Exception):
    """A tenancy rule was broken; ``str(error)`` is shown to the user as is."""


class InvitationLimitReached(TenancyError):
    """Too many invitation emails for now; the sentence says when to try again."""


def _rank(role: str) -> int:
    return ROLE_RANK[Role(role)]


def create_workspace(user, name: str, tz: str = "UTC") -> Membership:
    """Create a workspace with ``user`` as its owner."""
    with transaction.atomic():
        ws = Workspace.objects.create(name=name, timezone=tz)
        return Membership.objects.create(
            workspace=ws, user=user, role=Role.OWNER, last_used_at=timezone.now()
        )


def personal_workspace_name(user) -> str:
    full = (user.get_full_name() or "").strip()
    base = full or (user.email or user.get_username()).split("@")[0]
    return f"{base[:80]}'s workspace"


def create_personal_workspace(user) -> Membership:
    return create_workspace(user, personal_workspace_name(user))


# Who may manage whom: owners manage everyone; admins manage the roles below theirs
# (members and viewers) and can hand out only those roles.
def assignable_roles(actor: Membership) -> list[str]:
    if actor.role == Role.OWNER:
        return [r.value for r in Role]
    return [r.value for r in Role if _rank(r) < _rank(actor.role) and actor.can(Role.ADMIN)]


def can_manage(actor: Membership, target: Membership) -> bool:
    if actor.pk == target.pk:
        return False
    if actor.role == Role.OWNER:
        return True
    return actor.can(Role.ADMIN) and _rank(target.role) < _rank(actor.role)


def _other_owners(workspace: Workspace, excluding: Membership) -> int:
    # Lock the owner rows so two concurrent demotions cannot both see "another owner".
    owners = Membership.objects.select_for_update().filter(workspace=workspace, role=Role.OWNER)
    return sum(1 for m in owners if m.pk != excluding.pk)


def change_role(actor: Membership, target: Membership, new_role: str) -> Membership:
    if new_role not in Role.values:
        raise TenancyError("Choose one of the listed roles.")
    if actor.pk != target.pk and not can_manage(actor, target):
        raise TenancyError(f"Only an owner can change the role of {_who(target)}.")
    if actor.pk == target.pk and actor.role != Role.OWNER:
        raise TenancyError("You cannot change your own role. Ask an owner.")
    if new_role not in assignable_roles(actor):
        raise TenancyError(f"Only an owner can make someone {Role(new_role).label.lower()}.")
    with transaction.atomic():
        if (
            target.role == Role.OWNER
            and new_role != Role.OWNER
            and not _other_owners(target.workspace, target)
        ):
            raise TenancyError(
                "This is the workspace's last owner. Make someone else an owner first, then change this role."
            )
        target.role = new_role
        target.save(update_fields=["role"])
    logger.info(
        "role changed workspace=%s membership=%s role=%s", target.workspace.uuid, target.uuid, new_role
    )
    return target


def remove_member(actor: Membership, target: Membership) -> None:
    if actor.pk == target.pk:
        raise TenancyError("To remove yourself, use “Leave workspace”.")
    if not can_manage(actor, target):
        raise TenancyError(f"Only an owner can remove {_who(target)}.")
    with transaction.atomic():
        if target.role == Role.OWNER and not _other_owners(target.workspace, target):
            raise TenancyError("The last owner cannot be removed.")
        target.delete()
    logger.info("member removed workspace=%s membership=%s", target.workspace.uuid, target.uuid)


def leave(m: Membership) -> None:
    with transaction.atomic():
        if m.role == Role.OWNER and not _other_owners(m.workspace, m):
            raise TenancyError(
                "You are the last owner of this workspace. Make another member an owner before you leave."
            )
        m.delete()
    logger.info("member left workspace=%s membership=%s", m.workspace.uuid, m.uuid)


def _who(m: Membership) -> str:
    return f"{m.user.email or m.user.get_username()} ({m.get_role_display()})"


def user_emails(user) -> set[str]:
    """The addresses that prove who ``user`` is: verified ones, else the account email."""
    from allauth.account.models import EmailAddress

    emails = {
        e.lower()
        for e in EmailAddress.objects.filter(user=user, verified=True).values_list("email", flat=True)
    }
    if not emails and user.email and not EmailAddress.objects.filter(user=user).exists():
        # Accounts made outside allauth (createsuperuser, admin) have no EmailAddress rows.
        emails.add(user.email.lower())
    return emails


def invite(actor: Membership, email: str, role: str) -> Invitation:
    email = email.strip().lower()
    if role not in assignable_roles(actor):
        raise TenancyError(f"You cannot invite someone as {Role(role).label.lower()}.")
    ws = actor.workspace
    if Membership.objects.filter(workspace=ws, user__email__iexact=email).exists() or (
        Membership.objects.filter(workspace=ws, user__emailaddress__email__iexact=email).exists()
    ):
        raise TenancyError(f"{email} is already a member of this workspace.")
    open_invites = Invitation.objects.filter(
        workspace=ws, email__iexact=email, status=Invitation.Status.PENDING, expires_at__gt=timezone.now()
    )
    if open_invites.exists():
        raise TenancyError(f"{email} already has a pending invitation. Resend it or revoke it first.")
    now = time.time()
    _count_invitation_email(actor, now)
    invitation = Invitation.objects.create(workspace=ws, email=email, role=role, invited_by=actor.user)
    cache.set(_resend_key(invitation), now, timeout=_resend_interval())
    send_invitation_email(invitation)
    logger.info("invitation sent workspace=%s invitation=%s", ws.uuid, invitation.uuid)
    return invitation


def resend_invitation(actor: Membership, invitation: Invitation) -> Invitation:
    if invitation.status != Invitation.Status.PENDING:
        raise TenancyError(f"This invitation was {invitation.get_status_display().lower()}; send a new one.")
    # Limits first: a refused resend must leave the current link working.
    now = time.time()
    _claim_resend(invitation, now)
    try:
        _count_invitation_email(actor, now)
    except InvitationLimitReached:
        cache.delete(_resend_key(invitation))
        raise
    fresh = Invitation._meta.get_field("expires_at").get_default()
    invitation.expires_at = fresh
    invitation.issue_token()  # only the hash is stored, so a resend mails a new link
    invitation.save(update_fields=["expires_at", "token_hash"])
    send_invitation_email(invitation)
    return invitation


def invitation_url(invitation: Invitation) -> str:
    if not invitation.token:
        raise TenancyError("The invitation link can only be built right after its token is issued.")
    return settings.SITE_URL + reverse("invitation_detail", kwargs={"token": invitation.token})


# Invitation emails go to people who never asked us for anything, with a workspace name
# anyone can choose: without limits that is a free spam relay under our domain. Counts
# live in the shared cache (Redis in production) so they hold across web processes; a
# cache outage refuses invitations (an error) rather than letting them through.
_HOUR = 3600


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _count_invitation_email(actor: Membership, now: float) -> None:
    """Count one invitation email against the workspace and the inviter, or refuse it.

    Fixed clock-hour windows with atomic increments (``ratelimit.hit_all``): concurrent
    requests cannot pass a limit together, at the price of allowing up to twice the
    limit across the turn of an hour. A refused request takes its increments back.
    """
    limits = [
        (
            f"invitations:workspace:{actor.workspace.uuid}",
            settings.INVITATION_LIMIT_PER_WORKSPACE_PER_HOUR,
            "This workspace has sent {emails} this hour, the most allowed.",
        ),
        (
            f"invitations:inviter:{actor.user_id}",
            settings.INVITATION_LIMIT_PER_INVITER_PER_HOUR,
            "You have sent {emails} this hour, the most allowed per person.",
        ),
    ]
    refused, verdict = ratelimit.hit_all([(key, limit) for key, limit, _ in limits], _HOUR, now=now)
    if refused is None:
        return
    key, limit, sentence = limits[refused]
    emails = _plural(limit, "invitation email")
    wait = _plural(verdict.retry_after_minutes, "minute")
    logger.warning("invitation limit reached workspace=%s key=%s", actor.workspace.uuid, key)
    raise InvitationLimitReached(f"{sentence.format(emails=emails)} Try again in {wait}.")


def _resend_interval() -> int:
    return settings.INVITATION_RESEND_INTERVAL_MINUTES * 60


def _resend_key(invitation: Invitation) -> str:
    return f"invitations:sent:{invitation.uuid}"


def _claim_resend(invitation: Invitation, now: float) -> None:
    """Mark ``invitation`` as emailed now, or refuse if it was emailed less than the interval ago.

    The mark holds the send time, not just a TTL, so the interval is measured on our clock.
    """
    interval = _resend_interval()
    key = _resend_key(invitation)
    if cache.add(key, now, timeout=interval):
        return
    sent = cache.get(key)
    if sent is not None and now - sent < interval:
        wait = _plural(math.ceil((interval - (now - sent)) / 60), "minute")
        raise InvitationLimitReached(
            f"This invitation was emailed less than {_plural(interval // 60, 'minute')} ago. Try again in {wait}."
        )
    cache.set(key, now, timeout=interval)


def _one_line(text: str) -> str:
    """User-chosen text on one line, so it cannot fake paragraphs in a plain-text email."""
    return " ".join(text.split())


def send_invitation_email(invitation: Invitation) -> None:
    """The subject is fixed: the workspace name is chosen by whoever signed up, so it
    appears only in the body, quoted and introduced as a name."""
    inviter = invitation.invited_by
    context = {
        "invitation": invitation,
        "workspace": invitation.workspace,
        "workspace_name": _one_line(invitation.workspace.name),
        "inviter": _one_line(inviter.get_full_name() or inviter.email) if inviter else "A Launch Ready user",
        "accept_url": invitation_url(invitation),
        "role": invitation.get_role_display(),
    }
    subject = render_to_string("email/invitation_subject.txt", context).strip()
    text = render_to_string("email/invitation.txt", context)
    html = render_to_string("email/invitation.html", context)
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [invitation.email])
    message.attach_alternative(html, "text/html")
    message.send()


def revoke_invitation(invitation: Invitation) -> None:
    if invitation.status != Invitation.Status.PENDING:
        raise TenancyError(f"This invitation was already {invitation.get_status_display().lower()}.")
    invitation.status = Invitation.Status.REVOKED
    invitation.responded_at = timezone.now()
    invitation.save(update_fields=["status", "responded_at"])


def invitation_problem(invitation: Invitation) -> str | None:
    """Why an invitation can no longer be answered, in plain words, or None."""
    if invitation.status == Invitation.Status.ACCEPTED:
        return "This invitation has already been accepted."
    if invitation.status == Invitation.Status.DECLINED:
        return "This invitation was declined."
    if invitation.status == Invitation.Status.REVOKED:
        return "This invitation was withdrawn by the workspace. Ask them to invite you again."
    if invitation.is_expired:
        return (
            f"This invitation expired on {human_date(invitation.expires_at, invitation.workspace.timezone)}. "
            f"Ask someone at {invitation.workspace.name} to send a new one."
        )
    return None


def wrong_user_problem(invitation: Invitation, user) -> str | None:
    if invitation.email.lower() in user_emails(user):
        return None
    return (
        f"This invitation was sent to {invitation.email}, but you are logged in as "
        f"{user.email or user.get_username()}. Log out and open the link again, "
        "or ask for an invitation to this address."
    )


def accept_invitation(invitation: Invitation, user) -> Membership:
    """Join the workspace; raises TenancyError (and joins nothing) if the invitation cannot be used."""
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().select_related("workspace").get(pk=invitation.pk)
        problem = invitation_problem(invitation) or wrong_user_problem(invitation, user)
        if problem:
            raise TenancyError(problem)
        m, created = Membership.objects.get_or_create(
            workspace=invitation.workspace,
            user=user,
            defaults={"role": invitation.role, "last_used_at": timezone.now()},
        )
        invitation.status = Invitation.Status.ACCEPTED
        invitation.responded_at = timezone.now()
        invitation.save(update_fields=["status", "responded_at"])
    logger.info(
        "invitation accepted workspace=%s invitation=%s new=%s", m.workspace.uuid, invitation.uuid, created
    )
    return m


def decline_invitation(invitation: Invitation, user=None) -> None:
    problem = invitation_problem(invitation)
    if not problem and user is not None and user.is_authenticated:
        problem = wrong_user_problem(invitation, user)
    if problem:
        raise TenancyError(problem)
    invitation.status = Invitation.Status.DECLINED
    invitation.responded_at = timezone.now()
    invitation.save(update_fields=["status", "responded_at"])


def touch_last_used(m: Membership) -> None:
    Membership.objects.filter(pk=m.pk).update(last_used_at=timezone.now())
