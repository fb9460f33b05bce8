"""Celery tasks of the handover app: thin — load by id, run the probe, save, queue alerts."""

from __future__ import annotations

import asyncio
import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

from monitoring.tasks import send_notification

from . import deploys, smoke

logger = logging.getLogger(__name__)

# Routes run concurrently, each bounded by smoke.ROUTE_TIMEOUT_S: the soft limit leaves
# room to save the results, the hard limit stops a stuck worker.
SMOKE_SOFT_LIMIT_S = 60
SMOKE_HARD_LIMIT_S = 90
OUT_OF_TIME = "The smoke test ran out of time and was stopped."
CRASHED = "The smoke test could not run because of an error on our side; it has been logged."


@shared_task(soft_time_limit=SMOKE_SOFT_LIMIT_S, time_limit=SMOKE_HARD_LIMIT_S, ignore_result=True)
def run_smoke_test(deploy_id: int) -> str:
    """Smoke-test one deploy; a failure alerts every critical channel once."""
    deploy = deploys.claim_smoke(deploy_id)
    if deploy is None:
        return "skipped: already run"
    try:
        targets = deploys.smoke_targets(deploy.site)
        outcomes = asyncio.run(smoke.run_smoke(targets)) if targets else []
        ids = deploys.finish_smoke(deploy, outcomes)
    except SoftTimeLimitExceeded:
        ids = deploys.finish_smoke(deploy, [], error=OUT_OF_TIME)
    except Exception:
        logger.exception("smoke test of deploy %s failed to run", deploy.uuid)
        ids = deploys.finish_smoke(deploy, [], error=CRASHED)
    for pk in ids:
        send_notification.delay_on_commit(pk)
    return deploy.state


@shared_task(soft_time_limit=60, time_limit=90, ignore_result=True)
def fail_stale_smoke_tests() -> int:
    """Beat: smoke tests whose worker never finished them fail with that reason."""
    return deploys.fail_stale_smoke_tests()
