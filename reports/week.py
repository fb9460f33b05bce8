"""What a weekly report reads: one workspace's rows for one week, read for a whole batch
of workspaces with one query per kind of row (``read``), so the weekly run of a thousand
workspaces costs a few dozen queries. ``reports.content`` turns them into sections."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Min, OuterRef, Subquery

from audits.email_models import DmarcReportRecord, InboundAddress
from audits.models import AuditRun, Finding
from handover.models import Deploy
from launchready.models import CriticalRoute, Site, Workspace
from monitoring.models import Incident, Monitor
from monitoring.rollups import Summary, summarize


@dataclass
class WeekFacts:
    """What the builders share: one workspace's rows, read for the whole batch by ``read``."""

    workspace: Workspace
    start: datetime
    end: datetime
    sites: list[Site] = field(default_factory=list)
    monitors: list[Monitor] = field(default_factory=list)
    site_runs: list[tuple[int, int | None, int | None]] = field(default_factory=list)  # site, now, before
    runs: dict[int, AuditRun] = field(default_factory=dict)
    findings: dict[int, list[Finding]] = field(default_factory=dict)  # failed findings by run
    first_seen: dict[tuple[int, str, str], datetime] = field(default_factory=dict)
    this_week: dict[int, Summary] = field(default_factory=dict)  # by monitor
    last_week: dict[int, Summary] = field(default_factory=dict)
    routes: list[CriticalRoute] = field(default_factory=list)
    incidents: list[Incident] = field(default_factory=list)
    deploys: list[Deploy] = field(default_factory=list)
    dmarc_rows: list[tuple[int, str, str, str, str]] = field(default_factory=list)
    has_dmarc_address: bool = False
    problems: list[tuple[int, str, str]] = field(default_factory=list)  # (rank, subject part, sentence part)
    overall_uptime: float | None = None  # critical pages over the week; None: not measured

    def problem(self, rank: int, short: str, sentence: str) -> None:
        self.problems.append((rank, short, sentence))


def _latest_run(before: datetime):
    return Subquery(
        AuditRun.objects.filter(site=OuterRef("pk"), status=AuditRun.Status.DONE, created_at__lt=before)
        .order_by("-created_at")
        .values("pk")[:1]
    )


def _first_seen(open_keys: list[tuple[int, str]]) -> dict[tuple[int, str, str], datetime]:
    """When each open finding (site, check id) was first found on its site, in one query."""
    if not open_keys:
        return {}
    rows = (
        Finding.objects.filter(
            run__site_id__in={site for site, _ in open_keys},
            run__status=AuditRun.Status.DONE,
            check_id__in={check for _, check in open_keys},
        )
        .values_list("run__site_id", "check_id", "subject")
        .annotate(first=Min("run__created_at"))
    )
    return {(site, check, subject): first for site, check, subject, first in rows}


def read(batch: list[WeekFacts], start: datetime, end: datetime) -> None:
    """Every row the sections need, for all workspaces of the batch: one query per kind of row."""
    by_ws = {f.workspace.pk: f for f in batch}
    for site in Site.objects.filter(workspace_id__in=by_ws).order_by("domain"):
        by_ws[site.workspace_id].sites.append(site)
    for m in Monitor.objects.filter(workspace_id__in=by_ws).order_by("name"):
        by_ws[m.workspace_id].monitors.append(m)
    site_ws = {s.pk: f for f in batch for s in f.sites}
    for site_pk, now_pk, before_pk in (
        Site.objects.filter(pk__in=site_ws)
        .annotate(now_run=_latest_run(end), before_run=_latest_run(start))
        .values_list("pk", "now_run", "before_run")
    ):
        site_ws[site_pk].site_runs.append((site_pk, now_pk, before_pk))
    run_ids = {r for f in batch for _, now, before in f.site_runs for r in (now, before) if r}
    runs = {r.pk: r for r in AuditRun.objects.filter(pk__in=run_ids).only("pk", "uuid", "verdict", "site_id")}
    findings: dict[int, list[Finding]] = defaultdict(list)
    for finding in Finding.objects.filter(run_id__in=run_ids, status=Finding.Status.FAIL).only(
        "run_id", "check_id", "subject", "severity", "title"
    ):
        findings[finding.run_id].append(finding)
    open_keys = []
    for f in batch:
        f.runs, f.findings = runs, findings
        for site_pk, now_pk, _ in f.site_runs:
            open_keys += [
                (site_pk, x.check_id)
                for x in findings.get(now_pk or 0, [])
                if x.severity in ("blocker", "high")
            ]
    first_seen = _first_seen(open_keys)
    http = [
        m.pk
        for f in batch
        for m in f.monitors
        if m.kind == Monitor.Kind.HTTP and m.state != Monitor.State.PAUSED
    ]
    this_week = summarize(http, start.date(), (end - timedelta(seconds=1)).date()) if http else {}
    last_week = (
        summarize(http, (start - timedelta(days=7)).date(), start.date() - timedelta(days=1)) if http else {}
    )
    for f in batch:
        f.first_seen, f.this_week, f.last_week = first_seen, this_week, last_week
    for route in CriticalRoute.objects.filter(site_id__in=site_ws, confirmed=True).only(
        "site_id", "name", "path", "budget_ms"
    ):
        site_ws[route.site_id].routes.append(route)
    for inc in (
        Incident.objects.filter(workspace_id__in=by_ws, started_at__lt=end)
        .exclude(ended_at__lt=start)
        .select_related("monitor", "primary")
        .order_by("started_at")
    ):
        by_ws[inc.workspace_id].incidents.append(inc)
    for d in (
        Deploy.objects.filter(site_id__in=site_ws, created_at__gte=start, created_at__lt=end)
        .select_related("site")
        .order_by("created_at")
    ):
        site_ws[d.site_id].deploys.append(d)
    for ws_pk, *row in DmarcReportRecord.objects.filter(
        report__workspace_id__in=by_ws, report__date_end__gte=start, report__date_end__lt=end
    ).values_list("report__workspace_id", "count", "dkim_result", "spf_result", "service", "source_ip"):
        by_ws[ws_pk].dmarc_rows.append(tuple(row))
    for ws_pk in InboundAddress.objects.filter(
        workspace_id__in=by_ws, kind=InboundAddress.Kind.DMARC
    ).values_list("workspace_id", flat=True):
        by_ws[ws_pk].has_dmarc_address = True
