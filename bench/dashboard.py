"""Dashboard benchmark: p95 of the dashboard pages under 20 concurrent clients, and queries.

A consultant account is seeded in a fresh SQLite database: one user in 10 workspaces.
The measured workspace has ``--sites`` sites (25), each with ``--runs`` finished audit
runs (30) and ``--findings`` findings (60) on the latest run, the automatic monitors
the site signals create (7 a site), 90 days of daily rollups for every monitor, hourly
rollups for the last two days of every HTTP monitor and for 90 days of a few, and some
incidents (a few open). A second workspace holds the same shape at a fifth of the size
(5 sites × 6 runs × 12 findings) for the query counts.

1. ``p95_ms``: the app is served by gunicorn (``-w 2``, sync workers, the same
   environment) and ``--clients`` threads (20), each with its own connection per request
   and the logged-in session cookie, fetch each route ``--requests`` times (200) in
   turn. ``p95_ms`` is the worst route's p95. Baseline: the same clients fetching
   ``/healthz`` (a view that does nothing), before and after the routes; the lower p95
   counts. ``ratio`` = worst p95 / healthz p95. ``service_ms`` (median of one client
   alone) says how much of a p95 is the page's own work and how much is waiting for
   one of the two workers.
2. ``queries_per_request_max``: every route is fetched in-process with
   ``django.test.Client`` under ``CaptureQueriesContext``, in the large workspace and
   in the small one (after one warm-up request each). ``queries_constant`` is true when
   every route issues the same number of queries at both sizes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import logging
import os
import platform
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORKSPACES = 10
GOAL_P95_MS = 100.0


def _setup_django(workdir: str) -> dict[str, str]:
    env = {
        "DJANGO_SETTINGS_MODULE": "launchready.settings_test",
        "DATABASE_URL": f"sqlite:///{workdir}/bench.sqlite3",
        "LAUNCHREADY_VAR_DIR": workdir,
        "CELERY_BROKER_URL": "memory://",
        # A fixed key: the gunicorn workers must accept the session cookie made here.
        "SECRET_KEY": "bench-dashboard-key-not-secret-" + "x" * 40,
    }
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    return env


# ----------------------------------------------------------------------------- seeding


def _finding_rows(count: int, domain: str, rng: random.Random) -> list[dict]:
    from audits.checks import CATALOGUE

    checks = list(CATALOGUE.values())
    rows = []
    for i in range(count):
        check = checks[i % len(checks)]
        # Some checks fire on several hosts or URLs: a second lap over the catalogue.
        subject = domain if i < len(checks) else f"https://www.{domain}/page-{i}"
        rows.append(
            {
                "check_id": check.id,
                "severity": check.severity.value,
                "stage": check.stage.value,
                "subject": subject,
                "status": "inconclusive" if rng.random() < 0.1 else "fail",
                "title": check.title,
                "impact": check.impact,
                "evidence": f"Seen on {subject}\nHTTP/1.1 200 OK\nserver: nginx",
                "fix": check.fix,
                "change": "new" if rng.random() < 0.2 else "persisting",
            }
        )
    return rows


def _counts(rows: list[dict]) -> tuple[dict, dict, str]:
    failing = [r for r in rows if r["status"] == "fail"]
    severity = Counter(r["severity"] for r in failing)
    severity_counts = {s: severity.get(s, 0) for s in ("blocker", "high", "medium", "low", "info")}
    stage_counts: dict[str, dict] = {}
    for r in rows:
        c = stage_counts.setdefault(
            r["stage"], {"stage": r["stage"], "passed": 8, "failing": 0, "inconclusive": 0, "skipped": 0}
        )
        c["failing" if r["status"] == "fail" else "inconclusive"] += 1
    for c in stage_counts.values():
        c["evaluated"] = c["passed"] + c["failing"]
    verdict = "not_ready" if severity["blocker"] else "ready_with_risks" if severity["high"] else "ready"
    return severity_counts, stage_counts, verdict


def seed_workspace(user, name: str, sites: int, runs: int, findings: int, rng: random.Random) -> dict:
    """One workspace of ``sites`` stores with their audit history and monitoring data."""
    from django.db import transaction
    from django.utils import timezone

    from audits.models import AuditRun, Finding
    from launchready import tenancy
    from launchready.models import Site
    from launchready.views_sites import add_standard_routes
    from monitoring.models import DailyRollup, HourlyRollup, Incident, Monitor

    now = timezone.now()
    m = tenancy.create_workspace(user, name, "UTC")
    ws = m.workspace
    site_objs = []
    for i in range(sites):
        with transaction.atomic():  # the signal syncs the route monitors on commit
            site = Site.objects.create(workspace=ws, domain=f"store{i:02d}-{ws.pk}.example.com")
            add_standard_routes(site)
        site_objs.append(site)

    run_objs, finding_sets = [], []
    for site in site_objs:
        rows = _finding_rows(findings, site.domain, rng)
        severity_counts, stage_counts, verdict = _counts(rows)
        for k in range(runs):  # k = 0 is the latest
            created = now - dt.timedelta(days=k, minutes=rng.randint(0, 600))
            run_objs.append(
                AuditRun(
                    site=site,
                    status=AuditRun.Status.DONE,
                    trigger=AuditRun.Trigger.SCHEDULED if k else AuditRun.Trigger.MANUAL,
                    requested_by=None if k else user,
                    created_at=created,
                    started_at=created,
                    finished_at=created + dt.timedelta(seconds=9),
                    duration_ms=9000 + rng.randint(0, 3000),
                    verdict=verdict,
                    severity_counts=severity_counts,
                    stage_counts=stage_counts,
                    progress=dict.fromkeys(("dns", "edge", "deploy", "performance", "email"), "done"),
                    new_count=rng.randint(0, 3),
                    resolved_count=rng.randint(0, 3),
                )
            )
        finding_sets.append(rows)
    AuditRun.objects.bulk_create(run_objs, batch_size=500)
    latest = AuditRun.objects.filter(site__workspace=ws, created_at__gte=now - dt.timedelta(hours=11))
    latest_by_site = {r.site_id: r for r in latest}
    Finding.objects.bulk_create(
        [
            Finding(run=latest_by_site[site.pk], **row)
            for site, rows in zip(site_objs, finding_sets, strict=True)
            for row in rows
        ],
        batch_size=1000,
    )

    monitors = list(Monitor.objects.filter(workspace=ws))
    today = now.date()
    daily, hourly, incidents = [], [], []
    http = [mon for mon in monitors if mon.kind == Monitor.Kind.HTTP]
    full_history = {mon.pk for mon in http[:5]}
    this_hour = now.replace(minute=0, second=0, microsecond=0)
    for mon in monitors:
        for d in range(90):
            checks = 1440 if mon.interval_s == 60 else 288 if mon.interval_s == 300 else 1
            daily.append(
                DailyRollup(
                    monitor=mon,
                    day=today - dt.timedelta(days=d),
                    checks=checks,
                    failures=rng.choice([0] * 20 + [1, 3, 12]) if checks > 1 else 0,
                    p50_ms=rng.randint(80, 200),
                    p95_ms=rng.randint(200, 900),
                )
            )
        if mon.kind == Monitor.Kind.HTTP:
            hours = 90 * 24 if mon.pk in full_history else 48
            per_hour = 3600 // mon.interval_s
            for h in range(hours):
                hourly.append(
                    HourlyRollup(
                        monitor=mon,
                        hour=this_hour - dt.timedelta(hours=h),
                        checks=per_hour,
                        failures=1 if rng.random() < 0.02 else 0,
                        p50_ms=rng.randint(80, 200),
                        p95_ms=rng.randint(200, 900),
                    )
                )
        for _ in range(rng.randint(0, 3)):
            started = now - dt.timedelta(days=rng.randint(0, 29), minutes=rng.randint(0, 1400))
            incidents.append(
                Incident(
                    monitor=mon,
                    workspace=ws,
                    severity=mon.severity,
                    started_at=started,
                    ended_at=started + dt.timedelta(minutes=rng.randint(2, 90)),
                    cause="HTTP 502 from the origin",
                    snippet="<html><body>Bad gateway</body></html>",
                )
            )
    for mon in http[:2]:  # two monitors are down right now
        incidents.append(
            Incident(
                monitor=mon,
                workspace=ws,
                severity=mon.severity,
                started_at=now - dt.timedelta(minutes=17),
                cause="Connection timed out after 10 s",
            )
        )
    Monitor.objects.filter(pk__in=[mon.pk for mon in http[:2]]).update(state=Monitor.State.DOWN)
    Monitor.objects.filter(workspace=ws).exclude(pk__in=[mon.pk for mon in http[:2]]).update(
        state=Monitor.State.UP, last_checked_at=now, last_latency_ms=140
    )
    DailyRollup.objects.bulk_create(daily, batch_size=2000)
    HourlyRollup.objects.bulk_create(hourly, batch_size=2000)
    Incident.objects.bulk_create(incidents, batch_size=500)
    return {
        "workspace": ws,
        "site": site_objs[len(site_objs) // 2],
        "sites": len(site_objs),
        "runs": len(run_objs),
        "findings": sum(len(r) for r in finding_sets),
        "monitors": len(monitors),
        "daily_rollups": len(daily),
        "hourly_rollups": len(hourly),
        "incidents": len(incidents),
    }


def seed(sites: int, runs: int, findings: int) -> dict:
    from django.contrib.auth import get_user_model

    rng = random.Random(20261128)
    user = get_user_model().objects.create_user(
        username="consultant", email="consultant@example.com", password="bench-password"
    )
    big = seed_workspace(user, "Acme Agency clients", sites, runs, findings, rng)
    small = seed_workspace(
        user, "Acme Agency small", max(1, sites // 5), max(1, runs // 5), max(1, findings // 5), rng
    )
    for i in range(WORKSPACES - 2):  # the consultant's other clients: small workspaces
        seed_workspace(user, f"Client {i + 1}", 2, 5, 10, rng)
    return {"user": user, "big": big, "small": small}


def routes_for(data: dict) -> dict[str, str]:
    ws, site = data["workspace"].uuid, data["site"].uuid
    return {
        "workspace_overview": f"/w/{ws}/",
        "site_list": f"/w/{ws}/sites/",
        "site_detail": f"/w/{ws}/sites/{site}/",
        "monitoring_overview": f"/w/{ws}/monitoring/",
        "workspace_list": "/workspaces/",
    }


# ----------------------------------------------------------------------------- queries


def count_queries(user, big: dict, small: dict) -> dict[str, dict[str, int]]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(user)
    counts: dict[str, dict[str, int]] = {}
    for (name, big_url), small_url in zip(routes_for(big).items(), routes_for(small).values(), strict=True):
        counts[name] = {}
        for size, url in (("large", big_url), ("small", small_url)):
            # The first request of a workspace remembers it in the session (one write).
            assert client.get(url).status_code == 200, url
            with CaptureQueriesContext(connection) as ctx:
                response = client.get(url)
            assert response.status_code == 200, url
            counts[name][size] = len(ctx)
    return counts


def session_cookie(user, workspace) -> str:
    """``sessionid=…`` of a logged-in session whose current workspace is ``workspace``."""
    from django.conf import settings
    from django.test import Client

    from launchready.views_common import SESSION_WORKSPACE_KEY

    client = Client()
    client.force_login(user)
    session = client.session
    # Set now, so the measured requests do not each write the session.
    session[SESSION_WORKSPACE_KEY] = str(workspace.uuid)
    session.save()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


# ----------------------------------------------------------------------------- load


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    def __init__(self, env: dict[str, str], workers: int, log_path: str) -> None:
        self.port = _free_port()
        self.env = {**os.environ, **env}
        self.workers = workers
        self.log_path = log_path

    def __enter__(self) -> Gunicorn:
        gunicorn = Path(sys.executable).with_name("gunicorn")
        command = [str(gunicorn), "launchready.wsgi", "-w", str(self.workers)]
        command += ["-b", f"127.0.0.1:{self.port}", "--log-level", "warning", "--backlog", "256"]
        # The app's access log (one line a request) goes to a file, not over the results.
        self.log = open(self.log_path, "wb")  # closed in __exit__
        self.proc = subprocess.Popen(
            command, cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if _get(self.port, "/healthz", "")[0] == 200:
                    return self
            except OSError:
                time.sleep(0.2)
        self.__exit__()
        raise RuntimeError("gunicorn did not start")

    def __exit__(self, *exc) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def _get(port: int, path: str, cookie: str) -> tuple[int, int]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", path, headers={"Cookie": cookie, "Host": "127.0.0.1"})
        response = conn.getresponse()
        body = response.read()
        return response.status, len(body)
    finally:
        conn.close()


def _p(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def load(port: int, path: str, cookie: str, requests: int, clients: int) -> dict:
    """``requests`` GETs of ``path`` by ``clients`` threads at once; latencies in ms."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    remaining = iter(range(requests))
    start = threading.Barrier(clients)

    def client() -> None:
        start.wait()
        while True:
            with lock:
                if next(remaining, None) is None:
                    return
            t0 = time.perf_counter()
            try:
                status, _ = _get(port, path, cookie)
            except OSError as exc:
                status = repr(exc)
            elapsed = (time.perf_counter() - t0) * 1000
            with lock:
                latencies.append(elapsed)
                if status != 200:
                    errors.append(str(status))

    threads = [threading.Thread(target=client) for _ in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    ordered = sorted(latencies)
    return {
        "p50_ms": round(_p(ordered, 0.5), 1),
        "p95_ms": round(_p(ordered, 0.95), 1),
        "max_ms": round(ordered[-1], 1),
        "rps": round(len(ordered) / wall, 1),
        "errors": len(errors),
        "error_sample": errors[:3],
    }


def service_time(port: int, path: str, cookie: str, n: int = 20) -> float:
    """Median latency of one client alone: the page's own cost, no queueing."""
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        _get(port, path, cookie)
        times.append((time.perf_counter() - t0) * 1000)
    return round(statistics.median(times), 1)


def profile_route(user, url: str, n: int = 5, top: int = 25) -> list[dict]:
    """cProfile of ``n`` in-process requests of ``url``: the functions with most own time."""
    import cProfile
    import io
    import pstats

    from django.test import Client

    client = Client()
    client.force_login(user)
    client.get(url)  # warm: templates, session workspace
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(n):
        client.get(url)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(40)
    print(out.getvalue(), file=sys.stderr)
    rows = []
    for (file, line, func), (_, calls, own, cum, _) in stats.stats.items():
        rows.append(
            {
                "function": f"{Path(file).name}:{line}({func})",
                "calls_per_request": calls // n,
                "own_ms": round(own * 1000 / n, 1),
                "cumulative_ms": round(cum * 1000 / n, 1),
            }
        )
    return sorted(rows, key=lambda r: -r["own_ms"])[:top]


# ----------------------------------------------------------------------------- run


def run(argv: list[str]) -> list[dict]:
    parser = argparse.ArgumentParser(prog="python -m bench dashboard")
    parser.add_argument("--sites", type=int, default=25)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--findings", type=int, default=60)
    parser.add_argument("--requests", type=int, default=200, help="per route")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument(
        "--profile", nargs="?", const="worst", help="cProfile a route (default: the worst) in-process"
    )
    args = parser.parse_args(argv)

    workdir = tempfile.mkdtemp(prefix="bench-dashboard-")
    try:
        env = _setup_django(workdir)
        # One access-log line per in-process request would bury the results.
        logging.getLogger("launchready.access").setLevel(logging.WARNING)
        t0 = time.perf_counter()
        data = seed(args.sites, args.runs, args.findings)
        seed_s = time.perf_counter() - t0
        queries = count_queries(data["user"], data["big"], data["small"])
        routes = routes_for(data["big"])
        cookie = session_cookie(data["user"], data["big"]["workspace"])
        from django.db import connections

        connections.close_all()
        with Gunicorn(env, args.workers, os.path.join(workdir, "gunicorn.log")) as server:
            for path in ["/healthz", *routes.values()]:  # warm both workers: imports, templates
                for _ in range(2 * args.workers):
                    status, _ = _get(server.port, path, cookie)
                    if status != 200:
                        raise RuntimeError(f"GET {path} answered {status}")
            healthz_before = load(server.port, "/healthz", "", args.requests, args.clients)
            per_route = {
                name: load(server.port, path, cookie, args.requests, args.clients)
                for name, path in routes.items()
            }
            healthz_after = load(server.port, "/healthz", "", args.requests, args.clients)
            service = {name: service_time(server.port, path, cookie) for name, path in routes.items()}
            service["healthz"] = service_time(server.port, "/healthz", "")
        worst = max(per_route, key=lambda name: per_route[name]["p95_ms"])
        profiled = worst if args.profile == "worst" else args.profile
        profile = profile_route(data["user"], routes[profiled]) if args.profile else None
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    p95 = per_route[worst]["p95_ms"]
    baseline = min(healthz_before["p95_ms"], healthz_after["p95_ms"])
    q_max = max(max(c.values()) for c in queries.values())
    constant = all(c["large"] == c["small"] for c in queries.values())
    big = {k: v for k, v in data["big"].items() if k not in ("workspace", "site")}
    small = {k: v for k, v in data["small"].items() if k not in ("workspace", "site")}
    return [
        {
            "name": "dashboard",
            "value": p95,
            "unit": "ms",
            "baseline": baseline,
            "ratio": round(p95 / baseline, 2) if baseline else None,
            "p95_ms": p95,
            "worst_route": worst,
            "queries_per_request_max": q_max,
            "queries_constant": constant,
            "queries": queries,
            "routes": per_route,
            "service_ms": service,
            "healthz": {"before": healthz_before, "after": healthz_after},
            "errors": sum(r["errors"] for r in per_route.values()),
            "clients": args.clients,
            "requests_per_route": args.requests,
            "gunicorn_workers": args.workers,
            "data_large": big,
            "data_small": small,
            "workspaces": WORKSPACES,
            "seed_s": round(seed_s, 1),
            **({"profile_route": profiled, "profile_top_own_time": profile} if profile else {}),
            "goals": {"p95_ms": f"< {GOAL_P95_MS:g}", "queries": "constant in data size"},
            "goal_met": p95 < GOAL_P95_MS and constant,
            "machine": f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}",
            "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        }
    ]
