"""Rules of the ``edge.*`` checks (stage ``edge``): the CDN in front of the store, origins
that bypass it, caching, compression and HTTP/2. The ``http.*`` checks are in
``http.py``, the certificates (``tls.*``) in ``tls.py``."""

from __future__ import annotations

import re
from collections import defaultdict

from audits.facts import AssetFacts, host_of
from audits.findings import Finding
from audits.providers import detect_cdn, host_cdn
from audits.rules.base import RuleContext, Skip, rule

STATIC_MIN_AGE = 86_400
COMPRESS_MIN_BYTES = 200  # below this gzip saves next to nothing, so servers may skip it


@rule("edge.no_cdn")
def no_cdn(ctx: RuleContext) -> list[Finding]:
    host = ctx.site.canonical_host
    dns_host = ctx.facts.dns.host(host) if ctx.facts.dns else None
    page = ctx.facts.root_page(host)
    if dns_host is None and page is None:
        return [ctx.inconclusive("edge.no_cdn", host, "the canonical host was not probed")]
    if host_cdn(ctx.facts, host):
        return []
    page_answered = page is not None and page.status is not None and not page.unavailable
    if not page_answered and not (dns_host and dns_host.addresses):
        reason = page.unavailable if page and page.unavailable else "the host neither resolved nor answered"
        return [ctx.inconclusive("edge.no_cdn", host, reason)]
    evidence = [f"{host} resolves to {', '.join(dns_host.addresses) if dns_host else 'unknown'}"]
    if page:
        evidence.append(
            f"Server: {page.headers.get('server', '—')}; no CDN headers (cf-ray, x-served-by, x-amz-cf-id…)"
        )
    return [ctx.fail("edge.no_cdn", host, evidence)]


@rule("edge.origin_exposed")
def origin_exposed(ctx: RuleContext) -> list[Finding]:
    canonical = ctx.site.canonical_host
    cdn = host_cdn(ctx.facts, canonical)
    if not cdn:
        return []  # nothing is hidden: edge.no_cdn reports the missing proxy
    findings = []
    for probe in ctx.facts.origin_probes:
        if detect_cdn([probe.address]):
            continue
        if probe.serves_site is None:
            findings.append(
                ctx.inconclusive("edge.origin_exposed", probe.host, probe.evidence or "no answer")
            )
        elif probe.serves_site:
            evidence = [
                f"{canonical} is behind {cdn.name} ({cdn.via})",
                f"{probe.host} points at {probe.address}, which serves the store directly",
            ]
            if probe.evidence:
                evidence.append(probe.evidence)
            findings.append(ctx.fail("edge.origin_exposed", probe.host, evidence))
    return findings


def _own_assets(ctx: RuleContext, kinds: set[str]) -> list[AssetFacts]:
    assets = [a for a in ctx.facts.assets if a.kind in kinds and ctx.is_site_host(host_of(a.url))]
    if not assets:
        raise Skip("no static files of the site were fetched")
    return [a for a in assets if a.status == 200 and not a.unavailable]


def _max_age(cache_control: str) -> int | None:
    cc = cache_control.lower()
    if "no-store" in cc or "no-cache" in cc:
        return 0
    ages = [int(m) for m in re.findall(r"(?:s-maxage|max-age)\s*=\s*(\d+)", cc)]
    return max(ages) if ages else None


@rule("edge.static_not_cached")
def static_not_cached(ctx: RuleContext) -> list[Finding]:
    by_host: dict[str, list[str]] = defaultdict(list)
    for asset in _own_assets(ctx, {"css", "js", "image", "font"}):
        age = _max_age(asset.cache_control)
        if age is None or age < STATIC_MIN_AGE:
            by_host[host_of(asset.url)].append(
                f"{asset.url}: Cache-Control: {asset.cache_control or 'missing'}"
            )
    return [ctx.fail("edge.static_not_cached", h, lines[:15]) for h, lines in sorted(by_host.items())]


@rule("edge.no_compression")
def no_compression(ctx: RuleContext) -> list[Finding]:
    by_host: dict[str, list[str]] = defaultdict(list)
    for asset in _own_assets(ctx, {"html", "css", "js"}):
        encoding = asset.content_encoding.lower()
        if asset.size >= COMPRESS_MIN_BYTES and not any(
            e in encoding for e in ("gzip", "br", "zstd", "deflate")
        ):
            by_host[host_of(asset.url)].append(
                f"{asset.url}: {asset.size} bytes, Content-Encoding: {encoding or 'none'}"
            )
    return [ctx.fail("edge.no_compression", h, lines[:15]) for h, lines in sorted(by_host.items())]


@rule("edge.no_http2")
def no_http2(ctx: RuleContext) -> list[Finding]:
    host = ctx.site.canonical_host
    tls = ctx.facts.tls_for(host)
    if tls is None or tls.unavailable:
        return [
            ctx.inconclusive(
                "edge.no_http2", host, tls.unavailable if tls and tls.unavailable else "TLS was not probed"
            )
        ]
    if not tls.handshake_ok:
        return []  # tls.handshake_failed reports it
    if tls.http2 is None:
        return [ctx.inconclusive("edge.no_http2", host, "the ALPN negotiation gave no clear answer")]
    if tls.http2:
        return []
    return [ctx.fail("edge.no_http2", host, f"{host}:443 offers only HTTP/1.1 in ALPN")]
