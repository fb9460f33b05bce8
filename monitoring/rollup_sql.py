"""The rollups as PostgreSQL statements, for ``monitoring.rollups``.

Each is one ``INSERT … SELECT … GROUP BY`` with its deletes in data-modifying CTEs, so a
rollup reads its rows once, inside the database: exact nearest-rank percentiles with
``percentile_disc`` (``ceil(p × n)``-th value, the same as ``rollups.percentile``), rows
written only where a figure changed (``IS DISTINCT FROM``: re-running an hour rewrites
nothing), rows whose results are gone deleted. Each returns how many (monitor, period)
rows the rollup holds. SQLite has no ordered-set aggregates: ``rollups`` computes the same
rows in Python there.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from django.db import connection

# Latencies of successful checks only: a failed check's time says nothing about speed.
_STATS = """
    count(*) AS checks,
    count(*) FILTER (WHERE NOT ok) AS failures,
    percentile_disc(0.5) WITHIN GROUP (ORDER BY latency_ms) FILTER (WHERE ok AND latency_ms IS NOT NULL)
        AS p50_ms,
    percentile_disc(0.95) WITHIN GROUP (ORDER BY latency_ms) FILTER (WHERE ok AND latency_ms IS NOT NULL)
        AS p95_ms
"""

_HOURS = f"""
WITH new AS (
    SELECT monitor_id, date_trunc('hour', checked_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS hour, {_STATS}
    FROM monitoring_checkresult
    WHERE checked_at >= %(start)s AND checked_at < %(end)s
    GROUP BY 1, 2
),
stale AS (
    DELETE FROM monitoring_hourlyrollup AS h
    WHERE h.hour >= %(start)s AND h.hour < %(end)s
      AND NOT EXISTS (SELECT 1 FROM new WHERE new.monitor_id = h.monitor_id AND new.hour = h.hour)
),
written AS (
    INSERT INTO monitoring_hourlyrollup AS h (monitor_id, hour, checks, failures, p50_ms, p95_ms)
    SELECT monitor_id, hour, checks, failures, p50_ms, p95_ms FROM new
    ON CONFLICT (monitor_id, hour) DO UPDATE
    SET checks = EXCLUDED.checks, failures = EXCLUDED.failures, p50_ms = EXCLUDED.p50_ms, p95_ms = EXCLUDED.p95_ms
    WHERE (h.checks, h.failures, h.p50_ms, h.p95_ms)
        IS DISTINCT FROM (EXCLUDED.checks, EXCLUDED.failures, EXCLUDED.p50_ms, EXCLUDED.p95_ms)
)
SELECT count(*) FROM new
"""  # noqa: S608 - constant SQL; values are parameters

# One day of raw results for one chunk of monitors. ``= ANY(ids)`` lets PostgreSQL walk the
# (monitor, checked_at) index once per monitor, reading only that monitor's day.
_DAY_FROM_RESULTS = f"""
    SELECT monitor_id, {_STATS}
    FROM monitoring_checkresult
    WHERE checked_at >= %(start)s AND checked_at < %(end)s AND monitor_id = ANY(%(ids)s)
    GROUP BY monitor_id
"""  # noqa: S608 - constant SQL; values are parameters

# A day from its hourly rows: checks and failures summed (exact); p50/p95 the success-weighted
# percentiles of the hours' figures, as ``rollups.weighted_percentile`` computes them: the
# smallest value whose running weight (ties included) reaches pct % of the total.
_WEIGHTED_PERCENTILE = """
    p{pct} AS (
        SELECT monitor_id, min(value) AS value
        FROM (SELECT monitor_id, p{pct}_ms AS value,
                     sum(weight) OVER (PARTITION BY monitor_id ORDER BY p{pct}_ms) AS running
              FROM hours WHERE p{pct}_ms IS NOT NULL) AS c
        JOIN totals USING (monitor_id)
        WHERE w{pct} > 0 AND running * 100 >= {pct} * w{pct}
        GROUP BY monitor_id
    )"""
_DAY_FROM_HOURS = f"""
    WITH hours AS (
        SELECT monitor_id, checks, failures, p50_ms, p95_ms, checks - failures AS weight
        FROM monitoring_hourlyrollup WHERE hour >= %(start)s AND hour < %(end)s
    ),
    totals AS (
        SELECT monitor_id, sum(checks) AS checks, sum(failures) AS failures,
               sum(weight) FILTER (WHERE p50_ms IS NOT NULL) AS w50,
               sum(weight) FILTER (WHERE p95_ms IS NOT NULL) AS w95
        FROM hours GROUP BY monitor_id
    ),
{_WEIGHTED_PERCENTILE.format(pct=50)},
{_WEIGHTED_PERCENTILE.format(pct=95)}
    SELECT monitor_id, totals.checks, totals.failures, p50.value AS p50_ms, p95.value AS p95_ms
    FROM totals LEFT JOIN p50 USING (monitor_id) LEFT JOIN p95 USING (monitor_id)
"""  # noqa: S608 - constant SQL; values are parameters

# Replace one day's rows (of the monitors in ``ids``, or all) with ``new``. For a finished day,
# a monitor whose checks or failures changed loses its stored bar (the job draws it again).
_WRITE_DAY = """
WITH new AS ({select}),
old AS (
    SELECT monitor_id, checks, failures FROM monitoring_dailyrollup
    WHERE day = %(day)s {only_ids}
),
bars AS (
    DELETE FROM monitoring_uptimebar
    WHERE %(finished)s AND monitor_id IN (
        SELECT monitor_id FROM new FULL JOIN old USING (monitor_id)
        WHERE new.checks IS DISTINCT FROM old.checks OR new.failures IS DISTINCT FROM old.failures
    )
),
stale AS (
    DELETE FROM monitoring_dailyrollup AS d
    WHERE d.day = %(day)s {only_ids}
      AND NOT EXISTS (SELECT 1 FROM new WHERE new.monitor_id = d.monitor_id)
),
written AS (
    INSERT INTO monitoring_dailyrollup AS d (monitor_id, day, checks, failures, p50_ms, p95_ms)
    SELECT monitor_id, %(day)s, checks, failures, p50_ms, p95_ms FROM new
    ON CONFLICT (monitor_id, day) DO UPDATE
    SET checks = EXCLUDED.checks, failures = EXCLUDED.failures, p50_ms = EXCLUDED.p50_ms, p95_ms = EXCLUDED.p95_ms
    WHERE (d.checks, d.failures, d.p50_ms, d.p95_ms)
        IS DISTINCT FROM (EXCLUDED.checks, EXCLUDED.failures, EXCLUDED.p50_ms, EXCLUDED.p95_ms)
)
SELECT count(*) FROM new
"""


def _one(sql: str, params: dict) -> int:
    with connection.cursor() as cur:
        cur.execute(sql, params)
        row = cur.fetchone()
    return int(row[0]) if row else 0


def rollup_hours(start: datetime, end: datetime) -> int:
    """Hourly rows of the results in [start, end)."""
    return _one(_HOURS, {"start": start, "end": end})


def _bounds(day: date) -> dict:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return {"day": day, "start": start, "end": start + timedelta(days=1)}


def day_from_results(day: date, ids: list[int], finished: bool) -> int:
    """The day's rows of the monitors ``ids`` from raw results (exact)."""
    sql = _WRITE_DAY.format(select=_DAY_FROM_RESULTS, only_ids="AND monitor_id = ANY(%(ids)s)")
    return _one(sql, {**_bounds(day), "ids": ids, "finished": finished})


def day_from_hours(day: date, finished: bool) -> int:
    """The day's rows of every monitor from the hourly rows."""
    sql = _WRITE_DAY.format(select=_DAY_FROM_HOURS, only_ids="")
    return _one(sql, {**_bounds(day), "finished": finished})
