"""When a workspace's weekly report is due: a weekday and an hour in its time zone. Pure.

Slots are wall-clock times ("Monday 08:00 in Europe/Amsterdam"), so across a
daylight-saving change the report still arrives at 08:00 local time, and the UTC
instant moves by an hour. An hour that does not exist on a spring-forward night is
read with the offset from before the change (zoneinfo's ``fold=0``): 02:30 becomes
03:30 local that one week.
"""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime, time, timedelta

DEFAULT_WEEKDAY = 0  # Monday
DEFAULT_HOUR = 8
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def _zone(tz: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def _slot_on(day: date, hour: int, zone: zoneinfo.ZoneInfo) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=zone).astimezone(UTC)


def previous_slot(at: datetime, weekday: int, hour: int, tz: str) -> datetime:
    """The latest slot at or before ``at`` (UTC)."""
    zone = _zone(tz)
    local = at.astimezone(zone)
    day = local.date() - timedelta(days=(local.weekday() - weekday) % 7)
    slot = _slot_on(day, hour, zone)
    if slot > at:
        slot = _slot_on(day - timedelta(days=7), hour, zone)
    return slot


def next_slot(after: datetime, weekday: int, hour: int, tz: str) -> datetime:
    """The first slot strictly after ``after`` (UTC)."""
    zone = _zone(tz)
    previous = previous_slot(after, weekday, hour, tz)
    day = previous.astimezone(zone).date() + timedelta(days=7)
    return _slot_on(day, hour, zone)


def period_before(slot: datetime, tz: str) -> tuple[datetime, datetime]:
    """The week a report sent at ``slot`` covers: the same local time a week earlier, to ``slot``."""
    zone = _zone(tz)
    local = slot.astimezone(zone)
    start = datetime.combine(local.date() - timedelta(days=7), local.time(), tzinfo=zone)
    return start.astimezone(UTC), slot
