"""PostgreSQL restarted under load: the web app and the workers recover by themselves.

A PostgreSQL cluster of the test's own (initdb in a temporary folder, never the
machine's shared server) serves gunicorn and a Celery worker that keep their
connections (``DATABASE_CONN_MAX_AGE=60``, the case where a dead connection would be
reused). Heartbeat pings arrive all the while; the cluster is restarted in the middle.
Afterwards, with no process restarted, pings and tasks succeed again, and every ping
that was answered OK was recorded.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import psycopg
import pytest

from .procs import ROOT, Processes, free_port, port_open, send_task, wait_for

pytestmark = pytest.mark.slow

PG_BIN = Path("/usr/lib/postgresql")


def _pg_bin() -> Path | None:
    found = sorted(PG_BIN.glob("*/bin/initdb"))
    return found[-1].parent if found else None


def _as_postgres(argv: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


class OwnPostgres:
    def __init__(self, processes: Processes, folder: Path, bin_dir: Path) -> None:
        self.processes, self.folder, self.bin = processes, folder, bin_dir
        self.port = free_port()
        self.proc = None

    def init(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        subprocess.run(
            _as_postgres([str(self.bin / "initdb"), "-D", str(self.folder), "-A", "trust", "-U", "postgres"]),
            check=True,
            capture_output=True,
        )

    def start(self) -> None:
        argv = [
            str(self.bin / "postgres"),
            "-D",
            str(self.folder),
            "-p",
            str(self.port),
            "-k",
            str(self.folder),
        ]
        argv += ["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"]
        self.proc = self.processes.start("postgres", _as_postgres(argv))
        wait_for(lambda: self._accepts(), 60, "PostgreSQL to accept connections", [self.proc.log])

    def _accepts(self) -> bool:
        try:
            psycopg.connect(self.url("postgres"), connect_timeout=2).close()
        except psycopg.OperationalError:
            return False
        return True

    def stop_fast(self) -> None:
        """``pg_ctl stop -m fast``: every connection is cut, as a restart by the host does."""
        os.killpg(self.proc.pid, signal.SIGINT)
        self.proc.popen.wait(timeout=60)
        wait_for(lambda: not port_open(self.port), 30, "PostgreSQL to stop")

    def url(self, name: str = "launchready") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def query(self, sql: str, *params):
        with psycopg.connect(self.url(), autocommit=True) as conn:
            return conn.execute(sql, params).fetchall()


@pytest.fixture
def own_postgres(tmp_path: Path, broker_url: str):
    bin_dir = _pg_bin()
    if bin_dir is None or shutil.which("runuser") is None:
        pytest.skip(
            "needs PostgreSQL's server programs (initdb, postgres) to start a cluster of the test's own"
        )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "launchready.settings_test",
        "CELERY_BROKER_URL": broker_url,
        "CACHE_URL": "locmemcache://",
        "DATABASE_CONN_MAX_AGE": "60",
        "MONITORING_PING_LIMIT_PER_MINUTE": "100000",  # the load is the point here, not the limit
        "LAUNCHREADY_VAR_DIR": str(tmp_path / "var"),
        "PYTHONPATH": str(ROOT),
    }
    processes = Processes(tmp_path, env)
    # Not under pytest's folder, which only its owner may enter: the server runs as postgres.
    data = Path(tempfile.mkdtemp(prefix="launchready-faults-pg-"))
    pg = OwnPostgres(processes, data, bin_dir)
    try:
        pg.init()
        pg.start()
        with psycopg.connect(pg.url("postgres"), autocommit=True) as conn:
            conn.execute("CREATE DATABASE launchready")
        processes.env["DATABASE_URL"] = pg.url()
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=processes.env, check=True
        )
        yield processes, pg
    finally:
        processes.close()
        shutil.rmtree(data, ignore_errors=True)


SETUP = """
from monitoring.models import Monitor
from launchready.models import Workspace
ws = Workspace.objects.create(name="Restart shop")
print(Monitor.objects.create(workspace=ws, kind="heartbeat", name="Orders export", period_s=3600).uuid)
"""


class Pinger(threading.Thread):
    """Load: a heartbeat ping every 50 ms, counting the answers (and, from ``mark()`` on,
    the pings sent after it that failed)."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url, self.ok, self.failed = url, 0, 0
        self.since: float | None = None
        self.failed_since = 0
        self.running = True
        self.paused = False

    def mark(self) -> None:
        self.since = time.monotonic()

    def run(self) -> None:
        while self.running:
            if self.paused:
                time.sleep(0.05)
                continue
            sent = time.monotonic()
            try:
                with urllib.request.urlopen(self.url, timeout=10) as response:
                    self.ok += response.status == 200
            except (urllib.error.URLError, OSError):
                self.failed += 1
                if self.since is not None and sent >= self.since:
                    self.failed_since += 1
            time.sleep(0.05)


def _heartbeats(pg: OwnPostgres, name: str) -> int:
    return pg.query("SELECT count(*) FROM launchready_workerheartbeat WHERE name = %s", name)[0][0]


def test_web_and_workers_recover_from_a_postgres_restart_without_help(own_postgres, broker_url):
    processes, pg = own_postgres
    made = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", SETUP],
        cwd=ROOT,
        env=processes.env,
        check=True,
        capture_output=True,
        text=True,
    )
    monitor_uuid = made.stdout.strip().splitlines()[-1]
    web, base = processes.web()
    worker = processes.worker()
    logs = [p.log for p in processes.started]
    send_task(broker_url, "launchready.tasks.worker_heartbeat", "before")
    wait_for(lambda: _heartbeats(pg, "before"), 60, "the worker's task before the restart", logs)

    pinger = Pinger(f"{base}/ping/{monitor_uuid}")
    pinger.start()
    wait_for(lambda: pinger.ok >= 20, 60, "pings before the restart", logs)
    answered_before = pinger.ok
    pg.stop_fast()
    time.sleep(2)  # requests meet a database that is gone
    pg.start()
    wait_for(lambda: pinger.ok >= answered_before + 20, 60, "pings answered after the first restart", logs)
    # Again while the web workers sit idle, holding connections that the restart cuts.
    pinger.paused = True
    time.sleep(0.5)
    pg.stop_fast()
    pg.start()
    pinger.mark()
    pinger.paused = False
    answered = pinger.ok
    wait_for(lambda: pinger.ok >= answered + 40, 60, "pings answered after the restart", logs)
    pinger.running = False
    pinger.join(timeout=15)

    send_task(broker_url, "launchready.tasks.worker_heartbeat", "after")
    wait_for(lambda: _heartbeats(pg, "after"), 60, "the worker's task after the restart", logs)
    # Nobody restarted the web app or the worker, and no answered ping was lost.
    assert web.popen.poll() is None and worker.popen.poll() is None
    assert pinger.failed > 0  # the restart was felt while it lasted ...
    # ... and not once the database was back: a connection that died is not reused (CONN_HEALTH_CHECKS).
    assert pinger.failed_since == 0
    recorded = pg.query("SELECT count(*) FROM monitoring_heartbeatping")[0][0]
    assert recorded >= pinger.ok
