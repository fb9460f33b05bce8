"""What the audit pages show, read in a fixed number of queries.

Views and template tags call these; templates only loop over the dataclasses. The
report itself comes from ``audits.services.report_for_run`` (the same Report the
Markdown export renders), enriched here with what the web needs: each finding's
public UUID (for "Accept risk"), whether it is new, and each acceptance's reason.
"""

from __future__ import annotations

import logging
import uuid as uuid_mod
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.http import HttpRequest
from django.utils import timezone

from audits import ownership, services
from audits.checks import Severity, Stage, stage_label
from audits.findings import Finding as FindingData
from audits.models import AcceptedRisk, AuditRun, Finding, SiteAuditSettings
from audits.verdict import Report, StageProgress, Verdict
from launchready.models import Site

logger = logging.getLogger(__name__)

HISTORY_LENGTH = 10
ACTIVE_STATUSES = (AuditRun.Status.QUEUED, AuditRun.Status.RUNNING)
PROGRESS_LABELS = {
    "pending": "Waiting",
    "running": "Checking…",
    "done": "Done",
    "incomplete": "Ran out of time",
}


@dataclass(frozen=True)
class FindingView:
    """One finding as the page shows it."""

    data: FindingData
    uuid: uuid_mod.UUID | None = None  # None when shown from a share link
    is_new: bool = False
    acceptance: AcceptedRisk | None = None

    @property
    def evidence_lines(self) -> list[str]:
        return [line for line in (self.data.evidence or "").strip().splitlines() if line.strip()]

    @property
    def evidence_text(self) -> str:
        return "\n".join(self.evidence_lines)

    @property
    def reason(self) -> str:
        """Why an inconclusive check could not be checked: the first line of its evidence."""
        lines = self.evidence_lines
        return lines[0] if lines else self.data.title

    @property
    def stage_name(self) -> str:
        return stage_label(str(self.data.stage))


@dataclass(frozen=True)
class StageGroup:
    stage: str
    name: str
    progress: StageProgress | None
    findings: list[FindingView]


@dataclass(frozen=True)
class RunReport:
    run: AuditRun
    report: Report
    plan: list[FindingView]
    deferred: list[FindingView]
    inconclusive: list[FindingView]
    info: list[FindingView]
    accepted: list[FindingView]
    stages: list[StageGroup]

    @property
    def verdict(self) -> Verdict:
        return self.report.verdict

    @property
    def headline(self) -> str:
        return self.report.verdict.label

    @property
    def explanation(self) -> str:
        return self.report.verdict.explanation

    @property
    def verdict_line(self) -> str:
        return self.report.verdict.line

    @property
    def blockers(self) -> int:
        return self.report.counts.get(str(Severity.BLOCKER), 0)

    @property
    def highs(self) -> int:
        return self.report.counts.get(str(Severity.HIGH), 0)


@dataclass(frozen=True)
class StageState:
    stage: str
    name: str
    state: str

    @property
    def label(self) -> str:
        return PROGRESS_LABELS.get(self.state, self.state)


@dataclass(frozen=True)
class SitePanel:
    """Everything the site page's audit panel shows."""

    site: Site
    settings: SiteAuditSettings
    latest: RunReport | None
    active: AuditRun | None  # queued or running
    history: list[AuditRun]

    @property
    def active_states(self) -> list[StageState]:
        return progress_states(self.active) if self.active else []

    @property
    def txt_name(self) -> str:
        return ownership.txt_name(self.site.domain)

    @property
    def txt_value(self) -> str:
        return ownership.txt_value(self.settings.verification_token)

    @property
    def file_urls(self) -> list[str]:
        return ownership.file_urls(self.site)


@dataclass(frozen=True)
class SiteStatus:
    """One site's line on the workspace overview."""

    site: Site
    run: AuditRun | None  # the latest finished run
    active: bool = False  # an audit is queued or running

    @property
    def verdict(self) -> Verdict | None:
        return Verdict(self.run.verdict) if self.run and self.run.verdict else None

    @property
    def headline(self) -> str:
        return self.verdict.label if self.verdict else ""

    @property
    def blockers(self) -> int:
        return int((self.run.severity_counts or {}).get(str(Severity.BLOCKER), 0)) if self.run else 0

    @property
    def highs(self) -> int:
        return int((self.run.severity_counts or {}).get(str(Severity.HIGH), 0)) if self.run else 0


@dataclass
class Overview:
    statuses: dict[int, SiteStatus] = field(default_factory=dict)

    @property
    def rows(self) -> list[SiteStatus]:
        return list(self.statuses.values())

    @property
    def open_blockers(self) -> int:
        return sum(s.blockers for s in self.statuses.values())

    @property
    def not_ready(self) -> int:
        return sum(1 for s in self.statuses.values() if s.verdict == Verdict.NOT_READY)


def progress_states(run: AuditRun) -> list[StageState]:
    items = sorted((run.progress or {}).items(), key=lambda kv: _stage_rank(kv[0]))
    return [StageState(stage, stage_label(stage), state) for stage, state in items]


def _stage_rank(name: str) -> int:
    try:
        return Stage(name).rank
    except ValueError:
        return len(Stage)


def run_report(
    run: AuditRun,
    *,
    rows: Iterable[Finding] | None = None,
    acceptances: dict[tuple[str, str], AcceptedRisk] | None = None,
    public: bool = False,
) -> RunReport:
    """The run's report with each finding's UUID, change and acceptance.

    ``public`` (share links) leaves out UUIDs and acceptances' authors.
    """
    rows = list(rows if rows is not None else run.findings.all())
    if acceptances is None:
        acceptances = accepted_risks(run.site)
    report, accepted = services.report_for_run(run, rows)
    by_key = {row.key: row for row in rows}

    def view(f: FindingData) -> FindingView:
        row = by_key.get(f.key)
        return FindingView(
            data=f,
            uuid=None if public or row is None else row.uuid,
            is_new=bool(row and row.change == Finding.Change.NEW and run.new_count),
            acceptance=acceptances.get(f.key),
        )

    open_findings = report.plan + report.deferred
    progress = {str(s.stage): s for s in report.stages}
    stage_names = sorted(
        {str(f.stage) for f in open_findings + report.inconclusive} | set(progress), key=_stage_rank
    )
    stages = [
        StageGroup(
            stage=name,
            name=stage_label(name),
            progress=progress.get(name),
            findings=[view(f) for f in open_findings if str(f.stage) == name],
        )
        for name in stage_names
    ]
    return RunReport(
        run=run,
        report=report,
        plan=[view(f) for f in report.plan],
        deferred=[view(f) for f in report.deferred],
        inconclusive=[view(f) for f in report.inconclusive],
        info=[view(f) for f in report.info],
        accepted=[view(f) for f in accepted],
        stages=stages,
    )


def accepted_risks(site: Site) -> dict[tuple[str, str], AcceptedRisk]:
    """Active acceptances of the site with who accepted them, in one query."""
    now = timezone.now()
    qs = AcceptedRisk.objects.filter(site=site, expires_at__gt=now).select_related("accepted_by")
    return {(a.check_id, a.subject): a for a in qs}


def site_panel(site: Site) -> SitePanel:
    """The audit panel of the site page: a fixed number of queries."""
    settings_row = services.audit_settings_for_display(site)
    history = list(site.audit_runs.defer("facts").select_related("requested_by")[:HISTORY_LENGTH])
    active = next((r for r in history if r.status in ACTIVE_STATUSES), None)
    latest_run = site.audit_runs.defer("facts").filter(status=AuditRun.Status.DONE).first()
    latest = None
    if latest_run is not None:
        latest_run.site = site
        latest = run_report(latest_run)
    return SitePanel(site=site, settings=settings_row, latest=latest, active=active, history=history)


OVERVIEW_CACHE_ATTR = "_audit_overview"


def overview(sites: Iterable[Site]) -> Overview:
    """Latest finished run and whether one is in progress, for each site: three queries."""
    sites = list(sites)
    ids = [s.pk for s in sites]
    latest = services.latest_runs_for_sites(ids) if ids else {}
    busy = (
        set(
            AuditRun.objects.filter(site_id__in=ids, status__in=ACTIVE_STATUSES).values_list(
                "site_id", flat=True
            )
        )
        if ids
        else set()
    )
    return Overview(
        statuses={s.pk: SiteStatus(site=s, run=latest.get(s.pk), active=s.pk in busy) for s in sites}
    )


def overview_for_request(request: HttpRequest | None, sites: Iterable[Site]) -> Overview:
    """The overview, computed once per request: every site card reads the same one."""
    cached = getattr(request, OVERVIEW_CACHE_ATTR, None) if request is not None else None
    if cached is not None:
        return cached
    result = overview(sites)
    if request is not None:
        setattr(request, OVERVIEW_CACHE_ATTR, result)
    return result
