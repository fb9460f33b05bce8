"""Monitoring pages: overview (workspace and site), monitors, incidents."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from launchready.models import Membership, Role, Site
from launchready.views_common import workspace_view

from . import outbox, selectors
from .forms import MonitorForm
from .models import CheckResult, Monitor, StatusPage

logger = logging.getLogger(__name__)


def _ctx(m: Membership, **extra) -> dict:
    return {"workspace": m.workspace, "membership": m, "can_edit": m.can(Role.MEMBER), **extra}


@workspace_view()
def overview(request: HttpRequest, m: Membership) -> HttpResponse:
    data = selectors.overview(m.workspace)
    return render(request, "monitoring/overview.html", _ctx(m, data=data, site=None))


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


@workspace_view(write=Role.MEMBER, read=Role.MEMBER)  # the form shows custom headers (tokens)
def monitor_create(request: HttpRequest, m: Membership) -> HttpResponse:
    form = MonitorForm(request.POST or None, workspace=m.workspace)
    if request.method == "POST" and form.is_valid():
        monitor = form.save()
        messages.success(request, f"Monitor “{monitor.name}” added; its first check runs within a minute.")
        return redirect("monitoring:monitor_detail", workspace=m.workspace.uuid, monitor=monitor.uuid)
    return render(request, "monitoring/monitor_form.html", _ctx(m, form=form, monitor=None))


@workspace_view()
def monitor_detail(request: HttpRequest, m: Membership, monitor) -> HttpResponse:
    mon = selectors.monitor_in(m.workspace, monitor)
    results = list(CheckResult.objects.filter(monitor=mon).order_by("-checked_at")[:20])
    incidents = list(mon.incidents.order_by("-started_at")[:20])
    pings = list(mon.pings.order_by("-received_at")[:20]) if mon.kind == Monitor.Kind.HEARTBEAT else []
    return render(
        request,
        "monitoring/monitor_detail.html",
        _ctx(m, monitor=mon, results=results, incidents=incidents, pings=pings),
    )


@workspace_view(write=Role.MEMBER, read=Role.MEMBER)  # the form shows custom headers (tokens)
def monitor_edit(request: HttpRequest, m: Membership, monitor) -> HttpResponse:
    mon = selectors.monitor_in(m.workspace, monitor)
    form = MonitorForm(request.POST or None, instance=mon, workspace=m.workspace)
    if request.method == "POST" and form.is_valid():
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
def incident_detail(request: HttpRequest, m: Membership, incident) -> HttpResponse:
    inc = selectors.incident_in(m.workspace, incident)
    notifications = list(inc.notifications.select_related("channel", "contact").order_by("created_at"))
    return render(
        request, "monitoring/incident_detail.html", _ctx(m, incident=inc, notifications=notifications)
    )


@workspace_view(write=Role.MEMBER, methods=("POST",))
def incident_ack(request: HttpRequest, m: Membership, incident) -> HttpResponse:
    inc = selectors.incident_in(m.workspace, incident)
    if outbox.acknowledge(inc, request.user):
        messages.success(request, "Incident acknowledged: escalation stopped.")
    return redirect("monitoring:incident", workspace=m.workspace.uuid, incident=inc.uuid)
