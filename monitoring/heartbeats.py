"""Heartbeat deadlines: when the next ping is due, in the monitor's time zone. Pure.

A period heartbeat is late ``period + grace`` after its last ping. A cron heartbeat
expects a ping at each cron time (evaluated in the workspace's time zone, so
“0 2 * * *” means 02:00 where the founder lives, across DST changes) and is late
``grace`` after the first cron time following its last ping.

Every value is bounded (``MIN_PERIOD_S``…``MAX_GRACE_S``, a cron time within a year)
when a monitor is saved; ``deadline`` clamps again, so a row saved before the bounds
existed cannot overflow a date, and a schedule that cannot be computed raises
``ScheduleError`` with a sentence for the monitor's page instead of anything else.
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime, timedelta

from croniter import croniter

from launchready.formats import human_datetime

MIN_PERIOD_S = 60
MAX_PERIOD_S = 366 * 86400  # a yearly job
MAX_GRACE_S = 30 * 86400
MAX_CRON_GAP = timedelta(days=366)


class ScheduleError(ValueError):
    """The schedule cannot be computed; the message is a sentence for the founder."""


def validate_cron(expr: str, now: datetime | None = None) -> None:
    """ScheduleError with a sentence unless ``expr`` is a five-field cron expression that fires within a year."""
    fields = (expr or "").split()
    if len(fields) != 5 or not croniter.is_valid(expr):
        raise ScheduleError("Enter a cron expression with five fields, e.g. “0 2 * * *” (02:00 daily).")
    start = now or datetime.now(zoneinfo.ZoneInfo("UTC"))
    next_cron_time(expr, start, "UTC")


def next_cron_time(expr: str, after: datetime, tz: str) -> datetime:
    """The first time matching ``expr`` strictly after ``after``, as an aware UTC datetime."""
    try:
        local = after.astimezone(zoneinfo.ZoneInfo(tz))
        nxt = croniter(expr, local).get_next(datetime)
    except (ValueError, KeyError, OverflowError, zoneinfo.ZoneInfoNotFoundError):
        # croniter's errors are ValueErrors ("failed to find next date" for 30 February).
        raise ScheduleError(
            f"The cron expression “{expr}” never fires (is it a date that does not exist, like 30 February?)."
        ) from None
    if nxt - local > MAX_CRON_GAP:
        raise ScheduleError(
            f"The cron expression “{expr}” does not fire within a year; heartbeats expect a job at least once a year."
        )
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
    """When the heartbeat becomes late if no ping arrives (``ScheduleError`` if it cannot be known)."""
    since = last_ping_at or created_at
    grace = timedelta(seconds=min(max(grace_s or 0, 0), MAX_GRACE_S))
    try:
        if schedule == "cron":
            return next_cron_time(cron, since, tz) + grace
        return since + timedelta(seconds=min(max(period_s or 0, MIN_PERIOD_S), MAX_PERIOD_S)) + grace
    except OverflowError:  # a stored date at the edge of the calendar (year 9999)
        raise ScheduleError("The heartbeat's last ping time is out of range; send a new ping.") from None


def describe_late(last_ping_at: datetime | None, due: datetime, tz: str = "UTC") -> str:
    """Why the heartbeat is late, with times in ``tz`` (the monitor's time zone), named."""
    if last_ping_at is None:
        return f"No ping received yet; one was due by {human_datetime(due, tz)}."
    return f"No ping since {human_datetime(last_ping_at, tz)}; one was due by {human_datetime(due, tz)}."
