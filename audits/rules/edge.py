"""Rules of the ``edge.*`` checks (stage ``edge``): the CDN in front of the store, origins
that bypass it, caching, compression and HTTP/2. The ``http.*`` checks are in
``http.py``, the certificates (``tls.*``) in ``tls.py``."""

from __future__ import annotations

import re
from collections import defaultdict

from audits.facts import AssetFacts, OriginProbe, host_of
from audits.findings import FindingData
from audits.providers import ProviderMatch, detect_cdn, host_cdn
from audits.rules.base import RuleContext, Skip, rule

STATIC_MIN_AGE = 86_400
COMPRESS_MIN_BYTES = 200  # below this gzip saves next to nothing, so servers may skip it


@rule("edge.no_cdn")
def no_cdn(ctx: RuleContext) -> list[FindingData]:
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
def origin_exposed(ctx: RuleContext) -> list[FindingData]:
    canonical = ctx.site.canonical_host
    cdn = host_cdn(ctx.facts, canonical)
    if not cdn:
        page = ctx.facts.root_page(canonical)
        dns_host = ctx.facts.dns.host(canonical) if ctx.facts.dns else None
        if (page is None or page.status is None) and not (dns_host and dns_host.resolves):
            reason = "the canonical host neither resolved nor answered, so whether a CDN hides an origin is unknown"
            return [ctx.inconclusive("edge.origin_exposed", canonical, reason)]
        raise Skip("no CDN in front of the store, so no origin is hidden behind one (edge.no_cdn reports it)")
    findings = []
    for probe in ctx.facts.origin_probes:
        if _cdn_answers_for(ctx, probe):
            continue
        if probe.serves_site is None:
            findings.append(
                ctx.inconclusive("edge.origin_exposed", probe.host, probe.evidence or "no answer")
            )
        elif probe.serves_site and not _separate_deployment(probe):
            findings.append(ctx.fail("edge.origin_exposed", probe.host, _origin_evidence(ctx, probe, cdn)))
    return findings


def _proxied_addresses(ctx: RuleContext) -> set[str]:
    """Addresses of the store's hosts that the CDN answers for: its own edge addresses,
    whatever their range."""
    if not ctx.facts.dns:
        return set()
    found: set[str] = set()
    for name in {ctx.site.canonical_host, ctx.site.apex, ctx.site.www}:
        host = ctx.facts.dns.host(name)
        if host and host_cdn(ctx.facts, name):
            found.update(host.addresses)
    return found


def _cdn_answers_for(ctx: RuleContext, probe: OriginProbe) -> str:
    """Why the CDN is in front of ``probe``'s address after all ("" when nothing shows it)."""
    if detect_cdn([probe.address]):
        return f"{probe.address} is the CDN's address"
    host = ctx.facts.dns.host(probe.host) if ctx.facts.dns else None
    if ({probe.address} | set(host.addresses if host else [])) & _proxied_addresses(ctx):
        return "the same address as the proxied host"
    canonical = ctx.facts.dns.host(ctx.site.canonical_host) if ctx.facts.dns else None
    proxied_names = {ctx.site.canonical_host, *(canonical.cname_chain if canonical else [])}
    if host and any(name.rstrip(".").lower() in proxied_names for name in host.cname_chain):
        return "a CNAME to the proxied host"
    if cdn := detect_cdn(headers=probe.headers):
        return f"{cdn.name} answers for it ({cdn.via})"
    return ""


def _separate_deployment(probe: OriginProbe) -> bool:
    """A deployment whose pages name its own host as canonical (a preview, a staging copy)
    is not production's origin, even when its page looks the same."""
    return bool(probe.canonical_link) and host_of(probe.canonical_link) == probe.host


def _origin_evidence(ctx: RuleContext, probe: OriginProbe, cdn: ProviderMatch) -> list[str]:
    """What shows the CDN is absent for this address: DNS, then the direct answer."""
    canonical = ctx.site.canonical_host
    proxied = ", ".join(sorted(_proxied_addresses(ctx))) or "its CDN addresses"
    server = probe.headers.get("server", "")
    evidence = [
        f"{canonical} is behind {cdn.name} ({cdn.via}) at {proxied}",
        f"{probe.host} resolves to {probe.address}: not a {cdn.name} address, not a CNAME to {canonical}",
        f"https://{probe.host}/ answered HTTP {probe.status or '?'} with no {cdn.name} header"
        + (f" (Server: {server})" if server else ""),
    ]
    if probe.evidence:
        evidence.append(probe.evidence)
    return evidence


def _own_assets(
    ctx: RuleContext, check_id: str, kinds: set[str]
) -> tuple[list[AssetFacts], list[FindingData]]:
    """The site's readable assets of ``kinds``, and an inconclusive finding for each host
    none of whose files could be read: never a pass for files nobody saw."""
    assets = [a for a in ctx.facts.assets if a.kind in kinds and ctx.is_site_host(host_of(a.url))]
    if not assets:
        home = ctx.facts.home()
        if home is not None and home.status == 200 and not home.unavailable:
            raise Skip("the homepage links no CSS, JavaScript or image file of the site")
        why = (home.unavailable or home.error or f"it answered HTTP {home.status}") if home else ""
        reason = f"the homepage could not be read, so its files were not found ({why})"
        return [], [
            ctx.inconclusive(
                check_id, ctx.site.canonical_host, reason if home else "the homepage was not read"
            )
        ]
    readable = [a for a in assets if a.status == 200 and not a.unavailable]
    unread: dict[str, list[str]] = defaultdict(list)
    for asset in assets:
        if asset not in readable:
            why = asset.unavailable.reason if asset.unavailable else f"HTTP {asset.status}"
            unread[host_of(asset.url)].append(f"{asset.url}: {why}")
    seen_hosts = {host_of(a.url) for a in readable}
    inconclusive = [
        ctx.inconclusive(check_id, host, "no file could be read: " + "; ".join(lines[:3]))
        for host, lines in sorted(unread.items())
        if host not in seen_hosts
    ]
    return readable, inconclusive


def _past_certificate(assets: list[AssetFacts]) -> list[str]:
    if any(a.read_past_certificate for a in assets):
        return ["(read past the certificate browsers refuse, which the tls.* findings report)"]
    return []


def _max_age(cache_control: str) -> int | None:
    cc = cache_control.lower()
    if "no-store" in cc or "no-cache" in cc:
        return 0
    # At most 18 significant digits (int() refuses more than 4,300; a year is 8).
    ages = [int(m.lstrip("0")[:18] or 0) for m in re.findall(r"(?:s-maxage|max-age)\s*=\s*(\d+)", cc)]
    return max(ages) if ages else None


@rule("edge.static_not_cached")
def static_not_cached(ctx: RuleContext) -> list[FindingData]:
    by_host: dict[str, list[str]] = defaultdict(list)
    assets, findings = _own_assets(ctx, "edge.static_not_cached", {"css", "js", "image", "font"})
    for asset in assets:
        age = _max_age(asset.cache_control)
        if age is None or age < STATIC_MIN_AGE:
            by_host[host_of(asset.url)].append(
                f"{asset.url}: Cache-Control: {asset.cache_control or 'missing'}"
            )
    return findings + [
        ctx.fail("edge.static_not_cached", h, lines[:15] + _past_certificate(assets))
        for h, lines in sorted(by_host.items())
    ]


@rule("edge.no_compression")
def no_compression(ctx: RuleContext) -> list[FindingData]:
    by_host: dict[str, list[str]] = defaultdict(list)
    assets, findings = _own_assets(ctx, "edge.no_compression", {"html", "css", "js"})
    for asset in assets:
        encoding = asset.content_encoding.lower()
        if asset.size >= COMPRESS_MIN_BYTES and not any(
            e in encoding for e in ("gzip", "br", "zstd", "deflate")
        ):
            by_host[host_of(asset.url)].append(
                f"{asset.url}: {asset.size} bytes, Content-Encoding: {encoding or 'none'}"
            )
    return findings + [
        ctx.fail("edge.no_compression", h, lines[:15] + _past_certificate(assets))
        for h, lines in sorted(by_host.items())
    ]


@rule("edge.no_http2")
def no_http2(ctx: RuleContext) -> list[FindingData]:
    host = ctx.site.canonical_host
    tls = ctx.facts.tls_for(host)
    if tls is None or tls.unavailable:
        return [
            ctx.inconclusive(
                "edge.no_http2", host, tls.unavailable if tls and tls.unavailable else "TLS was not probed"
            )
        ]
    if not tls.handshake_ok:
        # tls.handshake_failed reports the failure; what ALPN would offer was not seen.
        reason = f"no secure (HTTPS) connection to {host} could be opened, so HTTP/2 could not be asked for ({tls.error or 'it failed'})"
        return [ctx.inconclusive("edge.no_http2", host, reason)]
    if tls.http2 is None:
        return [ctx.inconclusive("edge.no_http2", host, "the ALPN negotiation gave no clear answer")]
    if tls.http2:
        return []
    return [ctx.fail("edge.no_http2", host, f"{host}:443 offers only HTTP/1.1 in ALPN")]
