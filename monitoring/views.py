"""Monitoring pages: overview (workspace and site), monitors, incidents."""

from __future__ import annotations

import logging
from collections import Counter

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe

from launchready import fragments, pagecache
from launchready.models import Membership, Role, Site
from launchready.views_common import workspace_view

from . import outbox, rollups, selectors
from .forms import COMMON_FIELDS, MonitorForm, duration_label
from .models import CheckResult, Monitor, StatusPage

logger = logging.getLogger(__name__)


def _ctx(m: Membership, **extra) -> dict:
    return {"workspace": m.workspace, "membership": m, "can_edit": m.can(Role.MEMBER), **extra}


def _page_number(request: HttpRequest) -> int:
    try:
        return max(1, int(request.GET.get("page", 1)))
    except ValueError:
        return 1


def _ping_ages(m: Membership) -> list[str]:
    return [fragments.ping_ages_version_key(m.workspace_id)]


def _monitor_version(m: Membership, monitor) -> list[str]:
    return [fragments.monitor_version_key(monitor)]


@workspace_view()
@pagecache.workspace_page(also=rollups.bars_version, params=("page",), versions=_ping_ages)
def overview(request: HttpRequest, m: Membership) -> HttpResponse:
    """Monitors by site, worst first, a page of sites at a time. The sites' part is drawn once
    and cached (launchready.fragments): dropped when an incident opens or closes, a monitor or
    site changes (their saves), the hourly rollup runs (bars_version) or the day changes. The
    whole page is also kept under the workspace's ping ages: the heartbeats' "N minutes ago"."""
    ws = m.workspace
    now = timezone.now()
    page = _page_number(request)

    def build() -> dict:
        data = selectors.overview_page(ws, page, now=now)
        html = render_to_string("monitoring/_overview_groups.html", {"data": data, "workspace": ws})
        return {"html": html, "counts": data.counts}

    parts = (page, rollups.bars_version(), now.date(), ws.timezone)
    groups = fragments.cached("monitoring-overview", ws.pk, parts, build)
    beats = selectors.heartbeats(ws)
    counts = Counter(groups["counts"]) + Counter(hb.state for hb in beats)
    data = selectors.Overview(rows=[], heartbeats=beats, counts=dict(counts), **selectors.recent(ws, now))
    html = mark_safe(groups["html"])  # noqa: S308 - our template's output, escaped when it was rendered
    return render(request, "monitoring/overview.html", _ctx(m, data=data, site=None, groups_html=html))


@workspace_view()
def site_overview(request: HttpRequest, m: Membership, site: Site) -> HttpResponse:
    data = selectors.overview(m.workspace, site=site)
    page = StatusPage.objects.filter(site=site).first()
    return render(request, "monitoring/overview.html", _ctx(m, data=data, site=site, status_page=page))


@workspace_view(write=Role.MEMBER, methods=("POST",))
def status_page_toggle(request: HttpRequest, m: Membership, site: Site) -> HttpResponse:
    page, _ = StatusPage.objects.get_or_create(site=site)
    page.enabled = not page.enabled
    page.save(update_fields=["enabled"])
    messages.success(request, "Public status page " + ("published." if page.enabled else "taken down."))
    return redirect("monitoring:site_overview", workspace=m.workspace.uuid, site=site.uuid)


def _monitor_form(request: HttpRequest, m: Membership, instance: Monitor | None = None) -> MonitorForm:
    """The form for the chosen kind. "Show the fields" (no JavaScript) or the kind list's htmx
    request asks for the form of another kind, keeping the name, site and severity typed so far."""
    asked = request.POST if "show_kind" in request.POST else request.GET
    if request.method == "POST" and "show_kind" not in request.POST:
        return MonitorForm(request.POST, instance=instance, workspace=m.workspace)
    initial = {name: asked[name] for name in COMMON_FIELDS if asked.get(name)}
    return MonitorForm(instance=instance, initial=initial, workspace=m.workspace, kind=asked.get("kind"))


@workspace_view(write=Role.MEMBER, read=Role.MEMBER)  # the form shows custom headers (tokens)
def monitor_create(request: HttpRequest, m: Membership) -> HttpResponse:
    form = _monitor_form(request, m)
    if form.is_bound and form.is_valid():
        monitor = form.save()
        messages.success(request, f"Monitor “{monitor.name}” added; its first check runs within a minute.")
        return redirect("monitoring:monitor_detail", workspace=m.workspace.uuid, monitor=monitor.uuid)
    return render(request, "monitoring/monitor_form.html", _ctx(m, form=form, monitor=None))


@workspace_view()
@pagecache.workspace_page(versions=_monitor_version)  # its pings and messages move its own version
def monitor_detail(request: HttpRequest, m: Membership, monitor) -> HttpResponse:
    mon = selectors.monitor_in(m.workspace, monitor)
    results = list(CheckResult.objects.filter(monitor=mon).order_by("-checked_at")[:20])
    incidents = list(mon.incidents.order_by("-started_at")[:20])
    pings = list(mon.pings.order_by("-received_at")[:20]) if mon.kind == Monitor.Kind.HEARTBEAT else []
    return render(
        request,
        "monitoring/monitor_detail.html",
        _ctx(m, monitor=mon, results=results, incidents=incidents, pings=pings, **_heartbeat_urls(mon)),
    )


def _heartbeat_urls(mon: Monitor) -> dict[str, str]:
    """The full addresses a job calls, as it must type them (with the site's scheme and host)."""
    if mon.kind != Monitor.Kind.HEARTBEAT:
        return {}
    ping = settings.SITE_URL + reverse("monitoring_ping", kwargs={"uuid": mon.uuid})
    return {
        "ping_url": ping,
        "fail_url": ping + "/fail",
        "start_url": ping + "/start",
        "period_label": duration_label(mon.period_s),
        "grace_label": duration_label(mon.grace_s),
    }


@workspace_view(write=Role.MEMBER, read=Role.MEMBER)  # the form shows custom headers (tokens)
def monitor_edit(request: HttpRequest, m: Membership, monitor) -> HttpResponse:
    mon = selectors.monitor_in(m.workspace, monitor)
    form = _monitor_form(request, m, instance=mon)
    if form.is_bound and form.is_valid():
        form.save()
        if form.has_changed():
            # Check with the new settings now, not at the slot the old interval chose
            # (up to an hour away): the founder sees at once whether the fix worked.
            Monitor.objects.filter(pk=mon.pk).exclude(state=Monitor.State.PAUSED).update(
                next_check_at=timezone.now()
            )
        messages.success(request, "Monitor saved; it is checked again within a minute.")
        return redirect("monitoring:monitor_detail", workspace=m.workspace.uuid, monitor=mon.uuid)
    return render(request, "monitoring/monitor_form.html", _ctx(m, form=form, monitor=mon))


@workspace_view(write=Role.MEMBER, methods=("POST",))
def monitor_pause(request: HttpRequest, m: Membership, monitor) -> HttpResponse:
    mon = selectors.monitor_in(m.workspace, monitor)
    if mon.state == Monitor.State.PAUSED:
        Monitor.objects.filter(pk=mon.pk).update(
            state=Monitor.State.UNKNOWN,
            consecutive_failures=0,
            consecutive_successes=0,
            next_check_at=timezone.now(),
        )
        messages.success(request, f"“{mon.name}” resumed.")
    else:
        Monitor.objects.filter(pk=mon.pk).update(state=Monitor.State.PAUSED)
        messages.success(request, f"“{mon.name}” paused: no checks and no alerts until you resume it.")
    return redirect("monitoring:monitor_detail", workspace=m.workspace.uuid, monitor=mon.uuid)


@workspace_view(write=Role.MEMBER, methods=("POST",))
def monitor_delete(request: HttpRequest, m: Membership, monitor) -> HttpResponse:
    mon = selectors.monitor_in(m.workspace, monitor)
    mon.delete()
    messages.success(request, f"Monitor “{mon.name}” deleted.")
    return redirect("monitoring:overview", workspace=m.workspace.uuid)


@workspace_view()
@pagecache.workspace_page()
def incident_detail(request: HttpRequest, m: Membership, incident) -> HttpResponse:
    inc = selectors.incident_in(m.workspace, incident)
    # A monitor's part of a shared incident shows the incident of its cause: alerts, escalation, parts.
    group = inc.primary if inc.primary_id else inc
    parts = [group, *group.parts.select_related("monitor").order_by("started_at", "pk")]
    notifications = list(group.notifications.select_related("channel", "contact").order_by("created_at"))
    return render(
        request,
        "monitoring/incident_detail.html",
        _ctx(
            m,
            incident=inc,
            group=group,
            group_open=group.group_is_open(),
            parts=parts if len(parts) > 1 else [],
            notifications=notifications,
        ),
    )


@workspace_view(write=Role.MEMBER, methods=("POST",))
def incident_ack(request: HttpRequest, m: Membership, incident) -> HttpResponse:
    inc = selectors.incident_in(m.workspace, incident)
    if outbox.acknowledge(inc, request.user):
        messages.success(request, "Incident acknowledged: escalation stopped.")
    return redirect("monitoring:incident", workspace=m.workspace.uuid, incident=inc.uuid)
