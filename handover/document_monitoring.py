"""The handover document's monitoring parts: which alerts exist and who gets them at which
severity, and "week one: what good looks like" (today's uptime and p95 per critical route
against its budget, the certificate and domain dates, what each alert means and the first
thing to do). Read-only; ``handover.document`` assembles them with the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q
from django.utils import timezone

from audits.facts import AuditFacts
from launchready.models import CriticalRoute, Site
from monitoring.messages import impact_and_action
from monitoring.models import AlertChannel, Monitor
from monitoring.rollups import summarize
from monitoring.routing import CRITICAL, INFO, WARNING, wants


@dataclass(frozen=True)
class AlertLine:
    monitor: str
    watches: str
    severity: str
    state: str
    channels: list[str]  # who gets it


@dataclass(frozen=True)
class RoutingLine:
    severity: str
    channels: list[str]
    note: str


@dataclass(frozen=True)
class RouteHealth:
    name: str
    path: str
    budget_ms: int
    uptime_today: float | None  # percent, from today's monitoring rollup
    p95_today_ms: int | None
    p95_audit_ms: float | None  # the latest audit's timing

    @property
    def p95_ms(self) -> float | None:
        return self.p95_today_ms if self.p95_today_ms is not None else self.p95_audit_ms

    @property
    def within_budget(self) -> bool | None:
        return None if self.p95_ms is None else self.p95_ms <= self.budget_ms


@dataclass(frozen=True)
class ExpiryDate:
    what: str
    expires_at: datetime
    source: str  # "monitor" or "latest audit"

    @property
    def days_left(self) -> int:
        return (self.expires_at - timezone.now()).days


@dataclass(frozen=True)
class AlertGuide:
    alert: str
    severity: str
    meaning: str
    first_step: str


@dataclass(frozen=True)
class WeekOne:
    routes: list[RouteHealth]
    dates: list[ExpiryDate]
    guides: list[AlertGuide]


SEVERITY_NOTES = {
    CRITICAL: "Straight away, every channel (SMS too); unacknowledged incidents go to the escalation contacts.",
    WARNING: "Straight away, by email, Slack and webhooks (not SMS).",
    INFO: "No alert: it waits for the weekly report.",
}
EXTRA_GUIDES = (
    AlertGuide(
        alert="Deploy smoke test failed",
        severity="Critical",
        meaning="Right after a deploy, a critical page (home, product, cart, checkout) failed: customers may not be able to buy.",
        first_step="Roll back to the last known good version (see “How to deploy and roll back”), then find out what broke.",
    ),
    AlertGuide(
        alert="New audit blocker",
        severity="Critical",
        meaning="The daily audit found a new problem that stops customers from buying or puts the store at risk.",
        first_step="Open the finding in Launch Ready: it says why it matters and how to fix it, step by step.",
    ),
)


def site_monitors(site: Site) -> list[Monitor]:
    """The site's monitors and the workspace's heartbeats (jobs that belong to no one site)."""
    return list(
        Monitor.objects.filter(Q(site=site) | Q(site__isnull=True, kind=Monitor.Kind.HEARTBEAT))
        .filter(workspace_id=site.workspace_id)
        .exclude(state=Monitor.State.PAUSED)
        .order_by("name", "id")
    )


def alerts_and_routing(site: Site, monitors: list[Monitor]) -> tuple[list[AlertLine], list[RoutingLine]]:
    channels = [
        c
        for c in AlertChannel.objects.filter(workspace_id=site.workspace_id).order_by("kind", "name")
        if c.is_active
    ]

    def who(severity: str) -> list[str]:
        return [f"{c} ({c.label})" if c.label else str(c) for c in channels if wants(c.kind, severity)]

    alerts = [
        AlertLine(
            monitor=m.name,
            watches=m.target,
            severity=m.get_severity_display(),
            state=m.state_label,
            channels=who(m.severity),
        )
        for m in monitors
    ]
    routing = [
        RoutingLine(sev.capitalize(), who(sev), SEVERITY_NOTES[sev]) for sev in (CRITICAL, WARNING, INFO)
    ]
    return alerts, routing


def _route_monitor_key(route: CriticalRoute) -> str:
    return "home" if route.path == "/" else f"route:{route.name}"


def week_one(site: Site, monitors: list[Monitor], facts: AuditFacts | None) -> WeekOne:
    today = timezone.now().date()
    by_key = {m.auto_key: m for m in monitors if m.auto_key and m.site_id == site.pk}
    summaries = summarize([m.pk for m in by_key.values()], today, today)
    timings = {r.name: r for r in facts.routes} if facts else {}
    routes = []
    for route in site.routes.all():
        monitor = by_key.get(_route_monitor_key(route))
        summary = summaries.get(monitor.pk) if monitor else None
        timing = timings.get(route.name)
        routes.append(
            RouteHealth(
                name=route.name,
                path=route.path,
                budget_ms=route.budget_ms,
                uptime_today=summary.uptime_pct if summary else None,
                p95_today_ms=summary.p95_ms if summary else None,
                p95_audit_ms=round(timing.p95) if timing and timing.p95 is not None else None,
            )
        )
    return WeekOne(routes=routes, dates=expiry_dates(site, monitors, facts), guides=alert_guides(monitors))


def expiry_dates(site: Site, monitors: list[Monitor], facts: AuditFacts | None) -> list[ExpiryDate]:
    """Certificate and domain expiry from the expiry monitors; from the latest audit when none has run."""
    kinds = (Monitor.Kind.TLS_EXPIRY, Monitor.Kind.DOMAIN_EXPIRY)
    dates = [
        ExpiryDate(m.name, m.expires_at, "monitor") for m in monitors if m.kind in kinds and m.expires_at
    ]
    watched = {m.kind for m in monitors if m.kind in kinds and m.expires_at}
    if facts is not None:
        tls = facts.tls_for(site.canonical_host)
        if Monitor.Kind.TLS_EXPIRY not in watched and tls and tls.cert and tls.cert.not_after:
            dates.append(
                ExpiryDate(f"Certificate of {site.canonical_host}", tls.cert.not_after, "latest audit")
            )
        rdap = facts.rdap
        if Monitor.Kind.DOMAIN_EXPIRY not in watched and rdap and rdap.expires_at:
            dates.append(ExpiryDate(f"Domain registration of {rdap.domain}", rdap.expires_at, "latest audit"))
    return sorted(dates, key=lambda d: d.expires_at)


def alert_guides(monitors: list[Monitor]) -> list[AlertGuide]:
    """For each alert a founder may get: what it means and the first thing to do."""
    guides = []
    for m in monitors:
        meaning, step = impact_and_action(m.kind, m.auto_key, "opened")
        guides.append(
            AlertGuide(
                f"{m.name} is down" if m.kind == Monitor.Kind.HTTP else m.name,
                m.get_severity_display(),
                meaning,
                step,
            )
        )
    return guides + list(EXTRA_GUIDES)
