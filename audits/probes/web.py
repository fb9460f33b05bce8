"""Probes of the web (the ``http.*`` and ``edge.*`` checks): redirect chains, pages,
static assets, and origins that bypass the CDN."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import re
from contextlib import nullcontext
from urllib.parse import urljoin, urlsplit

from audits import detect
from audits.facts import (
    AssetFacts,
    DnsFacts,
    HostDns,
    HttpHop,
    OriginProbe,
    PageFacts,
    RedirectChain,
    Unavailable,
    host_of,
)
from audits.providers import detect_cdn
from launchready import net
from launchready.domains import hostname_under

from .base import BudgetExhausted, ProbeRun, response_headers, route_urls
from .dns import contactable

_STYLESHEET = re.compile(r"<link\b[^>]*\brel=[\"']?stylesheet[^>]*>", re.I)
_HREF = re.compile(r"\bhref=[\"']?([^\"' >]+)", re.I)
_IMG = re.compile(r"<img\b[^>]*\bsrc=[\"']?([^\"' >]+)", re.I)
_CANONICAL = re.compile(r"<link\b[^>]*\brel=[\"']?canonical\b[^>]*>", re.I)


# --- redirect chains ------------------------------------------------------------------


def entry_urls(run: ProbeRun) -> list[str]:
    apex, www = run.site.apex, run.site.www
    return [f"{scheme}://{host}/" for host in (apex, www) for scheme in ("http", "https")]


async def probe_redirects(run: ProbeRun) -> list[RedirectChain]:
    entries = [(u, "entry") for u in entry_urls(run)]
    entries += [(u, "campaign") for u in run.site.campaign_urls]
    return list(await asyncio.gather(*(chain(run, u, kind) for u, kind in entries)))


async def chain(run: ProbeRun, url: str, kind: str) -> RedirectChain:
    try:
        result = await run.fetch(url, max_body_bytes=64 * 1024)
    except BudgetExhausted as exc:
        return RedirectChain(entry_url=url, kind=kind, unavailable=Unavailable(str(exc)))
    hops = [hop_fact(h) for h in result.hops]
    loop = bool(
        result.error and result.error.kind in (net.ErrorKind.REDIRECT_LOOP, net.ErrorKind.TOO_MANY_REDIRECTS)
    )
    unavailable = None
    if result.final and result.final.status:
        unavailable = detect.detect_block(
            result.final.status, response_headers(result.final), result.text()[:4000]
        )
    return RedirectChain(
        entry_url=url,
        kind=kind,
        hops=hops,
        loop=loop,
        error=result.error.message if result.error else "",
        error_kind=str(result.error.kind) if result.error else "",
        unavailable=unavailable,
    )


# --- pages ----------------------------------------------------------------------------


async def probe_route_pages(run: ProbeRun) -> list[PageFacts]:
    return list(await asyncio.gather(*(page(run, url, route=name) for name, url in route_urls(run.site))))


async def probe_host_pages(
    run: ProbeRun, hosts: list[str], limit: asyncio.Semaphore | None = None
) -> list[PageFacts]:
    """The root page of every host; each request holds ``limit`` (when given) while it runs."""
    return list(await asyncio.gather(*(host_root(run, h, limit) for h in hosts)))


async def host_root(run: ProbeRun, host: str, limit: asyncio.Semaphore | None = None) -> PageFacts:
    async with limit if limit is not None else nullcontext():
        return await _host_root(run, host)


async def _host_root(run: ProbeRun, host: str) -> PageFacts:
    found = await page(run, f"https://{host}/", route="", follow=False)
    if found.status is None and not found.unavailable:
        # No HTTPS at all: what does plain HTTP serve?
        fallback = await page(run, f"http://{host}/", route="", follow=False)
        if fallback.status is not None:
            return fallback
    return found


async def page(run: ProbeRun, url: str, *, route: str, follow: bool = True) -> PageFacts:
    try:
        result = await run.fetch(url, follow_redirects=follow, read_past_certificate=True)
    except BudgetExhausted as exc:
        return PageFacts(url=url, route=route, unavailable=Unavailable(str(exc)))
    found = page_fact(url, route, result)
    if found.status is not None and host_of(url) in run.refused_certificates:
        # Read past a certificate browsers refuse: say so, so the report never quotes this
        # page's content beside a chain that stopped at the certificate without explaining.
        found = dataclasses.replace(found, read_past_certificate=True)
    return found


def home_page(pages: list[PageFacts]) -> PageFacts | None:
    return next((p for p in pages if p.route == "home"), None)


# --- static assets --------------------------------------------------------------------


async def probe_assets(run: ProbeRun, pages: list[PageFacts]) -> list[AssetFacts]:
    home = home_page(pages)
    if home is None or home.status != 200:
        return []
    urls = asset_urls(home, run.site.domain)
    results = [
        AssetFacts(
            url=home.final_url or home.url,
            kind="html",
            status=home.status,
            cache_control=home.headers.get("cache-control", ""),
            content_encoding=home.headers.get("content-encoding", ""),
            content_type=home.headers.get("content-type", ""),
            size=home.body_bytes,
            read_past_certificate=home.read_past_certificate,
        )
    ]
    results += await asyncio.gather(*(asset(run, u, k) for u, k in urls))
    return results


async def asset(run: ProbeRun, url: str, kind: str) -> AssetFacts:
    try:
        # Past a refused certificate like the pages and timings of the same host, so one
        # host's facts agree (the tls.* checks report the certificate itself).
        result = await run.fetch(
            url,
            headers={"Accept-Encoding": "gzip, deflate, br"},
            max_body_bytes=512 * 1024,
            read_past_certificate=True,
        )
    except BudgetExhausted as exc:
        return AssetFacts(url=url, kind=kind, unavailable=Unavailable(str(exc)))
    if not result.ok:
        return AssetFacts(url=url, kind=kind, unavailable=Unavailable(result.error.message))
    return AssetFacts(
        url=result.final_url,
        kind=kind,
        status=result.status,
        cache_control=result.header("cache-control") or "",
        content_encoding=result.content_encoding or result.header("content-encoding") or "",
        content_type=result.header("content-type") or "",
        size=result.body_bytes_read,
        read_past_certificate=host_of(url) in run.refused_certificates,
    )


# --- origins behind the CDN -----------------------------------------------------------


async def probe_origins(run: ProbeRun, dns: DnsFacts, pages: list[PageFacts]) -> list[OriginProbe]:
    """Hosts that bypass the CDN the canonical host sits behind, and serve the same site."""
    site = run.site
    canonical = dns.host(site.canonical_host)
    home = home_page(pages)
    if not canonical or not home or not home.html:
        return []
    canonical_cdn = detect_cdn(
        addresses=canonical.addresses, headers=home.headers, cname_chain=canonical.cname_chain
    )
    if canonical_cdn is None:
        return []
    reachable = set(contactable(dns.hosts, run.config))
    candidates = [
        h
        for h in dns.hosts
        if h.name in reachable
        and h.name not in (site.canonical_host, site.apex, site.www)
        and detect_cdn(addresses=h.addresses, headers={}, cname_chain=h.cname_chain) is None
    ]

    async def probe(h: HostDns) -> OriginProbe:
        found = await page(run, f"https://{h.name}/", route="", follow=False)
        title = found.html.title if found.html else ""
        same = bool(title) and title == home.html.title
        evidence = (
            f"https://{h.name}/ answers HTTP {found.status} with the storefront's title “{title}”"
            if same
            else f"https://{h.name}/ → {found.status or found.error}"
        )
        return OriginProbe(
            host=h.name,
            address=h.addresses[0],
            serves_site=same if found.status else None,
            evidence=evidence,
            status=found.status,
            headers=found.headers,
            canonical_link=canonical_link(found),
        )

    return list(await asyncio.gather(*(probe(h) for h in candidates[:10])))


# --- conversions from the network layer's results to facts (pure) ---------------------


def hop_fact(hop: net.Hop) -> HttpHop:
    return HttpHop(
        url=hop.url,
        status=hop.status,
        location=hop.location or "",
        headers=response_headers(hop),
        elapsed_ms=hop.timings.total_ms,
        error=hop.error.message if hop.error else "",
    )


def page_fact(url: str, route: str, result: net.FetchResult) -> PageFacts:
    final = result.final
    if final is None or final.status is None:
        return PageFacts(url=url, route=route, error=result.error.message if result.error else "no answer")
    headers = response_headers(final)
    body = result.text()
    cookies = [detect.parse_set_cookie(v) for v in final.header_all("set-cookie")]
    html = None
    if "html" in headers.get("content-type", "") or body.lstrip()[:15].lower().startswith(
        ("<!doctype", "<html")
    ):
        html = detect.analyse_html(body, final.url, len(result.body))
    return PageFacts(
        url=url,
        route=route,
        final_url=final.url if final.url != url else "",
        status=final.status,
        headers=headers,
        cookies=cookies,
        body_bytes=len(result.body),
        truncated=result.body_truncated,
        body_excerpt=body[:8000],
        body_sha256=hashlib.sha256(result.body).hexdigest() if result.body else "",
        html=html,
        error=result.error.message if result.error else "",
        unavailable=detect.detect_block(final.status, headers, body[:4000]),
    )


def canonical_link(page: PageFacts) -> str:
    """The absolute URL of the page's ``<link rel="canonical">``, or ""."""
    tag = _CANONICAL.search(page.body_excerpt)
    href = _HREF.search(tag.group(0)) if tag else None
    return urljoin(page.final_url or page.url, href.group(1)) if href else ""


def asset_urls(home: PageFacts, domain: str, limit: int = 3) -> list[tuple[str, str]]:
    """A few same-site CSS, JS and image URLs referenced by the homepage."""
    base = home.final_url or home.url
    found: dict[str, list[str]] = {"css": [], "js": [], "image": []}
    body = home.body_excerpt
    for tag in _STYLESHEET.findall(body):
        m = _HREF.search(tag)
        if m:
            found["css"].append(m.group(1))
    for script in home.html.scripts if home.html else []:
        if script.src:
            found["js"].append(script.src)
    found["image"] += _IMG.findall(body)
    out: list[tuple[str, str]] = []
    for kind, urls in found.items():
        seen = 0
        for raw in urls:
            absolute = urljoin(base, raw)
            host = host_of(absolute)
            if urlsplit(absolute).scheme in ("http", "https") and hostname_under(host, domain):
                out.append((absolute, kind))
                seen += 1
                if seen >= limit:
                    break
    return out
