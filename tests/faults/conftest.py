"""Fixtures of the fault tests: a database the processes share, a broker of their own.

Tests that start real processes need a database those processes can open: the test
database on PostgreSQL (SQLite's test database lives in the test process's memory), so
they skip on SQLite with that reason; CI runs them on PostgreSQL. The broker is a
redis-server started for each test on a free port, so no other test's (or session's)
worker takes their tasks.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest
from django.db import connection

from .procs import ROOT, OwnRedis, Processes

NEEDS_POSTGRES = (
    "needs PostgreSQL: the killed processes and the test share one database, and SQLite's test "
    "database lives in the test process's memory (run with DATABASE_URL=postgres://…, as CI does)"
)


def database_url() -> str:
    s = connection.settings_dict
    user = s.get("USER") or "postgres"
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{s.get('HOST') or '127.0.0.1'}:{s.get('PORT') or 5432}/{s['NAME']}"


@pytest.fixture
def shared_db(transactional_db) -> str:
    """The test database, committed for real, as a URL for the processes; skips on SQLite."""
    if connection.vendor != "postgresql":
        pytest.skip(NEEDS_POSTGRES)
    return database_url()


@pytest.fixture
def broker_url(tmp_path: Path):
    """A redis-server of the test's own: no other test, session or engineer shares its queues."""
    if shutil.which("redis-server") is None:
        if os.environ.get("CI"):
            pytest.fail("CI runs the fault tests on Redis, and redis-server is not installed")
        pytest.skip("needs redis-server (the killed workers' broker)")
    server = OwnRedis(Processes(tmp_path, dict(os.environ)))
    server.start()
    yield server.url(0)
    server.stop()


@pytest.fixture
def processes(tmp_path: Path, shared_db: str, broker_url: str):
    """Start processes pointed at the test database and the broker; ends them afterwards."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "launchready.settings_test",
        "DATABASE_URL": shared_db,
        "CELERY_BROKER_URL": broker_url,
        "CACHE_URL": "locmemcache://",
        "LAUNCHREADY_VAR_DIR": str(tmp_path / "var"),
        "PYTHONPATH": str(ROOT),
        "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
    }
    procs = Processes(tmp_path, env)
    yield procs
    procs.close()
