"""Audit runs in the database: start one, save its outcome, read reports back.

Views and tasks call these; they never assemble runs or findings themselves.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from datetime import timedelta

from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from audits import ownership
from audits.checks import Severity, Stage
from audits.engine import AuditOutcome
from audits.facts import DeployRecords, MonitoringSetup
from audits.findings import FindingData, Status
from audits.models import AcceptedRisk, AuditRun, Finding, SiteAuditSettings
from audits.probes import PROBED_STAGES
from audits.rules.base import Evaluation
from audits.verdict import Report, StageProgress, build_report, diff
from launchready import net
from launchready.models import Site

logger = logging.getLogger(__name__)

# A run stuck in "running" longer than this (a worker died) no longer blocks a new one.
STALE_AFTER = timedelta(minutes=10)


def open_run(site: Site, *, user=None, trigger: str = AuditRun.Trigger.MANUAL) -> tuple[AuditRun, bool]:
    """A new queued run of ``site`` (``True``), or the one already queued or running (``False``).

    Queuing the run's task is the caller's (``audits.tasks.start_audit``): only views and
    tasks queue work."""
    with transaction.atomic():
        active = (
            AuditRun.objects.select_for_update()
            .filter(site=site, status__in=[AuditRun.Status.QUEUED, AuditRun.Status.RUNNING])
            .order_by("-created_at")
            .first()
        )
        if active and active.created_at > timezone.now() - STALE_AFTER:
            return active, False
        if active:
            AuditRun.objects.filter(pk=active.pk).update(
                status=AuditRun.Status.FAILED,
                finished_at=timezone.now(),
                error="The audit did not finish (the worker stopped); a new run replaced it.",
            )
        run = AuditRun.objects.create(
            site=site,
            trigger=trigger,
            requested_by=user if user is not None and user.is_authenticated else None,
            progress={str(stage): "pending" for stage in PROBED_STAGES},
        )
    return run, True


def to_data(row: Finding) -> FindingData:
    return FindingData(
        check=row.check_id,
        severity=Severity(row.severity),
        stage=Stage(row.stage),
        subject=row.subject,
        title=row.title,
        impact=row.impact,
        evidence=row.evidence if isinstance(row.evidence, str) else str(row.evidence),
        fix=row.fix,
        status=Status(row.status),
    )


def previous_done_run(run: AuditRun) -> AuditRun | None:
    return (
        AuditRun.objects.filter(
            site_id=run.site_id, status=AuditRun.Status.DONE, created_at__lt=run.created_at
        )
        .order_by("-created_at")
        .first()
    )


@transaction.atomic
def save_outcome(run: AuditRun, outcome: AuditOutcome) -> AuditRun:
    """Store findings (idempotent: a retried run replaces its own rows), counts and the diff."""
    previous = previous_done_run(run)
    before = [to_data(f) for f in previous.findings.all()] if previous else []
    changes = diff(before, outcome.evaluation.findings)
    new_keys = {f.key for f in changes.new}
    Finding.objects.filter(run=run).delete()
    Finding.objects.bulk_create(
        [
            Finding(
                run=run,
                check_id=f.check,
                severity=str(f.severity),
                stage=str(f.stage),
                subject=f.subject[:500],
                status=str(f.status),
                title=f.title[:300],
                impact=f.impact,
                evidence=f.evidence,
                fix=f.fix,
                change=Finding.Change.NEW if f.key in new_keys else Finding.Change.PERSISTING,
            )
            for f in _unique(outcome.evaluation.findings)
        ]
    )
    report = outcome.report
    run.status = AuditRun.Status.DONE
    run.finished_at = timezone.now()
    run.duration_ms = outcome.duration_ms
    run.verdict = str(report.verdict)
    run.severity_counts = report.counts
    run.problem_counts = report.problem_counts
    run.stage_counts = {str(s.stage): s.to_dict() for s in report.stages}
    run.progress = {stage: state if state != "running" else "done" for stage, state in run.progress.items()}
    run.new_count = len(changes.new) if previous else 0
    run.resolved_count = len(changes.resolved)
    run.facts = outcome.facts.to_dict()
    run.error = ""
    run.save()
    return run


def _unique(findings: Iterable[FindingData]) -> list[FindingData]:
    seen: set[tuple[str, str]] = set()
    out = []
    for f in findings:
        key = (f.check, f.subject[:500])
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


def active_acceptances(site: Site) -> dict[tuple[str, str], AcceptedRisk]:
    now = timezone.now()
    return {(a.check_id, a.subject): a for a in site.accepted_risks.filter(expires_at__gt=now)}


def report_for_run(
    run: AuditRun, findings: Iterable[Finding] | None = None
) -> tuple[Report, list[FindingData]]:
    """The saved run as a Report, with actively accepted risks taken out and returned apart.

    The verdict stays strict: an accepted blocker still makes the store not ready.
    """
    rows = list(findings if findings is not None else run.findings.all())
    accepted_keys = set(active_acceptances(run.site))
    data = [to_data(r) for r in rows]
    kept = [f for f in data if f.key not in accepted_keys]
    accepted = [f for f in data if f.key in accepted_keys]
    report = build_report(Evaluation(findings=kept, results=[]))
    strict = build_report(Evaluation(findings=data, results=[]))
    stages = [
        StageProgress(
            stage=Stage(name),
            passed=counts.get("passed", 0),
            failing=counts.get("failing", 0),
            inconclusive=counts.get("inconclusive", 0),
            skipped=counts.get("skipped", 0),
        )
        for name, counts in sorted((run.stage_counts or {}).items(), key=lambda item: Stage(item[0]).rank)
    ]
    return (
        Report(
            verdict=strict.verdict,
            plan=report.plan,
            deferred=report.deferred,
            info=report.info,
            inconclusive=report.inconclusive,
            stages=stages,
            counts=strict.counts,
        ),
        accepted,
    )


def resolved_findings(run: AuditRun) -> list[FindingData]:
    """Findings of the previous finished run that this run no longer reports."""
    previous = previous_done_run(run)
    if previous is None:
        return []
    return diff(
        [to_data(f) for f in previous.findings.all()], [to_data(f) for f in run.findings.all()]
    ).resolved


def latest_runs_for_sites(site_ids: Iterable[int], only: Iterable[str] = ()) -> dict[int, AuditRun]:
    """The latest finished run of each site, in two queries whatever the number of sites.

    Each site's latest run id is one look-up in the (site, -created_at) index; grouping
    every run of every site (30,000 for a consultant's 1,000 sites) took most of the
    portfolio's time (BENCHMARKS.md, dashboard). ``only``: the fields a caller reads (the
    others, JSON among them, are not loaded; reading one costs a query per run)."""
    latest_id = (
        AuditRun.objects.filter(site_id=OuterRef("pk"), status=AuditRun.Status.DONE)
        .order_by("-created_at")
        .values("pk")[:1]
    )
    ids = [
        pk
        for pk in Site.objects.filter(pk__in=list(site_ids))
        .annotate(latest=Subquery(latest_id))
        .values_list("latest", flat=True)
        if pk is not None
    ]
    if not ids:
        return {}
    runs = AuditRun.objects.filter(pk__in=ids)
    runs = runs.only("site_id", *only) if only else runs.defer("facts")
    return {r.site_id: r for r in runs}


def audit_settings(site: Site) -> SiteAuditSettings:
    """The site's audit settings, for a write (created if a site predates them)."""
    settings_row, _ = SiteAuditSettings.objects.get_or_create(site=site)
    return settings_row


def audit_settings_for_display(site: Site) -> SiteAuditSettings:
    """The site's audit settings for a read path: never writes (defaults if missing)."""
    row = SiteAuditSettings.objects.filter(site=site).first() or SiteAuditSettings(site=site)
    row.site = site  # is_verified compares with the site's domain: no second query
    return row


def verify_ownership(site: Site, *, config: net.NetConfig | None = None) -> ownership.OwnershipCheck:
    """Check the proof now and record the outcome on the site's audit settings.

    The proof is recorded with the domain it was found on (a new domain is unproven). A
    site stays verified once proven: a later failed check records the error but does not
    unverify it (a DNS hiccup must not switch off the load probe mid-launch); the load
    probe itself checks the proof again before it runs.
    """
    row = audit_settings(site)
    check = asyncio.run(ownership.check_ownership_async(site, row.verification_token, config=config))
    now = timezone.now()
    row.verification_checked_at = now
    if check.verified:
        row.verified_at = now
        row.verified_method = check.method
        row.verified_domain = site.domain
        row.verification_error = ""
    else:
        row.verification_error = check.summary
    row.save(
        update_fields=[
            "verification_checked_at",
            "verified_at",
            "verified_method",
            "verified_domain",
            "verification_error",
        ]
    )
    logger.info("ownership check site=%s verified=%s method=%s", site.uuid, check.verified, check.method)
    return check


def monitoring_setup_for(site: Site) -> MonitoringSetup:
    """What the site's workspace set up to watch it, for the monitoring.* inventory checks."""
    from monitoring.models import AlertChannel, EscalationContact, Monitor

    monitors = Monitor.objects.filter(workspace_id=site.workspace_id).exclude(state=Monitor.State.PAUSED)
    channels = AlertChannel.objects.filter(workspace_id=site.workspace_id)
    return MonitoringSetup(
        monitored_urls=sorted(
            monitors.filter(site=site, kind=Monitor.Kind.HTTP).values_list("url", flat=True)
        ),
        verified_channels=[str(c) for c in channels if c.verified and c.disabled_at is None],
        unverified_channels=[str(c) for c in channels if not (c.verified and c.disabled_at is None)],
        escalation_contacts=[
            c.name for c in EscalationContact.objects.filter(workspace_id=site.workspace_id)
        ],
        heartbeats=sorted(monitors.filter(kind=Monitor.Kind.HEARTBEAT).values_list("name", flat=True)),
    )


def deploy_records_for(site: Site) -> DeployRecords:
    """The site's deploy hygiene records (env inventory and gate, deploys, rollbacks), for deploy.*."""
    from handover.deploys import deploy_facts
    from handover.services_env import env_facts

    env, deploys = env_facts(site), deploy_facts(site)
    return DeployRecords(
        has_env_inventory=env.has_inventory,
        env_undocumented=list(env.undocumented_required),
        env_gate_last_call=env.last_gate_check_at,
        has_deploys=deploys.has_deploys,
        last_smoke_at=deploys.last_smoke_at,
        last_smoke_passed=deploys.last_smoke_passed,
        last_smoke_failures=list(deploys.last_smoke_failures),
        last_rollback_at=deploys.last_rollback_at,
        last_rollback_minutes=deploys.last_rollback_minutes,
        last_rollback_kind=deploys.rollback_kind or "",
    )


def new_blockers(run: AuditRun) -> list[Finding]:
    """Blockers that this run found and the previous finished run did not (none on a first run)."""
    if previous_done_run(run) is None:
        return []
    return list(run.findings.filter(change=Finding.Change.NEW, severity=Severity.BLOCKER, status=Status.FAIL))
