"""One audit from start to finish: probes → facts → rules → findings → verdict.

Used by the Celery task (with a saved Site), by the CLI (no database at all) and by
the benchmark. The rules are pure; everything with I/O happens in ``audits.probes``.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings

from audits.facts import AuditFacts, RouteSpec, SiteDeclaration
from audits.probes import ProbeOptions, ProbeRun, collect_facts
from audits.rules import evaluate
from audits.rules.base import Evaluation, checks_needing_workspace
from audits.verdict import Report, build_report
from launchready import net


@dataclass(frozen=True)
class AuditOutcome:
    facts: AuditFacts
    evaluation: Evaluation
    report: Report
    started_at: datetime
    duration_ms: int
    requests: int  # HTTP requests the scanner sent
    sum_probes_s: float  # the probes' own times added up (what a sequential audit would take)
    longest_chain_s: float  # the slowest single chain of dependent probes

    def to_json(self) -> dict[str, Any]:
        """The audit CLI's JSON document (DESIGN.md): a public contract."""
        return {
            "domain": self.facts.site.domain,
            "verdict": str(self.report.verdict),
            "started_at": self.started_at.isoformat(),
            "duration_ms": self.duration_ms,
            "findings": [f.to_dict() for f in self.evaluation.findings],
            "facts": self.facts.to_dict(),
            # Checks only a workspace can run (alert channels, escalation contacts, heartbeats,
            # deploy records): the web audit's verdict may be lower than this one.
            "workspace_checks": checks_needing_workspace(self.facts),
        }


def default_options(**overrides: Any) -> ProbeOptions:
    options = ProbeOptions(
        ct_url=getattr(settings, "LAUNCHREADY_CT_URL", ""),
        rdap_url=getattr(settings, "LAUNCHREADY_RDAP_URL", ""),
        pagespeed_url=getattr(settings, "LAUNCHREADY_PAGESPEED_URL", ""),
        pagespeed_key=getattr(settings, "LAUNCHREADY_PAGESPEED_API_KEY", ""),
    )
    for key, value in overrides.items():
        setattr(options, key, value)
    return options


@dataclass
class Collected:
    """What the probes gathered, before the rules run."""

    facts: AuditFacts
    run: ProbeRun  # what the probing cost
    started_at: datetime
    started: float  # time.monotonic() at the start


async def collect(
    site: SiteDeclaration,
    *,
    config: net.NetConfig | None = None,
    options: ProbeOptions | None = None,
    progress: Callable[[dict[str, str]], None] | None = None,
) -> Collected:
    started_at, started = datetime.now(UTC), time.monotonic()
    run = ProbeRun(site, config=config or net.NetConfig.from_settings(), options=options or default_options())
    facts = await collect_facts(run, progress=progress)
    return Collected(facts=facts, run=run, started_at=started_at, started=started)


def collect_in_thread(
    site: SiteDeclaration,
    *,
    options: ProbeOptions,
    on_progress: Callable[[dict[str, str]], None],
    poll_s: float = 0.5,
) -> Collected:
    """Probe in a thread of its own while this thread reports progress.

    The probes run in an event loop, where Django's database calls are not allowed; the
    Celery task's thread keeps its own connection, so ``on_progress`` (which saves the
    stages' states on the run) is called here, at most every ``poll_s`` seconds and only
    when a stage changed. An exception inside the probing is raised again here.
    """
    state: dict[str, str] = {}
    lock = threading.Lock()
    outcome: list[Collected] = []
    failure: list[BaseException] = []

    def record(change: dict[str, str]) -> None:
        with lock:  # called inside the event loop: only record, the calling thread reports
            state.update(change)

    def work() -> None:
        try:
            outcome.append(asyncio.run(collect(site, options=options, progress=record)))
        except BaseException as exc:  # raised again in the calling thread
            failure.append(exc)

    thread = threading.Thread(target=work, name=f"audit-{site.domain}", daemon=True)
    thread.start()
    reported: dict[str, str] = {}
    while thread.is_alive():
        thread.join(poll_s)
        with lock:
            snapshot = dict(state)
        if snapshot != reported:
            on_progress(snapshot)
            reported = snapshot
    if failure:
        raise failure[0]
    return outcome[0]


def conclude(collected: Collected, *, now: datetime | None = None) -> AuditOutcome:
    """Apply the rules to (possibly enriched) facts. Pure apart from the clock."""
    evaluation = evaluate(collected.facts, now or datetime.now(UTC))
    run = collected.run
    return AuditOutcome(
        facts=collected.facts,
        evaluation=evaluation,
        report=build_report(evaluation),
        started_at=collected.started_at,
        duration_ms=round((time.monotonic() - collected.started) * 1000),
        requests=run.requests,
        sum_probes_s=run.probe_seconds,
        longest_chain_s=run.longest_chain_s,
    )


async def audit_async(site: SiteDeclaration, *, now: datetime | None = None, **kwargs: Any) -> AuditOutcome:
    """Probe, then evaluate (the CLI and the benchmark; the task enriches in between)."""
    return conclude(await collect(site, **kwargs), now=now)


def run_audit(site: SiteDeclaration, **kwargs: Any) -> AuditOutcome:
    """Synchronous entry point (a fresh event loop per audit)."""
    return asyncio.run(audit_async(site, **kwargs))


def declaration_for(site) -> SiteDeclaration:
    """The SiteDeclaration of a saved ``launchready.models.Site``."""
    verified, token = False, ""
    audit_settings = getattr(site, "audit_settings", None)
    if audit_settings is not None and audit_settings.is_verified:
        verified, token = True, audit_settings.verification_token
    return SiteDeclaration(
        domain=site.domain,
        canonical=site.canonical,
        subdomains=[s.name for s in site.subdomains.all()],
        campaign_urls=[c.url for c in site.campaign_urls.all()],
        routes=[
            # Only the routes the owner confirmed are timed as critical; found ones wait.
            RouteSpec(name=r.name, path=r.path, kind=r.kind, budget_ms=r.budget_ms)
            for r in site.routes.filter(confirmed=True)
        ],
        ownership_verified=verified,
        ownership_token=token,
        sending_service=site.sending_service,
        from_address=site.from_address,
        analytics_declared=site.analytics_service,
        error_tracking_declared=site.error_tracking_service,
        dkim_selectors=list(site.dkim_selectors or []),
    )
