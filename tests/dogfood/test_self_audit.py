"""Launch Ready passes its own audit (issue 16, "Dogfooding").

The product runs as the README's "Running in production" describes: `release` first
(migrate, collectstatic), then the Procfile's `web` process, gunicorn with DEBUG=false and
the production settings, bound to loopback behind a TLS proxy. The sandbox is that proxy
and the internet around it (scenario `launchready_self`: its DNS zone, certificates,
mail records). The audit engine then audits launchready.test like any store, and the
verdict must be `ready` with no failing finding above `low`.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from cryptography.fernet import Fernet

from audits.engine import default_options, run_audit
from audits.facts import RouteSpec, SiteDeclaration
from audits.report_text import render_text
from sandbox import load_scenario

pytestmark = pytest.mark.slow

BASE_DIR = Path(__file__).resolve().parents[2]
DOMAIN = "launchready.test"
CANONICAL = f"www.{DOMAIN}"
# The routes that matter to our own users: the landing page, sign-in and sign-up, the
# health check the uptime monitor calls, and the API (its schema is public; every other
# endpoint needs a token). Timing is not what this test is about (bench/ measures it):
# gunicorn shares two cores with the sandbox and the audit here, so budgets get a margin.
ROUTES = [
    RouteSpec.standard("home", "/", budget_ms=4000),
    RouteSpec.standard("login", "/accounts/login/", budget_ms=4000),
    RouteSpec.standard("signup", "/accounts/signup/", budget_ms=4000),
    RouteSpec.standard("health", "/healthz", budget_ms=4000),
    RouteSpec.standard("api", "/api/v1/openapi.json", budget_ms=4000),
]
SERIOUS = ("blocker", "high", "medium")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def postgres_admin(url: str) -> tuple[str, str]:
    """(maintenance database URL, name of the database of our own) for a PostgreSQL URL."""
    parts = urlsplit(url)
    name = (parts.path.lstrip("/") or "launchready") + "_dogfood"
    return urlunsplit(parts._replace(path="/postgres")), name


def recreate_postgres_database(url: str, drop_only: bool = False) -> str:
    import psycopg

    admin, name = postgres_admin(url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            conn.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def production_database(workdir: Path) -> str:
    """A database of its own: PostgreSQL when the suite runs on it, else a SQLite file."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        return recreate_postgres_database(url)
    return f"sqlite:///{workdir / 'db.sqlite3'}"


def production_env(workdir: Path) -> dict[str, str]:
    """The environment of the README's production guide; nothing from the test settings."""
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG", "TMPDIR") if key in os.environ}
    env.update(
        DJANGO_SETTINGS_MODULE="launchready.settings",
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        LAUNCHREADY_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        ALLOWED_HOSTS=CANONICAL,
        SITE_URL=f"https://{CANONICAL}",
        SECURE_PROXY_SSL_HEADER="true",
        TRUSTED_PROXY_COUNT="1",
        DATABASE_URL=production_database(workdir),
        LAUNCHREADY_VAR_DIR=str(workdir / "var"),
        EMAIL_URL="smtp://127.0.0.1:1",  # nothing is sent in this test
        DEFAULT_FROM_EMAIL=f"Launch Ready <noreply@{DOMAIN}>",
        INBOUND_DOMAIN=f"inbound.{DOMAIN}",
    )
    for key in ("CELERY_BROKER_URL", "CACHE_URL"):
        if key in os.environ:
            env[key] = os.environ[key]
    return env


def manage(env: dict[str, str], *args: str) -> None:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"


def collect_static(env: dict[str, str]) -> None:
    """The release step's `collectstatic`, kept between runs for the same inputs.

    With whitenoise's manifest storage it hashes and compresses (gzip and brotli) every
    file, the API reference's bundle included: minutes on a busy two-core machine. The
    output depends only on the static sources and the pinned packages, so a run with the
    same inputs copies the previous run's result instead of doing it again.
    """
    digest = hashlib.sha256((BASE_DIR / "requirements" / "base.txt").read_bytes())
    for root in sorted([BASE_DIR / "static", *BASE_DIR.glob("*/static")]):
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            digest.update(str(path.relative_to(BASE_DIR)).encode() + path.read_bytes())
    cache = (
        Path(tempfile.gettempdir()) / f"launchready-dogfood-static-{os.getuid()}-{digest.hexdigest()[:16]}"
    )
    target = Path(env["LAUNCHREADY_VAR_DIR"]) / "static"
    if not (cache / "staticfiles.json").exists():
        manage(env, "collectstatic", "--noinput")
        partial = cache.with_name(f"{cache.name}.{os.getpid()}")
        shutil.copytree(target, partial)
        try:
            partial.rename(cache)
        except OSError:  # another test process got there first
            shutil.rmtree(partial, ignore_errors=True)
        for stale in cache.parent.glob(f"launchready-dogfood-static-{os.getuid()}-*"):
            if stale.name != cache.name and "." not in stale.name:
                shutil.rmtree(stale, ignore_errors=True)  # made from older static files
        return
    shutil.copytree(cache, target, dirs_exist_ok=True)


def wait_until_up(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"gunicorn exited with {process.returncode}:\n{log.read_text()}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz", headers={"Host": CANONICAL})
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
        finally:
            conn.close()
    pytest.fail(f"gunicorn did not answer /healthz within 60 s:\n{log.read_text()}")


@pytest.fixture(scope="module")
def gunicorn_port(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("launchready-production")
    env = production_env(workdir)
    # The Procfile's `release`, then its `web` (bound to loopback: only the proxy reaches it).
    manage(env, "migrate", "--noinput")
    collect_static(env)
    manage(env, "check", "--deploy", "--fail-level", "WARNING")
    port = free_port()
    log = workdir / "gunicorn.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "launchready.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "2",
            ],
            cwd=BASE_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_up(port, process, log)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if env["DATABASE_URL"].startswith("postgres"):
            recreate_postgres_database(os.environ["DATABASE_URL"], drop_only=True)


@pytest.fixture(scope="module")
def sb(sandbox_scenario, gunicorn_port):
    scenario = load_scenario("launchready_self")
    scenario.host(CANONICAL).upstream = f"http://127.0.0.1:{gunicorn_port}"
    return sandbox_scenario(scenario)


def test_launch_ready_scores_ready_on_its_own_audit(sb):
    outcome = run_audit(
        SiteDeclaration(
            domain=DOMAIN,
            canonical="www",
            routes=ROUTES,
            dkim_selectors=["lr1"],
            from_address=f"noreply@{DOMAIN}",
            # sentry-sdk reports server errors when SENTRY_DSN is set, as the production guide asks.
            error_tracking_declared="Sentry (server side, SENTRY_DSN)",
        ),
        options=default_options(samples=5),
    )
    serious = [
        f"{f.severity} {f.check} {f.subject}: {f.evidence}"
        for f in outcome.evaluation.findings
        if f.status == "fail" and str(f.severity) in SERIOUS
    ]
    report = render_text(outcome)
    assert serious == [], report
    assert str(outcome.report.verdict) == "ready", report
    # The app is in front of the audit: every DNS and edge check could look.
    could_not_look = [
        f"{f.check} {f.subject}: {f.evidence}"
        for f in outcome.evaluation.findings
        if f.status == "inconclusive" and str(f.stage) in ("dns", "edge")
    ]
    assert could_not_look == [], report
    # Every stage was really looked at, not skipped into a pass.
    evaluated = {str(s.stage) for s in outcome.report.stages if s.passed}
    assert {"dns", "edge", "deploy", "performance", "email"} <= evaluated, report
