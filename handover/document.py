"""The handover document of a site, assembled as typed dataclasses from what Launch Ready knows.

Sources, read-only: the site and its audit runs (what changed since the first audit,
what is open, what is accepted), the env-var inventory (where each secret lives, never
a value: there is no value to read), the deploy records and the consultant's own steps
with the host's instructions, the monitoring set-up (monitors, channels, routing by
severity, escalation contacts, today's rollups), the ownership inventory and the
handover checklist. The web page, the Markdown and the PDF all render this one object;
the monitoring parts (alerts, routing, week one) are read in ``handover.document_monitoring``.

``public=True`` is the client's copy (share link, Markdown, PDF): it leaves out the
internal notes and the names of the team members who accepted risks or ticked items.
"""

from __future__ import annotations

import logging
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone

from audits import services as audit_services
from audits.checks import Severity
from audits.models import AcceptedRisk, AuditRun, Finding, ShareLink
from audits.verdict import Verdict
from launchready.models import Site

from . import deploys
from .document_monitoring import (
    AlertLine,
    RoutingLine,
    WeekOne,
    alerts_and_routing,
    site_monitors,
    week_one,
)
from .hosting import HostingGuide, guide_for
from .models.env import EnvVar
from .models.ownership import ChecklistItem, HandoverDocument, Service
from .ownership import Ownership, facts_of, ownership

logger = logging.getLogger(__name__)

SEVERITY_RANK = {str(s): s.rank for s in Severity}


# --- the document's parts -----------------------------------------------------------------


@dataclass(frozen=True)
class ResolvedItem:
    check: str
    severity: str
    title: str
    subject: str
    found_on: datetime  # the first audit that reported it
    resolved_on: datetime  # the first audit after which it was no longer reported


@dataclass(frozen=True)
class OpenItem:
    check: str
    severity: str
    title: str
    subject: str
    fix: str
    since: datetime | None


@dataclass(frozen=True)
class AcceptedItem:
    check: str
    title: str
    subject: str
    reason: str
    expires_at: datetime
    accepted_by: str  # "" in the client's copy


@dataclass(frozen=True)
class AuditSummary:
    first_at: datetime | None
    first_verdict: str
    latest_at: datetime | None
    latest_verdict: str
    runs: int

    @property
    def first_label(self) -> str:
        return Verdict(self.first_verdict).label if self.first_verdict else ""

    @property
    def latest_label(self) -> str:
        return Verdict(self.latest_verdict).label if self.latest_verdict else ""


@dataclass(frozen=True)
class SecretPlace:
    environment: str
    name: str
    purpose: str
    required: bool
    stored_in: str  # "Hosting dashboard: Vercel project settings"; "" when not recorded
    owner: str
    last_rotated: date | None


@dataclass(frozen=True)
class KnownGood:
    environment: str
    version: str
    deployed_at: datetime


@dataclass(frozen=True)
class DeploySection:
    own_deploy_steps: list[str]
    own_rollback_steps: list[str]
    guide: HostingGuide
    hosting: str  # the provider the guide was chosen for ("" when unknown)
    last_known_good: list[KnownGood]
    last_rollback_at: datetime | None
    last_rollback_minutes: float | None
    last_rollback_kind: str


@dataclass(frozen=True)
class ServiceLine:
    service: str
    provider: str
    owner: str
    access: str
    credentials_location: str
    renews_on: date | None
    notes: str
    recorded: bool  # False: detected by the audit, owner not recorded yet


@dataclass(frozen=True)
class SubdomainLine:
    host: str
    purpose: str
    owner: str


@dataclass(frozen=True)
class ContactLine:
    position: int
    name: str
    email: str
    phone: str


@dataclass(frozen=True)
class ChecklistLine:
    key: str  # the standard key, or the custom item's UUID
    label: str
    standard: bool
    done_at: datetime | None
    done_by: str  # "" in the client's copy

    @property
    def done(self) -> bool:
        return self.done_at is not None


@dataclass(frozen=True)
class Handover:
    domain: str
    name: str
    timezone: str  # the workspace's: dates are shown in it
    generated_at: datetime
    public: bool
    audits: AuditSummary
    resolved: list[ResolvedItem]
    open: list[OpenItem]
    accepted: list[AcceptedItem]
    secrets: list[SecretPlace]
    deploy: DeploySection
    alerts: list[AlertLine]
    routing: list[RoutingLine]
    escalate_after_minutes: int
    services: list[ServiceLine]
    subdomains: list[SubdomainLine]
    contacts: list[ContactLine]
    week_one: WeekOne
    checklist: list[ChecklistLine]
    internal_notes: str = ""  # never in the client's copy

    @property
    def checklist_done(self) -> int:
        return sum(1 for line in self.checklist if line.done)

    @property
    def environments(self) -> list[str]:
        return list(dict.fromkeys(s.environment for s in self.secrets))

    def secrets_in(self, environment: str) -> list[SecretPlace]:
        return [s for s in self.secrets if s.environment == environment]

    def local(self, when: datetime) -> datetime:
        """``when`` in the workspace's time zone."""
        return when.astimezone(zoneinfo.ZoneInfo(self.timezone))


# --- audits: what changed, what is open, what is accepted -----------------------------------


@dataclass
class _Seen:
    row: tuple  # (check, subject, severity, title)
    first: datetime
    last_run: int  # index of the last run that reported it


def audit_history(runs: list[AuditRun], rows: Iterable[tuple]) -> tuple[list[ResolvedItem], dict]:
    """Findings resolved between the first and the latest run, each with the date of the run
    that no longer reported it, and when each finding was first seen.

    ``rows`` are ``(run_id, check, subject, severity, title)``. A finding that went away
    and came back is open again (not resolved); one that came back and went away again
    is resolved on its latest disappearance. Runs must be oldest first.
    """
    by_run: dict[int, list[tuple]] = {}
    for run_id, *rest in rows:
        by_run.setdefault(run_id, []).append(tuple(rest))
    seen: dict[tuple[str, str], _Seen] = {}
    since: dict[tuple[str, str], datetime] = {}
    for i, run in enumerate(runs):
        for row in by_run.get(run.pk, []):
            key = (row[0], row[1])
            if key not in seen or seen[key].last_run < i - 1:
                since[key] = run.created_at  # new, or back after being resolved
            first = seen[key].first if key in seen else run.created_at
            seen[key] = _Seen(row=row, first=first, last_run=i)
    last = len(runs) - 1
    resolved = [
        ResolvedItem(
            check=s.row[0],
            subject=s.row[1],
            severity=s.row[2],
            title=s.row[3],
            found_on=s.first,
            resolved_on=_run_date(runs[s.last_run + 1]),
        )
        for s in seen.values()
        if s.last_run < last and str(s.row[2]) != Severity.INFO
    ]
    resolved.sort(key=lambda r: (r.resolved_on, SEVERITY_RANK.get(r.severity, 9), r.check))
    return resolved, since


def _run_date(run: AuditRun) -> datetime:
    return run.finished_at or run.created_at


def _audit_parts(site: Site, latest: AuditRun | None, public: bool):
    runs = list(
        AuditRun.objects.filter(site=site, status=AuditRun.Status.DONE)
        .order_by("created_at", "id")
        .defer("facts")
    )
    rows = Finding.objects.filter(run__in=runs).values_list(
        "run_id", "check_id", "subject", "severity", "title"
    )
    resolved, since = audit_history(runs, rows)
    summary = AuditSummary(
        first_at=_run_date(runs[0]) if runs else None,
        first_verdict=runs[0].verdict if runs else "",
        latest_at=_run_date(runs[-1]) if runs else None,
        latest_verdict=runs[-1].verdict if runs else "",
        runs=len(runs),
    )
    open_items: list[OpenItem] = []
    titles: dict[tuple[str, str], str] = {}
    if latest is not None:
        latest.site = site
        report, _accepted = audit_services.report_for_run(latest)
        open_items = [
            OpenItem(
                check=f.check,
                severity=str(f.severity),
                title=f.title,
                subject=f.subject,
                fix=f.fix,
                since=since.get(f.key),
            )
            for f in report.plan + report.deferred
        ]
        titles = {(f.check, f.subject): f.title for f in _accepted}
    risks = AcceptedRisk.objects.filter(site=site, expires_at__gt=timezone.now()).select_related(
        "accepted_by"
    )
    accepted = [
        AcceptedItem(
            check=a.check_id,
            title=titles.get((a.check_id, a.subject), a.check_id),
            subject=a.subject,
            reason=a.reason,
            expires_at=a.expires_at,
            accepted_by="" if public or a.accepted_by is None else a.accepted_by.email,
        )
        for a in risks.order_by("expires_at", "id")
    ]
    return summary, resolved, open_items, accepted


# --- secrets, deploys -----------------------------------------------------------------------


def secret_places(site: Site) -> list[SecretPlace]:
    """Where each variable's value lives, per environment. The inventory has no value field."""
    rows = EnvVar.objects.filter(site=site).order_by("environment", "name")
    places = [
        SecretPlace(
            environment=v.environment,
            name=v.name,
            purpose=v.purpose,
            required=v.required,
            stored_in=v.storage_label,
            owner=v.owner,
            last_rotated=v.last_rotated,
        )
        for v in rows
    ]
    order = {"production": 0, "staging": 1}
    return sorted(places, key=lambda p: (order.get(p.environment, 2), p.environment, p.name))


def deploy_section(site: Site, own: HandoverDocument | None, owned: Ownership) -> DeploySection:
    recorded_hosting = next(
        (r.service.provider for r in owned.rows if r.kind == Service.Kind.HOSTING and r.service), ""
    )
    detected = next((r.detected for r in owned.rows if r.kind == Service.Kind.HOSTING and r.detected), None)
    cdn = next((r.detected for r in owned.rows if r.kind == Service.Kind.CDN and r.detected), None)
    candidates = [recorded_hosting, detected.provider if detected else "", cdn.via if cdn else ""]
    guide = guide_for(*candidates)
    hosting = recorded_hosting or (detected.provider if detected else "")
    own_rollback, _default_rollback = deploys.rollback_steps(site)
    facts = deploys.deploy_facts(site)
    good = deploys.last_known_good(site)
    return DeploySection(
        own_deploy_steps=own.deploy_step_list if own else [],
        own_rollback_steps=own_rollback,
        guide=guide,
        hosting=hosting,
        last_known_good=[
            KnownGood(env, d.version, d.created_at)
            for env, d in sorted(
                good.items(), key=lambda item: item[0] not in deploys.PRODUCTION_ENVIRONMENTS
            )
        ],
        last_rollback_at=facts.last_rollback_at,
        last_rollback_minutes=facts.last_rollback_minutes,
        last_rollback_kind=facts.rollback_kind or "",
    )


# --- ownership, checklist -------------------------------------------------------------------


def service_lines(owned: Ownership) -> list[ServiceLine]:
    lines = []
    for row in owned.rows:
        s = row.service
        lines.append(
            ServiceLine(
                service=row.kind_label,
                provider=row.provider,
                owner=s.owner if s else "",
                access=s.access if s else "",
                credentials_location=s.credentials_location if s else "",
                renews_on=s.renews_on if s else None,
                notes=s.notes if s else "",
                recorded=s is not None,
            )
        )
    return lines


def checklist(site: Site, *, public: bool = False) -> list[ChecklistLine]:
    """The three standard items (saved or not yet ticked) and the custom ones, in that order."""
    saved = list(ChecklistItem.objects.filter(site=site).select_related("done_by"))
    standard = {item.standard: item for item in saved if item.standard}

    def line(key: str, label: str, item: ChecklistItem | None, is_standard: bool) -> ChecklistLine:
        by = "" if public or item is None or item.done_by is None else item.done_by.email
        return ChecklistLine(key, label, is_standard, item.done_at if item else None, by)

    lines = [line(s.value, s.label, standard.get(s.value), True) for s in ChecklistItem.Standard]
    lines += [line(str(i.uuid), i.label, i, False) for i in saved if not i.standard]
    return lines


# --- the whole document ---------------------------------------------------------------------


def build(site: Site, *, public: bool = False) -> Handover:
    """The handover document of ``site`` (its workspace already scoped by the caller)."""
    latest = AuditRun.objects.filter(site=site, status=AuditRun.Status.DONE).order_by("-created_at").first()
    facts = facts_of(latest)
    owned = ownership(site, run=latest, facts=facts)
    own = HandoverDocument.objects.filter(site=site).first()
    summary, resolved, open_items, accepted = _audit_parts(site, latest, public)
    monitors = site_monitors(site)
    alerts, routing = alerts_and_routing(site, monitors)
    return Handover(
        domain=site.domain,
        name=site.display_name,
        timezone=site.workspace.timezone,
        generated_at=timezone.now(),
        public=public,
        audits=summary,
        resolved=resolved,
        open=open_items,
        accepted=accepted,
        secrets=secret_places(site),
        deploy=deploy_section(site, own, owned),
        alerts=alerts,
        routing=routing,
        escalate_after_minutes=settings.MONITORING_ESCALATE_AFTER_MINUTES,
        services=service_lines(owned),
        subdomains=[SubdomainLine(f"{s.name}.{site.domain}", s.purpose, s.owner) for s in owned.subdomains],
        contacts=[ContactLine(i, c.name, c.email, c.phone) for i, c in enumerate(owned.contacts, start=1)],
        week_one=week_one(site, monitors, facts),
        checklist=checklist(site, public=public),
        internal_notes="" if public or own is None else own.internal_notes,
    )


# --- the workspace's handover tab ------------------------------------------------------------


@dataclass(frozen=True)
class SiteHandoverState:
    site: Site
    checklist_done: int
    checklist_total: int
    services: int
    active_links: int
    latest_run: AuditRun | None
    has_deploy_steps: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return self.checklist_total > 0 and self.checklist_done == self.checklist_total


def workspace_states(sites: Iterable[Site]) -> list[SiteHandoverState]:
    """Each site's handover state for the workspace tab, in a fixed number of queries."""
    sites = list(sites)
    ids = [s.pk for s in sites]
    items = (
        ChecklistItem.objects.filter(site_id__in=ids)
        .values("site_id")
        .annotate(
            total=Count("id"),
            done=Count("id", filter=Q(done_at__isnull=False)),
            custom=Count("id", filter=Q(standard="")),
        )
    )
    counts = {row["site_id"]: row for row in items}
    services = dict(
        Service.objects.filter(site_id__in=ids)
        .values_list("site_id")
        .annotate(n=Count("id"))
        .values_list("site_id", "n")
    )
    links = dict(
        ShareLink.objects.filter(
            site_id__in=ids, handover__isnull=False, revoked_at__isnull=True, expires_at__gt=timezone.now()
        )
        .values_list("site_id")
        .annotate(n=Count("id"))
        .values_list("site_id", "n")
    )
    steps = set(
        HandoverDocument.objects.filter(site_id__in=ids)
        .exclude(deploy_steps="")
        .values_list("site_id", flat=True)
    )
    latest = audit_services.latest_runs_for_sites(ids) if ids else {}
    states = []
    for s in sites:
        row = counts.get(s.pk, {})
        custom = row.get("custom", 0)
        states.append(
            SiteHandoverState(
                site=s,
                checklist_done=row.get("done", 0),
                checklist_total=len(ChecklistItem.Standard) + custom,
                services=services.get(s.pk, 0),
                active_links=links.get(s.pk, 0),
                latest_run=latest.get(s.pk),
                has_deploy_steps=s.pk in steps,
            )
        )
    return states
