"""Heartbeats after the clock went back (NTP stepping a drifted clock, a restored VM snapshot).

A heartbeat's deadline comes from its last ping. Set the clock back by hours just after a
ping and that ping lies hours in the future: without re-anchoring, a job that stops
pinging then is reported late by the jump's length. The beat's jobs run as the beat calls
them (a dispatch tick every 30 s, each claimed batch run at once), with the clock moved by
time-machine, as in ``tests/faults/test_clock_jump.py``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from monitoring import runner, scheduler
from monitoring.models import Incident, Monitor

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 4, 7, 6, 0, tzinfo=UTC)
JUMP = timedelta(hours=3)
BACK = T0 - JUMP
TICK = timedelta(seconds=30)
PERIOD, GRACE = timedelta(hours=1), timedelta(minutes=5)


def tick() -> None:
    """One beat tick: claim what is due and run its batches."""
    scheduler.dispatch(enqueue=runner.run_batch)


def new_heartbeat(workspace, name: str) -> Monitor:
    """An hourly job with 5 minutes of grace, never pinged."""
    return Monitor.objects.create(
        workspace=workspace,
        kind=Monitor.Kind.HEARTBEAT,
        name=name,
        period_s=int(PERIOD.total_seconds()),
        grace_s=int(GRACE.total_seconds()),
    )


def heartbeat(workspace, clock, age: timedelta = timedelta(0)) -> Monitor:
    """An hourly job with 5 minutes of grace, created the day before and last pinged ``age``
    before ``T0``, when the clock goes back."""
    clock.move_to(T0 - timedelta(days=1))
    hb = new_heartbeat(workspace, "Hourly stock sync")
    clock.move_to(T0 - age)
    runner.record_ping(hb, "success")  # unknown to up
    hb.refresh_from_db()
    assert hb.state == Monitor.State.UP and hb.next_check_at == T0 - age + PERIOD + GRACE
    clock.move_to(T0)
    return hb


def run_until(clock, end: datetime, pings: list[datetime] = (), hb: Monitor | None = None) -> None:
    """Ticks every 30 s from ``BACK`` to ``end``; the job pings at ``pings``."""
    waiting = sorted(pings)
    at = BACK
    while at <= end:
        clock.move_to(at)
        while waiting and waiting[0] <= at:
            waiting.pop(0)
            hb.refresh_from_db()
            runner.record_ping(hb, "success")
        tick()
        at += TICK


def test_a_job_that_stops_pinging_just_after_the_clock_went_back_is_reported_on_time(workspace):
    with time_machine.travel(T0, tick=False) as clock:
        hb = heartbeat(workspace, clock)
        clock.move_to(BACK)  # just after the ping; the job then stops
        run_until(clock, BACK + PERIOD + GRACE + 2 * TICK)
    hb.refresh_from_db()
    incident = Incident.objects.get(monitor=hb)
    assert hb.state == Monitor.State.DOWN
    # Due a period and its grace after the ping, which was at the jump: reported within a tick.
    assert BACK + PERIOD + GRACE <= incident.started_at <= BACK + PERIOD + GRACE + TICK


def test_a_job_whose_last_ping_was_older_is_late_by_that_age_at_most(workspace):
    """Pinged 50 minutes before the clock went back 3 hours: due 15 minutes after the jump,
    reported 50 minutes after that (the age of its ping), not 3 hours."""
    age = timedelta(minutes=50)
    with time_machine.travel(T0, tick=False) as clock:
        hb = heartbeat(workspace, clock, age)
        clock.move_to(BACK)
        run_until(clock, BACK + PERIOD + GRACE + 2 * TICK)
    incident = Incident.objects.get(monitor=hb)
    due = BACK - age + PERIOD + GRACE
    assert due < incident.started_at <= due + age + TICK


@pytest.mark.parametrize("age", [timedelta(0), timedelta(minutes=50), timedelta(minutes=59)])
def test_a_job_that_keeps_pinging_after_the_clock_went_back_is_never_late(workspace, age):
    """Its next ping comes an hour after the one before the jump, however old that one was."""
    with time_machine.travel(T0, tick=False) as clock:
        hb = heartbeat(workspace, clock, age)
        clock.move_to(BACK)
        hourly = [BACK - age + k * PERIOD for k in range(1, 5)]
        run_until(clock, BACK + 4 * PERIOD + GRACE, pings=hourly, hb=hb)
    hb.refresh_from_db()
    assert hb.state == Monitor.State.UP
    assert not Incident.objects.filter(monitor=hb).exists()
    assert hb.last_ping_at == hourly[-1]


def test_a_heartbeat_created_just_before_the_clock_went_back_is_reported_on_time(workspace):
    """Never pinged: its first deadline counts from its creation, which lies ahead too."""
    with time_machine.travel(T0, tick=False) as clock:
        hb = new_heartbeat(workspace, "New nightly job")
        clock.move_to(BACK)
        run_until(clock, BACK + PERIOD + GRACE + 2 * TICK)
    incident = Incident.objects.get(monitor=hb)
    assert BACK + PERIOD + GRACE <= incident.started_at <= BACK + PERIOD + GRACE + TICK


def test_the_clock_going_back_less_than_the_slack_changes_nothing(workspace):
    """Clocks of several machines differ by seconds: a ping a little ahead is not a jump."""
    with time_machine.travel(T0, tick=False) as clock:
        hb = heartbeat(workspace, clock)
        clock.move_to(T0 - timedelta(seconds=30))
        claims: list[scheduler.Claim] = []
        scheduler.dispatch(enqueue=claims.extend)
    hb.refresh_from_db()
    assert claims == [] and hb.last_ping_at == T0 and hb.next_check_at == T0 + PERIOD + GRACE


def test_a_re_anchored_heartbeat_is_claimed_once(workspace):
    """The claim takes its future ping as received now: the next tick finds nothing to re-anchor."""
    with time_machine.travel(T0, tick=False) as clock:
        hb = heartbeat(workspace, clock)
        clock.move_to(BACK)
        claims: list[scheduler.Claim] = []
        scheduler.dispatch(enqueue=claims.extend)
        scheduler.dispatch(enqueue=claims.extend)  # the next tick, before a worker ran the batch
    assert claims == [scheduler.Claim(hb.pk, BACK)]
    hb.refresh_from_db()
    assert hb.last_ping_at == BACK
