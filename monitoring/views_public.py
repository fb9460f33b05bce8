"""Public endpoints: heartbeat pings, signed acknowledge links, status pages.

None of these use a session: pings are addressed by an unguessable UUID and the
acknowledge link is signed and expires. The maintenance-window API is part of the
public API (launchready/api/maintenance.py), which reuses ``window_from`` below.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.dateparse import parse_datetime
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from launchready import ratelimit
from launchready.clientip import client_ip

from . import outbox, runner, selectors
from .forms import plain_text
from .messages import read_ack_token
from .models import HeartbeatPing, Incident, Monitor, StatusPage
from .tasks import send_notification

logger = logging.getLogger(__name__)

MAX_WINDOW = timedelta(hours=12)
MAX_AHEAD = timedelta(days=365)


def ping_allowed(uuid, now: float | None = None) -> bool:
    """At most ``MONITORING_PING_LIMIT_PER_MINUTE`` pings per heartbeat and minute.

    A job pinging in a tight loop (or someone replaying its URL) would otherwise
    write a row and take the monitor's row lock on every request. If the cache is
    unavailable, pings are let through: losing a ping is worse than an unthrottled minute.
    """
    limit = getattr(settings, "MONITORING_PING_LIMIT_PER_MINUTE", 60)
    return ratelimit.hit(f"ping:{uuid}", limit, 60, now=now).allowed


def _ping(request: HttpRequest, uuid, kind: str) -> HttpResponse:
    if not ping_allowed(uuid):
        response = HttpResponse(
            "rate limited: too many pings this minute\n", status=429, content_type="text/plain"
        )
        response["Retry-After"] = "60"
        return response
    monitor = (
        Monitor.objects.select_related("workspace").filter(uuid=uuid, kind=Monitor.Kind.HEARTBEAT).first()
    )
    if monitor is None:
        return HttpResponse("not found\n", status=404, content_type="text/plain")
    if monitor.state != Monitor.State.PAUSED:
        HeartbeatPing.objects.create(
            monitor=monitor,
            kind=kind,
            remote_addr=client_ip(request) or None,
            user_agent=(request.headers.get("User-Agent") or "")[:200],
        )
        for pk in runner.record_ping(monitor, kind):
            # With the broker down the ping is still answered (it is recorded, and so is its
            # alert); the outbox's sweep sends the alert once the broker is back.
            send_notification.delay_on_commit(pk)
    return HttpResponse("OK\n", content_type="text/plain")


@csrf_exempt
@require_http_methods(["GET", "POST", "HEAD"])
def ping(request: HttpRequest, uuid) -> HttpResponse:
    return _ping(request, uuid, HeartbeatPing.Kind.SUCCESS)


@csrf_exempt
@require_http_methods(["GET", "POST", "HEAD"])
def ping_start(request: HttpRequest, uuid) -> HttpResponse:
    return _ping(request, uuid, HeartbeatPing.Kind.START)


@csrf_exempt
@require_http_methods(["GET", "POST", "HEAD"])
def ping_fail(request: HttpRequest, uuid) -> HttpResponse:
    return _ping(request, uuid, HeartbeatPing.Kind.FAIL)


@require_http_methods(["GET", "POST"])
def acknowledge(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a button (mail scanners follow links); POST acknowledges."""
    try:
        incident_uuid = read_ack_token(token)
    except signing.SignatureExpired:
        return render(request, "monitoring/ack.html", {"problem": "This link has expired."}, status=410)
    except signing.BadSignature:
        return render(request, "monitoring/ack.html", {"problem": "This link is not valid."}, status=404)
    incident = Incident.objects.select_related("monitor").filter(uuid=incident_uuid).first()
    if incident is None:
        return render(
            request, "monitoring/ack.html", {"problem": "This incident no longer exists."}, status=404
        )
    done = False
    if request.method == "POST":
        user = request.user if request.user.is_authenticated else None
        outbox.acknowledge(incident, user)
        done = True
        incident.refresh_from_db()
    return render(request, "monitoring/ack.html", {"incident": incident, "done": done, "token": token})


def when_from(value, name: str) -> datetime:
    try:
        when = parse_datetime(value) if isinstance(value, str) else None
        when = when.astimezone(UTC) if when is not None and when.tzinfo is not None else None
    except (ValueError, OverflowError):  # well formed but impossible: month 13, year 1 at +14:00
        when = None
    if when is None:
        raise ValueError(f"“{name}” is ISO 8601 with a time zone, e.g. 2026-05-01T10:00:00Z.")
    return when


def window_from(data, now: datetime) -> tuple[datetime, datetime, str]:
    """Start, end and reason of a window from an API body; ValueError with a sentence otherwise.

    Used by ``POST /api/v1/maintenance-windows`` (launchready/api/maintenance.py).
    """
    if not isinstance(data, dict):
        raise ValueError('The body is a JSON object, e.g. {"minutes": 15, "reason": "deploy"}.')
    starts = when_from(data["starts_at"], "starts_at") if data.get("starts_at") else now
    if not now - MAX_WINDOW <= starts <= now + MAX_AHEAD:
        raise ValueError("A window starts between 12 hours ago and one year from now.")
    if data.get("ends_at"):
        ends = when_from(data["ends_at"], "ends_at")
    else:
        minutes = data.get("minutes", 15)
        if isinstance(minutes, bool) or not isinstance(minutes, int):
            raise ValueError("“minutes” must be a whole number.")
        if not 0 < minutes <= MAX_WINDOW.total_seconds() // 60:
            raise ValueError("A window ends after it starts and lasts at most 12 hours.")
        ends = starts + timedelta(minutes=minutes)
    if not (starts < ends <= starts + MAX_WINDOW):
        raise ValueError("A window ends after it starts and lasts at most 12 hours.")
    reason = data.get("reason", "")
    if not isinstance(reason, str):
        raise ValueError("“reason” must be text.")
    if not plain_text(reason):
        raise ValueError("“reason” is one line of text, without control characters.")
    return starts, ends, reason[:200]


@require_http_methods(["GET", "HEAD"])
def status_page(request: HttpRequest, uuid) -> HttpResponse:
    """A site's public status: monitor names, current state, 90-day bars. No causes or snippets."""
    page = StatusPage.objects.select_related("site__workspace").filter(uuid=uuid, enabled=True).first()
    if page is None:
        return render(request, "monitoring/status_page.html", {"missing": True}, status=404)
    data = selectors.overview(page.site.workspace, site=page.site)
    rows = [r for r in data.rows if r.monitor.kind == Monitor.Kind.HTTP and not r.monitor.is_paused]
    degraded = any(r.monitor.state == Monitor.State.DOWN for r in rows)
    return render(
        request,
        "monitoring/status_page.html",
        {"site": page.site, "rows": rows, "data": data, "degraded": degraded},
    )
