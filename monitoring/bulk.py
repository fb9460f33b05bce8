"""Writing many changed rows of one model in one statement, cheaply.

Django's ``bulk_update`` builds one ``CASE WHEN id = … THEN …`` expression per field
with a branch per row and resolves each branch as an ORM expression: for a batch of
200 monitors and 10 fields that was 70 % of a worker's CPU per check (cProfile in
BENCHMARKS.md, monitoring_scale). On PostgreSQL the same write is one
``UPDATE … FROM (VALUES …)`` with every value adapted by its field, as an INSERT
would; other databases keep ``bulk_update``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import connection, models

UPDATE_FROM_VALUES = (
    "UPDATE {table} AS t SET {sets} FROM (VALUES {values}) AS v({names}) WHERE t.{pk} = v.{pk}"
)
CHUNK = 1000  # rows per statement: 11,000 parameters at 10 fields, well under the driver's limit


def update_in_bulk(objs: Iterable[models.Model], fields: Sequence[str]) -> int:
    """Save ``fields`` of every object in ``objs`` (all of one model) to its row; returns rows written."""
    rows = list(objs)
    if not rows:
        return 0
    model = type(rows[0])
    if connection.vendor != "postgresql":
        return model._default_manager.bulk_update(rows, fields)
    meta = model._meta
    pk = meta.pk
    columns = [pk, *(meta.get_field(name) for name in fields)]
    placeholder = "(" + ", ".join(f"CAST(%s AS {f.db_type(connection)})" for f in columns) + ")"
    names = [connection.ops.quote_name(f.column) for f in columns]
    sets = ", ".join(f"{n} = v.{n}" for n in names[1:])
    table = connection.ops.quote_name(meta.db_table)
    written = 0
    with connection.cursor() as cur:
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start : start + CHUNK]
            params = [
                f.get_db_prep_save(getattr(obj, f.attname), connection) for obj in chunk for f in columns
            ]
            values = ", ".join([placeholder] * len(chunk))
            sql = UPDATE_FROM_VALUES.format(
                table=table, sets=sets, values=values, names=", ".join(names), pk=names[0]
            )
            cur.execute(sql, params)
            written += cur.rowcount
    return written
