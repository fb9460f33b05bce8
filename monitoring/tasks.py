"""Celery tasks of monitoring: thin wrappers that pass ids and call plain functions.

Work is queued after commit, one way: ``delay_on_commit`` (``apply_async_on_commit`` where
a countdown is needed). The plain functions return the ids of what they wrote; the task
or the view that called them queues the sending.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from . import outbox, rollups, runner, scheduler

logger = logging.getLogger(__name__)


@shared_task(soft_time_limit=20, time_limit=30, ignore_result=True)
def dispatch_due_monitors() -> int:
    """Beat tick: claim due monitors in batches and enqueue one ``run_checks`` per batch."""

    now = timezone.now()

    def enqueue(claims: list[scheduler.Claim]) -> None:
        # Batches are claimed in slot order, so one spans about a second of slots: start
        # it at its first slot rather than holding a worker process until then.
        wait = (min(c.due_at for c in claims) - now).total_seconds()
        run_checks.apply_async_on_commit(
            args=[[[c.monitor_id, c.due_at.isoformat()] for c in claims]], countdown=max(0.0, round(wait, 3))
        )

    return scheduler.dispatch(now, batch_size=settings.MONITORING_BATCH_SIZE, enqueue=enqueue)


@shared_task(soft_time_limit=75, time_limit=90, ignore_result=True)
def run_checks(claims: list[list]) -> int:
    """Check one batch concurrently; ``claims`` are ``[monitor_id, due_at_iso]`` pairs."""
    parsed = [scheduler.Claim(int(pk), parse_datetime(due)) for pk, due in claims]
    result = runner.run_batch(parsed)
    for pk in result["notification_ids"]:
        send_notification.delay_on_commit(pk)
    return result["outcomes"]


@shared_task(soft_time_limit=30, time_limit=45, ignore_result=True, acks_late=True)
def send_notification(notification_id: int) -> bool:
    """Idempotent (the claim is a conditional UPDATE), hence ``acks_late``."""
    return outbox.send(notification_id)


@shared_task(soft_time_limit=120, time_limit=150, ignore_result=True)
def deliver_due_notifications() -> int:
    """Beat: retries, rows whose task was lost, claims abandoned by a crashed worker."""
    return outbox.deliver_due()


@shared_task(soft_time_limit=60, time_limit=90, ignore_result=True)
def escalate_unacknowledged() -> int:
    ids = outbox.escalate()
    for pk in ids:
        send_notification.delay_on_commit(pk)
    return len(ids)


@shared_task(soft_time_limit=600, time_limit=900, ignore_result=True)
def rollup_and_prune() -> dict:
    return rollups.rollup_and_prune()
