"""Date and time formats for the whole app (``FORMAT_MODULE_PATH``): one per kind, used by
templates (``|date`` without an argument, ``|date:"DATETIME_FORMAT"``) and by the admin.

Python code that writes a date into a sentence (alerts, heartbeat causes, the weekly
report, rule evidence, admin titles, documents) uses ``human_datetime`` / ``human_date``
below, so it reads like the pages: "5 December 2026, 14:30 CET". An instant always names
its time zone: the workspace's where there is one, UTC otherwise.
"""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime, tzinfo

from django.utils.formats import date_format

__all__ = ["human_date", "human_datetime", "zone"]


def zone(tz: str | tzinfo | None) -> tzinfo:
    """The time zone ``tz`` names (a name such as "Europe/Amsterdam", or a tzinfo); UTC
    for None, "" or a name that is not a time zone (a bad stored name never stops an alert)."""
    if isinstance(tz, tzinfo):
        return tz
    try:
        return zoneinfo.ZoneInfo(tz) if tz else UTC
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return UTC


def _local(when: datetime, tz: str | tzinfo | None) -> datetime:
    # A naive datetime is taken as UTC, as the database stores them (USE_TZ).
    aware = when if when.tzinfo is not None else when.replace(tzinfo=UTC)
    return aware.astimezone(zone(tz))


def _zone_label(local: datetime) -> str:
    """The zone as people write it: "CET", "UTC", "EST"; "UTC+04" where the zone has no
    abbreviation (zoneinfo gives "+04" for Asia/Dubai, which reads like a number)."""
    name = local.tzname() or "UTC"
    return f"UTC{name}" if name[:1] in "+-" else name


def human_datetime(when: datetime, tz: str | tzinfo | None = None) -> str:
    """``5 December 2026, 14:30 CET``: ``when`` in the time zone ``tz`` (UTC by default), named."""
    local = _local(when, tz)
    return f"{date_format(local, 'DATETIME_FORMAT')} {_zone_label(local)}"


def human_date(when: date | datetime, tz: str | tzinfo | None = None) -> str:
    """``5 December 2026``; an instant is first put in the time zone ``tz`` (UTC by default)."""
    day = _local(when, tz).date() if isinstance(when, datetime) else when
    return str(date_format(day, "DATE_FORMAT"))  # untyped in Django: the rules are checked with mypy --strict
