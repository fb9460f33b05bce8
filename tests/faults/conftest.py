"""Fixtures of the fault tests: a database the processes share, a broker of their own.

Tests that start real processes need a database those processes can open: the test
database on PostgreSQL (SQLite's test database lives in the test process's memory), so
they skip on SQLite with that reason; CI runs them on PostgreSQL. The broker is a Redis
database of these tests' own (7, or 8 for the second pytest-xdist worker), emptied
before and after each test, so no other test's worker takes their tasks.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import redis
from django.db import connection

from .procs import ROOT, Processes, port_open

REDIS_PORT = 6379
NEEDS_POSTGRES = (
    "needs PostgreSQL: the killed processes and the test share one database, and SQLite's test "
    "database lives in the test process's memory (run with DATABASE_URL=postgres://…, as CI does)"
)


def _broker_db() -> int:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return 7 + (int(worker[2:]) if worker[2:].isdigit() else 0) % 2


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
def broker_url() -> str:
    if not port_open(REDIS_PORT):
        if os.environ.get("CI"):
            pytest.fail("CI runs the fault tests on Redis, and none answers on 127.0.0.1:6379")
        pytest.skip("needs Redis on 127.0.0.1:6379 (the killed workers' broker)")
    url = f"redis://127.0.0.1:{REDIS_PORT}/{_broker_db()}"
    client = redis.Redis.from_url(url)
    client.flushdb()
    yield url
    client.flushdb()
    client.close()


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
