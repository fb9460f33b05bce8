"""Migrations of the monitoring app: the model state matches the models, and the indexes
that rollups and pruning need are built without blocking writes on PostgreSQL."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, models
from django.db.migrations.loader import MigrationLoader

from monitoring.models import ClosedDay

pytestmark = pytest.mark.django_db

# Tables of millions of rows in production: a plain CREATE INDEX holds their write lock
# for as long as the build takes, so checks and pings stop being stored during a deploy.
LARGE_TABLE_INDEXES = ["result_checked_at", "ping_received_at", "hourly_rollup_hour"]


def test_the_migrations_describe_the_models():
    out = io.StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)  # exits 1 on a change
    assert "No changes detected" in out.getvalue()


@pytest.mark.django_db(transaction=True)  # SQLite's schema editor refuses to start inside a transaction
def test_indexes_on_large_tables_are_built_concurrently_on_postgresql():
    migration = MigrationLoader(connection).get_migration("monitoring", "0013_rollup_indexes_closed_days")
    sql = io.StringIO()
    call_command("sqlmigrate", "monitoring", "0013", stdout=sql)
    statements = [line for line in sql.getvalue().splitlines() if line.startswith("CREATE INDEX")]
    assert sorted(s.split('"')[1] for s in statements) == sorted(LARGE_TABLE_INDEXES)
    if connection.vendor == "postgresql":
        assert migration.atomic is False  # CONCURRENTLY cannot run inside a transaction
        assert all(s.startswith("CREATE INDEX CONCURRENTLY ") for s in statements), statements
    else:
        assert not any("CONCURRENTLY" in s for s in statements), statements


def test_the_indexes_exist_after_migrating():
    with connection.cursor() as cursor:
        found = set()
        for table in ("monitoring_checkresult", "monitoring_heartbeatping", "monitoring_hourlyrollup"):
            found |= set(connection.introspection.get_constraints(cursor, table))
    assert set(LARGE_TABLE_INDEXES) <= found


@pytest.mark.django_db(transaction=True)  # CREATE INDEX CONCURRENTLY cannot run in a transaction
def test_migrating_again_rebuilds_an_index_an_interrupted_build_left_invalid():
    if connection.vendor != "postgresql":
        pytest.skip("CREATE INDEX CONCURRENTLY is PostgreSQL's")
    loader = MigrationLoader(connection)
    migration = loader.get_migration("monitoring", "0013_rollup_indexes_closed_days")
    before = loader.project_state(("monitoring", "0013_rollup_indexes_closed_days"))
    # The migration's own operation, on a column of a small table.
    operation = type(migration.operations[0])(
        model_name="closedday", index=models.Index(fields=["closed_at"], name="closed_day_leftover")
    )
    after = before.clone()
    operation.state_forwards("monitoring", after)
    at = datetime(2030, 3, 7, 1, 5, tzinfo=UTC)
    ClosedDay.objects.bulk_create(
        [ClosedDay(day=date(2030, 3, 5), closed_at=at), ClosedDay(day=date(2030, 3, 6), closed_at=at)]
    )

    def valid() -> list[bool]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = %s",
                ["closed_day_leftover"],
            )
            return [row[0] for row in cursor.fetchall()]

    with connection.cursor() as cursor:  # a concurrent build that fails leaves its index behind, invalid
        with pytest.raises(IntegrityError):
            cursor.execute(
                "CREATE UNIQUE INDEX CONCURRENTLY closed_day_leftover ON monitoring_closedday (closed_at)"
            )
    assert valid() == [False]
    try:
        for _ in range(2):  # and once more: a finished index is kept
            with connection.schema_editor(atomic=False) as editor:
                operation.database_forwards("monitoring", editor, before, after)
            assert valid() == [True]
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP INDEX IF EXISTS closed_day_leftover")
