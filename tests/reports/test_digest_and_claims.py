"""The consultant's digest (one email, worst first, constant queries) and exactly-once issuing on PostgreSQL."""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from audits.models import AuditRun
from launchready.models import Membership, Site, Workspace
from reports import delivery, digest
from reports.models import DigestSubscription, ReportDelivery, ReportSchedule, WeeklyReport

MONDAY_8_UTC = datetime(2025, 4, 7, 8, 0, tzinfo=UTC)


def _clients(user, n: int) -> list[Workspace]:
    made = []
    for i in range(n):
        ws = Workspace.objects.create(name=f"Client {i:02d}", timezone="UTC")
        Membership.objects.create(workspace=ws, user=user, role="admin")
        site = Site.objects.create(workspace=ws, domain=f"client{i}.example.com")
        verdict = "not_ready" if i == 7 else "ready"
        AuditRun.objects.create(
            site=site,
            status=AuditRun.Status.DONE,
            verdict=verdict,
            problem_counts={"blocker": 3} if i == 7 else {},
            created_at=MONDAY_8_UTC - timedelta(days=1),
        )
        made.append(ws)
    return made


def test_a_consultant_in_ten_workspaces_gets_one_digest_worst_first(smtp_server, make_user):
    consultant = make_user("consultant")
    _clients(consultant, 10)
    DigestSubscription.objects.create(
        user=consultant, enabled=True, timezone="UTC", next_send_at=MONDAY_8_UTC
    )
    with time_machine.travel(MONDAY_8_UTC + timedelta(minutes=2), tick=False):
        result = delivery.run()
        assert delivery.run()["digests"] == 0
    assert result["digests"] == 1
    assert len(smtp_server.to(consultant.email)) == 1
    digest_mail = [m for m in smtp_server.to(consultant.email) if m.subject.startswith("Portfolio:")]
    assert len(digest_mail) == 1
    text = digest_mail[0].text
    lines = [line for line in text.splitlines() if line.startswith("- Client")]
    assert len(lines) == 10
    assert lines[0].startswith("- Client 07: Not ready; 3 blockers open")
    assert digest_mail[0].subject == "Portfolio: 1 of 10 clients need attention"
    assert "Client 07" in digest_mail[0].html and "/reports/unsubscribe/" in text


def test_digest_queries_do_not_grow_with_workspaces(make_user):
    small, large = make_user("small"), make_user("large")
    _clients(small, 2)
    _clients(large, 10)
    counts = []
    for user in (small, large):
        with CaptureQueriesContext(connection) as ctx:
            built = digest.build(user, MONDAY_8_UTC)
        counts.append(len(ctx.captured_queries))
        assert len(built.lines) in (2, 10)
    assert counts[0] == counts[1]


@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"), reason="row locking needs PostgreSQL"
)
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_senders_issue_one_report(make_user):
    owner = make_user("owner")
    ws = Workspace.objects.create(name="Race", timezone="UTC")
    Membership.objects.create(workspace=ws, user=owner, role="owner")
    Site.objects.create(workspace=ws, domain="race.example.com")
    ReportSchedule.objects.create(workspace=ws, next_send_at=MONDAY_8_UTC)
    barrier = threading.Barrier(2)
    results: list[list[int]] = []

    def sender():
        try:
            barrier.wait()
            results.append(delivery.issue_due(MONDAY_8_UTC + timedelta(minutes=1)))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(len(r) for r in results) == [0, 1]
    assert WeeklyReport.objects.count() == 1
    assert ReportDelivery.objects.count() == 1
