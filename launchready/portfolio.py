"""The consultant's portfolio: one row per workspace the user belongs to.

``portfolio_rows(user)`` is the one selector behind the portfolio page and the weekly
portfolio digest. It reads every workspace's state in a fixed number of queries,
whatever the number of workspaces: one query per table, grouped in Python.

What a row claims is only what was seen: a workspace with a site that was never
audited is not "ready" (its verdict is ``None`` and ``verdict_key`` is
``not_audited``), and uptime without a single check is ``None``, never 100 %.
"""

from __future__ import annotations

import uuid as uuid_mod
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, OuterRef, Subquery, Sum
from django.utils import timezone

from audits.checks import Severity, Verdict
from audits.services import latest_runs_for_sites
from handover.models import Deploy
from monitoring.models import DailyRollup, Incident, Monitor

from .models import Site, Workspace
from .selectors import memberships_for

UPTIME_DAYS = 7
EXPIRY_SOON_DAYS = 30

# Worst first: a verdict's rank when rows are sorted by how much they need attention.
VERDICT_RANK = {
    "not_ready": 0,
    "ready_with_risks": 1,
    "not_audited": 2,
    "no_sites": 3,
    "ready": 4,
}
VERDICT_KEY_LABELS = {
    "not_ready": Verdict.NOT_READY.label,
    "ready_with_risks": Verdict.READY_WITH_RISKS.label,
    "ready": Verdict.READY.label,
    "not_audited": "Not audited yet",
    "no_sites": "No sites yet",
}


@dataclass(frozen=True)
class Expiry:
    """The soonest certificate or domain expiry a workspace's monitors have seen."""

    kind: str  # Monitor.Kind.TLS_EXPIRY or Monitor.Kind.DOMAIN_EXPIRY
    host: str
    expires_at: datetime
    monitor_uuid: uuid_mod.UUID

    @property
    def what(self) -> str:
        return "Certificate" if self.kind == Monitor.Kind.TLS_EXPIRY else "Domain"

    def days_left(self, now: datetime) -> int:
        return (self.expires_at - now).days


@dataclass(frozen=True)
class LastDeploy:
    version: str
    environment: str
    state: str  # Deploy.State
    state_label: str
    created_at: datetime
    deploy_uuid: uuid_mod.UUID
    site_uuid: uuid_mod.UUID
    site_domain: str

    @property
    def failed(self) -> bool:
        return self.state == Deploy.State.FAILED


@dataclass(frozen=True)
class PortfolioRow:
    workspace: Workspace
    role: str
    site_count: int
    audited_sites: int
    worst_seen: Verdict | None  # the worst verdict among the sites' latest finished audits
    open_blockers: int
    open_highs: int
    uptime_7d: float | None  # HTTP monitors, last 7 days (today included); None: no check ran
    open_incidents: int
    next_expiry: Expiry | None
    last_audit_at: datetime | None
    last_deploy: LastDeploy | None
    now: datetime

    @property
    def unaudited_sites(self) -> int:
        return self.site_count - self.audited_sites

    @property
    def verdict(self) -> Verdict | None:
        """The workspace's verdict; ``None`` while a site without a finished audit could
        still hide a blocker (a blocker seen elsewhere makes it "not ready" anyway)."""
        if self.worst_seen == Verdict.NOT_READY or (self.worst_seen and not self.unaudited_sites):
            return self.worst_seen
        return None

    @property
    def verdict_key(self) -> str:
        if self.verdict is not None:
            return str(self.verdict)
        return "not_audited" if self.site_count else "no_sites"

    @property
    def verdict_label(self) -> str:
        return VERDICT_KEY_LABELS[self.verdict_key]

    @property
    def expiry_soon(self) -> bool:
        return self.next_expiry is not None and self.next_expiry.expires_at <= self.now + timedelta(
            days=EXPIRY_SOON_DAYS
        )

    @property
    def expiry_days(self) -> int | None:
        """Whole days until the next expiry (negative once it has passed)."""
        return self.next_expiry.days_left(self.now) if self.next_expiry else None

    @property
    def needs_attention(self) -> bool:
        """Something to act on: a blocker, an open incident, an expiry within 30 days,
        a failed deploy, or a site never audited."""
        return bool(
            self.open_blockers
            or self.open_incidents
            or self.expiry_soon
            or (self.last_deploy and self.last_deploy.failed)
            or self.verdict_key == "not_audited"
        )

    @property
    def attention_key(self) -> tuple:
        """Worst first: an open incident (the store is failing now), then the verdict,
        blockers, the lowest uptime, the soonest expiry; then by name."""
        return (
            0 if self.open_incidents else 1,
            VERDICT_RANK[self.verdict_key],
            -self.open_blockers,
            -self.open_highs,
            self.uptime_7d if self.uptime_7d is not None else 101.0,
            self.next_expiry.expires_at if self.next_expiry else datetime.max.replace(tzinfo=self.now.tzinfo),
            self.workspace.name.lower(),
        )


def _workspace_memberships(user, workspace_ids: Collection[int] | None) -> list:
    latest_deploy = (
        Deploy.objects.filter(site__workspace_id=OuterRef("workspace_id"))
        .order_by("-created_at", "-id")
        .values("pk")[:1]
    )
    memberships = memberships_for(user)
    if workspace_ids is not None:
        memberships = memberships.filter(workspace_id__in=list(workspace_ids))
    return list(memberships.annotate(last_deploy_id=Subquery(latest_deploy)))


def portfolio_rows(
    user, *, now: datetime | None = None, workspace_ids: Collection[int] | None = None
) -> list[PortfolioRow]:
    """One row per workspace of ``user`` (or of those of ``workspace_ids``), worst first (see
    ``PortfolioRow.attention_key``).

    Eight queries whatever the number of workspaces, sites and monitors.
    """
    now = now or timezone.now()
    if workspace_ids is not None and not workspace_ids:
        return []
    memberships = _workspace_memberships(user, workspace_ids)
    if not memberships:
        return []
    ids = [m.workspace_id for m in memberships]

    sites_by_ws: dict[int, list[int]] = defaultdict(list)
    for site_id, ws_id in Site.objects.filter(workspace_id__in=ids).values_list("id", "workspace_id"):
        sites_by_ws[ws_id].append(site_id)
    runs = latest_runs_for_sites([s for site_ids in sites_by_ws.values() for s in site_ids])

    incidents = dict(
        Incident.objects.filter(workspace_id__in=ids, ended_at__isnull=True)
        .values("workspace_id")
        .annotate(n=Count("id"))
        .values_list("workspace_id", "n")
    )
    uptime = {
        ws_id: 100.0 * (checks - failures) / checks
        for ws_id, checks, failures in DailyRollup.objects.filter(
            monitor__workspace_id__in=ids,
            monitor__kind=Monitor.Kind.HTTP,
            day__gt=now.date() - timedelta(days=UPTIME_DAYS),
        )
        .values("monitor__workspace_id")
        .annotate(checks=Sum("checks"), failures=Sum("failures"))
        .values_list("monitor__workspace_id", "checks", "failures")
        if checks
    }
    expiries: dict[int, Expiry] = {}
    for ws_id, kind, host, expires_at, monitor_uuid in (
        Monitor.objects.filter(
            workspace_id__in=ids,
            kind__in=(Monitor.Kind.TLS_EXPIRY, Monitor.Kind.DOMAIN_EXPIRY),
            expires_at__isnull=False,
        )
        .exclude(state=Monitor.State.PAUSED)
        .values_list("workspace_id", "kind", "hostname", "expires_at", "uuid")
    ):
        if ws_id not in expiries or expires_at < expiries[ws_id].expires_at:
            expiries[ws_id] = Expiry(kind=kind, host=host, expires_at=expires_at, monitor_uuid=monitor_uuid)
    deploy_ids = [m.last_deploy_id for m in memberships if m.last_deploy_id]
    deploys = {
        d.site.workspace_id: LastDeploy(
            version=d.version,
            environment=d.environment,
            state=d.state,
            state_label=d.get_state_display(),
            created_at=d.created_at,
            deploy_uuid=d.uuid,
            site_uuid=d.site.uuid,
            site_domain=d.site.domain,
        )
        for d in (Deploy.objects.filter(pk__in=deploy_ids).select_related("site") if deploy_ids else [])
    }

    rows = []
    for m in memberships:
        ws_runs = [runs[s] for s in sites_by_ws[m.workspace_id] if s in runs]
        verdicts = [Verdict(r.verdict) for r in ws_runs if r.verdict]
        rows.append(
            PortfolioRow(
                workspace=m.workspace,
                role=m.get_role_display(),
                site_count=len(sites_by_ws[m.workspace_id]),
                audited_sites=len(ws_runs),
                worst_seen=min(verdicts, key=lambda v: VERDICT_RANK[str(v)]) if verdicts else None,
                open_blockers=sum(_count(r.problem_counts, Severity.BLOCKER) for r in ws_runs),
                open_highs=sum(_count(r.problem_counts, Severity.HIGH) for r in ws_runs),
                uptime_7d=uptime.get(m.workspace_id),
                open_incidents=incidents.get(m.workspace_id, 0),
                next_expiry=expiries.get(m.workspace_id),
                last_audit_at=max((r.created_at for r in ws_runs), default=None),
                last_deploy=deploys.get(m.workspace_id),
                now=now,
            )
        )
    return sorted(rows, key=lambda r: r.attention_key)


def _count(counts: dict[str, Any] | None, severity: Severity) -> int:
    return int((counts or {}).get(str(severity), 0))


# Sorting for the page: each key's value, and whether "ascending" puts the worst first.
# Missing values (never audited, no check yet) always sort last, in either direction.
SORT_KEYS: dict[str, Callable[[PortfolioRow], Any]] = {
    "attention": lambda r: r.attention_key,
    "name": lambda r: r.workspace.name.lower(),
    "verdict": lambda r: VERDICT_RANK[r.verdict_key],
    "blockers": lambda r: r.open_blockers,
    "uptime": lambda r: r.uptime_7d,
    "incidents": lambda r: r.open_incidents,
    "expiry": lambda r: r.next_expiry.expires_at if r.next_expiry else None,
    "audit": lambda r: r.last_audit_at,
    "deploy": lambda r: r.last_deploy.created_at if r.last_deploy else None,
}


def sort_rows(rows: Iterable[PortfolioRow], key: str, *, descending: bool = False) -> list[PortfolioRow]:
    value = SORT_KEYS[key]
    rows = list(rows)
    present = [r for r in rows if value(r) is not None]
    missing = [r for r in rows if value(r) is None]
    ordered = sorted(present, key=lambda r: (value(r), r.workspace.name.lower()), reverse=descending)
    return ordered + sorted(missing, key=lambda r: r.workspace.name.lower())


def filter_rows(
    rows: Iterable[PortfolioRow], *, text: str = "", verdict: str = "", attention: bool = False
) -> list[PortfolioRow]:
    """Rows whose name contains ``text`` (any case), with that ``verdict_key``, and that
    need attention when ``attention`` is set."""
    needle = text.strip().casefold()
    return [
        r
        for r in rows
        if needle in r.workspace.name.casefold()
        and (not verdict or r.verdict_key == verdict)
        and (not attention or r.needs_attention)
    ]
