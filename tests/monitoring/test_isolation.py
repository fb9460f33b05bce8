"""One monitor's bad data never costs another workspace its checks (real sandbox servers).

A batch holds monitors of many workspaces. Whatever one of them holds — a schedule
that cannot be computed, a page that answers with NUL bytes, a value the database
refuses — the others are checked and recorded, and the bad one says on its page
that its check could not run.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import strip_tags

from launchready.models import Workspace
from monitoring import engine
from monitoring.checks.specs import CheckOutcome
from monitoring.models import CheckResult, HeartbeatPing, Monitor
from tests.monitoring.test_checks_sandbox import run

pytestmark = [pytest.mark.sandbox, pytest.mark.django_db]

SCENARIO = {
    "name": "isolation",
    "zones": {"shop.test": {"records": []}},
    "hosts": [
        {
            "name": "www.shop.test",
            "routes": [
                {"path": "/", "body": "Welcome. Add to cart"},
                {"path": "/nul", "status": 500, "body": "broken\x00page with a NUL byte"},
                {
                    "path": "/utf7",
                    "status": 500,
                    "headers": {"Content-Type": "text/html; charset=utf-7"},
                    "body": "+2AA- lone surrogate",
                },
            ],
        },
    ],
}


@pytest.fixture(scope="module")
def sb(sandbox_scenario):
    return sandbox_scenario(SCENARIO)


@pytest.fixture
def victim(sb) -> Monitor:
    """An ordinary monitor of another workspace, healthy."""
    other = Workspace.objects.create(name="Another client", timezone="UTC")
    return Monitor.objects.create(workspace=other, name="Their home", url="https://www.shop.test/")


def test_a_cron_that_never_fires_does_not_stop_another_workspaces_check(workspace, victim):
    # Saved before cron expressions were checked to fire within a year (30 February).
    poison = Monitor.objects.create(
        workspace=workspace, kind="heartbeat", name="Never", schedule="cron", cron="0 0 30 2 *"
    )
    result = run(poison, victim)
    assert CheckResult.objects.filter(monitor=victim, ok=True).count() == 1
    assert victim.state == Monitor.State.UP
    assert result["could_not_run"] == 1
    assert poison.last_message.startswith(
        "This check could not run: The cron expression “0 0 30 2 *” never fires"
    )
    assert poison.state == Monitor.State.UNKNOWN and not CheckResult.objects.filter(monitor=poison).exists()


def test_a_heartbeat_that_could_not_be_judged_says_why_on_its_page(client_as, owner, workspace, victim):
    poison = Monitor.objects.create(
        workspace=workspace, kind="heartbeat", name="Never", schedule="cron", cron="0 0 30 2 *"
    )
    run(poison, victim)
    page = client_as(owner).get(
        reverse("monitoring:monitor_detail", kwargs={"workspace": workspace.uuid, "monitor": poison.uuid})
    )
    assert page.status_code == 200
    text = " ".join(strip_tags(page.content.decode()).split())
    assert "Last check" in text
    assert "Heartbeat ·" not in text  # nothing to name after the kind: no dangling separator
    assert "This check could not run: The cron expression “0 0 30 2 *” never fires" in text


def test_a_period_beyond_the_calendar_is_bounded_not_an_overflow(workspace, victim):
    poison = Monitor.objects.create(
        workspace=workspace,
        kind="heartbeat",
        name="Huge",
        period_s=1_000_000_000,
        grace_s=1_000_000_000,
        last_ping_at=timezone.now() - timedelta(days=1),
    )
    run(poison, victim)
    assert CheckResult.objects.filter(monitor=victim).count() == 1
    # Clamped to a year plus 30 days of grace: not late, next look within that bound.
    assert poison.next_check_at <= timezone.now() + timedelta(days=366 + 30)


def test_a_ping_of_a_heartbeat_whose_schedule_cannot_be_computed_is_kept(client, workspace):
    poison = Monitor.objects.create(
        workspace=workspace, kind="heartbeat", name="Never", schedule="cron", cron="0 0 30 2 *"
    )
    response = client.get(f"/ping/{poison.uuid}")
    assert response.status_code == 200
    poison.refresh_from_db()
    assert poison.last_ping_at is not None
    assert HeartbeatPing.objects.filter(monitor=poison).count() == 1
    assert "never fires" in poison.last_message


@pytest.mark.parametrize("path", ["/nul", "/utf7"])
def test_unstorable_text_from_a_monitored_page_is_stored_safely(workspace, victim, path):
    # PostgreSQL refuses NUL in text; a lone surrogate cannot be encoded at all.
    hostile = Monitor.objects.create(workspace=workspace, name="Hostile", url=f"https://www.shop.test{path}")
    run(hostile, victim)
    failed = CheckResult.objects.filter(monitor=hostile, ok=False)
    assert failed.count() == 2  # the check and its recheck
    snippet = failed.first().snippet
    assert "\x00" not in snippet and not any("\ud800" <= ch <= "\udfff" for ch in snippet)
    assert "\ufffd" in snippet
    assert hostile.state == Monitor.State.DOWN
    assert hostile.incidents.get().snippet == snippet
    assert CheckResult.objects.filter(monitor=victim, ok=True).count() == 1


def test_a_check_that_crashes_is_could_not_run_not_down(workspace, victim):
    # A stored status list the rules cannot read makes the probe itself fail.
    broken = Monitor.objects.create(
        workspace=workspace, name="Odd statuses", url="https://www.shop.test/", expected_statuses="abc"
    )
    run(broken, victim)
    assert broken.state == Monitor.State.UNKNOWN
    assert not broken.incidents.exists() and not CheckResult.objects.filter(monitor=broken).exists()
    assert broken.last_message == engine.INTERNAL_PROBLEM
    assert CheckResult.objects.filter(monitor=victim, ok=True).count() == 1


def test_unreadable_stored_state_does_not_stop_the_batch(workspace, victim):
    odd = Monitor.objects.create(
        workspace=workspace,
        name="Odd",
        url="https://www.shop.test/",
        transitions=["2026-13-45T00:00:00+00:00", 7, None],
        expected_values={"not": "a list"},
        timeout_s=30000,
        confirm_failures=30000,
    )
    run(odd, victim)
    assert odd.state == Monitor.State.UP  # the unreadable flap history is dropped, not fatal
    assert CheckResult.objects.filter(monitor=victim, ok=True).count() == 1


def test_a_result_the_database_refuses_costs_only_its_own_monitor(workspace, victim):
    now = timezone.now()
    mine = Monitor.objects.create(workspace=workspace, name="Mine", url="https://www.shop.test/")
    # A negative latency breaks the column's CHECK constraint on every database.
    applied = engine.apply_outcomes(
        [
            CheckOutcome(mine.pk, True, now, "Status 200.", latency_ms=-5),
            CheckOutcome(victim.pk, False, now, "Status 502.", status_code=502),
        ]
    )
    assert applied.could_not_run == [mine.pk]
    assert CheckResult.objects.filter(monitor=victim, ok=False).count() == 1
    assert not CheckResult.objects.filter(monitor=mine).exists()
    mine.refresh_from_db()
    assert mine.last_message == engine.INTERNAL_PROBLEM


def test_a_notification_that_cannot_be_sent_does_not_stop_the_others(workspace, victim, email_channel):
    from django.core import mail

    from monitoring import outbox
    from monitoring.models import AlertChannel, Incident, Notification

    # A channel whose stored credentials no key can decrypt (say, a key dropped too early).
    broken = AlertChannel.objects.create(
        workspace=workspace, kind="email", name="Broken", secret="not-a-token"
    )
    theirs = AlertChannel(workspace=victim.workspace, kind="email", name="Theirs", label="them@example.com")
    theirs.credentials = {"address": "them@example.com"}
    theirs.save()
    now = timezone.now()
    mine = Incident.objects.create(monitor=victim, workspace=workspace, started_at=now, cause="Status 502.")
    other = Incident.objects.create(
        monitor=victim, workspace=victim.workspace, started_at=now, cause="Status 502.", ended_at=now
    )
    first = Notification.objects.create(workspace=workspace, incident=mine, channel=broken, event="opened")
    Notification.objects.create(workspace=victim.workspace, incident=other, channel=theirs, event="opened")
    assert outbox.deliver_due() == 1
    assert [m.to for m in mail.outbox] == [["them@example.com"]]
    first.refresh_from_db()
    assert first.status == Notification.Status.FAILED and first.last_error == outbox.NOT_SENT
