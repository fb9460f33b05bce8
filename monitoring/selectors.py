"""Monitoring reads, scoped to a workspace (the membership check is done by
``launchready.views_common.workspace_view`` through ``launchready.selectors``).

``overview()`` assembles a whole dashboard in a fixed number of queries, whatever
the number of monitors: one per table, grouped in Python.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone

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


@dataclass
class MonitorRow:
    monitor: Monitor
    bars: list[charts.Bar]
    uptime_90d: float | None
    latency: charts.LatencyChart
    open_incident: Incident | None = None

    @property
    def bar_svg(self):  # SafeString
        return charts.uptime_bar_svg(self.bars, self.uptime_90d)


@dataclass
class Overview:
    rows: list[MonitorRow]
    heartbeats: list[Monitor]
    incidents: list[Incident]
    windows: list[MaintenanceWindow]
    channels: list[AlertChannel]
    counts: dict[str, int] = field(default_factory=dict)
    bar_width: int = charts.BAR_DAYS * (charts.BAR_W + charts.BAR_GAP)
    bar_height: int = charts.BAR_H


def overview(workspace: Workspace, site: Site | None = None, now: datetime | None = None) -> Overview:
    """Everything the monitoring page shows, in eight queries."""
    now = now or timezone.now()
    today: date = now.date()
    monitors = list(monitors_for(workspace).filter(site=site) if site else monitors_for(workspace))
    ids = [m.pk for m in monitors]
    days: dict[int, dict[date, tuple[int, int]]] = defaultdict(dict)
    for mid, day, c, f in DailyRollup.objects.filter(
        monitor_id__in=ids, day__gt=today - timedelta(days=charts.BAR_DAYS)
    ).values_list("monitor_id", "day", "checks", "failures"):
        days[mid][day] = (c, f)
    start = now - timedelta(hours=24)
    hours: dict[int, list] = defaultdict(list)
    for mid, hour, p50, p95 in (
        HourlyRollup.objects.filter(monitor_id__in=ids, hour__gte=start)
        .order_by("hour")
        .values_list("monitor_id", "hour", "p50_ms", "p95_ms")
    ):
        hours[mid].append((hour, p50, p95))
    incidents = list(
        Incident.objects.filter(monitor_id__in=ids, started_at__gte=now - timedelta(days=30))
        .select_related("monitor")
        .order_by("-started_at")[:50]
    )
    # Open incidents on their own: one open for weeks (or beyond the 50 listed) still shows on its row.
    open_by_monitor = {
        i.monitor_id: i for i in Incident.objects.filter(monitor_id__in=ids, ended_at__isnull=True)
    }
    rows = [
        MonitorRow(
            monitor=m,
            bars=charts.uptime_bars(days[m.pk], today),
            uptime_90d=charts.uptime_pct(days[m.pk]),
            latency=charts.latency_chart(hours[m.pk], start, now),
            open_incident=open_by_monitor.get(m.pk),
        )
        for m in monitors
        if m.kind != Monitor.Kind.HEARTBEAT
    ]
    windows = list(
        MaintenanceWindow.objects.filter(workspace=workspace, ends_at__gt=now).order_by("starts_at")[:20]
    )
    channels = list(AlertChannel.objects.filter(workspace=workspace))
    counts = defaultdict(int)
    for m in monitors:
        counts[m.state] += 1
    return Overview(
        rows=rows,
        heartbeats=[m for m in monitors if m.kind == Monitor.Kind.HEARTBEAT],
        incidents=incidents,
        windows=windows,
        channels=channels,
        counts=dict(counts),
    )
