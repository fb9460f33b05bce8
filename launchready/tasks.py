"""Core background tasks."""

from __future__ import annotations

import logging
import platform

from celery import shared_task
from django.utils import timezone

from .models import WorkerHeartbeat

logger = logging.getLogger(__name__)


@shared_task(soft_time_limit=10, time_limit=20, ignore_result=True)
def worker_heartbeat(name: str = "worker") -> str:
    """Record that a worker consumed a task; beat sends one every minute."""
    now = timezone.now()
    WorkerHeartbeat.objects.update_or_create(
        name=name, defaults={"last_seen_at": now, "hostname": platform.node()[:200]}
    )
    logger.info("worker heartbeat recorded for %s", name)
    return now.isoformat()
