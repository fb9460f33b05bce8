"""Probes: the network I/O of each check kind, through ``launchready.net`` only.

Each probe takes a ``CheckSpec`` and returns an ``CheckOutcome``; it never raises and
never touches the database (a probe that times out still returns a well-formed
failed outcome, so the batch always completes).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from urllib.parse import urlsplit

from django.conf import settings

from launchready import net
from launchready.domains import parse_rdap, split_host_port

from . import rules
from .specs import CheckOutcome, CheckSpec

logger = logging.getLogger(__name__)

DEFAULT_RDAP_URL = "https://rdap.org/"  # bootstrap redirector to the registry's RDAP server
TIMEOUT_MARGIN_S = 5  # past the check's own timeout, ``run_one`` gives up on a probe


def _now() -> datetime:
    return datetime.now(UTC)


async def check_http(spec: CheckSpec, config: net.NetConfig | None = None) -> CheckOutcome:
    started = _now()
    result = await net.fetch(
        spec.url,
        method=spec.method,
        headers=dict(spec.headers),
        follow_redirects=spec.follow_redirects,
        timeout=spec.timeout_s,
        max_body_bytes=0 if spec.method == "HEAD" else 256 * 1024,
        config=config,
    )
    body = result.text() if result.body else ""
    verdict = rules.evaluate_http(
        error_message=result.error.message if result.error else None,
        status=result.status,
        body_text=body,
        elapsed_ms=result.elapsed_ms,
        expected_statuses=spec.expected_statuses,
        keyword=spec.keyword,
        keyword_mode=spec.keyword_mode,
        max_response_ms=spec.max_response_ms,
    )
    return CheckOutcome(
        monitor_id=spec.monitor_id,
        ok=verdict.ok,
        checked_at=started,
        message=verdict.message,
        latency_ms=round(result.elapsed_ms) if result.status is not None else None,
        status_code=result.status,
        snippet="" if verdict.ok else rules.snippet(body),
        cause=None if verdict.ok else rules.cause_of_error(result.error, _failed_host(result)),
    )


def _failed_host(result: net.FetchResult) -> str:
    """The host whose request failed: the last hop's (a redirect may lead to another host)."""
    try:
        return urlsplit(result.final_url).hostname or ""
    except ValueError:
        return ""


async def check_tls(spec: CheckSpec, config: net.NetConfig | None = None) -> CheckOutcome:
    started = _now()
    try:
        host, port = split_host_port(spec.hostname)
    except ValueError as exc:
        return CheckOutcome(spec.monitor_id, False, started, str(exc))
    result = await net.tls_handshake(host, port, timeout=spec.timeout_s, config=config)
    leaf = result.leaf
    expires = leaf.not_after if leaf else None
    days_left = result.days_until_expiry(started)
    error = None
    if leaf is None:
        error = result.error.message if result.error else "No certificate was presented."
    elif not result.trusted and days_left is not None and days_left > 0:
        error = result.reason_message or (
            result.error.message if result.error else "The certificate is not trusted."
        )
    verdict = rules.evaluate_expiry(what="certificate", error_message=error, days_left=days_left)
    cause = None
    if leaf is None:
        cause = rules.cause_of_error(result.error, host)
    elif days_left is not None and days_left <= 0:
        cause = rules.cause_of_cert_problem(net.CertProblem.EXPIRED, host)
    elif not result.trusted:
        cause = rules.cause_of_cert_problem(result.reason, host)
    return CheckOutcome(
        monitor_id=spec.monitor_id,
        ok=verdict.ok,
        checked_at=started,
        message=verdict.message,
        latency_ms=round(result.handshake_ms) if result.handshake_ms is not None else None,
        expires_at=expires,
        cause=None if verdict.ok else cause,
    )


async def check_domain(spec: CheckSpec, config: net.NetConfig | None = None) -> CheckOutcome:
    started = _now()
    base = (getattr(settings, "LAUNCHREADY_RDAP_URL", "") or DEFAULT_RDAP_URL).rstrip("/") + "/"
    result = await net.fetch(
        f"{base}domain/{spec.hostname}",
        headers={"Accept": "application/rdap+json"},
        timeout=spec.timeout_s,
        config=config,
    )
    expires, error = None, None
    if result.error:
        error = result.error.message
    elif result.status != 200:
        error = f"The registry's RDAP service answered {result.status}."
    else:
        try:
            expires = parse_rdap(result.json()).expires_at
        except (ValueError, TypeError, AttributeError):
            error = "The registry's RDAP answer could not be read."
    days_left = (expires - started).total_seconds() / 86400 if expires else None
    verdict = rules.evaluate_expiry(what="domain", error_message=error, days_left=days_left)
    return CheckOutcome(
        monitor_id=spec.monitor_id,
        ok=verdict.ok,
        checked_at=started,
        message=verdict.message,
        latency_ms=round(result.elapsed_ms),
        expires_at=expires,
    )


async def check_dns(spec: CheckSpec, config: net.NetConfig | None = None) -> CheckOutcome:
    started = _now()
    answer = await net.resolve(spec.hostname, spec.record_type, timeout=spec.timeout_s, config=config)
    error = None
    if not answer.ok and answer.status not in (net.DnsStatus.NODATA,):
        error = answer.error.message if answer.error else f"DNS lookup failed ({answer.status})."
    verdict = rules.evaluate_dns(
        error_message=error, seen=answer.records, expected=spec.expected_values, previous=spec.last_values
    )
    return CheckOutcome(
        monitor_id=spec.monitor_id,
        ok=verdict.ok,
        checked_at=started,
        message=verdict.message,
        latency_ms=round(answer.elapsed_ms),
        cause=rules.cause_of_error(answer.error, spec.hostname) if error is not None else None,
        values=rules.normalize_records(answer.records) if error is None else None,
    )


PROBES = {"http": check_http, "tls_expiry": check_tls, "domain_expiry": check_domain, "dns": check_dns}


async def run_one(spec: CheckSpec, config: net.NetConfig | None = None) -> CheckOutcome:
    try:
        # asyncio.timeout, not wait_for: no extra task per check on the hot path.
        async with asyncio.timeout(spec.timeout_s + TIMEOUT_MARGIN_S):
            return await PROBES[spec.kind](spec, config)
    except TimeoutError:
        return CheckOutcome(spec.monitor_id, False, _now(), f"Timed out after {spec.timeout_s:g} s.")
    except Exception:  # a bug in one probe must not sink the batch
        logger.exception("probe for monitor %s crashed", spec.monitor_id)
        return CheckOutcome(
            spec.monitor_id, False, _now(), "The check could not run (internal error).", internal_error=True
        )
