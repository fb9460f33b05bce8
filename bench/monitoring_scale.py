"""Monitoring at scale: 100,000 HTTP monitors every 5 minutes on PostgreSQL, Redis and real Celery.

What runs is what production runs: ``celery -A launchready worker`` and ``celery -A
launchready beat`` as separate processes on PostgreSQL and Redis, against the sandbox's
HTTP servers (a few hosts and paths shared by all monitors) in a child process.

1. The cycle: every monitor is rescheduled to its own slot (its stable phase inside
   the 5-minute interval), beat and a worker of ``--cycle-workers`` processes start,
   and after ``--warmup`` seconds a window of ``--window`` seconds is watched (300 by
   default with ``--full``: one whole cycle, every monitor's slot once). From the
   stored results alone: ``dispatch_lag_p95_s`` (a check's ``checked_at`` minus its
   slot) and ``missed_slots`` (slots in the window with no result within one interval
   after the slot; ``double_checked_slots`` counts slots checked twice).
2. Storage: the hourly and daily rollups run on the cycle's results; bytes per row of
   each table (``pg_total_relation_size`` ÷ rows, indexes included) give
   ``bytes_per_monitor_day`` (288 raw results, 24 hourly and 1 daily row a day) and the
   size a year of history takes under the retention settings.
3. ``two_worker_speedup``: ``--drain`` monitors made due at once (a backlog, so no slot
   waiting), drained by a worker of one process and then of two, ``--drain-rounds``
   times in turn (1, 2, 1, 2: a busy minute on a shared machine slows both sides);
   checks/s from the first to the last stored result, the median round of each. The
   worker's CPU (all its processes, from /proc) per check is reported beside it, and the
   machine's cores split between the worker, the sandbox serving the checks, PostgreSQL,
   Redis and everything else (``machine_busy``, ``cpu_share``): on two cores, a second
   worker process can only add what the others leave free.

The dataset (one workspace of ``--monitors`` monitors) is built once with bulk inserts
in database ``--database`` and reused; results and rollups are emptied before a run.
Without ``--full`` the window is 60 s (a fifth of a cycle) so that ``python -m bench
all`` stays under ten minutes; ``missed_slots`` then covers the slots in that window.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.monitoring import SandboxProcess

ROOT = Path(__file__).resolve().parent.parent
HOSTS = [f"shop{i}.scale.test" for i in range(1, 5)]
PATHS = ["/", "/health", "/products", "/cart"]
SCENARIO = {
    "name": "bench_monitoring_scale",
    "hosts": [{"name": host, "routes": [{"path": path, "body": "ok"} for path in PATHS]} for host in HOSTS],
}
WORKSPACE = "Bench: monitoring at scale"
INTERVAL_S = 300
DAY_S = 86_400
RESET_SQL = (
    "UPDATE monitoring_monitor AS m SET next_check_at = v.at, state = 'up', claim_token = NULL, "
    "consecutive_failures = 0, consecutive_successes = 0, transitions = '[]'::jsonb "
    "FROM (VALUES {values}) AS v(id, at) WHERE m.id = v.id"
)


def _env(info: dict, database: str, redis_db: int) -> dict[str, str]:
    env = {
        **info["env"],
        "DJANGO_SETTINGS_MODULE": "launchready.settings",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database}",
        "CELERY_BROKER_URL": f"redis://127.0.0.1:6379/{redis_db}",
        "CACHE_URL": f"redis://127.0.0.1:6379/{redis_db + 1}",
        "SECRET_KEY": "bench-only-key-not-secret-" + "x" * 40,
        "DEBUG": "false",
        "SECURE_SSL_REDIRECT": "false",
        "LAUNCHREADY_ENCRYPTION_KEYS": "YmVuY2gtb25seS1lbmNyeXB0aW9uLWtleS0wMTIzNDU=",
    }
    return env


def _create_database(name: str) -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def _setup_django(env: dict[str, str], workdir: str) -> None:
    os.environ.update(env)
    os.environ["LAUNCHREADY_VAR_DIR"] = workdir
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def build_dataset(monitors: int) -> tuple[int, float]:
    """The workspace and its monitors, built once (bulk inserts); returns (workspace id, seconds spent)."""
    from launchready.models import Workspace
    from monitoring.models import Monitor

    started = time.perf_counter()
    ws = Workspace.objects.filter(name=WORKSPACE).first()
    if ws is not None and Monitor.objects.filter(workspace=ws).count() == monitors:
        return ws.pk, 0.0
    if ws is not None:
        ws.delete()
    ws = Workspace.objects.create(name=WORKSPACE)
    far = datetime.now(UTC) + timedelta(days=3650)
    for start in range(0, monitors, 5000):
        Monitor.objects.bulk_create(
            [
                Monitor(
                    workspace=ws,
                    name=f"Shop {i % len(HOSTS) + 1} {PATHS[i // len(HOSTS) % len(PATHS)]} #{i}",
                    url=f"http://{HOSTS[i % len(HOSTS)]}{PATHS[i // len(HOSTS) % len(PATHS)]}",
                    keyword="ok",
                    interval_s=INTERVAL_S,
                    state=Monitor.State.PAUSED,  # until a measurement schedules it
                    next_check_at=far,
                )
                for i in range(start, min(start + 5000, monitors))
            ]
        )
    return ws.pk, time.perf_counter() - started


def _empty_results() -> None:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "TRUNCATE monitoring_checkresult, monitoring_hourlyrollup, monitoring_dailyrollup, "
            "monitoring_notification, monitoring_incident CASCADE"
        )


def _set_next_check(pairs: list[tuple[int, datetime]]) -> None:
    """``next_check_at`` for many monitors, 5,000 a statement; everything else back to a calm "up"."""
    from django.db import connection

    with connection.cursor() as cur:
        for start in range(0, len(pairs), 5000):
            chunk = pairs[start : start + 5000]
            values = ",".join(["(%s, %s::timestamptz)"] * len(chunk))
            sql = RESET_SQL.format(values=values)
            cur.execute(sql, [x for pair in chunk for x in pair])


def _park(ids: list[int]) -> None:
    """Pause monitors so that no tick checks them (a far-off ``next_check_at`` would read as a
    clock set back, and the scheduler would re-anchor and check them)."""
    from monitoring.models import Monitor

    for start in range(0, len(ids), 5000):
        Monitor.objects.filter(pk__in=ids[start : start + 5000]).update(
            state=Monitor.State.PAUSED, claim_token=None
        )


def _monitor_ids(workspace_id: int) -> list[int]:
    from monitoring.models import Monitor

    return list(Monitor.objects.filter(workspace_id=workspace_id).order_by("pk").values_list("pk", flat=True))


class Celery:
    """``celery worker`` (and ``beat``) as separate processes, stopped (TERM, then KILL) on exit."""

    def __init__(self, env: dict[str, str], workdir: str, processes: int, label: str) -> None:
        self.env = {**os.environ, **env, "LAUNCHREADY_VAR_DIR": workdir}
        self.workdir, self.processes, self.label = workdir, processes, label
        self.procs: list[subprocess.Popen] = []

    def _start(self, args: list[str], name: str) -> subprocess.Popen:
        log = open(Path(self.workdir) / f"{self.label}-{name}.log", "w")
        return subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "launchready", *args],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def __enter__(self) -> Celery:
        worker = [
            "worker",
            "--pool",
            "prefork",
            "--concurrency",
            str(self.processes),
            "--loglevel",
            "WARNING",
        ]
        worker += ["--without-gossip", "--without-mingle", "-n", f"bench-{self.label}@%h"]
        self.worker = self._start(worker, "worker")
        schedule = str(Path(self.workdir) / f"{self.label}-beat-schedule")
        self.beat = self._start(["beat", "--loglevel", "WARNING", "-s", schedule], "beat")
        self.procs = [self.worker, self.beat]
        return self

    def worker_cpu_s(self) -> float:
        """CPU seconds (user + system) of the worker's main process and its pool processes."""
        tick = os.sysconf("SC_CLK_TCK")
        pids = [self.worker.pid]
        try:
            children = Path(f"/proc/{self.worker.pid}/task/{self.worker.pid}/children").read_text()
            pids += [int(p) for p in children.split()]
        except OSError:
            pass
        total = 0
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])
        return total / tick

    def __exit__(self, *exc) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, 9)
                proc.wait()


def _flush_redis(db: int) -> None:
    import redis

    redis.Redis(host="127.0.0.1", port=6379, db=db).flushdb()


def _lag_s(monitor_id: int, at: datetime) -> float:
    """How long after its slot a check ran (slots are ``EPOCH + phase + k × interval``)."""
    from monitoring import scheduler

    since = (at - scheduler.EPOCH).total_seconds() - scheduler.phase_s(monitor_id, INTERVAL_S)
    return since % INTERVAL_S


def measure_cycle(env, workdir, ids: list[int], processes: int, warmup_s: float, window_s: float) -> dict:
    from monitoring import scheduler
    from monitoring.models import CheckResult

    _empty_results()
    start_at = datetime.now(UTC) + timedelta(seconds=5)
    _set_next_check([(pk, scheduler.next_slot(pk, INTERVAL_S, start_at)) for pk in ids])
    window_start = start_at + timedelta(seconds=warmup_s)
    window_end = window_start + timedelta(seconds=window_s)
    # A slot in the window counts as checked if a result lands within one interval after it.
    with Celery(env, workdir, processes, "cycle"):
        while datetime.now(UTC) < window_end + timedelta(seconds=15):
            time.sleep(1)
    slots = {}
    for pk in ids:
        slot = scheduler.next_slot(pk, INTERVAL_S, window_start - timedelta(microseconds=1))
        if slot < window_end:
            slots[pk] = slot
    seen: dict[int, int] = {}
    lags: list[float] = []
    rows = CheckResult.objects.filter(
        monitor_id__in=list(slots),
        checked_at__gte=window_start,
        checked_at__lt=window_end + timedelta(seconds=15),
    ).values_list("monitor_id", "checked_at", "ok")
    failed = 0
    for pk, at, ok in rows.iterator(chunk_size=10_000):
        lag = _lag_s(pk, at)
        if abs((at - timedelta(seconds=lag)) - slots[pk]) < timedelta(seconds=1):
            seen[pk] = seen.get(pk, 0) + 1
            lags.append(lag)
        failed += not ok
    lags.sort()
    p95 = lags[int(0.95 * (len(lags) - 1))] if lags else None
    return {
        "dispatch_lag_p95_s": round(p95, 3) if p95 is not None else None,
        "dispatch_lag_p50_s": round(statistics.median(lags), 3) if lags else None,
        "dispatch_lag_max_s": round(lags[-1], 3) if lags else None,
        "slots_in_window": len(slots),
        "missed_slots": len(slots) - len(seen),
        "double_checked_slots": sum(1 for n in seen.values() if n > 1),
        "failed_checks": failed,
        "window_s": window_s,
        "cycle_workers": processes,
        "load_average_after_cycle": [round(x, 2) for x in os.getloadavg()],
    }


def measure_storage(retention_days: int, hourly_days: int) -> dict:
    """Bytes per stored row of each table after the rollups, and what a monitor costs a day and a year."""
    from django.db import connection

    from monitoring import rollups
    from monitoring.models import CheckResult

    first = CheckResult.objects.order_by("checked_at").values_list("checked_at", flat=True).first()
    last = CheckResult.objects.order_by("-checked_at").values_list("checked_at", flat=True).first()
    if first is None:
        return {}
    started = time.perf_counter()
    rollups.rollup_hours(first.replace(minute=0, second=0, microsecond=0), last + timedelta(hours=1))
    rollups.rollup_days(first.date(), last.date())
    rollup_s = time.perf_counter() - started
    per_row = {}
    with connection.cursor() as cur:
        for table in ("monitoring_checkresult", "monitoring_hourlyrollup", "monitoring_dailyrollup"):
            cur.execute(f"SELECT pg_total_relation_size('{table}'), (SELECT count(*) FROM {table})")  # noqa: S608 - our own table names
            size, rows = cur.fetchone()
            per_row[table] = size / rows if rows else 0.0
    raw, hourly, daily = (
        per_row["monitoring_checkresult"],
        per_row["monitoring_hourlyrollup"],
        per_row["monitoring_dailyrollup"],
    )
    raw_per_day = DAY_S // INTERVAL_S
    per_day = raw_per_day * raw + 24 * hourly + daily
    year = retention_days * raw_per_day * raw + hourly_days * 24 * hourly + 365 * daily
    return {
        "rows_per_monitor_day": raw_per_day + 24 + 1,
        "bytes_per_monitor_day": round(per_day),
        "bytes_per_row": {"result": round(raw), "hourly": round(hourly), "daily": round(daily)},
        "year_bytes_per_monitor": round(year),
        "retention_days": {"results": retention_days, "hourly": hourly_days, "daily": "forever"},
        "rollup_s_for_the_cycle": round(rollup_s, 2),
    }


def _proc_cpu_s(pid: int, children: bool = False) -> float:
    """CPU seconds (user + system) of one process, 0 when it is gone; with ``children``, also
    that of its children that have exited (PostgreSQL's backends, counted by the postmaster)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])
    if children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / os.sysconf("SC_CLK_TCK")


def _cpu_by_command(names: tuple[str, ...]) -> float:
    """CPU seconds of every process whose command is one of ``names`` (PostgreSQL, Redis),
    backends that exited included."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            comm = (entry / "comm").read_text().strip()
        except OSError:
            continue
        if comm in names:
            total += _proc_cpu_s(int(entry.name), children=True)
    return total


def _machine_busy_s() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, all cores, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    tick = os.sysconf("SC_CLK_TCK")
    return (sum(fields[:8]) - idle) / tick, sum(fields[:8]) / tick


class CpuAccount:
    """Who used the machine's cores during a drain: the worker, the sandbox serving the checks,
    PostgreSQL, Redis and everything else, as CPU seconds and as a share of all cores."""

    def __init__(self, celery: Celery, sandbox_pid: int | None) -> None:
        self.celery, self.sandbox_pid = celery, sandbox_pid

    def _read(self) -> dict[str, float]:
        busy, total = _machine_busy_s()
        return {
            "worker": self.celery.worker_cpu_s(),
            "sandbox": _proc_cpu_s(self.sandbox_pid) if self.sandbox_pid else 0.0,
            "postgresql": _cpu_by_command(("postgres",)),
            "redis": _cpu_by_command(("redis-server",)),
            "busy": busy,
            "total": total,
        }

    def __enter__(self) -> CpuAccount:
        self.start = self._read()
        return self

    def __exit__(self, *exc) -> None:
        end = self._read()
        self.used = {k: end[k] - self.start[k] for k in end}

    def shares(self) -> dict:
        used = self.used
        wall_core_s = used["total"]  # every core's seconds over the span
        named = sum(used[k] for k in ("worker", "sandbox", "postgresql", "redis"))
        parts = {k: used[k] for k in ("worker", "sandbox", "postgresql", "redis")}
        parts["other"] = max(0.0, used["busy"] - named)
        return {
            "machine_busy": round(used["busy"] / wall_core_s, 3) if wall_core_s else None,
            "cpu_share": {k: round(v / wall_core_s, 3) for k, v in parts.items()} if wall_core_s else None,
        }


def measure_drain(
    env, workdir, everyone: list[int], ids: list[int], processes: int, sandbox_pid: int | None = None
) -> dict:
    """A backlog of ``len(ids)`` due monitors drained by one worker of ``processes`` processes,
    with the machine's CPU split between the worker, the sandbox, PostgreSQL and Redis."""
    from django.db.models import Count, Max, Min

    from monitoring.models import CheckResult

    _empty_results()
    due = datetime.now(UTC) - timedelta(seconds=1)
    _set_next_check([(pk, due) for pk in ids])
    drained = set(ids)
    _park([pk for pk in everyone if pk not in drained])  # only the backlog is checked
    deadline = time.monotonic() + 240
    with Celery(env, workdir, processes, f"drain{processes}") as celery:
        # From the first stored result to the last: the worker's start-up is not counted.
        while time.monotonic() < deadline and not CheckResult.objects.exists():
            time.sleep(0.2)
        with CpuAccount(celery, sandbox_pid) as account:
            cpu0 = celery.worker_cpu_s()
            while time.monotonic() < deadline:
                time.sleep(1)
                if CheckResult.objects.count() >= len(ids):
                    break
            cpu = celery.worker_cpu_s() - cpu0
    stats = CheckResult.objects.aggregate(n=Count("id"), first=Min("checked_at"), last=Max("checked_at"))
    span = (stats["last"] - stats["first"]).total_seconds() if stats["n"] > 1 else None
    return {
        "checks": stats["n"],
        "checks_per_s": round(stats["n"] / span, 1) if span else None,
        "worker_cpu_ms_per_check": round(cpu * 1000 / stats["n"], 3) if stats["n"] else None,
        **account.shares(),
    }


def _median_round(rounds: list[dict]) -> dict | None:
    """The round with the median checks/s (the lower middle one of an even count)."""
    done = sorted((r for r in rounds if r.get("checks_per_s")), key=lambda r: r["checks_per_s"])
    return done[(len(done) - 1) // 2] if done else None


def run(argv: list[str]) -> list[dict]:
    parser = argparse.ArgumentParser(prog="python -m bench monitoring_scale")
    parser.add_argument("--monitors", type=int, default=100_000)
    parser.add_argument("--database", default="lr_bench_monitoring")
    parser.add_argument("--redis-db", type=int, default=9, help="the broker; the cache uses the next one")
    parser.add_argument("--full", action="store_true", help="watch one full 5-minute cycle (default: 60 s)")
    parser.add_argument(
        "--window", type=float, default=None, help="seconds watched (default 60, 300 with --full)"
    )
    parser.add_argument("--warmup", type=float, default=20.0)
    parser.add_argument("--cycle-workers", type=int, default=2)
    parser.add_argument("--drain", type=int, default=10_000, help="backlog drained for the speedup")
    parser.add_argument(
        "--drain-rounds",
        type=int,
        default=2,
        help="alternating one- and two-process drains (1, 2, 1, 2, ...)",
    )
    parser.add_argument("--skip-cycle", action="store_true")
    parser.add_argument("--skip-drain", action="store_true")
    args = parser.parse_args(argv)
    window = args.window or (INTERVAL_S if args.full else 60.0)
    _create_database(args.database)
    sandbox = SandboxProcess(SCENARIO)
    with (
        sandbox as info,
        tempfile.TemporaryDirectory(prefix="bench-monitoring-scale-") as workdir,
    ):
        env = _env(info, args.database, args.redis_db)
        _setup_django(env, workdir)
        from django.conf import settings

        _flush_redis(args.redis_db)
        workspace_id, build_s = build_dataset(args.monitors)
        ids = _monitor_ids(workspace_id)
        cycle = (
            {}
            if args.skip_cycle
            else measure_cycle(env, workdir, ids, args.cycle_workers, args.warmup, window)
        )
        storage = (
            {}
            if args.skip_cycle
            else measure_storage(
                settings.MONITORING_RESULT_RETENTION_DAYS, settings.MONITORING_HOURLY_RETENTION_DAYS
            )
        )
        # One and two processes alternate (1, 2, 1, 2, ...) so that a busy minute on this
        # shared machine slows both sides rather than one; the median round of each counts.
        rounds: list[dict] = []
        if not args.skip_drain:
            for _ in range(args.drain_rounds):
                for processes in (1, 2):
                    _flush_redis(args.redis_db)
                    drain = measure_drain(env, workdir, ids, ids[: args.drain], processes, sandbox.proc.pid)
                    rounds.append({"processes": processes, **drain})
        drains = {n: _median_round([r for r in rounds if r["processes"] == n]) for n in (1, 2)}
        # Park the dataset: nothing due until the next run reschedules it.
        _park(ids)
    one, two = drains.get(1, {}).get("checks_per_s"), drains.get(2, {}).get("checks_per_s")
    speedup = round(two / one, 3) if one and two else None
    return [
        {
            "name": "monitoring_scale",
            "value": two,
            "unit": "checks/s (two worker processes, backlog)",
            "baseline": one,
            "ratio": speedup,
            "monitors": args.monitors,
            "interval_s": INTERVAL_S,
            "database": "postgresql",
            "dispatch_lag_p95_s": cycle.get("dispatch_lag_p95_s"),
            "missed_slots": cycle.get("missed_slots"),
            "bytes_per_monitor_day": storage.get("bytes_per_monitor_day"),
            "two_worker_speedup": speedup,
            "full_cycle": window >= INTERVAL_S,
            **{k: v for k, v in cycle.items() if k not in ("dispatch_lag_p95_s", "missed_slots")},
            **{k: v for k, v in storage.items() if k != "bytes_per_monitor_day"},
            "one_worker": drains.get(1),
            "two_workers": drains.get(2),
            "drain_rounds": rounds,
            "dataset_build_s": round(build_s, 1),
            "goals": {
                "dispatch_lag_p95_s": "< 5",
                "missed_slots": "0 (full cycle)",
                "two_worker_speedup": ">= 1.7",
            },
            "load_average": [round(x, 2) for x in os.getloadavg()],
            "machine": f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}",
            "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%MZ"),
        }
    ]
