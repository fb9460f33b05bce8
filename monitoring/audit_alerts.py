"""A new blocker found by an audit is a critical alert: every channel hears about it once.

The audit task calls ``alert_new_audit_blockers(run, blockers)`` after saving the run.
Outbox rows are written in one transaction (unique per run and channel, so a retried
task never alerts twice); the task queues ``send_notification`` for the ids returned.
"""

from __future__ import annotations

from django.db import transaction

from .models import AlertChannel, Notification
from .routing import CRITICAL, wants


def alert_new_audit_blockers(run, blockers) -> list[int]:
    """Write one alert per routed channel for ``run``; returns the ids of those still to send."""
    if not blockers:
        return []
    workspace_id = run.site.workspace_id
    with transaction.atomic():
        channels = [
            ch
            for ch in AlertChannel.objects.filter(workspace_id=workspace_id, disabled_at__isnull=True)
            if wants(ch.kind, CRITICAL)
        ]
        Notification.objects.bulk_create(
            [
                Notification(
                    workspace_id=workspace_id,
                    audit_run=run,
                    channel=ch,
                    event=Notification.Event.AUDIT_BLOCKER,
                )
                for ch in channels
            ],
            ignore_conflicts=True,
        )
        return list(
            Notification.objects.filter(
                audit_run=run, event=Notification.Event.AUDIT_BLOCKER, status=Notification.Status.PENDING
            ).values_list("id", flat=True)
        )
