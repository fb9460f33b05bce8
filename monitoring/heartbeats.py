"""Heartbeat deadlines: when the next ping is due, in the monitor's time zone. Pure.

A period heartbeat is late ``period + grace`` after its last ping. A cron heartbeat
expects a ping at each cron time (evaluated in the workspace's time zone, so
“0 2 * * *” means 02:00 where the founder lives, across DST changes) and is late
``grace`` after the first cron time following its last ping.
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime, timedelta

from croniter import croniter


def validate_cron(expr: str) -> None:
    """ValueError with a sentence unless ``expr`` is a five-field cron expression."""
    fields = (expr or "").split()
    if len(fields) != 5 or not croniter.is_valid(expr):
        raise ValueError("Enter a cron expression with five fields, e.g. “0 2 * * *” (02:00 daily).")


def next_cron_time(expr: str, after: datetime, tz: str) -> datetime:
    """The first time matching ``expr`` strictly after ``after``, as an aware UTC datetime."""
    local = after.astimezone(zoneinfo.ZoneInfo(tz))
    nxt = croniter(expr, local).get_next(datetime)
    return nxt.astimezone(zoneinfo.ZoneInfo("UTC"))


def deadline(
    *,
    schedule: str,
    period_s: int,
    grace_s: int,
    cron: str,
    tz: str,
    last_ping_at: datetime | None,
    created_at: datetime,
) -> datetime:
    """When the heartbeat becomes late if no ping arrives."""
    since = last_ping_at or created_at
    grace = timedelta(seconds=grace_s)
    if schedule == "cron":
        return next_cron_time(cron, since, tz) + grace
    return since + timedelta(seconds=period_s) + grace


def describe_late(last_ping_at: datetime | None, due: datetime) -> str:
    if last_ping_at is None:
        return f"No ping received yet; one was due by {due:%Y-%m-%d %H:%M} UTC."
    return f"No ping since {last_ping_at:%Y-%m-%d %H:%M} UTC; one was due by {due:%Y-%m-%d %H:%M} UTC."
