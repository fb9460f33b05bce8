"""Typed descriptions of one check and its outcome, passed between the layers.

The batch task turns ``Monitor`` rows into ``CheckSpec`` values before any I/O, so
probes never touch the ORM and results come back as ``Outcome`` values that one
step writes in bulk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class CheckSpec:
    monitor_id: int
    kind: str
    url: str = ""
    method: str = "GET"
    expected_statuses: str = "200-399"
    keyword: str = ""
    keyword_mode: str = "present"
    max_response_ms: int | None = None
    headers: tuple[tuple[str, str], ...] = ()
    follow_redirects: bool = True
    timeout_s: float = 10.0
    hostname: str = ""
    record_type: str = "A"
    expected_values: tuple[str, ...] = ()
    last_values: tuple[str, ...] = ()

    @classmethod
    def from_monitor(cls, m) -> CheckSpec:
        return cls(
            monitor_id=m.pk,
            kind=m.kind,
            url=m.url,
            method=m.method,
            expected_statuses=m.expected_statuses,
            keyword=m.keyword,
            keyword_mode=m.keyword_mode,
            max_response_ms=m.max_response_ms,
            headers=tuple(sorted((m.headers or {}).items())),
            follow_redirects=m.follow_redirects,
            timeout_s=float(m.timeout_s),
            hostname=m.hostname,
            record_type=m.record_type or "A",
            expected_values=tuple(m.expected_values or ()),
            last_values=tuple(m.last_values or ()),
        )


@dataclass(frozen=True)
class Outcome:
    """What one check found; ``message`` is the cause in plain words when not ok."""

    monitor_id: int
    ok: bool
    checked_at: datetime
    message: str = ""
    latency_ms: int | None = None
    status_code: int | None = None
    snippet: str = ""
    expires_at: datetime | None = None  # TLS and domain expiry
    values: tuple[str, ...] | None = None  # DNS: the records seen
    extra: dict = field(default_factory=dict)
