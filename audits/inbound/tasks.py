"""Celery tasks of inbound mail: retention."""

from __future__ import annotations

import logging

from celery import shared_task

from . import store

logger = logging.getLogger(__name__)


@shared_task(name="audits.inbound.tasks.purge_expired_inbound", soft_time_limit=120, time_limit=180)
def purge_expired_inbound() -> dict[str, int]:
    """Delete test messages past INBOUND_RETENTION_DAYS and reports older than a year."""
    messages, reports = store.purge_expired()
    if messages or reports:
        logger.info("purged %s test messages and %s DMARC reports", messages, reports)
    return {"messages": messages, "reports": reports}
