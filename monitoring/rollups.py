"""Hourly and daily rollups (uptime, p50/p95 latency) and pruning of raw results.

Raw results and heartbeat pings live ``MONITORING_RESULT_RETENTION_DAYS`` (7), hourly rollups
``MONITORING_HOURLY_RETENTION_DAYS`` (90), daily rollups forever. The hourly job
(``rollup_and_prune``) never reads more than a few hours of raw results, so that it fits
100,000 monitors:

- **Hours**: the last two hours and the current one are recomputed from raw results and
  upserted, exact (nearest-rank p50/p95 of the successful checks' latencies).
- **Today** (and yesterday until it closes): from its hourly rows. Checks and failures are
  exact; p50/p95 are the success-weighted percentiles of the hours' p50s and p95s
  (``weighted_percentile``, as the weekly summaries do): exact for a day of one hour,
  otherwise a value between the fastest and the slowest hour's figure.
- **A finished day** is closed once, at the first run ``CLOSE_AFTER`` past its end (results
  are written within a batch's time limit, so none arrive later): recomputed exactly from
  its raw results, ``CLOSE_CHUNK`` monitors a statement, and recorded as a ``ClosedDay``.
  ``rollup_days`` recomputes any days exactly on demand (late results after the close).
- **Pruning** deletes at most ``PRUNE_CHUNK`` rows a statement, oldest first.

On PostgreSQL each rollup is one ``INSERT … SELECT … GROUP BY`` (``monitoring.rollup_sql``,
``percentile_disc`` for the percentiles); SQLite, the embedded default, has no such
aggregate, and the same rows are computed in Python there. Every rollup is idempotent.

Each monitor's uptime bar for the finished days is drawn once a day and stored
(``UptimeBar``): a finished day whose checks or failures change deletes the monitor's bar,
and the hourly job draws the missing and outdated ones again (``refresh_bars``). Every run
of the job bumps ``bars_version()``, which the cached monitoring fragments carry in their keys.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import connection, models, transaction
from django.db.models import Q
from django.utils import timezone

from . import charts, rollup_sql
from .models import (
    CheckResult,
    ClosedDay,
    DailyRollup,
    HeartbeatPing,
    HourlyRollup,
    Monitor,
    UptimeBar,
)

logger = logging.getLogger(__name__)

PRUNE_CHUNK = 50_000  # rows deleted per statement
CLOSE_CHUNK = 10_000  # monitors per statement when a finished day is recomputed from raw results
CLOSE_AFTER = timedelta(hours=1)  # a day closes at the first run this long after its end
CLOSE_LOOKBACK_DAYS = 2  # finished days still closed if a run was missed (first deploy too)

Stats = tuple[int, int, int | None, int | None]  # checks, failures, p50_ms, p95_ms


def percentile(values: list[int], pct: float) -> int | None:
    """Nearest-rank percentile of ``values`` (unsorted ok); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, int(-(-pct * len(ordered) // 100)))  # ceil(pct/100 × n)
    return ordered[min(rank, len(ordered)) - 1]


def weighted_percentile(values: list[tuple[int, int]], pct: float) -> int | None:
    """Percentile of (value, weight) pairs: the value where the cumulative weight passes pct."""
    total = sum(w for _, w in values)
    if not total:
        return None
    running = 0
    for value, weight in sorted(values):
        running += weight
        if running * 100 >= pct * total:
            return value
    return sorted(values)[-1][0]


def _stats(rows: list[tuple[bool, int | None]]) -> Stats:
    latencies = [lat for ok, lat in rows if ok and lat is not None]
    return len(rows), sum(1 for ok, _ in rows if not ok), percentile(latencies, 50), percentile(latencies, 95)


def _in_database(choice: bool | None) -> bool:
    """SQL where the database has ``percentile_disc`` (PostgreSQL), unless told."""
    return connection.vendor == "postgresql" if choice is None else choice


def _day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _hours_in_python(start: datetime, end: datetime) -> int:
    buckets: dict[tuple[int, datetime], list[tuple[bool, int | None]]] = defaultdict(list)
    for monitor_id, at, ok, lat in (
        CheckResult.objects.filter(checked_at__gte=start, checked_at__lt=end)
        .values_list("monitor_id", "checked_at", "ok", "latency_ms")
        .iterator(chunk_size=10_000)
    ):
        buckets[(monitor_id, at.astimezone(UTC).replace(minute=0, second=0, microsecond=0))].append((ok, lat))
    with transaction.atomic():
        HourlyRollup.objects.filter(hour__gte=start, hour__lt=end).delete()
        HourlyRollup.objects.bulk_create(
            [
                HourlyRollup(monitor_id=mid, hour=hour, checks=c, failures=f, p50_ms=p50, p95_ms=p95)
                for (mid, hour), rows in buckets.items()
                for c, f, p50, p95 in [_stats(rows)]
            ],
            batch_size=5000,
        )
    return len(buckets)


def _write_day_in_python(
    day: date, new: dict[int, Stats], finished: bool, span: tuple[int, int] | None
) -> int:
    """Replace the day's rows (of monitors ``span[0]``–``span[1]``, or all) with ``new``; for a
    finished day, a monitor whose checks or failures changed loses its stored bar."""
    rows = DailyRollup.objects.filter(day=day)
    if span is not None:
        rows = rows.filter(monitor_id__gte=span[0], monitor_id__lte=span[1])
    with transaction.atomic():
        if finished:
            before = {mid: (c, f) for mid, c, f in rows.values_list("monitor_id", "checks", "failures")}
            after = {mid: (c, f) for mid, (c, f, _, _) in new.items()}
            changed = [mid for mid in before.keys() | after.keys() if before.get(mid) != after.get(mid)]
            for i in range(0, len(changed), 500):
                UptimeBar.objects.filter(monitor_id__in=changed[i : i + 500]).delete()
        rows.delete()
        DailyRollup.objects.bulk_create(
            [
                DailyRollup(monitor_id=mid, day=day, checks=c, failures=f, p50_ms=p50, p95_ms=p95)
                for mid, (c, f, p50, p95) in new.items()
            ],
            batch_size=5000,
        )
    return len(new)


def _day_from_results_in_python(day: date, ids: list[int], finished: bool) -> int:
    start = _day_start(day)
    by_monitor: dict[int, list[tuple[bool, int | None]]] = defaultdict(list)
    for mid, ok, lat in (
        CheckResult.objects.filter(
            checked_at__gte=start,
            checked_at__lt=start + timedelta(days=1),
            monitor_id__gte=ids[0],
            monitor_id__lte=ids[-1],
        )
        .values_list("monitor_id", "ok", "latency_ms")
        .iterator(chunk_size=10_000)
    ):
        by_monitor[mid].append((ok, lat))
    new = {mid: _stats(rows) for mid, rows in by_monitor.items()}
    return _write_day_in_python(day, new, finished, (ids[0], ids[-1]))


def _day_from_hours_in_python(day: date, finished: bool) -> int:
    start = _day_start(day)
    by_monitor: dict[int, list[tuple[int, int, int | None, int | None]]] = defaultdict(list)
    for mid, c, f, p50, p95 in HourlyRollup.objects.filter(
        hour__gte=start, hour__lt=start + timedelta(days=1)
    ).values_list("monitor_id", "checks", "failures", "p50_ms", "p95_ms"):
        by_monitor[mid].append((c, f, p50, p95))
    new = {
        mid: (
            sum(c for c, _, _, _ in hours),
            sum(f for _, f, _, _ in hours),
            weighted_percentile([(p50, c - f) for c, f, p50, _ in hours if p50 is not None], 50),
            weighted_percentile([(p95, c - f) for c, f, _, p95 in hours if p95 is not None], 95),
        )
        for mid, hours in by_monitor.items()
    }
    return _write_day_in_python(day, new, finished, None)


def rollup_hours(start: datetime, end: datetime, *, in_database: bool | None = None) -> int:
    """Recompute hourly rollups for whole hours in [start, end); returns the (monitor, hour) rows."""
    if _in_database(in_database):
        return rollup_sql.rollup_hours(start, end)
    return _hours_in_python(start, end)


def _monitor_chunks(size: int) -> Iterator[list[int]]:
    ids = list(Monitor.objects.order_by("pk").values_list("pk", flat=True))
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


def rollup_days(
    first: date, last: date, *, today: date | None = None, in_database: bool | None = None
) -> int:
    """Recompute daily rollups for [first, last] exactly from raw results (UTC days), one
    statement (and transaction) per day and ``CLOSE_CHUNK`` monitors."""
    today = today or timezone.now().date()
    sql = _in_database(in_database)
    written = 0
    day = first
    while day <= last:
        for ids in _monitor_chunks(CLOSE_CHUNK):
            with transaction.atomic():
                if sql:
                    written += rollup_sql.day_from_results(day, ids, finished=day < today)
                else:
                    written += _day_from_results_in_python(day, ids, finished=day < today)
        day += timedelta(days=1)
    return written


def rollup_day_from_hours(day: date, *, today: date | None = None, in_database: bool | None = None) -> int:
    """Recompute one day's daily rollups from its hourly rows (see the module's docstring)."""
    finished = day < (today or timezone.now().date())
    if _in_database(in_database):
        with transaction.atomic():
            return rollup_sql.day_from_hours(day, finished=finished)
    return _day_from_hours_in_python(day, finished=finished)


def rollup_open_days(now: datetime) -> int:
    """Today's daily rows, and yesterday's until it is closed, from the hourly rows (not when
    this run closes it anyway)."""
    today = now.date()
    yesterday = today - timedelta(days=1)
    closed = ClosedDay.objects.filter(day=yesterday).exists() or yesterday in days_to_close(now)
    days = [today] if closed else [yesterday, today]
    return sum(rollup_day_from_hours(day, today=today) for day in days)


def days_to_close(now: datetime) -> list[date]:
    """Finished days not closed yet, ``CLOSE_AFTER`` past their end, whose raw results are
    all still kept (a day partly pruned keeps the rows its hours gave it)."""
    today = now.date()
    kept_from = now - timedelta(days=settings.MONITORING_RESULT_RETENTION_DAYS)
    candidates = [today - timedelta(days=n) for n in range(CLOSE_LOOKBACK_DAYS, 0, -1)]
    closed = set(ClosedDay.objects.filter(day__in=candidates).values_list("day", flat=True))
    return [
        day
        for day in candidates
        if day not in closed
        and _day_start(day) >= kept_from
        and now >= _day_start(day) + timedelta(days=1) + CLOSE_AFTER
    ]


def close_finished_days(now: datetime) -> int:
    """Recompute each day of ``days_to_close`` exactly from raw results, once."""
    days = days_to_close(now)
    for day in days:
        rollup_days(day, day, today=now.date())
        ClosedDay.objects.update_or_create(day=day, defaults={"closed_at": now})
    return len(days)


def prune(model: type[models.Model], field: str, cut: datetime, chunk: int = PRUNE_CHUNK) -> int:
    """Delete the rows of ``model`` whose ``field`` is before ``cut``, oldest first, at most
    ``chunk`` rows a statement (each its own transaction): no statement locks many rows or
    runs for long, and ``field``'s index finds each chunk."""
    old = model._default_manager.filter(**{f"{field}__lt": cut}).order_by(field).values("pk")
    deleted = 0
    while True:
        count, _ = model._default_manager.filter(pk__in=old[:chunk]).delete()
        deleted += count
        if count < chunk:
            return deleted


BARS_VERSION_KEY = "monitoring:bars-version"
BAR_CHUNK = 500  # monitors drawn per query


def bars_version() -> int:
    """Changes whenever stored bars or today's rollups may have changed (each rollup run)."""
    return cache.get_or_set(BARS_VERSION_KEY, 1, timeout=None)


def bump_bars_version() -> None:
    try:
        cache.incr(BARS_VERSION_KEY)
    except ValueError:  # not set yet (or evicted): any new value differs from the cached keys'
        cache.set(BARS_VERSION_KEY, int(timezone.now().timestamp()), timeout=None)


def refresh_bars(today: date | None = None) -> int:
    """Draw the stored bar of every monitor whose bar is missing or not through yesterday."""
    today = today or timezone.now().date()
    through = today - timedelta(days=1)
    first = through - timedelta(days=charts.BAR_DAYS - 2)
    ids = list(
        Monitor.objects.exclude(kind=Monitor.Kind.HEARTBEAT)
        .filter(Q(uptime_bar__isnull=True) | ~Q(uptime_bar__through=through))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for i in range(0, len(ids), BAR_CHUNK):
        chunk = ids[i : i + BAR_CHUNK]
        days: dict[int, dict[date, tuple[int, int]]] = defaultdict(dict)
        for mid, day, c, f in DailyRollup.objects.filter(
            monitor_id__in=chunk, day__gte=first, day__lte=through
        ).values_list("monitor_id", "day", "checks", "failures"):
            days[mid][day] = (c, f)
        bars = []
        for mid in chunk:
            drawn = charts.finished_days(days[mid], through)
            bars.append(
                UptimeBar(
                    monitor_id=mid,
                    through=through,
                    svg=drawn.svg,
                    checks=drawn.checks,
                    failures=drawn.failures,
                )
            )
        UptimeBar.objects.bulk_create(
            bars,
            update_conflicts=True,
            unique_fields=["monitor"],
            update_fields=["through", "svg", "checks", "failures"],
        )
    return len(ids)


def housekeeping(now: datetime) -> dict[str, Callable[[], int]]:
    """The hourly job's steps, in order (the benchmark times each)."""
    this_hour = now.replace(minute=0, second=0, microsecond=0)
    raw_cut = now - timedelta(days=settings.MONITORING_RESULT_RETENTION_DAYS)
    hourly_cut = now - timedelta(days=settings.MONITORING_HOURLY_RETENTION_DAYS)
    return {
        "hours": lambda: rollup_hours(this_hour - timedelta(hours=2), this_hour + timedelta(hours=1)),
        "days": lambda: rollup_open_days(now),
        "closed_days": lambda: close_finished_days(now),
        "pruned_results": lambda: prune(CheckResult, "checked_at", raw_cut),
        "pruned_hours": lambda: prune(HourlyRollup, "hour", hourly_cut),
        "pruned_pings": lambda: prune(HeartbeatPing, "received_at", raw_cut),
        "bars": lambda: refresh_bars(now.date()),
    }


def rollup_and_prune(now: datetime | None = None) -> dict:
    """Hourly beat job: roll up the last hours, today and the days that closed, then drop old rows.

    Each step runs on its own: a failed rollup (logged) still lets old rows be
    pruned, and the next hourly run recomputes what it missed.
    """
    now = now or timezone.now()
    done: dict[str, int | None] = {}
    for name, step in housekeeping(now).items():
        started = time.monotonic()
        try:
            done[name] = step()
        except Exception:  # the other steps still run
            logger.exception("monitoring housekeeping step %s failed", name)
            done[name] = None
        logger.info(
            "monitoring housekeeping step %s: %s in %.1f s", name, done[name], time.monotonic() - started
        )
    try:  # today's rectangles (and maybe stored bars) changed: cached pages are stale
        bump_bars_version()
    except Exception:  # the cache being away must not fail the job; keys also carry the day
        logger.exception("could not bump the monitoring bars version")
    return done


@dataclass(frozen=True)
class Summary:
    """Uptime and response time of one monitor over a period (a week, a month) from daily rollups."""

    checks: int
    failures: int
    p50_ms: int | None
    p95_ms: int | None

    @property
    def uptime_pct(self) -> float | None:
        return 100.0 * (self.checks - self.failures) / self.checks if self.checks else None


def summarize(monitor_ids: list[int], first: date, last: date) -> dict[int, Summary]:
    """Per monitor over [first, last]: exact uptime; p50/p95 are check-weighted percentiles
    of the daily figures (raw results are gone after a week, so exact ones are not possible)."""
    by_monitor: dict[int, list[tuple[int, int, int | None, int | None]]] = defaultdict(list)
    for mid, c, f, p50, p95 in DailyRollup.objects.filter(
        monitor_id__in=monitor_ids, day__gte=first, day__lte=last
    ).values_list("monitor_id", "checks", "failures", "p50_ms", "p95_ms"):
        by_monitor[mid].append((c, f, p50, p95))
    return {
        mid: Summary(
            checks=sum(c for c, _, _, _ in rows),
            failures=sum(f for _, f, _, _ in rows),
            p50_ms=weighted_percentile([(p50, c - f) for c, f, p50, _ in rows if p50 is not None], 50),
            p95_ms=weighted_percentile([(p95, c - f) for c, f, _, p95 in rows if p95 is not None], 95),
        )
        for mid, rows in by_monitor.items()
    }
