"""Audit tasks: thin — load by id, run the probes, apply the rules, save in a transaction."""

from __future__ import annotations

import dataclasses
import logging
from datetime import timedelta

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from audits import services
from audits.engine import collect_in_thread, conclude, declaration_for, default_options
from audits.facts import AuditFacts
from audits.inbound.store import enrich_facts
from audits.models import AuditRun, SiteAuditSettings
from launchready import fragments
from launchready.models import Site
from monitoring.audit_alerts import alert_new_audit_blockers
from monitoring.tasks import send_notification

logger = logging.getLogger(__name__)

# The probes get this much time; the task's soft limit leaves room to save the results.
AUDIT_TIME_BUDGET_S = 120
SAVE_ALLOWANCE_S = 30
DAILY_BATCH = 200
AUDIT_TIME_LIMIT_S = AUDIT_TIME_BUDGET_S + 60
# A worker killed in the middle of an audit (kill -9, out of memory, a redeploy) gives
# the message back (acks_late, reject_on_worker_lost) and another worker starts the run
# again: the writes replace the run's own rows, so a second start is safe. Only one: an
# audit that kills every worker that runs it must not go round forever.
MAX_ATTEMPTS = 2
# The reaper (``reap_stuck_runs``): a run still "running" this long after its last start
# has no worker any more (the task's hard time limit has long passed); a run still
# "queued" this long was lost with its message (a broker that lost its queue).
RUNNING_STUCK_AFTER = timedelta(seconds=AUDIT_TIME_LIMIT_S * 2)
QUEUED_STUCK_AFTER = timedelta(hours=1)
WORKER_DIED = "This audit stopped without finishing: the worker died. Run it again."
NEVER_STARTED = "This audit never started: no worker picked it up within an hour. Run it again."


@shared_task(
    bind=True,
    soft_time_limit=AUDIT_TIME_BUDGET_S + SAVE_ALLOWANCE_S,
    time_limit=AUDIT_TIME_LIMIT_S,
    ignore_result=True,
    acks_late=True,
    reject_on_worker_lost=True,
)
def run_audit_task(self, run_id: int) -> str:
    """Claim the run, probe (reporting each stage's progress on the run), apply the rules, save.

    Idempotent (the claim is a conditional UPDATE, a retried run replaces its own
    findings), hence ``acks_late``: a run whose worker died is redelivered and finishes.
    """
    claimed = AuditRun.objects.filter(
        pk=run_id,
        status__in=[AuditRun.Status.QUEUED, AuditRun.Status.RUNNING],
        attempts__lt=MAX_ATTEMPTS,
    ).update(status=AuditRun.Status.RUNNING, started_at=timezone.now(), attempts=F("attempts") + 1)
    if not claimed:
        if AuditRun.objects.filter(pk=run_id, status=AuditRun.Status.RUNNING).exists():
            _fail(run_id, WORKER_DIED)  # it used its attempts: each time its worker died
            return "failed: the worker died on every attempt"
        return "skipped: the run is already finished"
    run = AuditRun.objects.select_related("site").get(pk=run_id)
    site = run.site
    fragments.bump(site.workspace_id)  # claimed with an update (no signal): pages show it running

    def show_progress(state: dict[str, str]) -> None:
        AuditRun.objects.filter(pk=run_id).update(progress={**run.progress, **state})

    try:
        # Inside the try: a site whose saved data cannot be read fails its own run, visibly.
        options = default_options(time_budget_s=probe_budget_s(self.request.timelimit))
        collected = collect_in_thread(declaration_for(site), options=options, on_progress=show_progress)
        # What Launch Ready itself knows (DMARC history, test messages, monitoring set-up).
        collected.facts = _enrich(site, collected.facts)
        run.refresh_from_db()  # with the progress saved above
        services.save_outcome(run, conclude(collected))
    except SoftTimeLimitExceeded:
        _fail(run_id, "The audit took too long and was stopped; run it again.")
        return "failed: time limit"
    except Exception:
        logger.exception("audit run %s failed", run_id)
        _fail(run_id, "The audit stopped because of an error on our side; it has been logged.")
        return "failed"
    _alert_new_blockers(run)
    return "done"


def probe_budget_s(timelimit: tuple[float | None, float | None] | None) -> float:
    """The probes' time: the soft time limit the audit was queued with (``(hard, soft)``, as
    Celery hands it to the task) less the time to save, or ``AUDIT_TIME_BUDGET_S``.

    An audit queued with a shorter limit (``apply_async(soft_time_limit=…)``) then ends
    with what its probes found in that time, instead of being stopped half-way.
    """
    soft = (timelimit or (None, None))[1]
    if not soft:
        return AUDIT_TIME_BUDGET_S
    return max(float(soft) - SAVE_ALLOWANCE_S, float(soft) / 2)


def _enrich(site: Site, facts: AuditFacts) -> AuditFacts:
    email = enrich_facts(site, facts.email) if facts.email is not None else None
    return dataclasses.replace(
        facts,
        email=email,
        monitoring_setup=services.monitoring_setup_for(site),
        deploy_records=services.deploy_records_for(site),
    )


def _fail(run_id: int, message: str) -> None:
    AuditRun.objects.filter(pk=run_id).update(
        status=AuditRun.Status.FAILED, finished_at=timezone.now(), error=message
    )
    _show_on_pages(AuditRun.objects.filter(pk=run_id))


def _show_on_pages(runs) -> None:
    """Runs changed with ``update()`` (no signal): their workspaces' cached pages are dropped."""
    for workspace_id in set(runs.values_list("site__workspace_id", flat=True)):
        fragments.bump(workspace_id)


@shared_task(soft_time_limit=60, time_limit=90, ignore_result=True)
def reap_stuck_runs() -> int:
    """Beat: runs that no worker will finish say so, so no run shows "running" forever."""
    return reap_stuck(timezone.now())


def reap_stuck(now) -> int:
    """Mark runs whose worker died (or whose message was lost) failed, with the reason. Returns how many."""
    stuck_running = AuditRun.objects.filter(
        status=AuditRun.Status.RUNNING, started_at__lt=now - RUNNING_STUCK_AFTER
    )
    stuck_queued = AuditRun.objects.filter(
        status=AuditRun.Status.QUEUED, created_at__lt=now - QUEUED_STUCK_AFTER
    )
    reaped = list(stuck_running.values_list("pk", flat=True)) + list(
        stuck_queued.values_list("pk", flat=True)
    )
    died = stuck_running.update(status=AuditRun.Status.FAILED, finished_at=now, error=WORKER_DIED)
    lost = stuck_queued.update(status=AuditRun.Status.FAILED, finished_at=now, error=NEVER_STARTED)
    _show_on_pages(AuditRun.objects.filter(pk__in=reaped))
    if died or lost:
        logger.warning("audit runs left behind: %d stopped without a worker, %d never started", died, lost)
    return died + lost


def _alert_new_blockers(run: AuditRun) -> None:
    blockers = services.new_blockers(run)
    if not blockers:
        return
    for pk in alert_new_audit_blockers(run, blockers):
        send_notification.delay_on_commit(pk)


def start_audit(site: Site, *, user=None, trigger: str = AuditRun.Trigger.MANUAL) -> AuditRun:
    """Queue an audit of ``site``, or return the one already queued or running."""
    with transaction.atomic():
        run, created = services.open_run(site, user=user, trigger=trigger)
        if created:
            run_audit_task.delay_on_commit(run.pk)
    return run


@shared_task(soft_time_limit=60, time_limit=90, ignore_result=True)
def schedule_daily_audits() -> int:
    """Beat tick: queue the daily audit of every site that has it on and is due."""
    now = timezone.now()
    # Sites without settings yet get them (daily audits are on by default).
    missing = Site.objects.filter(audit_settings__isnull=True).values_list("pk", flat=True)[:DAILY_BATCH]
    SiteAuditSettings.objects.bulk_create(
        [SiteAuditSettings(site_id=pk, next_daily_at=now) for pk in missing], ignore_conflicts=True
    )
    queued = 0
    due = (
        SiteAuditSettings.objects.filter(daily_enabled=True, next_daily_at__lte=now)
        .select_related("site")
        .order_by("next_daily_at")[:DAILY_BATCH]
    )
    for row in due:
        try:
            queued += _queue_daily_audit(row, next_at=now + timedelta(days=1))
        except SoftTimeLimitExceeded:
            raise  # the whole tick is out of time: the sites left are due on the next one
        except Exception:
            # One site's bad data must not stop the others: its run says it could not start.
            logger.exception("daily audit of site %s could not start", row.site.uuid)
            _record_daily_failure(row, next_at=now + timedelta(days=1))
    return queued


def _queue_daily_audit(row: SiteAuditSettings, *, next_at) -> int:
    with transaction.atomic():
        # Claim with a conditional UPDATE so two beats never queue the same site twice.
        won = SiteAuditSettings.objects.filter(pk=row.pk, next_daily_at=row.next_daily_at).update(
            next_daily_at=next_at
        )
        if won:
            start_audit(row.site, trigger=AuditRun.Trigger.SCHEDULED)
        return won


def _record_daily_failure(row: SiteAuditSettings, *, next_at) -> None:
    """The site's history shows a failed daily run, and it is tried again tomorrow, not every tick."""
    try:
        with transaction.atomic():
            SiteAuditSettings.objects.filter(pk=row.pk).update(next_daily_at=next_at)
            AuditRun.objects.create(
                site_id=row.site_id,
                trigger=AuditRun.Trigger.SCHEDULED,
                status=AuditRun.Status.FAILED,
                finished_at=timezone.now(),
                error="The daily audit could not start because of an error on our side; it has been logged.",
            )
    except Exception:
        logger.exception("could not record the failed daily audit of site %s", row.site.uuid)
