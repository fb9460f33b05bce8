"""Heartbeats: pings, grace periods and cron schedules in the workspace time zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from monitoring import heartbeats, runner
from monitoring.models import HeartbeatPing, Incident, Monitor, Notification
from monitoring.scheduler import Claim

pytestmark = pytest.mark.django_db


def evaluate(m: Monitor) -> None:
    runner.run_batch([Claim(m.pk, timezone.now())])
    m.refresh_from_db()


def test_cron_deadline_follows_the_workspace_time_zone_across_dst():
    # 02:00 in Amsterdam is 01:00 UTC in winter and 00:00 UTC in summer.
    winter = heartbeats.next_cron_time(
        "0 2 * * *", datetime(2026, 1, 10, 12, 0, tzinfo=UTC), "Europe/Amsterdam"
    )
    summer = heartbeats.next_cron_time(
        "0 2 * * *", datetime(2026, 7, 10, 12, 0, tzinfo=UTC), "Europe/Amsterdam"
    )
    assert winter == datetime(2026, 1, 11, 1, 0, tzinfo=UTC)
    assert summer == datetime(2026, 7, 11, 0, 0, tzinfo=UTC)


def test_invalid_cron_is_refused_with_a_sentence():
    with pytest.raises(ValueError, match="five fields"):
        heartbeats.validate_cron("every day")


def test_period_heartbeat_goes_down_after_grace_and_recovers_on_ping(workspace, client, email_channel):
    with time_machine.travel(datetime(2026, 3, 2, 9, 0, tzinfo=UTC), tick=False) as traveller:
        hb = Monitor.objects.create(
            workspace=workspace, kind="heartbeat", name="Nightly export", period_s=3600, grace_s=300
        )
        assert client.get(f"/ping/{hb.uuid}").content == b"OK\n"
        hb.refresh_from_db()
        assert hb.last_ping_at == timezone.now()
        assert hb.next_check_at == timezone.now() + timedelta(seconds=3900)

        traveller.shift(timedelta(minutes=64))  # inside the grace period
        evaluate(hb)
        assert hb.state != "down" and not Incident.objects.exists()

        traveller.shift(timedelta(minutes=2))  # 66 minutes: late
        evaluate(hb)
        assert hb.state == "down"
        incident = Incident.objects.get(monitor=hb)
        # In the workspace's time zone (Amsterdam, UTC+1 in March), named.
        assert (
            incident.cause == "No ping since 2 March 2026, 10:00 CET; one was due by 2 March 2026, 11:05 CET."
        )
        assert Notification.objects.filter(event="opened").count() == 1

        client.post(f"/ping/{hb.uuid}")
        hb.refresh_from_db()
        incident.refresh_from_db()
        assert hb.state == "up" and incident.ended_at == timezone.now()
        assert Notification.objects.filter(event="resolved").count() == 1


def test_cron_heartbeat_in_workspace_time_zone(workspace):
    # The workspace fixture is in Europe/Amsterdam: "0 2 * * *" is due at 01:00 UTC in March.
    with time_machine.travel(datetime(2026, 3, 2, 1, 1, tzinfo=UTC), tick=False) as traveller:
        hb = Monitor.objects.create(
            workspace=workspace,
            kind="heartbeat",
            name="Backup",
            schedule="cron",
            cron="0 2 * * *",
            grace_s=600,
        )
        runner.record_ping(hb, HeartbeatPing.Kind.SUCCESS)
        hb.refresh_from_db()
        assert hb.next_check_at == datetime(2026, 3, 3, 1, 10, tzinfo=UTC)
        traveller.move_to(datetime(2026, 3, 3, 1, 9, tzinfo=UTC))
        evaluate(hb)
        assert not Incident.objects.exists()
        traveller.move_to(datetime(2026, 3, 3, 1, 11, tzinfo=UTC))
        evaluate(hb)
        assert Incident.objects.filter(monitor=hb).count() == 1


def test_fail_ping_goes_down_at_once_and_start_is_recorded(workspace, client):
    hb = Monitor.objects.create(workspace=workspace, kind="heartbeat", name="Payments webhook", period_s=600)
    assert client.get(f"/ping/{hb.uuid}/start").status_code == 200
    assert client.post(f"/ping/{hb.uuid}/fail").status_code == 200
    hb.refresh_from_db()
    assert hb.last_start_at is not None and hb.state == "down"
    assert Incident.objects.get(monitor=hb).cause == "The job reported a failure (/fail ping)."
    assert list(HeartbeatPing.objects.order_by("id").values_list("kind", flat=True)) == ["start", "fail"]


def test_unknown_ping_is_404_and_http_monitors_cannot_be_pinged(client, http_monitor):
    assert client.get("/ping/00000000-0000-0000-0000-000000000000").status_code == 404
    assert client.get(f"/ping/{http_monitor.uuid}").status_code == 404


def test_pings_are_rate_limited_per_heartbeat(workspace, client, settings):
    settings.MONITORING_PING_LIMIT_PER_MINUTE = 3
    hb = Monitor.objects.create(workspace=workspace, kind="heartbeat", name="Nightly export", period_s=600)
    other = Monitor.objects.create(workspace=workspace, kind="heartbeat", name="Payments", period_s=600)
    with time_machine.travel(datetime(2026, 3, 1, 12, 0, 5, tzinfo=UTC), tick=False):
        codes = [client.get(f"/ping/{hb.uuid}").status_code for _ in range(3)]
        codes.append(client.post(f"/ping/{hb.uuid}/fail").status_code)
        assert client.get(f"/ping/{other.uuid}").status_code == 200  # another heartbeat has its own budget
    assert codes == [200, 200, 200, 429]
    assert HeartbeatPing.objects.filter(monitor=hb).count() == 3
    with time_machine.travel(datetime(2026, 3, 1, 12, 1, 5, tzinfo=UTC), tick=False):
        assert client.get(f"/ping/{hb.uuid}").status_code == 200  # the next minute starts afresh


def test_a_late_verdict_overtaken_by_a_ping_is_dropped(workspace, email_channel):
    """The batch judged the job late, then its ping landed before the result was written."""
    from monitoring import engine
    from monitoring.checks.specs import CheckOutcome

    hb = Monitor.objects.create(workspace=workspace, kind="heartbeat", name="Nightly export", period_s=600)
    judged_at = timezone.now()
    runner.record_ping(hb, HeartbeatPing.Kind.SUCCESS, now=judged_at + timedelta(milliseconds=300))
    engine.apply_outcomes([CheckOutcome(hb.pk, False, judged_at, "No ping since …")])
    hb.refresh_from_db()
    assert hb.state == Monitor.State.UP
    assert not Incident.objects.exists() and not Notification.objects.exists()
    # A /fail ping after the last success still counts.
    runner.record_ping(hb, HeartbeatPing.Kind.FAIL, now=judged_at + timedelta(seconds=1))
    hb.refresh_from_db()
    assert hb.state == Monitor.State.DOWN


def test_a_fail_ping_queues_its_alert_after_commit(
    workspace, client, email_channel, django_capture_on_commit_callbacks
):
    hb = Monitor.objects.create(workspace=workspace, kind="heartbeat", name="Payment webhook", period_s=3600)
    with django_capture_on_commit_callbacks() as queued:
        assert client.post(f"/ping/{hb.uuid}/fail").status_code == 200
    (notification,) = Notification.objects.filter(event="opened")
    # The other callbacks drop cached pages of the workspace once the ping's writes commit.
    tasks = [callback for callback in queued if callback.__name__ == "delay"]
    assert [callback.args for callback in tasks] == [(notification.pk,)]
