"""The weekly run reads a batch of workspaces with a fixed number of queries.

Every section of the report has something to say in each workspace (two audits with
open and fixed problems, uptime and p95 against last week, incidents, an expiring
certificate, a deploy, DMARC records), so a per-workspace query anywhere shows up as
a count that grows with the number of workspaces. Writes are one claim of the
schedule, the report and its deliveries per workspace, and one claim and one
"sent" per email: that is what exactly-once needs, and it grows by a constant.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audits.email_models import DmarcReport, DmarcReportRecord, InboundAddress
from audits.models import AuditRun, Finding
from handover.models import Deploy
from launchready.models import CriticalRoute, Membership, Site, Workspace
from monitoring.models import DailyRollup, Incident, Monitor
from monitoring.sites import sync_site_monitors
from reports import content, delivery
from reports.models import ReportSchedule

MONDAY_8_UTC = datetime(2025, 4, 7, 8, 0, tzinfo=UTC)


def _store(i: int, make_user) -> Workspace:
    ws = Workspace.objects.create(name=f"Store {i:02d}", timezone="UTC")
    Membership.objects.create(workspace=ws, user=make_user(f"owner{i}"), role="owner")
    Membership.objects.create(workspace=ws, user=make_user(f"dev{i}"), role="member")
    site = Site.objects.create(workspace=ws, domain=f"store{i}.example.com")
    CriticalRoute.objects.update_or_create(
        site=site, name="checkout", defaults={"path": "/checkout", "budget_ms": 500, "confirmed": True}
    )
    sync_site_monitors(site)
    before = AuditRun.objects.create(
        site=site, status="done", verdict="not_ready", created_at=MONDAY_8_UTC - timedelta(days=9)
    )
    now = AuditRun.objects.create(
        site=site, status="done", verdict="ready_with_risks", created_at=MONDAY_8_UTC - timedelta(days=1)
    )
    for run, checks in ((before, ("tls.expired", "headers.hsts")), (now, ("headers.hsts", "dns.spf"))):
        for check in checks:
            severity = "blocker" if check == "tls.expired" else "high"
            Finding.objects.create(
                run=run,
                check_id=check,
                severity=severity,
                stage="edge",
                subject="s",
                title=f"Problem {check}",
            )
    for m in Monitor.objects.filter(site=site, kind=Monitor.Kind.HTTP):
        for day in range(1, 15):
            DailyRollup.objects.create(
                monitor=m,
                day=(MONDAY_8_UTC - timedelta(days=day)).date(),
                checks=1440,
                failures=3,
                p50_ms=300,
                p95_ms=700 if day < 8 else 400,
            )
    home = Monitor.objects.get(site=site, auto_key="home")
    for severity, hours in (("critical", 30), ("info", 60)):
        started = MONDAY_8_UTC - timedelta(hours=hours)
        Incident.objects.create(
            monitor=home,
            workspace=ws,
            severity=severity,
            started_at=started,
            ended_at=started + timedelta(minutes=12),
            cause="Connection refused" if severity == "critical" else "Answered slowly",
        )
    Monitor.objects.filter(site=site, kind=Monitor.Kind.TLS_EXPIRY).update(
        expires_at=MONDAY_8_UTC + timedelta(days=9)
    )
    Deploy.objects.create(
        site=site,
        environment="production",
        version=f"v{i}",
        state="failed",
        created_at=MONDAY_8_UTC - timedelta(days=2),
    )
    InboundAddress.for_workspace(ws)
    report = DmarcReport.objects.create(
        workspace=ws,
        org_name="google.com",
        report_id=f"r{i}",
        policy_domain=site.domain,
        date_begin=MONDAY_8_UTC - timedelta(days=3),
        date_end=MONDAY_8_UTC - timedelta(days=2),
    )
    DmarcReportRecord.objects.create(report=report, source_ip="192.0.2.1", count=90, dkim_result="pass")
    DmarcReportRecord.objects.create(report=report, source_ip="192.0.2.9", count=10, dkim_result="fail")
    ReportSchedule.objects.create(workspace=ws, next_send_at=MONDAY_8_UTC)
    return ws


def _run_counted() -> tuple[int, int, dict]:
    """(reads, writes, result) of one beat run that issues and sends every due report."""
    with time_machine.travel(MONDAY_8_UTC + timedelta(minutes=1), tick=False):
        with CaptureQueriesContext(connection) as ctx:
            result = delivery.run()
    sqls = [q["sql"].lstrip().upper() for q in ctx.captured_queries]
    reads = sum(1 for sql in sqls if sql.startswith("SELECT"))
    writes = sum(1 for sql in sqls if sql.startswith(("UPDATE", "INSERT", "DELETE")))
    return reads, writes, result


def test_reads_of_the_weekly_run_do_not_grow_with_workspaces(smtp_server, make_user):
    stores = [_store(i, make_user) for i in range(2)]
    small_reads, small_writes, small = _run_counted()
    assert small == {"reports": 2, "digests": 0, "sent": 4}
    sample = smtp_server.to("owner1@example.com")[0]
    # Every section had something to say, so each one's reads were counted.
    for words in (
        "Ready, with risks (was Not ready last week)",
        "High: Problem dns.spf",
        "Problem tls.expired",  # fixed this week
        "Connection refused (1 time, 12 min in all)",
        "Answered slowly",  # the info event of the week
        "checkout: 700 ms (budget 500 ms)",
        "expires in 9 days",
        "smoke test failed",
        "100 messages reported, 90.00% passed",
    ):
        assert words in sample.text, sample.text

    stores += [_store(i, make_user) for i in range(2, 8)]
    ReportSchedule.objects.filter(workspace__in=stores[2:]).update(next_send_at=MONDAY_8_UTC)
    large_reads, large_writes, large = _run_counted()
    assert large == {"reports": 6, "digests": 0, "sent": 12}

    assert large_reads == small_reads
    # Per workspace: the schedule's claim, the report (a savepoint and its insert), its
    # deliveries; per email: its claim and its "sent". A fixed number each.
    per_workspace = small_writes / 2
    assert large_writes == per_workspace * 6


def test_a_batch_says_what_each_report_alone_says(make_user):
    stores = [_store(i, make_user) for i in range(3)]
    start, end = MONDAY_8_UTC - timedelta(days=7), MONDAY_8_UTC
    batch = content.build_many(stores, start, end)
    for ws in stores:
        assert batch[ws.pk] == content.build(ws, start, end)
        assert batch[ws.pk].workspace_name == ws.name
        assert f"store{stores.index(ws)}.example.com" in str(batch[ws.pk].sections)
