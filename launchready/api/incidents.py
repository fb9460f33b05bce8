"""``/incidents``: outages and expiry warnings, open ones first."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from django.db.models import Case, IntegerField, Value, When
from django.http import HttpRequest
from ninja import Query, Router, Schema

from monitoring.models import Incident

from .auth import get_or_404, scoped, site_for, token_auth

router = Router(tags=["Incidents"], auth=token_auth)


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


def _incidents(request: HttpRequest):
    return scoped(request, Incident.objects.select_related("monitor__site"), site_field="monitor__site")


@router.get("/incidents", response=list[IncidentOut], summary="List incidents")
def incident_list(
    request: HttpRequest,
    is_open: bool | None = Query(None, alias="open", description="true: open only; false: resolved only"),
    site: UUID | None = None,
    limit: int = Query(50, ge=1, le=200),
):
    """Open incidents first, then the most recent."""
    incidents = _incidents(request)
    if is_open is not None:
        incidents = incidents.filter(ended_at__isnull=is_open)
    if site is not None:
        incidents = incidents.filter(monitor__site=site_for(request, site))
    open_first = Case(
        When(ended_at__isnull=True, then=Value(0)), default=Value(1), output_field=IntegerField()
    )
    return list(incidents.order_by(open_first, "-started_at")[:limit])


@router.get("/incidents/{incident}", response=IncidentOut, summary="Get an incident")
def incident_detail(request: HttpRequest, incident: UUID):
    return get_or_404(_incidents(request), uuid=incident)
