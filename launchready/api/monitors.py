"""``/monitors`` and ``/heartbeats``: what is watched and how it is doing."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from ninja import Query, Router, Schema

from launchready import fragments
from monitoring.models import Monitor

from . import lists
from .auth import get_or_404, scoped, site_for, token_auth
from .schemas import choices

router = Router(tags=["Monitors"], auth=token_auth)


class LastCheck(Schema):
    at: datetime
    latency_ms: int | None
    message: str


class MonitorOut(Schema):
    id: UUID
    site: UUID | None
    name: str
    kind: choices(Monitor.Kind)
    severity: str
    state: choices(Monitor.State)
    state_label: str
    target: str
    last_check: LastCheck | None

    @staticmethod
    def resolve_id(monitor: Monitor) -> UUID:
        return monitor.uuid

    @staticmethod
    def resolve_site(monitor: Monitor) -> UUID | None:
        return monitor.site.uuid if monitor.site_id else None

    @staticmethod
    def resolve_last_check(monitor: Monitor) -> dict | None:
        if monitor.last_checked_at is None:
            return None
        return {
            "at": monitor.last_checked_at,
            "latency_ms": monitor.last_latency_ms,
            "message": monitor.last_message,
        }


class HeartbeatOut(Schema):
    id: UUID
    site: UUID | None
    name: str
    state: choices(Monitor.State)
    state_label: str
    schedule: str
    period_s: int
    grace_s: int
    cron: str
    last_ping_at: datetime | None
    last_start_at: datetime | None
    ping_url: str

    resolve_id = staticmethod(MonitorOut.resolve_id)
    resolve_site = staticmethod(MonitorOut.resolve_site)

    @staticmethod
    def resolve_ping_url(monitor: Monitor) -> str:
        return settings.SITE_URL + reverse("monitoring_ping", kwargs={"uuid": monitor.uuid})


def _monitors(request: HttpRequest, site: UUID | None):
    monitors = scoped(request, Monitor.objects.select_related("site"))
    if site is not None:
        monitors = monitors.filter(site=site_for(request, site))
    return monitors


BY_NAME = lists.Order((("name", False), ("uuid", False)))


@router.get("/monitors", response=list[MonitorOut], summary="List monitors", openapi_extra=lists.LINK_HEADER)
def monitor_list(
    request: HttpRequest,
    site: UUID | None = None,
    limit: int | None = Query(None, ge=1, le=1000, description=lists.LIMIT_DESCRIPTION),
    cursor: str | None = Query(None, max_length=1000, description=lists.CURSOR_DESCRIPTION),
):
    """Monitors by name with their state and last check; ``?site=`` keeps one site's. All of
    them unless ``?limit=`` asks for pages (see the ``Link`` header)."""
    return lists.answer(
        request,
        "monitors",
        MonitorOut,
        (site, limit, cursor),
        lambda: lists.page(request, _monitors(request, site), BY_NAME, limit, cursor),
    )


@router.get("/monitors/{monitor}", response=MonitorOut, summary="Get a monitor")
def monitor_detail(request: HttpRequest, monitor: UUID):
    return get_or_404(scoped(request, Monitor.objects.select_related("site")), uuid=monitor)


@router.get("/heartbeats", response=list[HeartbeatOut], summary="List heartbeats")
def heartbeat_list(request: HttpRequest, site: UUID | None = None):
    """Heartbeat monitors with their last ping and the URL a job pings (also ``/start``, ``/fail``).
    A ping, and a change of state, show at once."""
    return lists.answer(
        request,
        "heartbeats",
        HeartbeatOut,
        (site,),
        lambda: (list(_monitors(request, site).filter(kind=Monitor.Kind.HEARTBEAT)), None),
        versions=lambda workspace_id: [fragments.pings_version_key(workspace_id)],
    )
