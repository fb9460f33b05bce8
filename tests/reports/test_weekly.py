"""The weekly report: scheduled in the workspace's time zone, claimed once, sent over real SMTP."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from audits.models import AuditRun, Finding
from launchready.models import Membership, Workspace
from monitoring.models import DailyRollup, Incident, Monitor
from monitoring.sites import sync_site_monitors
from reports import delivery
from reports.models import MemberReportSetting, ReportDelivery, ReportSchedule, WeeklyReport
from reports.schedule import next_slot, previous_slot

# Monday 7 April 2025, 08:00 in Amsterdam (summer time, UTC+2) is 06:00 UTC.
MONDAY_8_AMS = datetime(2025, 4, 7, 6, 0, tzinfo=UTC)


def test_slots_stay_at_8_local_across_the_daylight_saving_change():
    # Winter: Monday 24 March 2025 08:00 CET = 07:00 UTC; after the change on 30 March, 06:00 UTC.
    friday = datetime(2025, 3, 28, 12, 0, tzinfo=UTC)
    assert previous_slot(friday, 0, 8, "Europe/Amsterdam") == datetime(2025, 3, 24, 7, 0, tzinfo=UTC)
    assert next_slot(friday, 0, 8, "Europe/Amsterdam") == datetime(2025, 3, 31, 6, 0, tzinfo=UTC)
    # New York on a Sunday 09:00 local, before and after its change on 2 March 2025.
    assert next_slot(datetime(2025, 2, 25, tzinfo=UTC), 6, 9, "America/New_York") == datetime(
        2025, 3, 2, 14, 0, tzinfo=UTC
    )
    assert next_slot(datetime(2025, 3, 3, tzinfo=UTC), 6, 9, "America/New_York") == datetime(
        2025, 3, 9, 13, 0, tzinfo=UTC
    )


def _schedule_due(workspace, when=MONDAY_8_AMS):
    return ReportSchedule.objects.create(workspace=workspace, next_send_at=when)


def _rollups(monitor, end: date, days: int, checks: int, failures: int, p95: int):
    for n in range(1, days + 1):
        DailyRollup.objects.create(
            monitor=monitor,
            day=end - timedelta(days=n),
            checks=checks,
            failures=failures,
            p50_ms=p95 // 2,
            p95_ms=p95,
        )


@pytest.fixture
def people(owner, member, viewer):
    MemberReportSetting.objects.create(
        membership=Membership.objects.get(user=viewer), opted_out_at=datetime(2025, 1, 1, tzinfo=UTC)
    )
    return owner, member, viewer


def test_report_goes_to_members_who_did_not_opt_out_once_on_monday_8_local(
    smtp_server, workspace, site, people
):
    owner, member, viewer = people
    with time_machine.travel(datetime(2025, 4, 6, 12, 0, tzinfo=UTC), tick=False):
        delivery.run()  # creates the default schedule: Monday 08:00 Amsterdam
    schedule = ReportSchedule.objects.get(workspace=workspace)
    assert schedule.next_send_at == MONDAY_8_AMS
    with time_machine.travel(MONDAY_8_AMS - timedelta(minutes=1), tick=False):
        assert delivery.run()["reports"] == 0
    with time_machine.travel(MONDAY_8_AMS + timedelta(minutes=1), tick=False):
        assert delivery.run() == {"reports": 1, "digests": 0, "sent": 2}
        assert delivery.run() == {"reports": 0, "digests": 0, "sent": 0}  # the scheduler ran twice
    assert sorted(r for m in smtp_server.messages for r in m.rcpt_tos) == [member.email, owner.email]
    message = smtp_server.to(owner.email)[0]
    assert message.subject.endswith("— Acme Store")
    first_line = message.text.splitlines()[0]
    assert (
        first_line.startswith("This week") or first_line.startswith("No problem") or "All good" in first_line
    )
    assert first_line in message.html
    report = WeeklyReport.objects.get()
    assert str(report.uuid) in message.text  # the web view link
    assert (
        str(message.message["List-Unsubscribe"]).strip().startswith("<http")
        and "/reports/unsubscribe/" in message.text
    )
    assert message.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "<script" not in message.html and "<svg" not in message.html
    # The next one is a week later, still 08:00 local.
    assert ReportSchedule.objects.get().next_send_at == MONDAY_8_AMS + timedelta(days=7)


def test_a_scheduler_down_for_two_weeks_sends_one_report(smtp_server, workspace, site, owner):
    _schedule_due(workspace, MONDAY_8_AMS - timedelta(days=14))
    with time_machine.travel(MONDAY_8_AMS + timedelta(hours=3), tick=False):
        assert delivery.run()["reports"] == 1
        assert delivery.run()["reports"] == 0
    report = WeeklyReport.objects.get()
    assert report.period_end == MONDAY_8_AMS  # the latest week, not the missed ones
    assert len(smtp_server.messages) == 1
    assert ReportSchedule.objects.get().next_send_at == MONDAY_8_AMS + timedelta(days=7)


def test_subject_names_the_blockers_and_the_slow_route(smtp_server, workspace, site, owner):
    site.routes.update_or_create(
        name="checkout", defaults={"path": "/checkout", "budget_ms": 500, "confirmed": True}
    )
    sync_site_monitors(site)
    run = AuditRun.objects.create(
        site=site,
        status=AuditRun.Status.DONE,
        verdict="not_ready",
        created_at=MONDAY_8_AMS - timedelta(days=3),
    )
    for n in (1, 2):
        Finding.objects.create(
            run=run,
            check_id=f"tls.expired_{n}",
            severity="blocker",
            stage="edge",
            subject=f"h{n}",
            title=f"Problem {n}",
        )
    monitor = Monitor.objects.get(site=site, auto_key="route:checkout")
    _rollups(monitor, MONDAY_8_AMS.date(), 7, checks=1440, failures=0, p95=620)
    _rollups(monitor, MONDAY_8_AMS.date() - timedelta(days=7), 7, checks=1440, failures=0, p95=300)
    Incident.objects.create(
        monitor=monitor,
        workspace=workspace,
        severity="info",
        started_at=MONDAY_8_AMS - timedelta(days=2),
        ended_at=MONDAY_8_AMS - timedelta(days=2) + timedelta(minutes=3),
        cause="Answered in 2.1 s, slower than usual.",
    )
    _schedule_due(workspace)
    with time_machine.travel(MONDAY_8_AMS + timedelta(minutes=5), tick=False):
        delivery.run()
    message = smtp_server.to(owner.email)[0]
    assert message.subject.startswith("2 blockers open · checkout p95 620 ms")
    assert message.text.splitlines()[0] == (
        "This week: 2 blockers open and checkout took 620 ms at p95, over its 500 ms budget."
    )
    text = message.text
    assert "Blocker: Problem 1" in text and "checkout: 620 ms (budget 500 ms)" in text
    assert "slower than last week (300 ms)" in text
    assert "Answered in 2.1 s, slower than usual." in text  # the info event of the week
    run_url = reverse(
        "audit_run_detail", kwargs={"workspace": workspace.uuid, "site": site.uuid, "run": run.uuid}
    )
    assert run_url in text and run_url in message.html
    assert "Not ready" in message.html and "620 ms" in message.html


def test_a_check_failing_on_several_hosts_is_one_problem(smtp_server, workspace, site, owner):
    """The weekly email counts problems as the plan does: one check on two hosts is one blocker."""
    run = AuditRun.objects.create(
        site=site,
        status=AuditRun.Status.DONE,
        verdict="not_ready",
        created_at=MONDAY_8_AMS - timedelta(days=3),
    )
    for host in ("shop.example.com", "www.shop.example.com"):
        Finding.objects.create(
            run=run,
            check_id="exposure.env_file",
            severity="blocker",
            stage="deploy",
            subject=host,
            title="Env file",
        )
    _schedule_due(workspace)
    with time_machine.travel(MONDAY_8_AMS + timedelta(minutes=5), tick=False):
        delivery.run()
    message = smtp_server.to(owner.email)[0]
    assert message.subject.startswith("1 blocker open")
    assert message.text.count("Blocker: Env file") == 1 and "on 2 subjects" in message.text


def test_monitors_that_failed_for_one_cause_are_one_outage(smtp_server, workspace, site, owner):
    """Three monitors down for one expired certificate: one incident line, told once."""
    sync_site_monitors(site)
    monitors = list(Monitor.objects.filter(site=site, kind=Monitor.Kind.HTTP)[:3])
    assert len(monitors) == 3
    start = MONDAY_8_AMS - timedelta(days=2)
    key = "tls-expired:www.shop.example.com"
    cause = "Certificate of www.shop.example.com expired: three pages are down."
    primary = Incident.objects.create(
        monitor=monitors[0],
        workspace=workspace,
        severity="critical",
        started_at=start,
        ended_at=start + timedelta(minutes=30),
        cause=cause,
        cause_key=key,
    )
    for n, m in enumerate(monitors[1:], start=1):
        Incident.objects.create(
            monitor=m,
            workspace=workspace,
            severity="critical",
            started_at=start + timedelta(minutes=n),
            ended_at=start + timedelta(minutes=30 + n),
            cause="The certificate expired.",
            cause_key=key,
            primary=primary,
        )
    _schedule_due(workspace)
    with time_machine.travel(MONDAY_8_AMS + timedelta(minutes=5), tick=False):
        delivery.run()
    text = smtp_server.to(owner.email)[0].text
    assert text.count(cause) == 1, text
    assert "(1 time, 32 min in all)" in text, text
    assert "The certificate expired." not in text  # the parts speak through their primary


def test_all_good_only_when_it_was_measured(smtp_server, workspace, site, owner):
    sync_site_monitors(site)
    AuditRun.objects.create(
        site=site, status=AuditRun.Status.DONE, verdict="ready", created_at=MONDAY_8_AMS - timedelta(days=1)
    )
    _schedule_due(workspace)
    with time_machine.travel(MONDAY_8_AMS + timedelta(minutes=5), tick=False):
        delivery.run()
    unmeasured = smtp_server.messages[-1]
    assert not unmeasured.subject.startswith("All good")
    assert "no uptime checks ran" in unmeasured.text.splitlines()[0]
    for m in Monitor.objects.filter(site=site, kind=Monitor.Kind.HTTP):
        _rollups(m, (MONDAY_8_AMS + timedelta(days=7)).date(), 7, checks=10000, failures=2, p95=100)
    with time_machine.travel(MONDAY_8_AMS + timedelta(days=7, minutes=5), tick=False):
        delivery.run()
    good = smtp_server.messages[-1]
    assert good.subject.startswith("All good: 99.98% uptime, nothing to do")
    assert good.text.splitlines()[0].startswith("All good this week")


def test_a_refused_send_is_retried_with_backoff_and_never_doubled(smtp_server, workspace, site, owner):
    _schedule_due(workspace)
    smtp_server.refuse = ["451 4.3.0 Try again later"]
    with time_machine.travel(MONDAY_8_AMS + timedelta(minutes=1), tick=False):
        assert delivery.run()["sent"] == 0
    d = ReportDelivery.objects.get()
    assert (d.status, d.attempts) == (ReportDelivery.Status.PENDING, 1)
    assert "did not accept" in d.last_error
    with time_machine.travel(MONDAY_8_AMS + timedelta(minutes=3), tick=False):
        assert delivery.run()["sent"] == 0  # still backing off
    with time_machine.travel(MONDAY_8_AMS + timedelta(minutes=7), tick=False):
        assert delivery.run()["sent"] == 1
        assert delivery.run()["sent"] == 0
    assert len(smtp_server.messages) == 1
    assert ReportDelivery.objects.get().status == ReportDelivery.Status.SENT


def test_one_workspace_bad_address_does_not_stop_the_others(smtp_server, workspace, site, owner, make_user):
    other = Workspace.objects.create(name="Other shop", timezone="UTC")
    other.sites.create(domain="other.example.com")
    broken = make_user("broken", email="broken@example.com")
    Membership.objects.create(workspace=other, user=broken, role="owner")
    type(broken).objects.filter(pk=broken.pk).update(email="no at sign\nBcc: x@example.com")
    _schedule_due(workspace)
    _schedule_due(other, datetime(2025, 4, 7, 8, 0, tzinfo=UTC))
    with time_machine.travel(MONDAY_8_AMS + timedelta(hours=3), tick=False):
        result = delivery.run()
    assert result["reports"] == 2 and result["sent"] == 1
    assert [m.rcpt_tos for m in smtp_server.messages] == [[owner.email]]
    assert ReportDelivery.objects.get(user=broken).status == ReportDelivery.Status.FAILED


def test_unsubscribe_link_works_without_login(smtp_server, client, workspace, site, owner):
    _schedule_due(workspace)
    with time_machine.travel(MONDAY_8_AMS + timedelta(minutes=1), tick=False):
        delivery.run()
    header = str(smtp_server.messages[0].message["List-Unsubscribe"])
    path = header.strip().strip("<>").split("127.0.0.1:8000", 1)[-1]
    page = client.get(path)
    assert page.status_code == 200 and b"Stop getting the weekly report of Acme Store" in page.content
    assert not MemberReportSetting.objects.filter(
        opted_out_at__isnull=False
    ).exists()  # a GET changes nothing
    done = client.post(path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")
    assert done.status_code == 200 and b"you will no longer get" in done.content
    assert client.get(path[:-5] + "xxxx/").status_code == 404  # a forged token
    with time_machine.travel(MONDAY_8_AMS + timedelta(days=7, minutes=1), tick=False):
        assert delivery.run() == {"reports": 1, "digests": 0, "sent": 0}
    assert len(smtp_server.messages) == 1


def test_preview_is_sent_to_the_member_and_rate_limited(
    smtp_server, client_as, workspace, site, member, settings
):
    settings.REPORTS_PREVIEWS_PER_HOUR = 2
    c = client_as(member)
    url = reverse("reports:preview", kwargs={"workspace": workspace.uuid})
    for _ in range(2):
        assert c.post(url).status_code == 302
    refused = c.post(url, follow=True)
    assert b"the most allowed" in refused.content
    assert delivery.deliver() == 2
    assert all(
        m.subject.startswith("Preview: ") and m.rcpt_tos == [member.email] for m in smtp_server.messages
    )
    assert not WeeklyReport.objects.exists()  # a preview is not the week's report


def test_web_view_is_for_members_only(client_as, workspace, site, owner, viewer, stranger, url_kwarg_report):
    current = reverse("reports:current", kwargs={"workspace": workspace.uuid})
    detail = reverse("reports:detail", kwargs={"workspace": workspace.uuid, "report": url_kwarg_report.uuid})
    for user in (owner, viewer):
        for url in (current, detail):
            assert client_as(user).get(url).status_code == 200
    assert client_as(stranger).get(current).status_code == 404
    assert client_as(stranger).get(detail).status_code == 404
    theirs = Membership.objects.get(user=stranger).workspace
    other_report = reverse(
        "reports:detail", kwargs={"workspace": theirs.uuid, "report": url_kwarg_report.uuid}
    )
    assert client_as(stranger).get(other_report).status_code == 404


def test_owner_chooses_day_and_hour(client_as, workspace, owner, member):
    url = reverse("reports:settings", kwargs={"workspace": workspace.uuid})
    assert client_as(member).get(url).status_code == 403
    with time_machine.travel(datetime(2025, 4, 7, 12, 0, tzinfo=UTC), tick=False):
        response = client_as(owner).post(url, {"enabled": "on", "weekday": "4", "hour": "17"})
    assert response.status_code == 302
    # Friday 11 April 2025 17:00 in Amsterdam is 15:00 UTC.
    assert ReportSchedule.objects.get().next_send_at == datetime(2025, 4, 11, 15, 0, tzinfo=UTC)
