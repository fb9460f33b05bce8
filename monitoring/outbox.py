"""The notification outbox: claim rows so two workers never send the same alert.

Rows are written in the transaction that changes state (``engine.queue_notifications``).
A worker claims one with a conditional UPDATE (``status=pending → sending`` only
if still pending and due); the UPDATE's row count says who won. A claim left
behind by a crashed worker expires after ``CLAIM_TTL`` and the row is retried.

The incident page shows each alert's state, and these conditional UPDATEs send no signal:
claiming a row, failing it here and acknowledging an incident bump the workspace's kept
pages (``launchready.fragments``), so they show at once, like a delivery the transport saves.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Exists, Min, OuterRef, Q
from django.utils import timezone

from launchready import fragments

from .models import AlertChannel, EscalationContact, Incident, Notification
from .routing import wants
from .transports import deliver

logger = logging.getLogger(__name__)

CLAIM_TTL = timedelta(minutes=5)
NOT_SENT = "Not sent because of a problem on our side; we have been notified."


def _claimable(now: datetime) -> Q:
    return Q(status=Notification.Status.PENDING, next_attempt_at__lte=now) | Q(
        status=Notification.Status.SENDING, claimed_until__lt=now
    )


def claim(notification_id: int, now: datetime | None = None) -> Notification | None:
    """Take one notification for sending, or None if another worker has it (or it is done)."""
    now = now or timezone.now()
    won = Notification.objects.filter(_claimable(now), pk=notification_id).update(
        status=Notification.Status.SENDING, claimed_until=now + CLAIM_TTL
    )
    if not won:
        return None
    n = Notification.objects.select_related(
        "channel",
        "contact",
        "incident__monitor",
        "incident__workspace",
        "audit_run__site__workspace",
        "deploy__site__workspace",
    ).get(pk=notification_id)
    fragments.bump(n.workspace_id)  # "sending" on the incident page
    return n


def send(notification_id: int, now: datetime | None = None) -> bool:
    """Claim and deliver one notification. True if this call sent it."""
    n = claim(notification_id, now)
    if n is None:
        return False
    if n.channel_id and n.channel.disabled_at and n.event != Notification.Event.TEST:
        _fail(n, "The channel is disabled.")
        return False
    try:
        return deliver(n)
    except Exception:  # a bug or unreadable stored data: this notification only
        logger.exception("notification %s could not be sent", n.pk)
        _fail(n, NOT_SENT)
        return False


def _fail(n: Notification, reason: str) -> None:
    Notification.objects.filter(pk=n.pk).update(
        status=Notification.Status.FAILED, last_error=reason, claimed_until=None
    )
    fragments.bump(n.workspace_id)


def due_ids(limit: int = 100, now: datetime | None = None) -> list[int]:
    now = now or timezone.now()
    return list(
        Notification.objects.filter(_claimable(now))
        .order_by("next_attempt_at")
        .values_list("id", flat=True)[:limit]
    )


def deliver_due(limit: int = 100, now: datetime | None = None) -> int:
    """Send what is due (new rows, retries, abandoned claims). Returns how many were sent."""
    return sum(1 for pk in due_ids(limit, now) if send(pk, now))


def queue_test(channel: AlertChannel) -> Notification:
    """A test alert for "send test"; delivered through the same outbox."""
    return Notification.objects.create(
        workspace_id=channel.workspace_id, channel=channel, event=Notification.Event.TEST
    )


def _open_primaries():
    """Primary incidents still going on (the primary itself or one of its parts), unacknowledged."""
    open_part = Incident.objects.filter(primary=OuterRef("pk"), ended_at__isnull=True)
    return (
        Incident.objects.filter(primary__isnull=True, acknowledged_at__isnull=True, notified=True)
        .filter(Q(ended_at__isnull=True) | Exists(open_part))
        .exclude(severity="info")
    )


def catch_up(incidents: list[Incident]) -> list[int]:
    """Tell the channels added (or routed) since these incidents opened: the "opened" alert, once each."""
    if not incidents:
        return []
    told = set(
        Notification.objects.filter(
            incident__in=incidents,
            event=Notification.Event.OPENED,
            channel__isnull=False,
            contact__isnull=True,
        ).values_list("incident_id", "channel_id")
    )
    channels = list(
        AlertChannel.objects.filter(
            workspace_id__in={i.workspace_id for i in incidents}, disabled_at__isnull=True
        )
    )
    rows = [
        Notification(workspace_id=i.workspace_id, incident=i, channel=ch, event=Notification.Event.OPENED)
        for i in incidents
        for ch in channels
        if ch.workspace_id == i.workspace_id and wants(ch.kind, i.severity) and (i.pk, ch.pk) not in told
    ]
    if not rows:
        return []
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    wanted = {(n.incident_id, n.channel_id) for n in rows}
    return [
        pk
        for pk, incident_id, channel_id in Notification.objects.filter(
            incident__in={n.incident_id for n in rows},
            event=Notification.Event.OPENED,
            status=Notification.Status.PENDING,
            contact__isnull=True,
        ).values_list("pk", "incident_id", "channel_id")
        if (incident_id, channel_id) in wanted
    ]


def escalate(now: datetime | None = None) -> list[int]:
    """Tell the next escalation contact about each open, unacknowledged incident that waited too long.

    Escalation never skips the primary channels. First, a channel added (or newly
    routed) while an incident is open gets its "opened" alert. The contacts are told
    only once no alert to a channel is still waiting, counting from the first alert
    a channel received (from the start when no channel could be reached): contact k
    (0-based, in list order) ``(k + 1) × MONITORING_ESCALATE_AFTER_MINUTES`` after it,
    by email, and for a critical incident also by text through the workspace's SMS
    channel when they have a phone number. Only primary incidents escalate: monitors
    failing for one cause are one escalation. Advancing ``escalation_step`` is a
    conditional UPDATE, so a doubled beat escalates once.
    """
    now = now or timezone.now()
    step = timedelta(minutes=settings.MONITORING_ESCALATE_AFTER_MINUTES)
    created: list[int] = []
    open_primaries = list(_open_primaries())
    created += catch_up(open_primaries)
    candidates = [i for i in open_primaries if i.started_at <= now - step]
    workspace_ids = {i.workspace_id for i in candidates}
    told = {
        row["incident_id"]: row
        for row in Notification.objects.filter(
            incident__in=candidates, channel__isnull=False, contact__isnull=True
        )
        .values("incident_id")
        .annotate(
            first_sent=Min("sent_at", filter=Q(status=Notification.Status.SENT)),
            waiting=Count(
                "id", filter=Q(status__in=(Notification.Status.PENDING, Notification.Status.SENDING))
            ),
        )
    }
    sms_channels = {
        ch.workspace_id: ch
        for ch in AlertChannel.objects.filter(
            kind=AlertChannel.Kind.SMS, disabled_at__isnull=True, workspace_id__in=workspace_ids
        )
    }
    contacts_of: dict[int, list[EscalationContact]] = defaultdict(list)
    for contact in EscalationContact.objects.filter(workspace_id__in=workspace_ids):
        contacts_of[contact.workspace_id].append(contact)  # in list order (Meta.ordering)
    for incident in candidates:
        alerts = told.get(incident.pk, {"first_sent": None, "waiting": 0})
        if alerts["waiting"]:
            continue  # a channel has not been told yet: the contacts wait
        since = alerts["first_sent"] or incident.started_at
        if since + step * (incident.escalation_step + 1) > now:
            continue
        contacts = contacts_of[incident.workspace_id]
        if incident.escalation_step >= len(contacts):
            continue
        try:
            created += _escalate_one(incident, contacts[incident.escalation_step], sms_channels)
        except Exception:  # one incident's bad data never stops the others' escalation
            logger.exception("incident %s could not be escalated", incident.pk)
    return created


def _escalate_one(incident: Incident, contact: EscalationContact, sms_channels: dict) -> list[int]:
    """Advance ``incident`` one escalation step and queue the contact's notifications (ids)."""
    created: list[int] = []
    with transaction.atomic():
        moved = Incident.objects.filter(pk=incident.pk, escalation_step=incident.escalation_step).update(
            escalation_step=incident.escalation_step + 1
        )
        if not moved:
            return created
        # By email always; a contact with a phone also gets a text through the SMS channel
        # when the severity is one that texts at all (critical): routing holds here too.
        texts = contact.phone and wants(AlertChannel.Kind.SMS, incident.severity)
        sms = sms_channels.get(incident.workspace_id) if texts else None
        for channel in [None] if sms is None else [None, sms]:
            n, _ = Notification.objects.get_or_create(
                incident=incident,
                contact=contact,
                channel=channel,
                event=Notification.Event.ESCALATED,
                defaults={"workspace_id": incident.workspace_id},
            )
            created.append(n.pk)
    return created


def acknowledge(incident: Incident, user=None, now: datetime | None = None) -> bool:
    """Acknowledge once; stops escalation. False if it was already acknowledged.

    Acknowledging one monitor's part acknowledges the incident of its cause (the one that escalates).
    """
    now = now or timezone.now()
    done = bool(
        Incident.objects.filter(pk=incident.primary_id or incident.pk, acknowledged_at__isnull=True).update(
            acknowledged_at=now, acknowledged_by=user
        )
    )
    if done:  # also from an alert's signed link, a request of no workspace
        fragments.bump(incident.workspace_id)
    return done
