"""What the audit pages show, read in a fixed number of queries.

Views and template tags call these; templates only loop over the dataclasses. The
report itself comes from ``audits.services.report_for_run`` (the same Report the
Markdown export renders), enriched here with what the web needs: each finding's
public UUID (for "Accept risk"), whether it is new, and each acceptance's reason.
The page shows problems (one check at one severity, all its subjects on one card), as
the Markdown does; "Accept risk" stays per subject.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import uuid as uuid_mod
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.http import HttpRequest
from django.utils import timezone

from audits import ownership, services
from audits.checks import Severity, Stage, stage_label
from audits.findings import FindingData
from audits.models import AcceptedRisk, AuditRun, Finding, SiteAuditSettings
from audits.verdict import Problem, Report, StageProgress, Verdict, group_problems
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


SUBJECTS_SHOWN = 3  # on a card's line; all of them are listed inside it


@dataclass(frozen=True)
class ProblemView:
    """One problem as the page shows it: one card, one line per subject."""

    data: Problem
    findings: list[FindingView]  # one per subject, in the problem's order

    @property
    def is_new(self) -> bool:
        return any(f.is_new for f in self.findings)

    @property
    def stage_name(self) -> str:
        return stage_label(str(self.data.stage))

    @property
    def reasons(self) -> str:
        return "; ".join(self.data.reasons)

    @property
    def evidence_count(self) -> int:
        return sum(1 for f in self.findings if f.evidence_lines)

    @property
    def subjects_line(self) -> str:
        """ "www.shop.com", "on 2 hosts: shop.com, www.shop.com", "on 6 hosts: a, b, c and 3 more"."""
        subjects = self.data.subjects
        if len(subjects) == 1:
            return subjects[0]
        shown = subjects if len(subjects) <= SUBJECTS_SHOWN else subjects[: SUBJECTS_SHOWN - 1]
        more = len(subjects) - len(shown)
        return f"{self.data.where}: {', '.join(shown)}" + (f" and {more} more" if more else "")

    @property
    def is_blocker(self) -> bool:
        return self.data.severity == Severity.BLOCKER


SHORT_REASON = 60  # a longer reason (often the site's own error text) goes under the line


@dataclass(frozen=True)
class StageGroup:
    stage: str
    name: str
    progress: StageProgress | None
    problems: list[ProblemView]

    @property
    def summary(self) -> str:
        """The stage's line, totals only: "6 of 33 checks passed, 20 failed, 4 could not be
        checked, 3 not checked"; the reasons are listed under it (``long_reasons``)."""
        p = self.progress
        if p is None:
            return ""
        parts = [p.summary_parts[0][0]]
        if p.failing:
            parts.append(f"{p.failing} failed")
        if p.inconclusive:
            parts.append(f"{p.inconclusive} could not be checked")
        if p.skipped:
            parts.append(f"{p.skipped} not checked")
        return ", ".join(parts)

    @property
    def long_reasons(self) -> list[str]:
        """Each reason once, with how many checks it covers ("3 not checked: no login page…")."""
        if self.progress is None:
            return []
        return [f"{text}: {reason}" for text, reason in self.progress.summary_parts if reason]

    @property
    def unchecked(self) -> int:
        return (self.progress.inconclusive + self.progress.skipped) if self.progress else 0


@dataclass(frozen=True)
class RunReport:
    run: AuditRun
    report: Report
    plan: list[ProblemView]
    deferred: list[ProblemView]
    inconclusive: list[ProblemView]
    info: list[ProblemView]
    accepted: list[FindingView]  # per subject: each acceptance has its own reason and expiry
    stages: list[StageGroup]
    first_run: bool = False  # no earlier finished run: nothing is "new"

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
        """Distinct blocker problems in the plan (accepted risks are counted apart)."""
        return self.report.problem_counts.get(str(Severity.BLOCKER), 0)

    @property
    def highs(self) -> int:
        return self.report.problem_counts.get(str(Severity.HIGH), 0)

    @property
    def accepted_blockers(self) -> int:
        """Blocker problems the team accepted: they still decide the verdict."""
        return len(group_problems(f.data for f in self.accepted if f.data.severity == Severity.BLOCKER))

    @property
    def accepted_highs(self) -> int:
        return len(group_problems(f.data for f in self.accepted if f.data.severity == Severity.HIGH))

    @property
    def deferred_count(self) -> int:
        return len(self.deferred)

    @property
    def new_count(self) -> int:
        """Problems new since the previous run (0 on a first run, which says nothing of "new")."""
        return 0 if self.first_run else sum(1 for p in self.plan + self.deferred if p.is_new)


@dataclass(frozen=True)
class StageState:
    stage: str
    name: str
    state: str

    @property
    def label(self) -> str:
        return PROGRESS_LABELS.get(self.state, self.state)


REPORT_CACHE_SECONDS = 24 * 3600


@dataclass(frozen=True)
class SitePanel:
    """Everything the site page's audit panel shows.

    The latest run's report is built only when read (``latest``): the page caches its
    rendering under ``report_key`` (the run and its acceptances), so a cached page does
    not build it. A finished audit is a new run, hence a new key.
    """

    site: Site
    settings: SiteAuditSettings
    latest_run: AuditRun | None
    active: AuditRun | None  # queued or running
    history: list[AuditRun]
    first_done_id: int | None = None  # the site's first finished run: it has nothing "new"
    acceptances: dict[tuple[str, str], AcceptedRisk] = field(default_factory=dict)

    @functools.cached_property
    def latest(self) -> RunReport | None:
        if self.latest_run is None:
            return None
        return run_report(
            self.latest_run, acceptances=self.acceptances, first_run=self.latest_run.pk == self.first_done_id
        )

    @property
    def report_key(self) -> str:
        """Changes with whatever the report shows: the run, and each acceptance (it can be revoked)."""
        run = self.latest_run
        if run is None:
            return ""
        accepted = sorted((a.pk, a.expires_at.isoformat(), a.reason) for a in self.acceptances.values())
        digest = hashlib.sha256(repr(accepted).encode()).hexdigest()[:16]
        return f"{run.pk}:{run.status}:{run.finished_at.isoformat() if run.finished_at else ''}:{digest}"

    @property
    def report_cache_seconds(self) -> int:
        """0 (not cached) when acceptances are listed: their revoke forms carry the reader's CSRF token."""
        return 0 if self.acceptances else REPORT_CACHE_SECONDS

    @property
    def history_rows(self) -> list[tuple[AuditRun, bool]]:
        """Each run of the history with whether it was the site's first finished run."""
        return [(run, run.pk == self.first_done_id) for run in self.history]

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
        return int((self.run.problem_counts or {}).get(str(Severity.BLOCKER), 0)) if self.run else 0

    @property
    def highs(self) -> int:
        return int((self.run.problem_counts or {}).get(str(Severity.HIGH), 0)) if self.run else 0


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
    first_run: bool | None = None,
) -> RunReport:
    """The run's report as problems, with each finding's UUID, change and acceptance.

    ``public`` (share links) leaves out UUIDs and acceptances' authors. ``first_run``
    (no earlier finished run) is read from the run's counts when not given.
    """
    rows = list(rows if rows is not None else run.findings.all())
    if acceptances is None:
        acceptances = accepted_risks(run.site)
    if first_run is None:
        first_run = not run.new_count and not run.resolved_count and _no_earlier_run(run)
    report, accepted = services.report_for_run(run, rows)
    by_key = {row.key: row for row in rows}

    def view(f: FindingData) -> FindingView:
        row = by_key.get(f.key)
        return FindingView(
            data=f,
            uuid=None if public or row is None else row.uuid,
            is_new=bool(not first_run and row and row.change == Finding.Change.NEW and run.new_count),
            acceptance=acceptances.get(f.key),
        )

    def problems(items: list[Problem]) -> list[ProblemView]:
        return [ProblemView(data=p, findings=[view(f) for f in p.findings]) for p in items]

    plan = problems(report.plan_problems)
    deferred = problems(report.deferred_problems)
    inconclusive = problems(report.inconclusive_problems)
    progress = {str(s.stage): _with_reasons(s, run, report) for s in report.stages}
    stage_names = sorted(
        {str(p.data.stage) for p in plan + deferred + inconclusive} | set(progress), key=_stage_rank
    )
    stages = [
        StageGroup(
            stage=name,
            name=stage_label(name),
            progress=progress.get(name),
            problems=[p for p in plan + deferred if str(p.data.stage) == name],
        )
        for name in stage_names
    ]
    return RunReport(
        run=run,
        report=report,
        plan=plan,
        deferred=deferred,
        inconclusive=inconclusive,
        info=problems(report.info_problems),
        accepted=[view(f) for f in accepted],
        stages=stages,
        first_run=first_run,
    )


def _no_earlier_run(run: AuditRun) -> bool:
    return not AuditRun.objects.filter(
        site_id=run.site_id, status=AuditRun.Status.DONE, created_at__lt=run.created_at
    ).exists()


def _with_reasons(progress: StageProgress, run: AuditRun, report: Report) -> StageProgress:
    """The stage's counts with the reasons stored with the run (or, for older runs, the
    reasons of its inconclusive findings), so its summary can say why."""
    stored = (run.stage_counts or {}).get(str(progress.stage)) or {}
    saved = StageProgress.from_dict({**stored, "stage": str(progress.stage)}) if stored else progress
    inconclusive_reasons = saved.inconclusive_reasons or tuple(
        reason for p in report.inconclusive_problems if p.stage == progress.stage for reason in p.reasons[:1]
    )
    return StageProgress(
        stage=progress.stage,
        passed=progress.passed,
        failing=progress.failing,
        inconclusive=progress.inconclusive,
        skipped=progress.skipped,
        inconclusive_reasons=inconclusive_reasons[: progress.inconclusive],
        skipped_reasons=saved.skipped_reasons,
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
    # The history nearly always holds the latest finished run (ten failed runs in a row do not).
    latest_run = next((r for r in history if r.status == AuditRun.Status.DONE), None)
    if latest_run is None:
        latest_run = site.audit_runs.defer("facts").filter(status=AuditRun.Status.DONE).first()
    first_done_id = None
    acceptances: dict[tuple[str, str], AcceptedRisk] = {}
    if latest_run is not None:
        latest_run.site = site
        first_done_id = (
            site.audit_runs.filter(status=AuditRun.Status.DONE)
            .order_by("created_at")
            .values_list("pk", flat=True)
            .first()
        )
        acceptances = accepted_risks(site)
    return SitePanel(
        site=site,
        settings=settings_row,
        latest_run=latest_run,
        active=active,
        history=history,
        first_done_id=first_done_id,
        acceptances=acceptances,
    )


OVERVIEW_CACHE_ATTR = "_audit_overview"
# What a site card and the overview panel read of a run (SiteStatus): the other fields,
# several of them JSON, cost the workspace overview a third of its time for 50 sites.
SITE_STATUS_FIELDS = ("uuid", "status", "verdict", "problem_counts", "created_at")


def overview(sites: Iterable[Site]) -> Overview:
    """Latest finished run and whether one is in progress, for each site: three queries."""
    sites = list(sites)
    ids = [s.pk for s in sites]
    latest = services.latest_runs_for_sites(ids, only=SITE_STATUS_FIELDS) if ids else {}
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
