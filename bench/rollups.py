"""The hourly rollup job on PostgreSQL, against its 600 s time limit.

Two variants: ``--full`` is the goal's size, 100,000 monitors and 36 million raw results;
without it (what ``python -m bench all`` runs) 10,000 monitors and 3.6 million, a tenth.
``--monitors`` sets another count.

The data set: ``--monitors`` monitors and their raw results every 5 minutes, made in the
database with ``INSERT … SELECT generate_series`` an hour a statement (the indexes dropped
during the fill and built after): the first three hours of the day before yesterday (to be
pruned), all of yesterday, and the first three hours of today, 30 hours. It is built once
in its own database (``lr_bench_rollups_<monitors>``) and reused (``--rebuild`` builds it
again). Each run works on a copy made from it (``CREATE DATABASE … TEMPLATE``, a file copy:
``copy_s``) and drops the copy afterwards (``--keep`` keeps it), so the job prunes and
writes as in production, each step and prune chunk committed, and the next run starts
from the same rows.

Measured on the copy: yesterday's hourly rollups (``hours_for_a_day_s``: what 24
hourly runs did); then ``rollups.housekeeping`` as the job runs it, each step timed, with
the longest single SQL statement of each step:

1. at 02:05, the run that closes yesterday: three hours rolled up, today and yesterday
   from their hourly rows, yesterday recomputed exactly from its raw rows, two hours of
   raw results pruned, every monitor's bar drawn again;
2. at 03:05, an ordinary hour: one more hour pruned, nothing to close, no bar to draw.

Baselines in the same run: the code before the SQL rollups (raw results read into Python
for the last hours and the last two days) on 1/100 of the monitors, times 100; and a plain
scan of the rows that code read (``count(*), max(latency_ms)`` over yesterday and today).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from bench.monitoring_scale import _create_database, build_dataset

LIMIT_S = 600  # the task's soft time limit (monitoring.tasks.rollup_and_prune)
FULL_MONITORS = 100_000  # the goal's size (--full)
SMALL_MONITORS = 10_000  # what `python -m bench all` runs
DATA_VERSION = 1  # bump when the data set's shape changes: existing ones are built again
TODAY = datetime(2026, 1, 7, tzinfo=UTC)  # midnight of the job's "today"
FILL_SQL = """
INSERT INTO monitoring_checkresult (monitor_id, checked_at, ok, latency_ms, status_code, message, snippet)
SELECT m.id, %(hour)s + k * interval '300 seconds' + (m.id %% 300) * interval '1 second',
       r.ok, CASE WHEN r.ok THEN 40 + (random() * 400)::int END, CASE WHEN r.ok THEN 200 ELSE 503 END, '', ''
FROM generate_series(0, 11) AS k
CROSS JOIN (SELECT id FROM monitoring_monitor WHERE workspace_id = %(workspace)s) AS m
CROSS JOIN LATERAL (SELECT random() > 0.01 + 0 * k * m.id AS ok) AS r
ORDER BY k
"""
ROLLUP_TABLES = "monitoring_hourlyrollup, monitoring_dailyrollup, monitoring_uptimebar, monitoring_closedday"


def _env(database: str, redis_db: int) -> dict[str, str]:
    return {
        "DJANGO_SETTINGS_MODULE": "launchready.settings",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database}",
        "CACHE_URL": f"redis://127.0.0.1:6379/{redis_db}",
        "CELERY_BROKER_URL": f"redis://127.0.0.1:6379/{redis_db}",
        "SECRET_KEY": "bench-only-key-not-secret-" + "x" * 40,
        "DEBUG": "false",
        "SECURE_SSL_REDIRECT": "false",
        "LAUNCHREADY_ENCRYPTION_KEYS": "YmVuY2gtb25seS1lbmNyeXB0aW9uLWtleS0wMTIzNDU=",
        # Raw results kept two days: the run at 02:05 prunes the day before yesterday's first hours.
        "MONITORING_RESULT_RETENTION_DAYS": "2",
    }


def _setup_django(env: dict[str, str], workdir: str) -> None:
    os.environ.update(env)
    os.environ["LAUNCHREADY_VAR_DIR"] = workdir
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


class Statements:
    """The duration of every SQL statement run through Django's connection (its longest)."""

    def __init__(self) -> None:
        self.longest = 0.0
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.longest = max(self.longest, time.perf_counter() - started)
            self.count += 1


@contextmanager
def timed_statements() -> Iterator[Statements]:
    from django.db import connection

    statements = Statements()
    with connection.execute_wrapper(statements):
        yield statements


def fill(workspace_id: int) -> tuple[int, float]:
    """Raw results for the 30 hours, an hour a statement; returns (rows, seconds)."""
    from django.db import connection

    started = time.perf_counter()
    hours = [TODAY - timedelta(days=2) + timedelta(hours=h) for h in range(3)]
    hours += [TODAY - timedelta(days=1) + timedelta(hours=h) for h in range(24)]
    hours += [TODAY + timedelta(hours=h) for h in range(3)]
    with connection.cursor() as cur:
        cur.execute(f"TRUNCATE monitoring_checkresult, {ROLLUP_TABLES}")
        cur.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'monitoring_checkresult' "
            "AND indexname NOT LIKE '%%pkey'"
        )
        indexes = cur.fetchall()
        for name, _ in indexes:
            cur.execute(f'DROP INDEX "{name}"')
        cur.execute("SET session_replication_role = replica")  # no per-row foreign key checks
        for hour in hours:
            cur.execute(FILL_SQL, {"hour": hour, "workspace": workspace_id})
        cur.execute("SET session_replication_role = DEFAULT")
        cur.execute("SET maintenance_work_mem = '1GB'")
        for _, definition in indexes:
            cur.execute(definition)
        cur.execute("VACUUM ANALYZE monitoring_checkresult")
        cur.execute("SELECT count(*) FROM monitoring_checkresult")
        rows = cur.fetchone()[0]
    return rows, time.perf_counter() - started


def _marker_prefix(monitors: int) -> str:
    digest = hashlib.sha256(repr((DATA_VERSION, FILL_SQL, TODAY, monitors)).encode()).hexdigest()[:12]
    return f"bench-rollups-dataset {digest} "


def dataset(monitors: int, rebuild: bool) -> tuple[int, int, float | None, float | None]:
    """(workspace id, raw rows, seconds building monitors, seconds filling results): the
    monitors and their raw results, reused when a complete data set of this shape is there
    (a marker workspace, nobody's, made last, says so). Build times are None when reused."""
    from django.db import connection

    from launchready.models import Workspace

    prefix = _marker_prefix(monitors)
    marker = Workspace.objects.filter(name__startswith=prefix).first()
    if marker is not None and not rebuild:
        workspace_id, _ = build_dataset(monitors)  # finds them: no time spent
        return workspace_id, int(marker.name.removeprefix(prefix)), None, None
    Workspace.objects.filter(name__startswith="bench-rollups-dataset ").delete()
    with connection.cursor() as cur:  # before the monitors: deleting them would cascade row by row
        cur.execute(f"TRUNCATE monitoring_checkresult, {ROLLUP_TABLES}")
    workspace_id, build_s = build_dataset(monitors)
    rows, fill_s = fill(workspace_id)
    Workspace.objects.create(name=f"{prefix}{rows}")
    return workspace_id, rows, build_s, fill_s


def _postgres(*statements: str) -> float:
    """Run ``statements`` on the server's maintenance database; returns the seconds spent."""
    import psycopg

    started = time.perf_counter()
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)
    return time.perf_counter() - started


def copy_for_a_run(source: str, target: str) -> float:
    """Point Django at a fresh copy of database ``source``; returns the seconds the copy took."""
    from django.db import connection

    connection.close()  # a template must have no one connected
    seconds = _postgres(
        f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)',
        # A file copy: the default strategy (WAL_LOG) writes the whole copy to the WAL.
        f'CREATE DATABASE "{target}" TEMPLATE "{source}" STRATEGY FILE_COPY',
    )
    connection.settings_dict["NAME"] = target
    return seconds


def old_python_path(sample: list[int], now: datetime) -> float:
    """The job's rollups before this change, on ``sample`` monitors: raw results of the last
    three hours and of the last two days read into Python (the daily rows written)."""
    from monitoring import rollups
    from monitoring.models import CheckResult

    this_hour = now.replace(minute=0, second=0, microsecond=0)
    started = time.perf_counter()
    buckets: dict[tuple[int, datetime], list] = defaultdict(list)
    for mid, at, ok, lat in CheckResult.objects.filter(
        checked_at__gte=this_hour - timedelta(hours=2),
        checked_at__lt=this_hour + timedelta(hours=1),
        monitor_id__gte=sample[0],
        monitor_id__lte=sample[-1],
    ).values_list("monitor_id", "checked_at", "ok", "latency_ms"):
        buckets[(mid, at.replace(minute=0, second=0, microsecond=0))].append((ok, lat))
    _ = [rollups._stats(rows) for rows in buckets.values()]
    for day in (now.date() - timedelta(days=1), now.date()):
        rollups._day_from_results_in_python(day, sample, finished=day < now.date())
    return time.perf_counter() - started


def run_job(now: datetime) -> dict:
    """``rollups.housekeeping(now)`` step by step: seconds, rows and the longest statement of each."""
    from monitoring import rollups

    steps = {}
    for name, step in rollups.housekeeping(now).items():
        with timed_statements() as statements:
            started = time.perf_counter()
            rows = step()
            seconds = time.perf_counter() - started
        steps[name] = {
            "s": round(seconds, 2),
            "rows": rows,
            "statements": statements.count,
            "longest_statement_s": round(statements.longest, 2),
        }
    return {"total_s": round(sum(s["s"] for s in steps.values()), 1), "steps": steps}


def run(argv: list[str]) -> list[dict]:
    parser = argparse.ArgumentParser(prog="python -m bench rollups")
    parser.add_argument(
        "--full", action="store_true", help=f"{FULL_MONITORS:,} monitors (default {SMALL_MONITORS:,})"
    )
    parser.add_argument("--monitors", type=int, default=None, help="another count of monitors")
    parser.add_argument("--database", default=None, help="default: lr_bench_rollups_<monitors>")
    parser.add_argument("--rebuild", action="store_true", help="build the data set again")
    parser.add_argument("--redis-db", type=int, default=11, help="the cache (the bars version)")
    parser.add_argument("--sample", type=int, default=100, help="1/N of the monitors for the old path")
    parser.add_argument("--keep", action="store_true", help="keep the copy the job ran on (<database>_run)")
    args = parser.parse_args(argv)
    bench_started = time.perf_counter()
    monitors = args.monitors or (FULL_MONITORS if args.full else SMALL_MONITORS)
    variant = {FULL_MONITORS: "full", SMALL_MONITORS: "small"}.get(monitors, "custom")
    database = args.database or f"lr_bench_rollups_{monitors}"
    _create_database(database)
    with tempfile.TemporaryDirectory(prefix="bench-rollups-") as workdir:
        _setup_django(_env(database, args.redis_db), workdir)
        from django.db import connection

        from monitoring import rollups
        from monitoring.models import Monitor

        workspace_id, rows, build_s, fill_s = dataset(monitors, args.rebuild)
        ids = list(
            Monitor.objects.filter(workspace_id=workspace_id).order_by("pk").values_list("pk", flat=True)
        )
        copy = f"{database}_run"
        copy_s = copy_for_a_run(database, copy)
        try:
            yesterday = TODAY - timedelta(days=1)
            started = time.perf_counter()
            with timed_statements() as statements:
                rollups.rollup_hours(yesterday, TODAY)
            hours_for_a_day_s = time.perf_counter() - started
            hours_longest_s = statements.longest

            closing_run = TODAY + timedelta(hours=2, minutes=5)
            sample = ids[: max(1, len(ids) // args.sample)]
            old_s = old_python_path(sample, closing_run) * len(ids) / len(sample)
            started = time.perf_counter()
            with connection.cursor() as cur:
                cur.execute(
                    "SELECT count(*), max(latency_ms) FROM monitoring_checkresult WHERE checked_at >= %s",
                    [yesterday],
                )
                old_rows = cur.fetchone()[0]
            scan_s = time.perf_counter() - started

            closing = run_job(closing_run)
            ordinary = run_job(TODAY + timedelta(hours=3, minutes=5))
        finally:
            connection.close()
            if not args.keep:
                _postgres(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')
    value = closing["total_s"]
    goal = f"< {LIMIT_S} s at {FULL_MONITORS:,} monitors (--full)"
    return [
        {
            "name": "rollups",
            "value": value,
            "unit": "s (the hourly job's run that closes a day)",
            "baseline": round(old_s, 1),
            "ratio": round(value / old_s, 4) if old_s else None,
            "limit_s": LIMIT_S,
            "ratio_to_limit": round(value / LIMIT_S, 3),
            "variant": variant,
            "full": variant == "full",
            "monitors": len(ids),
            "database": "postgresql",
            "raw_rows": rows,
            "closing_run": closing,
            "ordinary_run": ordinary,
            "hours_for_a_day_s": round(hours_for_a_day_s, 1),
            "hours_for_a_day_longest_statement_s": round(hours_longest_s, 1),
            "old_python_path_s": round(old_s, 1),
            "old_python_path_sample_monitors": len(sample),
            "scan_of_the_rows_the_old_path_read_s": round(scan_s, 1),
            "rows_the_old_path_read": old_rows,
            "data_reused": fill_s is None,
            "fill_s": None if fill_s is None else round(fill_s, 1),
            "dataset_build_s": None if build_s is None else round(build_s, 1),
            "copy_s": round(copy_s, 1),
            "bench_s": round(time.perf_counter() - bench_started, 1),
            "goals": {"value": goal, "longest_statement_s": "well under a minute"},
            "load_average": [round(x, 2) for x in os.getloadavg()],
            "machine": f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}",
            "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%MZ"),
        }
    ]
