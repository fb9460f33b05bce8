"""Monitoring reads, scoped to a workspace (the membership check is done by
``launchready.views_common.workspace_view`` through ``launchready.selectors``).

``overview_page()`` assembles the workspace's monitoring page and ``overview()`` one
site's, each in a fixed number of queries whatever the number of monitors: one per
table, grouped in Python. Uptime bars come drawn (``UptimeBar``, see ``rollups``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.core.paginator import Page, Paginator
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.safestring import SafeString

from launchready.models import Site, Workspace
from launchready.selectors import get_or_404

from . import charts
from .models import (
    AlertChannel,
    ApiToken,
    DailyRollup,
    EscalationContact,
    HourlyRollup,
    Incident,
    MaintenanceWindow,
    Monitor,
)


def monitors_for(workspace: Workspace) -> QuerySet[Monitor]:
    return Monitor.objects.filter(workspace=workspace).select_related("site")


def monitor_in(workspace: Workspace, uuid) -> Monitor:
    return get_or_404(monitors_for(workspace), uuid=uuid)


def incident_in(workspace: Workspace, uuid) -> Incident:
    return get_or_404(
        Incident.objects.filter(workspace=workspace).select_related("monitor", "acknowledged_by"), uuid=uuid
    )


def channel_in(workspace: Workspace, uuid) -> AlertChannel:
    return get_or_404(AlertChannel.objects.filter(workspace=workspace), uuid=uuid)


def window_in(workspace: Workspace, uuid) -> MaintenanceWindow:
    return get_or_404(MaintenanceWindow.objects.filter(workspace=workspace), uuid=uuid)


def contact_in(workspace: Workspace, uuid) -> EscalationContact:
    return get_or_404(EscalationContact.objects.filter(workspace=workspace), uuid=uuid)


def token_in(workspace: Workspace, uuid) -> ApiToken:
    return get_or_404(ApiToken.objects.filter(workspace=workspace), uuid=uuid)


STATE_RANK = {Monitor.State.DOWN: 0, Monitor.State.UNKNOWN: 1, Monitor.State.UP: 2, Monitor.State.PAUSED: 3}
RECENT_INCIDENTS = 15
SITES_PER_PAGE = 10  # about 70 monitors: a page that stays fast and readable on a phone


@dataclass
class MonitorRow:
    monitor: Monitor
    bar_svg: SafeString
    uptime_90d: float | None
    latency: charts.LatencyChart | None = None
    open_incident: Incident | None = None


@dataclass
class SiteGroup:
    """One site's monitors (or the monitors of no site: ``site`` None), worst first."""

    site_id: int | None
    name: str
    down: int
    unknown: int
    up: int
    paused: int
    site_uuid: str | None = None
    rows: list[MonitorRow] = field(default_factory=list)

    @property
    def rank(self) -> tuple:
        return (-self.down, -self.unknown, self.site_id is None, self.name.lower())


@dataclass
class Overview:
    rows: list[MonitorRow]
    heartbeats: list[Monitor]
    incidents: list[Incident]
    windows: list[MaintenanceWindow]
    channels: list[AlertChannel]
    counts: dict[str, int] = field(default_factory=dict)
    groups: list[SiteGroup] = field(default_factory=list)
    page: Page | None = None


def _bars(monitors: list[Monitor], today: date) -> dict[int, tuple[SafeString, float | None]]:
    """Each monitor's 90-day bar: its stored finished days and today's rollup (two queries;
    a bar not yet drawn for yesterday is drawn here from the rollups, not stored: reads never write)."""
    through = today - timedelta(days=1)
    stale = []
    stored: dict[int, charts.FinishedDays] = {}
    for m in monitors:
        bar = getattr(m, "uptime_bar", None)
        if bar is not None and bar.through == through:
            stored[m.pk] = charts.FinishedDays(bar.through, bar.svg, bar.checks, bar.failures)
        else:
            stale.append(m.pk)
    first = through - timedelta(days=charts.BAR_DAYS - 2) if stale else today
    days: dict[int, dict[date, tuple[int, int]]] = defaultdict(dict)
    for mid, day, c, f in DailyRollup.objects.filter(
        monitor_id__in=[m.pk for m in monitors], day__gte=first, day__lte=today
    ).values_list("monitor_id", "day", "checks", "failures"):
        days[mid][day] = (c, f)
    for mid in stale:
        stored[mid] = charts.finished_days(days[mid], through)
    return {m.pk: charts.bar_with_today(stored[m.pk], today, days[m.pk].get(today, (0, 0))) for m in monitors}


def _rows(monitors: list[Monitor], now: datetime, *, latency: bool) -> list[MonitorRow]:
    """Rows of the monitors given, with their bars, open incidents and (``latency``) 24-hour charts."""
    ids = [m.pk for m in monitors]
    bars = _bars(monitors, now.date())
    open_by_monitor = {
        i.monitor_id: i for i in Incident.objects.filter(monitor_id__in=ids, ended_at__isnull=True)
    }
    charts_by_monitor: dict[int, charts.LatencyChart] = {}
    if latency:
        start = now - timedelta(hours=24)
        hours: dict[int, list] = defaultdict(list)
        for mid, hour, p50, p95 in (
            HourlyRollup.objects.filter(monitor_id__in=ids, hour__gte=start)
            .order_by("hour")
            .values_list("monitor_id", "hour", "p50_ms", "p95_ms")
        ):
            hours[mid].append((hour, p50, p95))
        charts_by_monitor = {mid: charts.latency_chart(hours[mid], start, now) for mid in ids}
    return [
        MonitorRow(
            monitor=m,
            bar_svg=bars[m.pk][0],
            uptime_90d=bars[m.pk][1],
            latency=charts_by_monitor.get(m.pk),
            open_incident=open_by_monitor.get(m.pk),
        )
        for m in monitors
    ]


def _recent(workspace: Workspace, now: datetime, ids: list[int] | None = None) -> dict:
    incidents = Incident.objects.filter(workspace=workspace, started_at__gte=now - timedelta(days=30))
    if ids is not None:
        incidents = incidents.filter(monitor_id__in=ids)
    return {
        # The latest few: open ones show on their monitor's row, each monitor's page lists its own.
        "incidents": list(incidents.select_related("monitor").order_by("-started_at")[:RECENT_INCIDENTS]),
        "windows": list(
            MaintenanceWindow.objects.filter(workspace=workspace, ends_at__gt=now).order_by("starts_at")[:20]
        ),
        "channels": list(AlertChannel.objects.filter(workspace=workspace)),
    }


def site_groups(workspace: Workspace) -> list[SiteGroup]:
    """Every site with monitors (and "Other monitors"), worst first, with their state counts (one query)."""
    groups: dict[int | None, SiteGroup] = {}
    for site_id, name, domain, site_uuid, state, n in (
        Monitor.objects.filter(workspace=workspace)
        .exclude(kind=Monitor.Kind.HEARTBEAT)
        .values_list("site_id", "site__name", "site__domain", "site__uuid", "state")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        group = groups.get(site_id)
        if group is None:
            group = groups[site_id] = SiteGroup(
                site_id=site_id,
                name=(name or domain) if site_id else "Other monitors",
                site_uuid=str(site_uuid) if site_uuid else None,
                down=0,
                unknown=0,
                up=0,
                paused=0,
            )
        setattr(group, state, getattr(group, state) + n)
    return sorted(groups.values(), key=lambda g: g.rank)


def overview_page(
    workspace: Workspace, page_number: str | int | None = 1, now: datetime | None = None
) -> Overview:
    """The workspace's monitors grouped by site, worst site first, ``SITES_PER_PAGE`` sites a
    page, with the state counts of all of them (heartbeats aside: ``heartbeats()``); the same
    number of queries whatever the workspace holds. The page's other panels: ``recent()``."""
    now = now or timezone.now()
    groups = site_groups(workspace)
    page = Paginator(groups, SITES_PER_PAGE).get_page(page_number)
    shown = {g.site_id: g for g in page.object_list}
    where = Q(site_id__in=[sid for sid in shown if sid is not None])
    if None in shown:
        where |= Q(site__isnull=True)
    monitors = list(
        Monitor.objects.filter(where, workspace=workspace)
        .exclude(kind=Monitor.Kind.HEARTBEAT)
        .select_related("uptime_bar")
    )
    rows = _rows(monitors, now, latency=False)
    for row in sorted(rows, key=lambda r: (STATE_RANK.get(r.monitor.state, 9), r.monitor.name.lower())):
        shown[row.monitor.site_id].rows.append(row)
    counts: dict[str, int] = defaultdict(int)
    for g in groups:
        for state in STATE_RANK:
            counts[state] += getattr(g, state)
    return Overview(
        rows=rows,
        heartbeats=[],
        incidents=[],
        windows=[],
        channels=[],
        counts=dict(counts),
        groups=list(page.object_list),
        page=page,
    )


def heartbeats(workspace: Workspace) -> list[Monitor]:
    return list(monitors_for(workspace).filter(kind=Monitor.Kind.HEARTBEAT))


def recent(workspace: Workspace, now: datetime | None = None) -> dict:
    """The monitoring page's other panels: incidents of the last 30 days, maintenance, channels."""
    return _recent(workspace, now or timezone.now())


def overview(workspace: Workspace, site: Site | None = None, now: datetime | None = None) -> Overview:
    """Everything one site's monitoring page (or its public status page) shows, with the
    24-hour latency charts, in a fixed number of queries; without ``site``, every monitor."""
    now = now or timezone.now()
    monitors = list(
        (monitors_for(workspace).filter(site=site) if site else monitors_for(workspace)).select_related(
            "uptime_bar"
        )
    )
    checked = [m for m in monitors if m.kind != Monitor.Kind.HEARTBEAT]
    counts: dict[str, int] = defaultdict(int)
    for m in monitors:
        counts[m.state] += 1
    return Overview(
        rows=_rows(checked, now, latency=True),
        heartbeats=[m for m in monitors if m.kind == Monitor.Kind.HEARTBEAT],
        counts=dict(counts),
        **_recent(workspace, now, ids=[m.pk for m in monitors]),
    )
