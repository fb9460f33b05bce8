"""Writing a batch's monitors back: every changed field lands on its own row, nothing else moves."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from monitoring.bulk import update_in_bulk
from monitoring.models import Monitor

pytestmark = pytest.mark.django_db

FIELDS = [
    "state",
    "consecutive_failures",
    "transitions",
    "last_checked_at",
    "last_latency_ms",
    "last_message",
]


def _monitors(workspace, n: int) -> list[Monitor]:
    return [
        Monitor.objects.create(workspace=workspace, name=f"m{i}", url=f"https://shop{i}.test/")
        for i in range(n)
    ]


def test_each_monitor_gets_its_own_values_including_nulls_json_and_quotes(workspace):
    a, b, untouched = _monitors(workspace, 3)
    a.state, a.consecutive_failures, a.last_latency_ms = Monitor.State.DOWN, 2, None
    a.transitions = ["2026-03-01T12:00:00+00:00"]
    a.last_checked_at = datetime(2026, 3, 1, 12, 0, 5, tzinfo=UTC)
    a.last_message = 'Expected "ok" in the page; it\'s missing.'
    b.state, b.consecutive_failures, b.last_latency_ms = Monitor.State.UP, 0, 87
    b.transitions = []
    b.last_checked_at = datetime(2026, 3, 1, 12, 0, 6, tzinfo=UTC)
    b.last_message = ""
    b.name = "renamed in memory only"  # not among the fields written
    assert update_in_bulk([a, b], FIELDS) == 2
    for m in (a, b):
        stored = Monitor.objects.get(pk=m.pk)
        assert [getattr(stored, f) for f in FIELDS] == [getattr(m, f) for f in FIELDS]
    assert Monitor.objects.get(pk=b.pk).name == "m1"
    stored = Monitor.objects.get(pk=untouched.pk)
    assert (stored.state, stored.last_checked_at, stored.last_message) == (Monitor.State.UNKNOWN, None, "")


def test_a_batch_is_one_statement_on_postgresql(workspace):
    monitors = _monitors(workspace, 20)
    for i, m in enumerate(monitors):
        m.consecutive_failures = i
    with CaptureQueriesContext(connection) as queries:
        update_in_bulk(monitors, FIELDS)
    if connection.vendor == "postgresql":
        assert len(queries) == 1
    assert [m.consecutive_failures for m in Monitor.objects.order_by("pk")] == list(range(20))


def test_nothing_to_write_writes_nothing(workspace):
    with CaptureQueriesContext(connection) as queries:
        assert update_in_bulk([], FIELDS) == 0
    assert len(queries) == 0
