"""A workspace's weekly report: the web view, the schedule (owners), previews and one's own opt-out."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format

from launchready import ratelimit
from launchready.formats import human_datetime
from launchready.models import Membership, Role
from launchready.views_common import workspace_view

from . import content, delivery
from .forms import ScheduleForm
from .models import MemberReportSetting, ReportSchedule, WeeklyReport
from .schedule import next_slot
from .tasks import send_deliveries

logger = logging.getLogger(__name__)


def _page(request: HttpRequest, m: Membership, c: content.WeeklyContent, report=None) -> HttpResponse:
    opted_out = MemberReportSetting.objects.filter(membership=m, opted_out_at__isnull=False).exists()
    past = WeeklyReport.objects.filter(workspace=m.workspace).only("uuid", "period_end")[:12]
    context = {"c": c, "report": report, "opted_out": opted_out, "past": past}
    return render(request, "reports/report.html", context)


@workspace_view()
def current(request: HttpRequest, m: Membership) -> HttpResponse:
    """This week so far, as the next report will say it."""
    now = timezone.now()
    c = content.build(m.workspace, now - timezone.timedelta(days=7), now)
    return _page(request, m, c)


@workspace_view()
def detail(request: HttpRequest, m: Membership, report) -> HttpResponse:
    try:
        r = WeeklyReport.objects.get(workspace=m.workspace, uuid=report)
    except WeeklyReport.DoesNotExist:
        raise Http404 from None
    return _page(request, m, content.build(m.workspace, r.period_start, r.period_end), r)


def _schedule(m: Membership) -> ReportSchedule:
    ws = m.workspace
    schedule, _ = ReportSchedule.objects.get_or_create(
        workspace=ws, defaults={"next_send_at": next_slot(timezone.now(), 0, 8, ws.timezone)}
    )
    return schedule


@workspace_view(write=Role.OWNER, read=Role.OWNER)
def schedule_settings(request: HttpRequest, m: Membership) -> HttpResponse:
    schedule = _schedule(m)
    form = ScheduleForm(request.POST or None, instance=schedule)
    if request.method == "POST" and form.is_valid():
        delivery.reschedule(form.instance).save()
        messages.success(request, f"Saved. The next weekly report goes out {_when(form.instance)}.")
        return redirect("reports:settings", workspace=m.workspace.uuid)
    return render(request, "reports/settings.html", {"form": form, "next_send": _when(schedule)})


def _when(schedule: ReportSchedule) -> str:
    if not schedule.enabled:
        return "never (turned off)"
    local = timezone.localtime(schedule.next_send_at)
    return f"on {date_format(local, 'l')}, {human_datetime(local, local.tzinfo)}"


@workspace_view(write=Role.VIEWER, methods=("POST",))
def preview(request: HttpRequest, m: Membership) -> HttpResponse:
    """Email the member a preview of this week so far; a few per hour at most."""
    back = redirect("reports:current", workspace=m.workspace.uuid)
    if not m.user.email:
        messages.error(request, "Your account has no email address to send the preview to.")
        return back
    verdict = ratelimit.hit(
        f"reports:preview:{m.uuid}", settings.REPORTS_PREVIEWS_PER_HOUR, 3600, fail_open=False
    )
    if not verdict.allowed:
        messages.error(
            request,
            f"You have asked for {settings.REPORTS_PREVIEWS_PER_HOUR} previews this hour, the most allowed. "
            f"Try again in {verdict.retry_after_minutes} minutes.",
        )
        return back
    d = delivery.queue_preview(m)
    send_deliveries.delay_on_commit([d.pk])
    messages.success(request, f"A preview is on its way to {m.user.email}.")
    return back


@workspace_view(write=Role.VIEWER, methods=("POST",))
def subscription(request: HttpRequest, m: Membership) -> HttpResponse:
    """Turn one's own weekly report of this workspace on or off."""
    if request.POST.get("weekly") == "on":
        delivery.opt_in(m)
        messages.success(request, f"You will get the weekly report of {m.workspace.name} again.")
    else:
        delivery.opt_out(m)
        messages.success(request, f"You will no longer get the weekly report of {m.workspace.name}.")
    return redirect("reports:current", workspace=m.workspace.uuid)
