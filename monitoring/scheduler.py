"""Claiming due monitors so that each slot is checked exactly once.

``claim_due()`` takes up to ``batch_size`` monitors whose ``next_check_at`` has
passed and moves each to its next slot in one conditional UPDATE
(``… WHERE id IN (…) AND next_check_at <= now``): a second dispatcher running at the
same moment matches none of the rows the first one moved, so no monitor is checked
twice in one slot. On PostgreSQL the candidates are first locked with
``SELECT … FOR UPDATE SKIP LOCKED`` so parallel dispatchers take disjoint batches
instead of waiting on each other; SQLite serialises writers, and the condition is
what makes the claim safe there.

Slots: each monitor has a stable phase inside its interval derived from its id, so
10,000 one-minute monitors spread evenly over the minute instead of firing at :00,
and the next slot never drifts however late a check ran. A monitor that fell behind
(a stopped beat) is checked once, not once per missed slot.

A clock set back (NTP stepping a drifted clock, a restored VM snapshot) leaves claimed
slots further ahead than any claim puts them; such a monitor is re-anchored: claimed
at once, due now, and moved to its next slot after the look-ahead, instead of staying
silent for the jump's length. A heartbeat's next check is its ping deadline, counted from
its last ping (or its creation, before the first): when that lies ahead of the clock, the
heartbeat is claimed at once too and its last ping (or creation) is taken as now, so the
deadline counts from the jump: a job that stops pinging just after it is reported on time.
A silent job is reported late by the lesser of the jump's length and how old its last ping
was when the clock went back (a ping older than the jump does not lie ahead, and nothing
tells how far the clock went back); never early, so a job that keeps pinging, which moves
its deadline with each ping as before, is never reported late.
"""

from __future__ import annotations

import logging
import uuid
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import connection, transaction
from django.db.models import BooleanField, Case, F, Func, Q, QuerySet, Value, When
from django.utils import timezone

from .models import Monitor
from .models.monitors import EXPIRY_INTERVAL_S, MIN_INTERVAL_S

logger = logging.getLogger(__name__)

EPOCH = datetime(2020, 1, 1, tzinfo=UTC)
# How far ahead a tick claims: the batch task waits for each monitor's exact slot,
# so a beat tick every few seconds still starts checks on time. Three beat periods
# (10 s) ahead, so that a tick that waited behind busy worker processes finds the
# next 20 s already queued instead of starting them late: at 100,000 five-minute
# monitors a horizon of one period gave a lag p95 of 16 s (BENCHMARKS.md).
DEFAULT_HORIZON = timedelta(seconds=30)
# A claim moves a monitor to its first slot after the look-ahead, so at most an interval
# past it. Further ahead than that plus this slack, the clock went back since: the slot
# is re-anchored. The slack covers dispatchers on machines whose clocks differ by
# seconds and a caller with a longer look-ahead; a smaller jump back costs at most it.
REANCHOR_SLACK = timedelta(seconds=60)


def _bounded(interval_s: int) -> int:
    # Saved intervals are validated; this keeps a row that is not (the admin's bulk
    # edit, an old row) from dividing by zero inside every tenant's dispatch.
    return min(max(interval_s or 0, MIN_INTERVAL_S), EXPIRY_INTERVAL_S)


def phase_s(monitor_id: int, interval_s: int) -> float:
    """A stable offset in [0, interval) for this monitor: the jitter that spreads the load."""
    interval_s = _bounded(interval_s)
    return (zlib.crc32(str(monitor_id).encode()) % (interval_s * 1000)) / 1000.0


def next_slot(monitor_id: int, interval_s: int, after: datetime) -> datetime:
    """The first slot of this monitor strictly after ``after``."""
    interval_s = _bounded(interval_s)
    offset = phase_s(monitor_id, interval_s)
    elapsed = (after - EPOCH).total_seconds() - offset
    periods = int(elapsed // interval_s) + 1
    return EPOCH + timedelta(seconds=offset + periods * interval_s)


@dataclass(frozen=True)
class Claim:
    monitor_id: int
    due_at: datetime  # the slot being checked


Row = tuple[int, int, datetime]  # id, interval_s, next_check_at as read


def candidates(until: datetime) -> QuerySet:
    """Monitors due by ``until``, oldest slot first, as ``Row`` tuples."""
    return (
        Monitor.objects.filter(next_check_at__lte=until)
        .exclude(state=Monitor.State.PAUSED)
        .order_by("next_check_at")
        .values_list("id", "interval_s", "next_check_at")
    )


class _AheadOfTheClock(Func):
    """``next_check_at`` later than ``limit`` plus the row's interval, as a condition.

    One scan of the table, as no index serves a bound that depends on each row's
    interval: 30 ms for 100,000 monitors on PostgreSQL, so a dispatch tick asks once.
    The interval is read as ``_bounded`` reads it.
    """

    conditional = True
    output_field = BooleanField()

    def __init__(self, limit: datetime) -> None:
        super().__init__(F("next_check_at"), F("interval_s"))
        self.limit = limit

    def as_sql(self, compiler, connection, **extra_context):
        (slot, slot_params), (interval, interval_params) = (
            compiler.compile(e) for e in self.get_source_expressions()
        )
        if connection.vendor == "sqlite":  # datetimes are stored as UTC text, which julianday() reads
            sql = f"(julianday({slot}) - 2440587.5) * 86400.0 - MAX({interval}, %s) > %s"
            return sql, [*slot_params, *interval_params, MIN_INTERVAL_S, self.limit.timestamp()]
        # Interval arithmetic: EXTRACT(EPOCH …) computes in numeric, twice as slow.
        sql = f"{slot} > %s + GREATEST({interval}, %s) * interval '1 second'"
        return sql, [*slot_params, self.limit, *interval_params, MIN_INTERVAL_S]


def _ahead_of_the_clock(until: datetime) -> Q:
    """Slots further ahead than a claim at ``until`` puts them: the clock went back since.

    A heartbeat's next check is its ping deadline (a period and a grace away, or a cron
    time), which its slot cannot bound: it is ahead when what the deadline counts from, its
    last ping or else its creation, lies in the future.
    """
    limit = until + REANCHOR_SLACK
    heartbeat = Q(kind=Monitor.Kind.HEARTBEAT)
    return (
        (Q(_AheadOfTheClock(limit)) & ~heartbeat)
        | (heartbeat & Q(last_ping_at__gt=limit))
        | (heartbeat & Q(last_ping_at__isnull=True, created_at__gt=limit))
    )


def ahead_of_the_clock(until: datetime) -> QuerySet:
    """Monitors to re-anchor, as ``Row`` tuples (a scan of the table: see ``_AheadOfTheClock``)."""
    return (
        Monitor.objects.filter(_ahead_of_the_clock(until))
        .exclude(state=Monitor.State.PAUSED)
        .values_list("id", "interval_s", "next_check_at")
    )


def take(rows: list[Row], until: datetime) -> set[int]:
    """Move ``rows`` to their first slot after ``until``, only those still due or still
    ahead of the clock: the ids this caller won.

    The conditional UPDATE is the claim: rows another dispatcher moved since they were
    read no longer match ``next_check_at <= until`` (their next slot lies beyond it),
    nor lie further ahead than their interval.
    """
    if connection.vendor == "postgresql":
        return _take_postgresql(rows, until)
    token = uuid.uuid4()
    slots = [When(pk=pk, then=Value(next_slot(pk, interval, until))) for pk, interval, _ in rows]
    Monitor.objects.filter(pk__in=[pk for pk, _, _ in rows]).filter(
        Q(next_check_at__lte=until) | _ahead_of_the_clock(until)
    ).update(
        next_check_at=Case(*slots, output_field=Monitor._meta.get_field("next_check_at")),
        claim_token=token,
    )
    return set(Monitor.objects.filter(claim_token=token).values_list("id", flat=True))


TAKE_SQL = (
    "UPDATE monitoring_monitor AS m SET next_check_at = v.at, claim_token = NULL "
    "FROM (VALUES {values}) AS v(id, at) WHERE m.id = v.id AND (m.next_check_at <= %s "
    "OR (m.next_check_at > %s + GREATEST(m.interval_s, %s) * interval '1 second' AND m.kind <> %s) "
    "OR (m.kind = %s AND COALESCE(m.last_ping_at, m.created_at) > %s)) "
    "RETURNING m.id"
)


def _take_postgresql(rows: list[Row], until: datetime) -> set[int]:
    """``take`` as one ``UPDATE … FROM (VALUES …) … RETURNING``: the same condition, without
    the ORM's per-row CASE expression (most of a tick's CPU at 3,000 claims)."""
    values = ", ".join(["(%s, CAST(%s AS timestamp with time zone))"] * len(rows))
    params: list[object] = []
    for pk, interval, _ in rows:
        params += [pk, next_slot(pk, interval, until)]
    with connection.cursor() as cur:
        cur.execute(
            TAKE_SQL.format(values=values),
            [
                *params,
                until,
                until + REANCHOR_SLACK,
                MIN_INTERVAL_S,
                Monitor.Kind.HEARTBEAT.value,
                Monitor.Kind.HEARTBEAT.value,
                until + REANCHOR_SLACK,
            ],
        )
        return {pk for (pk,) in cur.fetchall()}


def _reanchor_heartbeats(ids: set[int], now: datetime, until: datetime) -> None:
    """The heartbeats among ``ids`` whose deadline counts from a time ahead of the clock
    count from ``now``: their last ping (or creation, before the first ping) is taken as now.
    Conditional on the value still being ahead, so a ping that landed meanwhile is kept; and
    once done, the next tick finds nothing to re-anchor."""
    limit = until + REANCHOR_SLACK
    beats = Monitor.objects.filter(pk__in=ids, kind=Monitor.Kind.HEARTBEAT)
    pinged = beats.filter(last_ping_at__gt=limit).update(last_ping_at=now)
    created = beats.filter(last_ping_at__isnull=True, created_at__gt=limit).update(created_at=now)
    if pinged or created:
        logger.warning(
            "%d heartbeats had their last ping or creation ahead of the clock (the clock went back?): "
            "their deadlines count from now",
            pinged + created,
        )


def _locked(rows: QuerySet) -> QuerySet:
    if connection.features.has_select_for_update_skip_locked:
        return rows.select_for_update(skip_locked=True, of=("self",))
    return rows


def claim_due(
    now: datetime | None = None,
    batch_size: int = 200,
    horizon: timedelta = DEFAULT_HORIZON,
    reanchor: bool = True,
) -> tuple[list[Claim], int]:
    """Claim up to ``batch_size`` monitors due by ``now + horizon``, after those whose slot
    the clock left too far ahead (with ``reanchor``), which are due ``now``.

    Returns (claims won, candidates seen); fewer won than seen means a parallel
    dispatcher took the rest.
    """
    claims, seen, _ = _claim(now or timezone.now(), batch_size, horizon, reanchor)
    return claims, seen


def _claim(
    now: datetime, batch_size: int, horizon: timedelta, reanchor: bool
) -> tuple[list[Claim], int, int]:
    """``claim_due``, also returning how many re-anchored monitors it saw."""
    until = now + horizon
    with transaction.atomic():
        rows: list[Row] = list(_locked(ahead_of_the_clock(until))[:batch_size]) if reanchor else []
        ahead = {pk for pk, _, _ in rows}
        if ahead:
            logger.warning(
                "%d monitors had their next check further ahead than their interval (the clock went "
                "back?): checking them now",
                len(ahead),
            )
        if len(rows) < batch_size:
            rows += list(_locked(candidates(until))[: batch_size - len(rows)])
        if not rows:
            return [], 0, 0
        won = take(rows, until)
        if ahead & won:
            _reanchor_heartbeats(ahead & won, now, until)
    claims = [Claim(pk, now if pk in ahead else d) for pk, _, d in rows if pk in won]
    if len(claims) < len(rows):
        logger.info(
            "claimed %d of %d due monitors (others taken by a parallel dispatcher)", len(claims), len(rows)
        )
    return claims, len(rows), len(ahead)


def dispatch(
    now: datetime | None = None,
    batch_size: int = 200,
    horizon: timedelta = DEFAULT_HORIZON,
    max_batches: int = 200,
    enqueue=None,
) -> int:
    """Claim batches until nothing is due; hand each to ``enqueue(claims)``. Returns monitors claimed.

    ``now`` is fixed for the whole tick: under steady load something new is always
    coming due, and a tick that kept re-reading the clock would never return.
    """
    now = now or timezone.now()
    total = 0
    reanchor = True  # once a tick, and again while a batch comes back full of them
    for _ in range(max_batches):
        claims, seen, ahead = _claim(now, batch_size, horizon, reanchor)
        reanchor = ahead == batch_size
        if not seen:
            break
        if claims:
            total += len(claims)
            if enqueue is not None:
                enqueue(claims)
    return total
