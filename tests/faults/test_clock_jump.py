"""The machine's clock jumps (a suspended VM resumes, NTP corrects a drift): forward by
hours and weeks, then back. No burst of duplicate checks, alerts or weekly reports.

The beat's jobs run as the beat calls them, with the clock moved by time-machine.
Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail

from monitoring import scheduler
from monitoring.models import AlertChannel, Incident, Monitor, Notification
from monitoring.tasks import deliver_due_notifications
from reports.models import ReportSchedule, WeeklyReport
from reports.tasks import send_due_reports

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 4, 7, 6, 0, tzinfo=UTC)  # a Monday, 08:00 in Amsterdam
JUMPS = [timedelta(hours=3), timedelta(minutes=5), timedelta(days=22), timedelta(hours=1)]  # on from T0


def _dispatch(claimed: Counter) -> None:
    """One beat tick of ``dispatch_due_monitors``, counting what it hands to the workers."""
    scheduler.dispatch(enqueue=lambda claims: claimed.update(c.monitor_id for c in claims))


def _http_monitors(workspace, intervals_s: list[int]) -> list[Monitor]:
    """HTTP monitors due at ``T0``, one per interval (call inside the time machine)."""
    return [
        Monitor.objects.create(
            workspace=workspace,
            kind=Monitor.Kind.HTTP,
            name=f"Shop {i}",
            url=f"https://shop.example.com/{i}",
            interval_s=interval_s,
            next_check_at=T0,
        )
        for i, interval_s in enumerate(intervals_s)
    ]


def test_a_clock_jump_checks_each_monitor_once_not_once_per_missed_slot(workspace):
    with time_machine.travel(T0, tick=False) as clock:
        monitors = _http_monitors(workspace, [60, 60, 60])
        claimed: Counter = Counter()
        _dispatch(claimed)
        assert set(claimed.values()) == {1}
        clock.move_to(T0 + timedelta(hours=3))  # 180 slots were missed
        _dispatch(claimed)
        _dispatch(claimed)  # the next tick, at the same moment: nothing is due twice
        assert claimed == {m.pk: 2 for m in monitors}
        for second in range(10, 121, 10):  # then ticks every 10 s: one check per slot again
            clock.move_to(T0 + timedelta(hours=3, seconds=second))
            _dispatch(claimed)
        assert claimed == {m.pk: 4 for m in monitors}
        clock.move_to(T0 + timedelta(minutes=5))  # and back: checked once at once (re-anchored)
        _dispatch(claimed)
        _dispatch(claimed)
        assert claimed == {m.pk: 5 for m in monitors}


def test_after_the_clock_went_back_each_monitor_is_checked_at_once_and_then_on_its_interval(workspace):
    """A clock set back by hours leaves every claimed slot hours ahead: without re-anchoring,
    the monitors would go silent for the jump's length. Each is checked once at once (due
    now, so its batch does not wait for the old slot) and then every interval; a heartbeat,
    whose next check is its ping deadline, keeps it."""
    with time_machine.travel(T0, tick=False) as clock:
        monitors = _http_monitors(workspace, [60, 60, 300, 3600])
        heartbeat = Monitor.objects.create(
            workspace=workspace,
            kind=Monitor.Kind.HEARTBEAT,
            name="Nightly export",
            period_s=86400,
            next_check_at=T0 + timedelta(days=1),
        )
        claims: list[scheduler.Claim] = []
        scheduler.dispatch(enqueue=claims.extend)
        clock.move_to(T0 + timedelta(hours=3))
        scheduler.dispatch(enqueue=claims.extend)
        assert Counter(c.monitor_id for c in claims) == {m.pk: 2 for m in monitors}

        back = T0 + timedelta(minutes=5)  # the clock goes back by 2 h 55 min
        clock.move_to(back)
        claims.clear()
        scheduler.dispatch(enqueue=claims.extend)
        scheduler.dispatch(enqueue=claims.extend)  # the next tick at the same moment: no burst
        assert sorted(c.monitor_id for c in claims) == sorted(m.pk for m in monitors)
        assert all(c.due_at == back for c in claims)  # due now, not at the slot hours ahead
        for m in monitors:
            m.refresh_from_db()
            assert (
                back < m.next_check_at <= back + scheduler.DEFAULT_HORIZON + timedelta(seconds=m.interval_s)
            )
        heartbeat.refresh_from_db()
        assert heartbeat.next_check_at == T0 + timedelta(days=1)

        # From there on, one check per slot again: each one-minute monitor twice in two minutes.
        claims.clear()
        for second in range(10, 121, 10):
            clock.move_to(back + timedelta(seconds=second))
            scheduler.dispatch(enqueue=claims.extend)
        per_monitor = Counter(c.monitor_id for c in claims)
        assert per_monitor[monitors[0].pk] == per_monitor[monitors[1].pk] == 2
        assert per_monitor[monitors[2].pk] <= 1 and per_monitor[monitors[3].pk] == 0
        assert heartbeat.pk not in per_monitor


def test_a_clock_jump_sends_no_alert_or_report_twice(workspace, site, owner):
    with time_machine.travel(T0, tick=False) as clock:
        ReportSchedule.objects.create(workspace=workspace, next_send_at=T0)
        channel = AlertChannel(
            workspace=workspace, kind=AlertChannel.Kind.EMAIL, name="Ops", label="ops@shop.test"
        )
        channel.credentials = {"address": "ops@shop.test"}
        channel.save()
        monitor = Monitor.objects.create(
            workspace=workspace,
            kind=Monitor.Kind.HTTP,
            name="Checkout",
            url="https://shop.example.com/checkout",
        )
        incident = Incident.objects.create(
            monitor=monitor, workspace=workspace, started_at=T0, cause="Status 502.", notified=True
        )
        alert = Notification.objects.create(
            workspace=workspace, incident=incident, channel=channel, event=Notification.Event.OPENED
        )
        assert deliver_due_notifications() == 1
        assert send_due_reports()["sent"] == 1
        for jump in JUMPS:
            clock.move_to(T0 + jump)
            deliver_due_notifications()
            send_due_reports()
    alert.refresh_from_db()
    assert alert.status == Notification.Status.SENT and alert.attempts == 1
    alerts = [m for m in mail.outbox if m.to == ["ops@shop.test"]]
    assert len(alerts) == 1
    # The report of the week before T0 once, and one for the latest week when the clock
    # jumped three weeks ahead (not one per missed week); nothing again when it came back.
    assert WeeklyReport.objects.filter(workspace=workspace).count() == 2
    assert len([m for m in mail.outbox if m.to == [owner.email]]) == 2
