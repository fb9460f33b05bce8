"""Claiming due monitors: slots, and two dispatchers in parallel never double-check or skip."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.db import OperationalError, connection
from django.utils import timezone

from monitoring import scheduler
from monitoring.models import Monitor


def test_next_slot_is_stable_and_spread():
    t = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
    a = scheduler.next_slot(1, 60, t)
    assert t < a <= t + timedelta(seconds=60)
    assert scheduler.next_slot(1, 60, a) == a + timedelta(seconds=60)  # no drift
    phases = {scheduler.phase_s(i, 60) // 6 for i in range(1, 200)}
    assert len(phases) == 10  # 200 monitors land in every tenth of the minute


@pytest.mark.django_db
def test_claim_moves_due_monitors_past_the_horizon(workspace):
    now = timezone.now()
    due = [
        Monitor.objects.create(workspace=workspace, name=f"m{i}", url="https://a.test/", next_check_at=now)
        for i in range(5)
    ]
    later = Monitor.objects.create(  # beyond the look-ahead, within its interval of it
        workspace=workspace, name="later", url="https://a.test/", next_check_at=now + timedelta(seconds=90)
    )
    paused = Monitor.objects.create(
        workspace=workspace, name="p", url="https://a.test/", next_check_at=now, state="paused"
    )
    claims, seen = scheduler.claim_due(now, batch_size=100)
    assert {c.monitor_id for c in claims} == {m.pk for m in due}
    assert (
        seen == 5
        and later.pk not in {c.monitor_id for c in claims}
        and paused.pk not in {c.monitor_id for c in claims}
    )
    for m in due:
        m.refresh_from_db()
        assert m.next_check_at > now + scheduler.DEFAULT_HORIZON
    again, _ = scheduler.claim_due(now, batch_size=100)
    assert again == []


@pytest.mark.django_db
def test_a_claim_read_before_another_dispatcher_moved_the_rows_wins_nothing(workspace):
    """The interleaving that matters, made deterministic: A reads, B claims, A writes."""
    now = timezone.now()
    for i in range(4):
        Monitor.objects.create(workspace=workspace, name=f"m{i}", url="https://a.test/", next_check_at=now)
    until = now + scheduler.DEFAULT_HORIZON
    stale = list(scheduler.candidates(until))  # dispatcher A reads
    claims_b, _ = scheduler.claim_due(now)  # dispatcher B claims everything
    assert len(claims_b) == 4
    assert scheduler.take(stale, until) == set()  # A's conditional UPDATE matches nothing


@pytest.mark.django_db
def test_a_slot_further_ahead_than_its_interval_is_claimed_now_once(workspace):
    """After the clock went back: claimed due now and moved to its next slot; a dispatcher
    that read it before that wins nothing (the conditional UPDATE's second branch)."""
    now = timezone.now()
    ahead = [
        Monitor.objects.create(
            workspace=workspace, name=f"m{i}", url="https://a.test/", next_check_at=now + timedelta(hours=2)
        )
        for i in range(3)
    ]
    until = now + scheduler.DEFAULT_HORIZON
    read_by_a = list(scheduler.ahead_of_the_clock(until))  # dispatcher A reads
    assert {pk for pk, _, _ in read_by_a} == {m.pk for m in ahead}
    claims_b, seen = scheduler.claim_due(now)  # dispatcher B claims them
    assert seen == 3 and {(c.monitor_id, c.due_at) for c in claims_b} == {(m.pk, now) for m in ahead}
    assert scheduler.take(read_by_a, until) == set()  # A's conditional UPDATE matches nothing
    for m in ahead:
        m.refresh_from_db()
        assert until < m.next_check_at <= until + timedelta(seconds=60)
    assert scheduler.claim_due(now) == ([], 0)


@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_in_parallel_claim_each_monitor_exactly_once(workspace):
    now = timezone.now()
    Monitor.objects.bulk_create(
        [
            Monitor(
                workspace=workspace,
                name=f"m{i}",
                url="https://a.test/",
                next_check_at=now - timedelta(seconds=i % 30),
            )
            for i in range(600)
        ]
    )
    claimed: list[list[int]] = [[], []]
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def dispatcher(slot: int) -> None:
        deadline = time.monotonic() + 20
        try:
            barrier.wait()
            while time.monotonic() < deadline:
                try:
                    claims, seen = scheduler.claim_due(now, batch_size=20)
                except OperationalError as exc:
                    # SQLite's shared-cache test database answers "locked" at once instead
                    # of waiting (PostgreSQL in CI waits or skips locked rows).
                    if "locked" not in str(exc):
                        raise
                    time.sleep(0.001)
                    continue
                if not seen:
                    break
                claimed[slot].extend(c.monitor_id for c in claims)
                time.sleep(0.002)  # hand the batch over, as the real tick enqueues a task
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=dispatcher, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    everything = claimed[0] + claimed[1]
    assert len(everything) == len(set(everything)) == 600  # none twice, none skipped
    assert claimed[0] and claimed[1]  # both really worked


@pytest.mark.django_db
def test_a_tick_claims_three_beat_periods_ahead_so_a_late_tick_starts_nothing_late(workspace):
    """Beat ticks every 10 s; claiming 30 s ahead leaves 20 s of slack for a tick stuck
    behind busy worker processes (the claimed batches already wait with their countdowns)."""
    now = timezone.now()
    soon = Monitor.objects.create(
        workspace=workspace, name="in 25 s", url="https://a.test/", next_check_at=now + timedelta(seconds=25)
    )
    later = Monitor.objects.create(
        workspace=workspace, name="in 40 s", url="https://a.test/", next_check_at=now + timedelta(seconds=40)
    )
    claims, _ = scheduler.claim_due(now)
    assert [(c.monitor_id, c.due_at) for c in claims] == [(soon.pk, soon.next_check_at)]
    soon.refresh_from_db()
    assert soon.next_check_at > now + timedelta(seconds=30)  # moved to its next slot
    assert Monitor.objects.get(pk=later.pk).next_check_at == later.next_check_at
