"""Typed descriptions of one check and its outcome, passed between the layers.

The batch task turns ``Monitor`` rows into ``CheckSpec`` values before any I/O, so
probes never touch the ORM and results come back as ``CheckOutcome`` values that one
step writes in bulk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

MAX_TIMEOUT_S = 30  # the form's bound (``Monitor.timeout_s``); a batch must not wait longer


def _texts(values) -> tuple[str, ...]:
    return tuple(v for v in values if isinstance(v, str)) if isinstance(values, list) else ()


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
        """The check of a saved monitor; values are bounded again, whatever the row holds."""
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
            timeout_s=float(min(max(m.timeout_s or 0, 1), MAX_TIMEOUT_S)),
            hostname=m.hostname,
            record_type=m.record_type or "A",
            expected_values=_texts(m.expected_values),
            last_values=_texts(m.last_values),
        )


class CauseKind(StrEnum):
    """Failures that are about a whole host, not one page: every monitor of the host sees them."""

    DNS = "dns"  # the name does not resolve
    TCP = "tcp"  # the host refuses connections or does not answer
    TLS = "tls"  # the secure connection fails before any certificate is judged
    CERT_EXPIRED = "tls-expired"
    CERT_MISMATCH = "tls-mismatch"  # the certificate is for another name
    CERT_UNTRUSTED = "tls-untrusted"  # self-signed, incomplete chain, unknown issuer…


@dataclass(frozen=True)
class Cause:
    """Why a check failed, when the reason is the host's: monitors with the same key share one incident."""

    kind: CauseKind
    host: str

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.host}"


@dataclass(frozen=True)
class CheckOutcome:
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
    cause: Cause | None = None  # a host-level failure (typed), shared with the host's other monitors
    # The check itself failed on our side (a bug, unusable stored data): not a result
    # about the store, so it is shown on the monitor but never counted as down or up.
    internal_error: bool = False
