"""Rollups at scale: computed in the database on PostgreSQL (one INSERT … SELECT … GROUP BY, exact
percentiles with ``percentile_disc``), in Python on SQLite, with the same rows either way;
today's daily row from the hourly ones, a finished day computed exactly once it has closed;
old rows pruned in bounded chunks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitoring import rollups
from monitoring.models import (
    CheckResult,
    ClosedDay,
    DailyRollup,
    HeartbeatPing,
    HourlyRollup,
    Monitor,
    UptimeBar,
)

pytestmark = pytest.mark.django_db

MIDNIGHT = datetime(2026, 3, 10, tzinfo=UTC)  # the start of "today" in most tests
YESTERDAY = MIDNIGHT.date() - timedelta(days=1)
NEEDS_POSTGRES = "the rollups run as SQL on PostgreSQL only (CI runs PostgreSQL)"


@pytest.fixture
def monitors(workspace) -> list[Monitor]:
    return [
        Monitor.objects.create(workspace=workspace, name=f"Page {i}", url=f"https://shop.example/{i}")
        for i in range(3)
    ]


def hourly_rows() -> list[tuple]:
    return sorted(
        HourlyRollup.objects.values_list("monitor_id", "hour", "checks", "failures", "p50_ms", "p95_ms")
    )


def daily_rows() -> list[tuple]:
    return sorted(
        DailyRollup.objects.values_list("monitor_id", "day", "checks", "failures", "p50_ms", "p95_ms")
    )


def add_results(monitor: Monitor, start: datetime, outcomes: list[tuple[bool, int | None]], step_s: int = 60):
    CheckResult.objects.bulk_create(
        CheckResult(monitor=monitor, checked_at=start + timedelta(seconds=step_s * i), ok=ok, latency_ms=lat)
        for i, (ok, lat) in enumerate(outcomes)
    )


def both_paths(compute) -> tuple[tuple[list, list], tuple[list, list]]:
    """The rows the Python path writes and the rows the automatic path (SQL on PostgreSQL)
    writes over them, each from empty tables and then over the other's rows."""
    snapshots = []
    for in_database in (False, None, None, False):
        if len(snapshots) % 2 == 0:
            HourlyRollup.objects.all().delete()
            DailyRollup.objects.all().delete()
        compute(in_database)
        snapshots.append((hourly_rows(), daily_rows()))
    python_first, auto_over_python, auto_first, python_over_auto = snapshots
    assert auto_over_python == python_first
    assert python_over_auto == auto_first
    assert auto_first == python_first
    return python_first, auto_first


# A check's outcome: down, up without a latency (never written today, allowed by the column),
# or up with a latency from a small range so that ties and repeated values are common.
outcomes = st.one_of(
    st.just((False, None)),
    st.tuples(st.just(True), st.none() | st.integers(1, 40)),
    st.tuples(st.booleans(), st.integers(1, 40)),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.lists(
        st.tuples(st.integers(0, 1), st.integers(-2, 1), st.integers(0, 3599), outcomes), max_size=120
    )
)
def test_sql_and_python_paths_write_the_same_rollups(monitors, data):
    """Whatever the results (ties, failures only, missing latencies, hours and a midnight
    crossed), the database's rollups equal the Python ones: hourly from raw, a day from raw,
    today from the hourly rows. CI runs this on PostgreSQL, where the two paths differ."""
    CheckResult.objects.all().delete()
    CheckResult.objects.bulk_create(
        CheckResult(
            monitor=monitors[m], checked_at=MIDNIGHT + timedelta(hours=h, seconds=s), ok=ok, latency_ms=lat
        )
        for m, h, s, (ok, lat) in data
    )
    window = (MIDNIGHT - timedelta(hours=3), MIDNIGHT + timedelta(hours=3))

    def compute(in_database):
        rollups.rollup_hours(*window, in_database=in_database)
        rollups.rollup_days(YESTERDAY, MIDNIGHT.date(), today=MIDNIGHT.date(), in_database=in_database)

    (hourly, daily), _ = both_paths(compute)
    # The Python path is the reference; a spot check that it counted what was stored.
    assert sum(row[2] for row in hourly) == len(data) == sum(row[2] for row in daily)

    def from_hours(in_database):
        rollups.rollup_hours(*window, in_database=in_database)
        for day in (YESTERDAY, MIDNIGHT.date()):
            rollups.rollup_day_from_hours(day, today=MIDNIGHT.date(), in_database=in_database)

    _, (_, daily_from_hours) = both_paths(from_hours)
    assert [row[:4] for row in daily_from_hours] == [row[:4] for row in daily]  # counts are exact


def test_hourly_rollup_in_sql_matches_the_python_one_on_chosen_cases(monitors):
    """PostgreSQL only: ``percentile_disc`` against the nearest rank in Python, on counts where a
    rounding slip would show (20 and 60 values: rank 19 and 57 of p95), ties, an hour of
    failures only, latencies missing, and results on the window's edges."""
    if connection.vendor != "postgresql":
        pytest.skip(NEEDS_POSTGRES)
    hour = MIDNIGHT + timedelta(hours=5)
    a, b, c = monitors
    add_results(a, hour, [(True, (i + 1) * 10) for i in range(20)])
    add_results(a, hour + timedelta(hours=1), [(True, 7)] * 30 + [(True, 9)] * 30, step_s=30)
    add_results(b, hour, [(False, None)] * 5 + [(True, None)] * 2)
    add_results(b, hour + timedelta(hours=1), [(True, 1000 - i) for i in range(1000)], step_s=3)
    add_results(c, hour - timedelta(seconds=1), [(True, 1)])  # before the window: not counted
    add_results(c, hour + timedelta(hours=2), [(True, 1)])  # the window's end: not counted
    add_results(c, hour, [(True, 5)])
    window = (hour, hour + timedelta(hours=2))

    assert rollups.rollup_hours(*window, in_database=False) == 5
    python = hourly_rows()
    HourlyRollup.objects.all().delete()
    assert rollups.rollup_hours(*window, in_database=True) == 5
    assert hourly_rows() == python
    assert python == sorted(
        [
            (a.pk, hour, 20, 0, 100, 190),
            (a.pk, hour + timedelta(hours=1), 60, 0, 7, 9),
            (b.pk, hour, 7, 5, None, None),
            (b.pk, hour + timedelta(hours=1), 1000, 0, 500, 950),
            (c.pk, hour, 1, 0, 5, 5),
        ]
    )


def test_rollups_are_idempotent(monitors):
    now = MIDNIGHT + timedelta(hours=14, minutes=20)
    for m in monitors:
        add_results(m, now - timedelta(hours=2, minutes=20), [(i % 7 != 0, 50 + i) for i in range(140)])
    add_results(monitors[0], MIDNIGHT - timedelta(hours=5), [(True, 80)] * 10)
    first = rollups.rollup_and_prune(now)
    rows = (hourly_rows(), daily_rows())
    second = rollups.rollup_and_prune(now)
    assert (hourly_rows(), daily_rows()) == rows
    assert first["hours"] == second["hours"] == 3 * 3  # recomputed, not doubled
    assert first["closed_days"] == 2 and second["closed_days"] == 0  # the last two days, closed once
    assert sum(r[2] for r in rows[1] if r[1] == MIDNIGHT.date()) == 3 * 140


def test_todays_row_comes_from_the_hourly_rows(monitors):
    """Checks and failures exact; p50/p95 the check-weighted percentiles of the hours' figures
    (the same derivation as the weekly summaries)."""
    m = monitors[0]
    today = MIDNIGHT.date()
    HourlyRollup.objects.bulk_create(
        [
            HourlyRollup(monitor=m, hour=MIDNIGHT, checks=10, failures=0, p50_ms=100, p95_ms=300),
            HourlyRollup(
                monitor=m, hour=MIDNIGHT + timedelta(hours=1), checks=30, failures=10, p50_ms=50, p95_ms=900
            ),
            HourlyRollup(monitor=m, hour=MIDNIGHT + timedelta(hours=2), checks=5, failures=5),
            HourlyRollup(
                monitor=m, hour=MIDNIGHT - timedelta(hours=1), checks=99, failures=0, p50_ms=1, p95_ms=1
            ),
        ]
    )
    # Exactly 95 % of the weight at 100 ms: p95 is 100 (the cumulative weight reaches, not passes, it).
    HourlyRollup.objects.bulk_create(
        [
            HourlyRollup(monitor=monitors[1], hour=MIDNIGHT, checks=19, failures=0, p50_ms=80, p95_ms=100),
            HourlyRollup(
                monitor=monitors[1], hour=MIDNIGHT + timedelta(hours=1), checks=1, p50_ms=500, p95_ms=500
            ),
        ]
    )
    assert rollups.rollup_day_from_hours(today, today=today) == 2
    row = DailyRollup.objects.get(monitor=m, day=today)
    # Weights are the successes: 10 at (100, 300) and 20 at (50, 900).
    assert (row.checks, row.failures, row.p50_ms, row.p95_ms) == (45, 15, 50, 900)
    row = DailyRollup.objects.get(monitor=monitors[1], day=today)
    assert (row.checks, row.failures, row.p50_ms, row.p95_ms) == (20, 0, 80, 100)


def test_late_results_for_a_finished_day_count_until_it_closes_exactly(monitors):
    """A result of 23:58 written after midnight: the next hourly run counts it in yesterday's
    hour, yesterday's row and bar; the first run an hour after midnight closes yesterday with
    exact percentiles from the raw results, once."""
    m = monitors[0]
    # Yesterday: a fast hour and a slow one; the exact p50 is not the hourly p50s' weighted one.
    add_results(m, MIDNIGHT - timedelta(hours=3), [(True, 10)] * 6 + [(True, 20)] * 4)
    add_results(m, MIDNIGHT - timedelta(hours=2), [(True, 30)] * 5)
    rollups.rollup_and_prune(MIDNIGHT - timedelta(minutes=50))
    rollups.rollup_and_prune(MIDNIGHT + timedelta(minutes=10))  # yesterday is over, not yet closed
    row = DailyRollup.objects.get(monitor=m, day=YESTERDAY)
    assert (row.checks, row.failures, row.p50_ms) == (15, 0, 10)  # weighted: 10 checks at 10 ms
    assert not ClosedDay.objects.filter(day=YESTERDAY).exists()
    assert "09 Mar: up" in UptimeBar.objects.get(monitor=m).svg

    add_results(m, MIDNIGHT - timedelta(minutes=2), [(False, None)])  # written late
    rollups.rollup_and_prune(MIDNIGHT + timedelta(minutes=40))
    row = DailyRollup.objects.get(monitor=m, day=YESTERDAY)
    assert (row.checks, row.failures) == (16, 1)
    assert "09 Mar: 93.75% up" in UptimeBar.objects.get(monitor=m).svg  # the bar was drawn again

    assert rollups.rollup_and_prune(MIDNIGHT + timedelta(hours=1, minutes=10))["closed_days"] == 1
    row = DailyRollup.objects.get(monitor=m, day=YESTERDAY)
    assert (row.checks, row.failures, row.p50_ms, row.p95_ms) == (16, 1, 20, 30)  # exact
    assert ClosedDay.objects.filter(day=YESTERDAY).exists()

    # Closed once: later runs leave it alone; an explicit recompute still reads raw results.
    add_results(m, MIDNIGHT - timedelta(hours=12), [(False, None)])
    assert rollups.rollup_and_prune(MIDNIGHT + timedelta(hours=2, minutes=10))["closed_days"] == 0
    assert DailyRollup.objects.get(monitor=m, day=YESTERDAY).checks == 16
    rollups.rollup_days(YESTERDAY, YESTERDAY, today=MIDNIGHT.date())
    assert DailyRollup.objects.get(monitor=m, day=YESTERDAY).checks == 17
    assert not UptimeBar.objects.filter(monitor=m).exists()


def test_a_day_whose_raw_results_are_partly_pruned_is_not_closed(monitors, settings):
    settings.MONITORING_RESULT_RETENTION_DAYS = 1
    m = monitors[0]
    add_results(m, MIDNIGHT - timedelta(hours=1), [(True, 10)] * 3)
    rollups.rollup_and_prune(MIDNIGHT - timedelta(minutes=5))
    before = daily_rows()
    assert rollups.rollup_and_prune(MIDNIGHT + timedelta(hours=3))["closed_days"] == 0
    assert daily_rows() == before and not ClosedDay.objects.filter(day=YESTERDAY).exists()


@pytest.mark.parametrize(
    ("model", "field", "make"),
    [
        (CheckResult, "checked_at", lambda m, at: CheckResult(monitor=m, checked_at=at, ok=True)),
        (
            HeartbeatPing,
            "received_at",
            lambda m, at: HeartbeatPing(monitor=m, kind="success", received_at=at),
        ),
        (HourlyRollup, "hour", lambda m, at: HourlyRollup(monitor=m, hour=at)),
    ],
)
def test_a_prune_spanning_several_chunks_deletes_each_chunk_in_its_own_statement(
    monitors, model, field, make
):
    cut = MIDNIGHT
    old = [make(m, cut - timedelta(hours=h + 1)) for h in range(9) for m in monitors]  # 27 rows
    new = [make(m, cut + timedelta(hours=h)) for h in range(2) for m in monitors]
    # Newest first, then an old row inserted last: a prune must not rely on ids following time.
    model.objects.bulk_create([*new[:3], *old, *new[3:], make(monitors[0], cut - timedelta(days=30))])
    with CaptureQueriesContext(connection) as queries:
        assert rollups.prune(model, field, cut, chunk=10) == 28
    deletes = [q["sql"] for q in queries.captured_queries if q["sql"].upper().startswith("DELETE")]
    assert len(deletes) == 3  # 10 + 10 + 8 rows
    assert model.objects.count() == len(new)
    assert not model.objects.filter(**{f"{field}__lt": cut}).exists()
    assert rollups.prune(model, field, cut, chunk=10) == 0


def test_the_hourly_job_prunes_in_chunks(monitors, settings):
    settings.MONITORING_RESULT_RETENTION_DAYS = 2
    now = MIDNIGHT + timedelta(hours=12)
    add_results(monitors[0], now - timedelta(days=3), [(True, 5)] * 7)
    add_results(monitors[0], now - timedelta(minutes=30), [(True, 5)] * 3)
    assert rollups.rollup_and_prune(now)["pruned_results"] == 7
    assert CheckResult.objects.count() == 3
