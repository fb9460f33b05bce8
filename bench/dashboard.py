"""Dashboard benchmark: every page a user opens daily, under 20 concurrent clients, on
PostgreSQL with a consultant-sized data set, served as the Procfile serves it.

Data (built once with bulk inserts and kept in its own PostgreSQL database, ``--database-url``,
default ``lr_bench_dashboard``; a marker workspace names the data set's shape, so a later run
reuses it, and ``--rebuild`` builds it again): a consultant in 50 workspaces holding 1,000
sites in all, the largest workspace 50 sites (the measured one) and a small one of 5 sites
(for the query counts). Every site has the 7 automatic monitors (homepage, four confirmed
routes, certificate, domain) with 90 days of daily rollups and 48 hours of hourly ones,
30 finished audit runs, its latest with its findings (100,000 findings in all), and one
incident (1,000 in all; two open in the measured workspace). The stored uptime bars are
drawn as the hourly rollup job draws them.

1. Load: the Procfile's ``web`` line runs (``$PORT``, ``$WEB_CONCURRENCY`` as set there, or
   ``--web`` to try another worker class or count); ``--clients`` threads (20), each with
   a new connection per request and the logged-in browser's cookies (session and CSRF, as
   a browser sends them after its first page) or the API token, fetch each route
   ``--requests`` times (200) in turn. p50/p95/p99 per route; ``p95_ms`` is the worst
   route's p95. Baseline: the same clients on ``/healthz``, before and after the routes (the
   lower p95 counts); ``ratio`` = worst p95 / healthz p95. ``service_ms``: the median of one
   client alone (the page's own cost, no queueing: with the cache warm, a kept page).
   ``cold_service_ms``: the same with the workspace's and the user's versions bumped before
   each of 10 requests (``make_cold``), as after a change: the page, its fragments and the
   API answer drawn again.
2. Queries: every route is fetched in-process with ``django.test.Client`` under
   ``CaptureQueriesContext`` in the large workspace and in the small one (after a warm-up
   request each, with an empty cache before the warm-up: the counts are those of a page
   drawn with its fragments cached; a kept page costs fewer). ``queries_constant`` is true
   when every route issues the same number at both sizes.
3. ``--compare-web``: the load part once per web command given (e.g. sync and gthread, workers
   × threads), reported under ``web_compare``: how the Procfile's choice was made.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import http.client
import logging
import os
import platform
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
GOAL_P95_MS = 100.0
DATASET_VERSION = 1
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/lr_bench_dashboard"
DEFAULT_CACHE_URL = "redis://127.0.0.1:6379/6"
SHAPE = {
    "workspaces": 50,
    "sites": 1000,
    "largest": 50,
    "small": 5,
    "runs": 30,
    "findings": 100_000,
    "incidents": 1000,
    "monitors_per_site": 7,
    "days": 90,
}
ROUTES_CONFIRMED = {
    "cart": "/cart",
    "login": "/account/login",
    "checkout": "/checkout",
    "order": "/api/orders",
}
API_TOKEN_NAME = "bench-dashboard"


def _marker_name() -> str:
    digest = hashlib.sha256(repr((DATASET_VERSION, sorted(SHAPE.items()))).encode()).hexdigest()[:12]
    return f"bench-dashboard-dataset {digest}"


def _pg_admin(database_url: str, sql: str) -> None:
    import psycopg

    parts = urlsplit(database_url)
    with psycopg.connect(
        host=parts.hostname,
        port=parts.port or 5432,
        user=parts.username,
        password=parts.password,
        dbname="postgres",
    ) as conn:
        conn.autocommit = True
        conn.execute(sql)


def _database_exists(database_url: str) -> bool:
    import psycopg

    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    with psycopg.connect(
        host=parts.hostname,
        port=parts.port or 5432,
        user=parts.username,
        password=parts.password,
        dbname="postgres",
    ) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


def _setup_django(database_url: str, cache_url: str, rebuild: bool, workdir: Path) -> dict[str, str]:
    name = urlsplit(database_url).path.lstrip("/")
    if rebuild and _database_exists(database_url):
        _pg_admin(database_url, f'DROP DATABASE "{name}" WITH (FORCE)')
    if not _database_exists(database_url):
        _pg_admin(database_url, f'CREATE DATABASE "{name}"')
    env = {
        "DJANGO_SETTINGS_MODULE": "launchready.settings_test",
        "DATABASE_URL": database_url,
        "CACHE_URL": cache_url,
        "LAUNCHREADY_VAR_DIR": str(workdir),
        "CELERY_BROKER_URL": "memory://",
        "REQUEST_LOG_LEVEL": "WARNING",
        # The load's 200 requests per route come from one token: no per-minute cap here.
        "API_RATE_LIMIT_PER_MINUTE": "1000000",
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
        # Some checks fire on several hosts or URLs: later laps over the catalogue.
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


def _counts(rows: list[dict]) -> tuple[dict, dict, dict, str]:
    failing = [r for r in rows if r["status"] == "fail"]
    severity = Counter(r["severity"] for r in failing)
    severity_counts = {s: severity.get(s, 0) for s in ("blocker", "high", "medium", "low", "info")}
    problems = Counter(sev for sev, _ in {(r["severity"], r["check_id"]) for r in failing})
    problem_counts = {s: problems.get(s, 0) for s in severity_counts}
    stage_counts: dict[str, dict] = {}
    for r in rows:
        c = stage_counts.setdefault(
            r["stage"], {"stage": r["stage"], "passed": 8, "failing": 0, "inconclusive": 0, "skipped": 0}
        )
        c["failing" if r["status"] == "fail" else "inconclusive"] += 1
    for c in stage_counts.values():
        c["evaluated"] = c["passed"] + c["failing"]
    verdict = "not_ready" if severity["blocker"] else "ready_with_risks" if severity["high"] else "ready"
    return severity_counts, problem_counts, stage_counts, verdict


def _workspace_sizes() -> list[tuple[str, int]]:
    """(name, sites): the measured workspace, the small one, and the consultant's other clients."""
    others = SHAPE["workspaces"] - 2
    rest = SHAPE["sites"] - SHAPE["largest"] - SHAPE["small"]
    sizes = [rest // others + (1 if i < rest % others else 0) for i in range(others)]
    return [("Acme Agency clients", SHAPE["largest"]), ("Acme Agency small", SHAPE["small"])] + [
        (f"Client {i + 1}", n) for i, n in enumerate(sizes)
    ]


def seed_workspace(
    user, name: str, sites: int, findings_per_site: list[int], incidents: int, rng, now
) -> dict:
    """One workspace of ``sites`` stores with their audit history and monitoring data."""
    from audits.models import AuditRun, Finding
    from launchready import tenancy
    from launchready.models import CriticalRoute, Site
    from launchready.site_routes import add_starting_routes
    from monitoring.models import DailyRollup, HourlyRollup, Incident, Monitor

    ws = tenancy.create_workspace(user, name, "UTC").workspace
    site_objs = Site.objects.bulk_create(
        [Site(workspace=ws, domain=f"store{i:02d}-w{ws.pk}.example.com") for i in range(sites)]
    )
    site_objs = list(Site.objects.filter(workspace=ws).order_by("domain"))
    routes = []
    for site in site_objs:
        for route, path in ROUTES_CONFIRMED.items():
            kind = CriticalRoute.kind_for(route, path)
            routes.append(
                CriticalRoute(
                    site=site,
                    name=route,
                    path=path,
                    kind=kind,
                    budget_ms=CriticalRoute.default_budget(kind),
                    confirmed=True,
                    accept_client_errors=kind == CriticalRoute.Kind.API,
                )
            )
    CriticalRoute.objects.bulk_create(routes)
    for site in site_objs:
        add_starting_routes(site)  # its signal creates the site's monitors, as in the app
    Monitor.objects.filter(workspace=ws).update(
        state=Monitor.State.UP, last_checked_at=now, last_latency_ms=140
    )

    run_objs, finding_sets = [], []
    for site, n_findings in zip(site_objs, findings_per_site, strict=True):
        rows = _finding_rows(n_findings, site.domain, rng)
        severity_counts, problem_counts, stage_counts, verdict = _counts(rows)
        for k in range(SHAPE["runs"]):  # k = 0 is the latest
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
                    problem_counts=problem_counts,
                    stage_counts=stage_counts,
                    progress=dict.fromkeys(("dns", "edge", "deploy", "performance", "email"), "done"),
                    new_count=rng.randint(0, 3),
                    resolved_count=rng.randint(0, 3),
                )
            )
        finding_sets.append(rows)
    AuditRun.objects.bulk_create(run_objs, batch_size=1000)
    latest = AuditRun.objects.filter(site__workspace=ws, created_at__gte=now - dt.timedelta(hours=11))
    latest_by_site = {r.site_id: r for r in latest}
    Finding.objects.bulk_create(
        [
            Finding(run=latest_by_site[site.pk], **row)
            for site, rows in zip(site_objs, finding_sets, strict=True)
            for row in rows
        ],
        batch_size=2000,
    )

    monitors = list(Monitor.objects.filter(workspace=ws).order_by("pk"))
    today = now.date()
    this_hour = now.replace(minute=0, second=0, microsecond=0)
    daily, hourly = [], []
    for mon in monitors:
        checks = 1440 if mon.interval_s == 60 else 288 if mon.interval_s == 300 else 1
        for d in range(SHAPE["days"]):
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
            for h in range(48):
                hourly.append(
                    HourlyRollup(
                        monitor=mon,
                        hour=this_hour - dt.timedelta(hours=h),
                        checks=3600 // mon.interval_s,
                        failures=1 if rng.random() < 0.02 else 0,
                        p50_ms=rng.randint(80, 200),
                        p95_ms=rng.randint(200, 900),
                    )
                )
    DailyRollup.objects.bulk_create(daily, batch_size=5000)
    HourlyRollup.objects.bulk_create(hourly, batch_size=5000)
    http = [mon for mon in monitors if mon.kind == Monitor.Kind.HTTP]
    chosen = rng.sample(http, incidents)
    down = chosen[:2] if name == "Acme Agency clients" else []
    incident_objs = []
    for mon in chosen:
        started = now - dt.timedelta(days=rng.randint(0, 29), minutes=rng.randint(0, 1400))
        is_down = mon in down
        incident_objs.append(
            Incident(
                monitor=mon,
                workspace=ws,
                severity=mon.severity,
                started_at=now - dt.timedelta(minutes=17) if is_down else started,
                ended_at=None if is_down else started + dt.timedelta(minutes=rng.randint(2, 90)),
                cause="Connection timed out after 10 s" if is_down else "HTTP 502 from the origin",
                snippet="" if is_down else "<html><body>Bad gateway</body></html>",
            )
        )
    Incident.objects.bulk_create(incident_objs)
    Monitor.objects.filter(pk__in=[mon.pk for mon in down]).update(state=Monitor.State.DOWN)
    return {"sites": len(site_objs), "monitors": len(monitors), "daily_rollups": len(daily)}


def seed() -> dict:
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.utils import timezone

    from launchready.models import Workspace
    from monitoring import rollups

    rng = random.Random(20261128)
    now = timezone.now()
    user = get_user_model().objects.create_user(
        username="consultant", email="consultant@example.com", password="bench-password"
    )
    sizes = _workspace_sizes()
    total_sites = sum(n for _, n in sizes)
    # Findings on each site's latest run: 100,000 in all, the small workspace's sites 20 each.
    small_findings = 20
    per_site = (SHAPE["findings"] - SHAPE["small"] * small_findings) // (total_sites - SHAPE["small"])
    extra = (SHAPE["findings"] - SHAPE["small"] * small_findings) % (total_sites - SHAPE["small"])
    per_incident = SHAPE["incidents"] / total_sites
    totals: Counter = Counter()
    incidents_left = SHAPE["incidents"]
    for index, (name, n) in enumerate(sizes):
        if name == "Acme Agency small":
            findings = [small_findings] * n
        else:
            findings = [per_site + (1 if extra > 0 and i < extra else 0) for i in range(n)]
            extra -= min(extra, n)
        incidents = (
            incidents_left if index == len(sizes) - 1 else min(incidents_left, round(per_incident * n))
        )
        incidents_left -= incidents
        with transaction.atomic():
            done = seed_workspace(user, name, n, findings, incidents, rng, now)
        totals.update(done)
        totals["findings"] += sum(findings)
        totals["incidents"] += incidents
        print(f"seeded {name}: {n} sites", file=sys.stderr, flush=True)
    rollups.refresh_bars(now.date())  # as the hourly rollup job does
    with connection.cursor() as cursor:  # as autovacuum would soon: plans for the real sizes
        cursor.execute("ANALYZE")
    Workspace.objects.create(name=_marker_name())  # nobody's: says the data set is complete
    return dict(totals)


def dataset(rebuild: bool) -> tuple[dict, float, bool]:
    """(data, seconds spent seeding, reused): the workspaces, sites and user to measure."""
    from django.contrib.auth import get_user_model

    from audits.models import AuditRun, Finding
    from launchready.models import Site, Workspace
    from monitoring import rollups
    from monitoring.models import DailyRollup, Incident, Monitor

    reused = Workspace.objects.filter(name=_marker_name()).exists()
    t0 = time.perf_counter()
    if not reused:
        if Workspace.objects.exists():
            raise SystemExit("The bench database holds an unfinished data set: run again with --rebuild.")
        seed()
    else:
        rollups.refresh_bars()  # a later day: the hourly job would have drawn yesterday by now
    seed_s = time.perf_counter() - t0
    user = get_user_model().objects.get(username="consultant")
    big = Workspace.objects.get(name="Acme Agency clients")
    small = Workspace.objects.get(name="Acme Agency small")
    data = {
        "user": user,
        "big": _pick(big),
        "small": _pick(small),
        "counts": {
            "workspaces": Workspace.objects.filter(memberships__user=user).count(),
            "sites": Site.objects.count(),
            "largest_workspace_sites": Site.objects.filter(workspace=big).count(),
            "monitors": Monitor.objects.count(),
            "daily_rollups": DailyRollup.objects.count(),
            "audit_runs": AuditRun.objects.count(),
            "findings": Finding.objects.count(),
            "incidents": Incident.objects.count(),
        },
    }
    return data, seed_s, reused


def _pick(ws) -> dict:
    """The objects a user of ``ws`` opens: a site in the middle, a monitor, an incident."""
    from django.utils import timezone

    from audits.models import AuditRun
    from monitoring.models import ApiToken, Incident, Monitor

    now = timezone.now()
    sites = list(ws.sites.order_by("domain"))
    site = sites[len(sites) // 2]
    monitor = Monitor.objects.filter(site=site, auto_key="home").get()
    # The latest resolved incident (the small workspace has no open one): the same page in both.
    incident = Incident.objects.filter(workspace=ws, ended_at__isnull=False).order_by("-started_at").first()
    # A token of its own per run (the plain value is never stored), so two runs do not
    # revoke each other's; old ones go.
    ApiToken.objects.filter(
        workspace=ws, name__startswith=API_TOKEN_NAME, created_at__lt=now - dt.timedelta(hours=6)
    ).delete()
    _, plain = ApiToken.issue(ws, f"{API_TOKEN_NAME} {os.getpid()}", read_only=True)
    assert AuditRun.objects.filter(site=site).exists()
    return {"workspace": ws, "site": site, "monitor": monitor, "incident": incident, "token": plain}


def routes_for(data: dict) -> dict[str, str]:
    ws, site = data["workspace"].uuid, data["site"].uuid
    mon, inc = data["monitor"].uuid, data["incident"].uuid
    return {
        "workspace_overview": f"/w/{ws}/",
        "portfolio": "/portfolio/",
        "site_list": f"/w/{ws}/sites/",
        "site_detail": f"/w/{ws}/sites/{site}/",
        "monitoring_overview": f"/w/{ws}/monitoring/",
        "monitor_detail": f"/w/{ws}/monitoring/monitors/{mon}/",
        "incident_detail": f"/w/{ws}/monitoring/incidents/{inc}/",
        "handover": f"/w/{ws}/handover/",
        "workspace_list": "/workspaces/",
        "api_sites": "/api/v1/sites",
        "api_site_audits": f"/api/v1/sites/{site}/audits",
        "api_monitors": "/api/v1/monitors",
        "api_incidents": "/api/v1/incidents",
        "api_heartbeats": "/api/v1/heartbeats",
        "api_maintenance_windows": "/api/v1/maintenance-windows",
    }


def _headers_for(name: str, data: dict, cookie: str) -> dict[str, str]:
    if name.startswith("api_"):
        return {"Authorization": f"Bearer {data['token']}"}
    return {"Cookie": cookie} if cookie else {}


# ----------------------------------------------------------------------------- queries


def count_queries(user, big: dict, small: dict) -> dict[str, dict[str, int]]:
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from launchready.views_common import SESSION_WORKSPACE_KEY

    counts: dict[str, dict[str, int]] = {}
    for (name, big_url), small_url in zip(routes_for(big).items(), routes_for(small).values(), strict=True):
        counts[name] = {}
        for size, url, data in (("large", big_url, big), ("small", small_url, small)):
            client = Client(headers=_headers_for(name, data, ""))
            client.force_login(user)
            session = client.session
            session[SESSION_WORKSPACE_KEY] = str(data["workspace"].uuid)  # the portfolio and lists
            session.save()
            cache.clear()
            assert client.get(url).status_code == 200, url
            with CaptureQueriesContext(connection) as ctx:
                response = client.get(url)
            assert response.status_code == 200, url
            counts[name][size] = len(ctx)
    return counts


# A browser's CSRF cookie after its first page (a fixed secret: every client is one browser).
CSRF_SECRET = "benchdashboardcsrfsecret" + "x" * 8


def session_cookie(user, workspace) -> str:
    """``sessionid=…; csrftoken=…`` of a logged-in browser whose current workspace is
    ``workspace``: a browser sends its CSRF cookie with every page after the first, and
    pages are kept in the cache only for a browser that has one (launchready.pagecache)."""
    from django.conf import settings
    from django.test import Client

    from launchready.views_common import SESSION_WORKSPACE_KEY

    client = Client()
    client.force_login(user)
    session = client.session
    # Set now, so the measured requests do not each write the session.
    session[SESSION_WORKSPACE_KEY] = str(workspace.uuid)
    session.save()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}; {settings.CSRF_COOKIE_NAME}={CSRF_SECRET}"


# ----------------------------------------------------------------------------- load


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def procfile_web() -> str:
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith("web:"):
            return line.split(":", 1)[1].strip()
    raise RuntimeError("the Procfile has no web line")


class Web:
    """The web process as the Procfile runs it (``command``), on a free port on loopback."""

    def __init__(self, env: dict[str, str], command: str, log_path: Path) -> None:
        self.port = _free_port()
        venv_bin = str(Path(sys.executable).parent)
        self.env = {
            **os.environ,
            **env,
            "PORT": str(self.port),
            "PATH": venv_bin + os.pathsep + os.environ["PATH"],
        }
        # The Procfile binds 0.0.0.0; the benchmark keeps it on loopback.
        self.command = command.replace("0.0.0.0:", "127.0.0.1:")
        self.log_path = log_path

    def __enter__(self) -> Web:
        self.log = open(self.log_path, "wb")  # closed in __exit__
        self.proc = subprocess.Popen(
            ["bash", "-c", self.command],  # as a Procfile runner does (variables before the command)
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if _get(self.port, "/healthz", {})[0] == 200:
                    return self
            except OSError:
                time.sleep(0.2)
        self.__exit__()
        raise RuntimeError(f"the web process did not start: {self.command}")

    def __exit__(self, *exc) -> None:
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.log.close()


def _get(port: int, path: str, headers: dict[str, str]) -> tuple[int, int]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", path, headers={**headers, "Host": "127.0.0.1"})
        response = conn.getresponse()
        body = response.read()
        return response.status, len(body)
    finally:
        conn.close()


def _p(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def load(port: int, path: str, headers: dict[str, str], requests: int, clients: int) -> dict:
    """``requests`` GETs of ``path`` by ``clients`` threads at once; latencies in ms."""
    latencies: list[float] = []
    errors: list[str] = []
    sizes: list[int] = []
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
            size = 0
            try:
                status, size = _get(port, path, headers)
            except OSError as exc:
                status = repr(exc)
            elapsed = (time.perf_counter() - t0) * 1000
            with lock:
                latencies.append(elapsed)
                sizes.append(size)
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
        "p99_ms": round(_p(ordered, 0.99), 1),
        "max_ms": round(ordered[-1], 1),
        "rps": round(len(ordered) / wall, 1),
        "kb": round(statistics.median(sizes) / 1024, 1),
        "errors": len(errors),
        "error_sample": errors[:3],
    }


def service_time(
    port: int, path: str, headers: dict[str, str], n: int = 20, before: Callable[[], None] | None = None
) -> float:
    """Median latency of one client alone: the page's own cost, no queueing. ``before``: run
    before each request, untimed (``make_cold``: the cached page and fragments dropped)."""
    times = []
    for _ in range(n):
        if before is not None:
            before()
        t0 = time.perf_counter()
        _get(port, path, headers)
        times.append((time.perf_counter() - t0) * 1000)
    return round(statistics.median(times), 1)


def measure(env: dict, command: str, data: dict, user, cookie: str, args, log_path: Path) -> dict:
    routes = routes_for(data)
    headers = {name: _headers_for(name, data, cookie) for name in routes}
    with Web(env, command, log_path) as server:
        for name, path in routes.items():  # warm every worker: imports, templates, cached fragments
            for _ in range(8):
                status, _ = _get(server.port, path, headers[name])
                if status != 200:
                    raise RuntimeError(f"GET {path} answered {status}")
        load_before = os.getloadavg()
        healthz_before = load(server.port, "/healthz", {}, args.requests, args.clients)
        per_route = {
            name: load(server.port, path, headers[name], args.requests, args.clients)
            for name, path in routes.items()
        }
        healthz_after = load(server.port, "/healthz", {}, args.requests, args.clients)
        service = {name: service_time(server.port, path, headers[name]) for name, path in routes.items()}
        service["healthz"] = service_time(server.port, "/healthz", {})
        # Cold: what a page costs right after a change in the workspace (and of the user),
        # its cached page, fragments and API answer dropped before each request.
        cold = {
            name: service_time(server.port, path, headers[name], n=10, before=lambda: make_cold(data, user))
            for name, path in routes.items()
        }
        load_after = os.getloadavg()
    worst = max(per_route, key=lambda name: per_route[name]["p95_ms"])
    return {
        "web": command,
        "worst_route": worst,
        "p95_ms": per_route[worst]["p95_ms"],
        "baseline": min(healthz_before["p95_ms"], healthz_after["p95_ms"]),
        "routes": per_route,
        "healthz": {"before": healthz_before, "after": healthz_after},
        "service_ms": service,
        "cold_service_ms": cold,
        "load_average": {
            "before": [round(x, 2) for x in load_before],
            "after": [round(x, 2) for x in load_after],
        },
    }


def make_cold(data: dict, user) -> None:
    """Drop every cached page and fragment the measured user's routes show: the measured
    workspace's version and the user's move, as a change in the workspace would move them."""
    from launchready import fragments

    fragments.bump(data["workspace"].pk)
    fragments.bump_user(user.pk)


def profile_route(
    user, data: dict, name: str, n: int = 5, top: int = 25, cold: bool = False
) -> tuple[list[dict], float]:
    """cProfile of ``n`` in-process requests of route ``name``: the functions with most own time,
    and the mean time of a request under the profiler (ms). ``cold``: the route's cached pages
    and fragments are dropped before each request."""
    import cProfile
    import io
    import pstats

    from django.test import Client

    client = Client(headers=_headers_for(name, data, ""))
    client.force_login(user)
    url = routes_for(data)[name]
    client.get(url)  # warm: templates, session workspace, the CSRF cookie
    profiler = cProfile.Profile()
    elapsed = 0.0
    for _ in range(n):
        if cold:
            make_cold(data, user)
        t0 = time.perf_counter()
        profiler.enable()
        client.get(url)
        profiler.disable()
        elapsed += time.perf_counter() - t0
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
    return sorted(rows, key=lambda r: -r["own_ms"])[:top], round(elapsed * 1000 / n, 1)


# ----------------------------------------------------------------------------- run


def run(argv: list[str]) -> list[dict]:
    parser = argparse.ArgumentParser(prog="python -m bench dashboard")
    parser.add_argument(
        "--database-url", default=os.environ.get("BENCH_DASHBOARD_DATABASE_URL", DEFAULT_DATABASE_URL)
    )
    parser.add_argument("--cache-url", default=os.environ.get("BENCH_DASHBOARD_CACHE_URL", DEFAULT_CACHE_URL))
    parser.add_argument("--rebuild", action="store_true", help="build the data set again")
    parser.add_argument("--requests", type=int, default=200, help="per route")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--web", help="web command instead of the Procfile's (uses $PORT)")
    parser.add_argument(
        "--compare-web", action="append", default=[], metavar="COMMAND", help="also measure this web command"
    )
    parser.add_argument(
        "--profile",
        nargs="?",
        const="worst",
        help="cProfile a route in-process (default: the worst of a load run; a named route skips the load)",
    )
    parser.add_argument(
        "--cold",
        action="store_true",
        help="with --profile: drop the route's cached pages before each request",
    )
    args = parser.parse_args(argv)

    workdir = ROOT / "var" / "bench-dashboard"
    workdir.mkdir(parents=True, exist_ok=True)
    env = _setup_django(args.database_url, args.cache_url, args.rebuild, workdir)
    # One access-log line per in-process request would bury the results.
    logging.getLogger("launchready.access").setLevel(logging.WARNING)
    from django.core.cache import cache
    from django.db import connections

    data, seed_s, reused = dataset(args.rebuild)
    if args.profile and args.profile != "worst":
        profile, ms = profile_route(data["user"], data["big"], args.profile, cold=args.cold)
        return [
            {
                "name": "dashboard_profile",
                "value": ms,
                "unit": "ms per request under the profiler",
                "baseline": None,
                "ratio": None,
                "profile_route": args.profile,
                "cold": args.cold,
                "profile_top_own_time": profile,
            }
        ]
    queries = count_queries(data["user"], data["big"], data["small"])
    cookie = session_cookie(data["user"], data["big"]["workspace"])
    connections.close_all()
    cache.clear()
    command = args.web or procfile_web()
    main = measure(env, command, data["big"], data["user"], cookie, args, workdir / "web.log")
    compared = [main]
    for other in args.compare_web:
        compared.append(
            measure(env, other, data["big"], data["user"], cookie, args, workdir / "web-compare.log")
        )
    profiled = main["worst_route"]
    profile = profile_route(data["user"], data["big"], profiled, cold=args.cold)[0] if args.profile else None

    p95 = main["p95_ms"]
    baseline = main["baseline"]
    q_max = max(max(c.values()) for c in queries.values())
    constant = all(c["large"] == c["small"] for c in queries.values())
    return [
        {
            "name": "dashboard",
            "value": p95,
            "unit": "ms",
            "baseline": baseline,
            "ratio": round(p95 / baseline, 2) if baseline else None,
            "p95_ms": p95,
            "worst_route": main["worst_route"],
            "sites": data["counts"]["sites"],
            "database": "postgresql",
            "queries_per_request_max": q_max,
            "queries_constant": constant,
            "queries": queries,
            "routes": main["routes"],
            "service_ms": main["service_ms"],
            "cold_service_ms": main["cold_service_ms"],
            "healthz": main["healthz"],
            "load_average": main["load_average"],
            "web": command,
            "errors": sum(r["errors"] for r in main["routes"].values()),
            "clients": args.clients,
            "requests_per_route": args.requests,
            "data": data["counts"],
            "data_reused": reused,
            "seed_s": round(seed_s, 1),
            **(
                {
                    "web_compare": [
                        {k: m[k] for k in ("web", "worst_route", "p95_ms", "baseline", "load_average")}
                        | {"p95_by_route": {r: v["p95_ms"] for r, v in m["routes"].items()}}
                        | {"p95_sum_ms": round(sum(v["p95_ms"] for v in m["routes"].values()), 1)}
                        for m in compared
                    ]
                }
                if args.compare_web
                else {}
            ),
            **({"profile_route": profiled, "profile_top_own_time": profile} if profile else {}),
            "goals": {"p95_ms": f"< {GOAL_P95_MS:g}", "queries": "constant in data size"},
            "goal_met": p95 < GOAL_P95_MS and constant,
            "machine": f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}",
            "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        }
    ]
