"""Celery tasks of the weekly reports: thin wrappers that pass ids and call plain functions."""

from __future__ import annotations

from celery import shared_task

from . import delivery


@shared_task(soft_time_limit=240, time_limit=300, ignore_result=True)
def send_due_reports() -> dict:
    """Beat: issue the reports and digests due now (each claimed once), then send what is due."""
    return delivery.run()


@shared_task(soft_time_limit=60, time_limit=90, ignore_result=True, acks_late=True)
def send_deliveries(ids: list[int]) -> int:
    """Idempotent (each delivery is claimed with a conditional UPDATE), hence ``acks_late``."""
    return delivery.deliver([int(pk) for pk in ids])
