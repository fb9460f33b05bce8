"""Template tags for the monitoring panels other pages include (site page, workspace overview)."""

from __future__ import annotations

from dataclasses import dataclass

from django import template
from django.db.models import Count

from ..models import Incident, Monitor

register = template.Library()


@dataclass(frozen=True)
class Panel:
    up: int
    down: int
    other: int
    open_incidents: list[Incident]


@register.simple_tag
def monitoring_panel(workspace, site=None) -> Panel:
    """Counts by state and the open incidents, in two queries."""
    monitors = Monitor.objects.filter(workspace=workspace)
    if site is not None:
        monitors = monitors.filter(site=site)
    counts = dict(monitors.values_list("state").annotate(n=Count("id")).values_list("state", "n"))
    incidents = Incident.objects.filter(monitor__in=monitors, ended_at__isnull=True).select_related("monitor")
    up, down = counts.pop(Monitor.State.UP, 0), counts.pop(Monitor.State.DOWN, 0)
    return Panel(up=up, down=down, other=sum(counts.values()), open_incidents=list(incidents[:5]))
