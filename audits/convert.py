"""From the network layer's results to facts: pure functions, no I/O.

The probes call ``launchready.net`` (``resolve``, ``query_nameserver``, ``fetch``,
``tls_handshake``, ``tls_protocol_support``) and pass what comes back through these
functions, so the rules only ever see ``audits.facts``. The mapping decisions live here:
which network errors make a fact *unavailable* (the check is inconclusive) and which
are real failures of the site (connect errors, timeouts of the site, refused
certificates), and when an answer is a WAF or rate limit rather than the site.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable

from audits.detect import analyse_html, detect_block, parse_set_cookie, sniff_exposure
from audits.facts import (
    AssetFacts,
    CertInfo,
    Cookie,
    DnsAnswer,
    DnsRecord,
    DnsStatus,
    ExposureProbe,
    HttpHop,
    NameServerFacts,
    PageFacts,
    RedirectChain,
    RouteSpec,
    RouteTiming,
    TlsFacts,
    Unavailable,
    UnavailableKind,
    VerifyError,
)
from launchready import net

logger = logging.getLogger(__name__)

BODY_EXCERPT_CHARS = 4096

# Failures on our side or of the query itself: the fact is missing, the check inconclusive.
_UNAVAILABLE_ERRORS = {
    net.ErrorKind.INVALID_URL: UnavailableKind.ERROR,
    net.ErrorKind.BLOCKED: UnavailableKind.BLOCKED,  # the SSRF guard refused the address
    net.ErrorKind.DNS_TIMEOUT: UnavailableKind.TIMEOUT,
    net.ErrorKind.DNS_ERROR: UnavailableKind.ERROR,
    net.ErrorKind.DNS_REFUSED: UnavailableKind.ERROR,
}
_LOOP_ERRORS = {net.ErrorKind.REDIRECT_LOOP, net.ErrorKind.TOO_MANY_REDIRECTS}

_CERT_PROBLEMS = {
    net.CertProblem.EXPIRED: VerifyError.EXPIRED,
    net.CertProblem.NOT_YET_VALID: VerifyError.NOT_YET_VALID,
    net.CertProblem.HOSTNAME_MISMATCH: VerifyError.HOSTNAME_MISMATCH,
    net.CertProblem.SELF_SIGNED: VerifyError.SELF_SIGNED,
    net.CertProblem.UNTRUSTED_ROOT: VerifyError.UNTRUSTED,
    net.CertProblem.UNKNOWN_ISSUER: VerifyError.UNTRUSTED,
    net.CertProblem.INVALID: VerifyError.UNTRUSTED,
    net.CertProblem.INCOMPLETE_CHAIN: VerifyError.INCOMPLETE_CHAIN,
    # WEAK_KEY: tls.weak_key reads the key size from the certificate itself.
}


def unavailable_for(error: net.NetError | None) -> Unavailable | None:
    """An ``Unavailable`` when ``error`` is about our side (guard, bad URL, resolver), else None."""
    if error is None or error.kind not in _UNAVAILABLE_ERRORS:
        return None
    return Unavailable(error.message, _UNAVAILABLE_ERRORS[error.kind])


# --- DNS -------------------------------------------------------------------------------


def dns_answer(answer: net.DnsAnswer) -> DnsAnswer:
    try:
        status = DnsStatus(answer.status.value)
    except ValueError:
        status = DnsStatus.ERROR
    ttl = answer.ttl if answer.ttl is not None else 0
    # The network layer's chain starts with the name asked; facts list only the targets.
    chain = [n for n in answer.cname_chain if n != answer.name]
    return DnsAnswer(
        name=answer.name,
        rtype=answer.rdtype,
        status=status,
        records=[DnsRecord(answer.rdtype, value, ttl) for value in answer.records],
        cname_chain=chain,
        error=answer.error.message if answer.error else "",
    )


def nameserver_facts(
    name: str,
    addresses: list[str],
    soa: net.NameserverAnswer | None,
    apex_a: net.NameserverAnswer | None = None,
    www_a: net.NameserverAnswer | None = None,
) -> NameServerFacts:
    """One listed name server, asked directly for the zone's SOA and the apex/www addresses."""
    if soa is None or soa.rcode == "":
        reason = soa.error.message if soa and soa.error else "no answer"
        return NameServerFacts(name=name, addresses=addresses, responded=False, error=reason)
    error = "" if soa.rcode == "NOERROR" else f"answers {soa.rcode}"
    return NameServerFacts(
        name=name,
        addresses=addresses,
        responded=True,
        authoritative=soa.authoritative and soa.rcode == "NOERROR",
        soa_serial=soa.soa_serial,
        apex_a=sorted(apex_a.records) if apex_a and apex_a.ok else [],
        www_a=sorted(www_a.records) if www_a and www_a.ok else [],
        error=error,
    )


# --- HTTP ------------------------------------------------------------------------------


def header_dict(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Lower-case names; repeated headers joined with ", " as HTTP allows."""
    result: dict[str, str] = {}
    for key, value in headers:
        key = key.lower()
        result[key] = f"{result[key]}, {value}" if key in result else value
    return result


def _hop(hop: net.Hop) -> HttpHop:
    return HttpHop(
        url=hop.url,
        status=hop.status,
        location=hop.location or "",
        headers=header_dict(hop.headers),
        elapsed_ms=hop.timings.total_ms,
        error=hop.error.message if hop.error else "",
    )


def _blocked(result: net.FetchResult) -> Unavailable | None:
    final = result.final
    if final is None or final.status is None:
        return None
    return detect_block(final.status, header_dict(final.headers), result.text()[:20_000])


def redirect_chain(result: net.FetchResult, kind: str = "entry") -> RedirectChain:
    error = result.error
    return RedirectChain(
        entry_url=result.url,
        kind=kind,
        hops=[_hop(h) for h in result.hops],
        loop=bool(error and error.kind in _LOOP_ERRORS),
        error=error.message if error and error.kind not in _LOOP_ERRORS else "",
        error_kind=str(error.kind) if error else "",
        unavailable=unavailable_for(error) or _blocked(result),
    )


def cookies_of(result: net.FetchResult) -> list[Cookie]:
    """Cookies set over HTTPS along the chain (the last one of a name wins)."""
    found: dict[str, Cookie] = {}
    for hop in result.hops:
        if hop.url.startswith("https://"):
            for value in hop.header_all("set-cookie"):
                cookie = parse_set_cookie(value)
                if cookie.name:
                    found[cookie.name] = cookie
    return list(found.values())


def page_facts(result: net.FetchResult, route: str = "") -> PageFacts:
    """A fetched page: final status and headers, cookies, and what its HTML shows."""
    final = result.final
    headers = header_dict(final.headers) if final else {}
    text = result.text() if result.body else ""
    is_html = "html" in headers.get("content-type", "") or text.lstrip()[:15].lower().startswith(
        ("<!doctype", "<html")
    )
    return PageFacts(
        url=result.url,
        route=route,
        final_url=result.final_url if result.final_url != result.url else "",
        status=result.status,
        headers=headers,
        cookies=cookies_of(result),
        body_bytes=len(result.body),
        truncated=result.body_truncated,
        body_excerpt=text[:BODY_EXCERPT_CHARS],
        body_sha256=hashlib.sha256(result.body).hexdigest() if result.body else "",
        html=analyse_html(text, result.final_url) if is_html and text else None,
        error=result.error.message if result.error else "",
        unavailable=unavailable_for(result.error) or _blocked(result),
    )


def asset_facts(result: net.FetchResult, kind: str) -> AssetFacts:
    """A static file fetched with ``Accept-Encoding: gzip, br``; ``size`` is the wire size."""
    headers = header_dict(result.headers)
    return AssetFacts(
        url=result.url,
        kind=kind,
        status=result.status,
        cache_control=headers.get("cache-control", ""),
        content_encoding=result.content_encoding or "",
        content_type=headers.get("content-type", ""),
        size=result.body_bytes_read,
        unavailable=unavailable_for(result.error) or _blocked(result),
    )


def exposure_probe(result: net.FetchResult) -> ExposureProbe:
    headers = header_dict(result.headers)
    content_type = headers.get("content-type", "")
    sniff, detail = sniff_exposure(result.final_url, result.status, content_type, result.text())
    return ExposureProbe(
        url=result.url,
        status=result.status,
        content_type=content_type,
        sniff=sniff,
        detail=detail,
        unavailable=unavailable_for(result.error) or _blocked(result),
    )


def route_timing(spec: RouteSpec, url: str, samples: list[net.FetchResult]) -> RouteTiming:
    """N sequential samples of one route. Server errors and connection failures count as
    errors; a WAF or rate limit on any sample makes the route inconclusive."""
    ttfb: list[float] = []
    total: list[float] = []
    errors: list[str] = []
    blocked: Unavailable | None = None
    for result in samples:
        blocked = blocked or unavailable_for(result.error) or _blocked(result)
        if result.error or result.status is None or result.status >= 500:
            errors.append(result.error.message if result.error else f"HTTP {result.status}")
            continue
        if result.timings.ttfb_ms is not None:
            ttfb.append(round(result.timings.ttfb_ms, 1))
        total.append(round(result.elapsed_ms, 1))
    return RouteTiming(
        name=spec.name,
        url=url,
        kind=spec.kind,
        budget_ms=spec.budget_ms,
        ttfb_ms=ttfb,
        total_ms=total,
        samples=len(samples),
        errors=len(errors),
        error_examples=sorted(set(errors))[:5],
        unavailable=blocked,
    )


# --- TLS -------------------------------------------------------------------------------


def cert_info(cert: net.CertificateInfo) -> CertInfo:
    return CertInfo(
        subject=cert.common_name or cert.subject,
        sans=list(cert.sans),
        issuer=cert.issuer_common_name or cert.issuer,
        not_before=cert.not_before,
        not_after=cert.not_after,
        key_type=cert.key_type,
        key_bits=cert.key_bits,
        self_signed=cert.self_issued,
    )


def tls_facts(result: net.TlsResult, protocols: net.TlsProtocolSupport | None = None) -> TlsFacts:
    """One host's handshake (and, when probed, the protocol versions it accepts)."""
    handshake_ok = bool(result.chain)
    unavailable = unavailable_for(result.error) if not handshake_ok else None
    verify = [_CERT_PROBLEMS[p] for p in result.problems if p in _CERT_PROBLEMS]
    reasons: list[str] = []
    flags: dict[str, bool | None] = {"tls10": None, "tls11": None, "tls13": None}
    if protocols is not None:
        for key, probe in (
            ("tls10", protocols.tls1_0),
            ("tls11", protocols.tls1_1),
            ("tls13", protocols.tls1_3),
        ):
            flags[key] = probe.accepted
            if probe.accepted is None and probe.reason:
                reasons.append(probe.reason)
    if flags["tls13"] is None and result.protocol == "TLSv1.3":
        flags["tls13"] = True  # the normal handshake already negotiated it
    return TlsFacts(
        host=result.host,
        handshake_ok=handshake_ok,
        error="" if handshake_ok else (result.error.message if result.error else "TLS handshake failed"),
        verify_errors=list(dict.fromkeys(verify)),
        cert=cert_info(result.chain[0]) if result.chain else None,
        chain=[cert_info(c) for c in result.chain],
        tls10=flags["tls10"],
        tls11=flags["tls11"],
        tls13=flags["tls13"],
        protocol_reason="; ".join(dict.fromkeys(reasons)),
        http2=(result.alpn == "h2") if handshake_ok else None,
        unavailable=unavailable,
    )
