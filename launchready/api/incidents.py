"""``/incidents``: outages and expiry warnings, open ones first."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from django.db.models import Case, IntegerField, Value, When
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from monitoring.models import Incident

from . import lists
from .auth import get_or_404, scoped, site_for, token_auth

router = Router(tags=["Incidents"], auth=token_auth)


class AffectedMonitorOut(Schema):
    """One monitor a primary incident's cause took down, and for how long."""

    incident: UUID = Field(
        description="This monitor's own incident (the primary's id for the primary's monitor)"
    )
    monitor: UUID
    monitor_name: str
    started_at: datetime
    ended_at: datetime | None = Field(description="When this monitor recovered; null while it is still down")
    open: bool


class IncidentOut(Schema):
    id: UUID
    monitor: UUID
    monitor_name: str
    site: UUID | None
    severity: str
    cause: str
    started_at: datetime
    ended_at: datetime | None
    open: bool
    acknowledged_at: datetime | None
    flapping: bool
    # Correlation (one cause, one incident): added fields, the ones above are unchanged.
    primary: UUID | None = Field(
        description=(
            "The incident this one is part of: monitors that fail for one cause share one primary "
            "incident, which alerts once and lists them. Null on a primary (or when the primary is "
            "outside a site token's site)."
        )
    )
    cause_key: str = Field(
        description="The shared host-level cause, e.g. `tls-expired:www.shop.com`; empty for a page-level failure"
    )
    severity_reason: str = Field(description="Where the severity comes from, in words")
    affected_monitors: list[AffectedMonitorOut] = Field(
        description=(
            "On a primary: every monitor it covers (its own first, then the others by start), each "
            "with its own start and recovery. Empty on a part: read its primary."
        )
    )

    @staticmethod
    def resolve_id(incident: Incident) -> UUID:
        return incident.uuid

    @staticmethod
    def resolve_monitor(incident: Incident) -> UUID:
        return incident.monitor.uuid

    @staticmethod
    def resolve_monitor_name(incident: Incident) -> str:
        return incident.monitor.name

    @staticmethod
    def resolve_site(incident: Incident) -> UUID | None:
        return incident.monitor.site.uuid if incident.monitor.site_id else None

    @staticmethod
    def resolve_open(incident: Incident) -> bool:
        return incident.is_open

    @staticmethod
    def resolve_primary(incident: Incident) -> UUID | None:
        return incident.api_primary  # set by _correlated

    @staticmethod
    def resolve_affected_monitors(incident: Incident) -> list[AffectedMonitor]:
        return incident.api_affected  # set by _correlated


@dataclass(frozen=True)
class AffectedMonitor:
    incident: UUID
    monitor: UUID
    monitor_name: str
    started_at: datetime
    ended_at: datetime | None
    open: bool

    @classmethod
    def of(cls, part: Incident) -> AffectedMonitor:
        return cls(
            part.uuid, part.monitor.uuid, part.monitor.name, part.started_at, part.ended_at, part.is_open
        )


def _incidents(request: HttpRequest):
    return scoped(request, Incident.objects.select_related("monitor__site"), site_field="monitor__site")


def _correlated(request: HttpRequest, incidents: list[Incident]) -> list[Incident]:
    """Attach each incident's primary and, on a primary, its affected monitors: two queries
    for any number of incidents, both scoped like the list (a site token sees its site's)."""
    visible = _incidents(request)
    primaries = dict(
        visible.filter(pk__in={i.primary_id for i in incidents if i.primary_id}).values_list("pk", "uuid")
    )
    parts: dict[int, list[Incident]] = defaultdict(list)
    heads = [i.pk for i in incidents if i.primary_id is None]
    for part in visible.filter(primary_id__in=heads).order_by("started_at", "pk"):
        parts[part.primary_id].append(part)
    for incident in incidents:
        incident.api_primary = primaries.get(incident.primary_id) if incident.primary_id else None
        incident.api_affected = (
            [AffectedMonitor.of(p) for p in [incident, *parts[incident.pk]]]
            if incident.primary_id is None
            else []
        )
    return incidents


OPEN_FIRST = lists.Order((("open_rank", False), ("started_at", True), ("uuid", False)))


@router.get(
    "/incidents", response=list[IncidentOut], summary="List incidents", openapi_extra=lists.LINK_HEADER
)
def incident_list(
    request: HttpRequest,
    is_open: bool | None = Query(None, alias="open", description="true: open only; false: resolved only"),
    site: UUID | None = None,
    limit: int = Query(50, ge=1, le=200, description=lists.LIMIT_DESCRIPTION),
    cursor: str | None = Query(None, max_length=1000, description=lists.CURSOR_DESCRIPTION),
):
    """Open incidents first, then the most recent; 50 a page unless ``?limit=`` says otherwise
    (the ``Link`` header gives the next page)."""

    def draw() -> tuple[list[Incident], str | None]:
        incidents = _incidents(request)
        if is_open is not None:
            incidents = incidents.filter(ended_at__isnull=is_open)
        if site is not None:
            incidents = incidents.filter(monitor__site=site_for(request, site))
        open_rank = Case(
            When(ended_at__isnull=True, then=Value(0)), default=Value(1), output_field=IntegerField()
        )
        rows, next_url = lists.page(
            request, incidents.annotate(open_rank=open_rank), OPEN_FIRST, limit, cursor
        )
        return _correlated(request, rows), next_url

    return lists.answer(request, "incidents", IncidentOut, (is_open, site, limit, cursor), draw)


@router.get("/incidents/{incident}", response=IncidentOut, summary="Get an incident")
def incident_detail(request: HttpRequest, incident: UUID):
    return _correlated(request, [get_or_404(_incidents(request), uuid=incident)])[0]
