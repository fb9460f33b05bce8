"""The dispatcher's claim reads only monitors that can be due: paused ones are never walked.

Pausing leaves a monitor's last slot in the past, so with the plain index on the next check
every claim of a tick stepped over every paused monitor first: 212 ms a claim with 90,000
paused monitors on PostgreSQL, 50 claims for a backlog of 10,000, so one worker process spent
most of a drain in the beat's tick (BENCHMARKS.md, monitoring_scale). The claim's query is
served by a partial index that holds the monitors that are not paused.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.utils import timezone

from monitoring import scheduler
from monitoring.models import Monitor


def _plan(until) -> str:
    rows = scheduler._locked(scheduler.candidates(until))[:200]
    sql, params = rows.query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan = off")  # a handful of rows: ask for an index
            cursor.execute(f"EXPLAIN {sql}", params)
        else:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        return "\n".join(str(row) for row in cursor.fetchall())


def test_the_claim_reads_the_index_of_monitors_that_are_not_paused(workspace):
    past = timezone.now() - timedelta(minutes=10)
    for i in range(30):
        Monitor.objects.create(
            workspace=workspace,
            name=f"m{i}",
            url=f"https://shop{i}.test/",
            state=Monitor.State.PAUSED if i % 3 else Monitor.State.UP,
            next_check_at=past,
        )
    plan = _plan(timezone.now() + timedelta(seconds=30))
    assert "monitor_claimable" in plan, plan
