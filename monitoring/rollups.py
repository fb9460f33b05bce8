"""Hourly and daily rollups (uptime, p50/p95 latency) and pruning of raw results.

Raw results and heartbeat pings live ``MONITORING_RESULT_RETENTION_DAYS`` (7), hourly rollups
``MONITORING_HOURLY_RETENTION_DAYS`` (90), daily rollups forever. Rolling up is
idempotent: an hour or a day is recomputed from raw rows and upserted.

Each monitor's uptime bar for the finished days is drawn once a day and stored
(``UptimeBar``): a finished day whose rollup changes deletes the monitor's bar, and the
hourly job draws the missing and outdated ones again (``refresh_bars``). Every run of the
job bumps ``bars_version()``, which the cached monitoring fragments carry in their keys.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from . import charts
from .models import CheckResult, DailyRollup, HeartbeatPing, HourlyRollup, Monitor, UptimeBar

logger = logging.getLogger(__name__)

K = TypeVar("K", datetime, date)


def percentile(values: list[int], pct: float) -> int | None:
    """Nearest-rank percentile of ``values`` (unsorted ok); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, int(-(-pct * len(ordered) // 100)))  # ceil(pct/100 × n)
    return ordered[min(rank, len(ordered)) - 1]


def _stats(rows: list[tuple[bool, int | None]]) -> tuple[int, int, int | None, int | None]:
    latencies = [lat for ok, lat in rows if ok and lat is not None]
    return len(rows), sum(1 for ok, _ in rows if not ok), percentile(latencies, 50), percentile(latencies, 95)


def _buckets(start: datetime, end: datetime, period: Callable[[datetime], K]) -> dict[tuple[int, K], list]:
    """Raw results in [start, end) grouped by monitor and ``period(checked_at)``."""
    buckets: dict[tuple[int, K], list[tuple[bool, int | None]]] = defaultdict(list)
    for monitor_id, at, ok, lat in CheckResult.objects.filter(
        checked_at__gte=start, checked_at__lt=end
    ).values_list("monitor_id", "checked_at", "ok", "latency_ms"):
        buckets[(monitor_id, period(at))].append((ok, lat))
    return buckets


def rollup_hours(start: datetime, end: datetime) -> int:
    """Recompute hourly rollups for whole hours in [start, end)."""
    buckets = _buckets(start, end, lambda at: at.replace(minute=0, second=0, microsecond=0))
    with transaction.atomic():
        HourlyRollup.objects.filter(hour__gte=start, hour__lt=end).delete()
        HourlyRollup.objects.bulk_create(
            [
                HourlyRollup(monitor_id=mid, hour=hour, checks=c, failures=f, p50_ms=p50, p95_ms=p95)
                for (mid, hour), rows in buckets.items()
                for c, f, p50, p95 in [_stats(rows)]
            ]
        )
    return len(buckets)


def rollup_days(first: date, last: date) -> int:
    """Recompute daily rollups for [first, last] from raw results (UTC days)."""
    start = datetime(first.year, first.month, first.day, tzinfo=UTC)
    end = datetime(last.year, last.month, last.day, tzinfo=UTC) + timedelta(days=1)
    buckets = _buckets(start, end, lambda at: at.astimezone(UTC).date())
    today = timezone.now().date()
    with transaction.atomic():
        old = DailyRollup.objects.filter(day__gte=first, day__lte=last, day__lt=today)
        before = {
            (mid, day): (c, f)
            for mid, day, c, f in old.values_list("monitor_id", "day", "checks", "failures")
        }
        DailyRollup.objects.filter(day__gte=first, day__lte=last).delete()
        new = [
            DailyRollup(monitor_id=mid, day=day, checks=c, failures=f, p50_ms=p50, p95_ms=p95)
            for (mid, day), rows in buckets.items()
            for c, f, p50, p95 in [_stats(rows)]
        ]
        DailyRollup.objects.bulk_create(new)
        after = {(r.monitor_id, r.day): (r.checks, r.failures) for r in new if r.day < today}
        # A finished day that changed (late results, the last hours of yesterday): that
        # monitor's stored bar is out of date.
        changed = {mid for mid, _ in before.keys() ^ after.keys()}
        changed |= {key[0] for key in before.keys() & after.keys() if before[key] != after[key]}
        UptimeBar.objects.filter(monitor_id__in=changed).delete()
    return len(buckets)


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


def rollup_and_prune(now: datetime | None = None) -> dict:
    """Hourly beat job: roll up the last two hours and two days, then drop old rows.

    Each step runs on its own: a failed rollup (logged) still lets old rows be
    pruned, and the next hourly run recomputes what it missed.
    """
    now = now or timezone.now()
    this_hour = now.replace(minute=0, second=0, microsecond=0)
    raw_cut = now - timedelta(days=settings.MONITORING_RESULT_RETENTION_DAYS)
    hourly_cut = now - timedelta(days=settings.MONITORING_HOURLY_RETENTION_DAYS)
    steps: dict[str, Callable[[], int]] = {
        "hours": lambda: rollup_hours(this_hour - timedelta(hours=2), this_hour + timedelta(hours=1)),
        "days": lambda: rollup_days((now - timedelta(days=1)).date(), now.date()),
        "pruned_results": lambda: CheckResult.objects.filter(checked_at__lt=raw_cut).delete()[0],
        "pruned_hours": lambda: HourlyRollup.objects.filter(hour__lt=hourly_cut).delete()[0],
        "pruned_pings": lambda: HeartbeatPing.objects.filter(received_at__lt=raw_cut).delete()[0],
        "bars": lambda: refresh_bars(now.date()),
    }
    done: dict[str, int | None] = {}
    for name, step in steps.items():
        try:
            done[name] = step()
        except Exception:  # the other steps still run
            logger.exception("monitoring housekeeping step %s failed", name)
            done[name] = None
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


def _weighted(values: list[tuple[int, int]], pct: float) -> int | None:
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
            p50_ms=_weighted([(p50, c - f) for c, f, p50, _ in rows if p50 is not None], 50),
            p95_ms=_weighted([(p95, c - f) for c, f, _, p95 in rows if p95 is not None], 95),
        )
        for mid, rows in by_monitor.items()
    }
