"""Pure rules: from the facts of one check to ok / not ok and a cause in plain words.

No I/O here: each rule is unit tested with literal inputs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from launchready.net import CertProblem, ErrorKind, NetError

from .specs import Cause, CauseKind

SNIPPET_CHARS = 300


def parse_statuses(spec: str) -> list[tuple[int, int]]:
    """``"200-299,301"`` → ``[(200, 299), (301, 301)]``; ValueError with a sentence otherwise."""
    ranges: list[tuple[int, int]] = []
    for part in (spec or "").split(","):
        part = part.strip()
        if not part:
            continue
        low, _, high = part.partition("-")
        try:
            lo, hi = int(low), int(high or low)
        except ValueError:
            raise ValueError(f"“{part}” is not a status code or a range like 200-299.") from None
        if not (100 <= lo <= hi <= 599):
            raise ValueError(f"“{part}” is outside the status codes 100–599.")
        ranges.append((lo, hi))
    if not ranges:
        raise ValueError("List at least one expected status, e.g. 200-299.")
    return ranges


def status_expected(status: int, spec: str) -> bool:
    return any(lo <= status <= hi for lo, hi in parse_statuses(spec))


def snippet(text: str) -> str:
    flat = " ".join(text.split())
    return flat[:SNIPPET_CHARS]


@dataclass(frozen=True)
class HttpVerdict:
    ok: bool
    message: str


def evaluate_http(
    *,
    error_message: str | None,
    status: int | None,
    body_text: str,
    elapsed_ms: float,
    expected_statuses: str,
    keyword: str = "",
    keyword_mode: str = "present",
    max_response_ms: int | None = None,
) -> HttpVerdict:
    """The verdict on one HTTP response; the first failing rule names the cause."""
    if error_message:
        return HttpVerdict(False, error_message)
    if status is None:
        return HttpVerdict(False, "No response was received.")
    if not status_expected(status, expected_statuses):
        return HttpVerdict(False, f"Status {status} (expected {expected_statuses}).")
    if keyword:
        found = keyword.lower() in body_text.lower()
        if keyword_mode == "present" and not found:
            return HttpVerdict(False, f"Keyword “{keyword}” missing from the page.")
        if keyword_mode == "absent" and found:
            return HttpVerdict(False, f"Keyword “{keyword}” found on the page.")
    if max_response_ms is not None and elapsed_ms > max_response_ms:
        return HttpVerdict(False, f"Response took {elapsed_ms:.0f} ms (limit {max_response_ms} ms).")
    return HttpVerdict(True, f"Status {status} in {elapsed_ms:.0f} ms.")


def normalize_records(values) -> tuple[str, ...]:
    return tuple(sorted({v.strip().rstrip(".").lower() for v in values if v and v.strip()}))


def evaluate_dns(
    *, error_message: str | None, seen: tuple[str, ...], expected: tuple[str, ...], previous: tuple[str, ...]
) -> HttpVerdict:
    """Expected values given: they must match exactly. Otherwise: alert when the answer changes."""
    if error_message:
        return HttpVerdict(False, error_message)
    seen_n = normalize_records(seen)
    if expected:
        want = normalize_records(expected)
        if seen_n != want:
            return HttpVerdict(
                False, f"Records are {', '.join(seen_n) or 'empty'}; expected {', '.join(want)}."
            )
        return HttpVerdict(True, f"Records match: {', '.join(seen_n)}.")
    prev = normalize_records(previous)
    if prev and seen_n != prev:
        return HttpVerdict(
            False, f"Records changed from {', '.join(prev)} to {', '.join(seen_n) or 'nothing'}."
        )
    return HttpVerdict(True, f"Records: {', '.join(seen_n) or 'none'}.")


def evaluate_expiry(*, what: str, error_message: str | None, days_left: float | None) -> HttpVerdict:
    """``what`` is “certificate” or “domain”; the threshold alerts come from ``state.expiry_step``."""
    if error_message:
        return HttpVerdict(False, error_message)
    if days_left is None:
        return HttpVerdict(False, f"The {what} expiry date could not be read.")
    if days_left <= 0:
        return HttpVerdict(False, f"The {what} has expired.")
    return HttpVerdict(True, f"The {what} expires in {int(days_left)} days.")


# --- Causes: which failures belong to the host rather than to one page -----------------

_DNS_ERRORS = frozenset(
    {
        ErrorKind.DNS_NXDOMAIN,
        ErrorKind.DNS_NODATA,
        ErrorKind.DNS_SERVFAIL,
        ErrorKind.DNS_REFUSED,
        ErrorKind.DNS_TIMEOUT,
        ErrorKind.DNS_ERROR,
    }
)
_TCP_ERRORS = frozenset({ErrorKind.CONNECT_TIMEOUT, ErrorKind.CONNECTION_REFUSED, ErrorKind.CONNECT_ERROR})
# OpenSSL verify codes (X509_V_ERR_*) that name the problem when no finer reason was found.
_VERIFY_CODES = {
    10: CertProblem.EXPIRED,
    62: CertProblem.HOSTNAME_MISMATCH,
    64: CertProblem.HOSTNAME_MISMATCH,
}
_VERIFY_CODE = re.compile(r"\bcode (\d+)\b")


def host_key(host: str) -> str:
    """One spelling per host name: lower case, no trailing dot, IDNA (ASCII) form."""
    name = host.strip().rstrip(".").lower()
    if not name.isascii():
        try:
            name = name.encode("idna").decode("ascii")
        except UnicodeError:
            pass
    return name


def cause_of_cert_problem(problem: CertProblem, host: str) -> Cause:
    if problem == CertProblem.EXPIRED:
        kind = CauseKind.CERT_EXPIRED
    elif problem == CertProblem.HOSTNAME_MISMATCH:
        kind = CauseKind.CERT_MISMATCH
    else:
        kind = CauseKind.CERT_UNTRUSTED
    return Cause(kind, host_key(host))


def _cert_problem_of(error: NetError) -> CertProblem:
    """The certificate problem the network layer named in ``detail`` (``"expired; OpenSSL: …"``)."""
    token = error.detail.partition(";")[0].strip()
    try:
        return CertProblem(token)
    except ValueError:
        pass
    code = _VERIFY_CODE.search(error.detail)
    return _VERIFY_CODES.get(int(code.group(1)), CertProblem.INVALID) if code else CertProblem.INVALID


def cause_of_error(error: NetError | None, host: str) -> Cause | None:
    """The host-level cause of a network failure on ``host``, or None for a page-level one."""
    if error is None or not host:
        return None
    if error.kind in _DNS_ERRORS:
        return Cause(CauseKind.DNS, host_key(host))
    if error.kind in _TCP_ERRORS:
        return Cause(CauseKind.TCP, host_key(host))
    if error.kind == ErrorKind.TLS_CERTIFICATE:
        return cause_of_cert_problem(_cert_problem_of(error), host)
    if error.kind == ErrorKind.TLS_ERROR:
        return Cause(CauseKind.TLS, host_key(host))
    return None
