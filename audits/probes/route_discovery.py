"""Find the store's real paths before timing them (the ``performance`` stage).

A standard route name ("product", "cart"…) is only worth timing at a path that exists on
this store. The audit looks, in this order, at the sitemap (the ``Sitemap:`` lines of
robots.txt, else ``/sitemap.xml``; a sitemap index is followed a few levels), the links
of the homepage, and the conventions of the detected platform (Shopify, WooCommerce, a
headless front-end), each convention checked with one request. A product missing from
both is looked for on the listing page found. Every request is the audit's budgeted
fetch, so the SSRF guard, the request budget and the time budget apply; every size is
bounded, and sitemaps are parsed with defusedxml (no entity expansion).

The pure part (classifying a path, reading a sitemap or a page's links) is separate
from the I/O so it is unit tested with literal inputs.
"""

from __future__ import annotations

import asyncio
import logging
import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit
from xml.etree.ElementTree import ParseError

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

from audits import detect
from audits.facts import DiscoveredRoute, RouteDiscovery, RouteSpec, Unavailable, host_of
from launchready import net

from .base import BudgetExhausted, ProbeRun, response_headers

logger = logging.getLogger(__name__)

SITEMAP_MAX_BYTES = 2 * 1024 * 1024
PAGE_MAX_BYTES = 1024 * 1024
MAX_SITEMAPS = 4  # sitemap files read per audit, index included
MAX_URLS = 5000  # URLs kept from all sitemaps together

# The standard names discovery looks for, in the order they are reported.
NAMES = ("home", "listing", "product", "cart", "login", "checkout")

_PATTERNS: dict[str, re.Pattern[str]] = {
    "product": re.compile(r"^(/collections/[^/]+)?/(products?|p|item|items|shop/products?)/[^/]+/?$", re.I),
    "listing": re.compile(
        r"^/(collections|category|categories|product-category|catalog|catalogue|shop)(/[^/]+)?/?$", re.I
    ),
    "cart": re.compile(r"^/(cart|basket|bag)/?$", re.I),
    "checkout": re.compile(r"^/checkout/?$", re.I),
    "login": re.compile(
        r"^/(account/login|login|log-in|signin|sign-in|my-account|customer/account/login|account)/?$", re.I
    ),
}

# Paths each platform gives every store; only kept when the store answers them.
CONVENTIONS: dict[str, dict[str, str]] = {
    "Shopify": {
        "listing": "/collections/all",
        "cart": "/cart",
        "login": "/account/login",
        "checkout": "/checkout",
    },
    "WooCommerce": {"listing": "/shop/", "cart": "/cart/", "login": "/my-account/", "checkout": "/checkout/"},
    "": {"cart": "/cart", "login": "/login", "checkout": "/checkout"},
}
_HEADLESS = re.compile(r"__NEXT_DATA__|/_next/static/|__NUXT__|/_nuxt/|data-reactroot|/_app/immutable/", re.I)


def classify(path: str) -> str | None:
    """The standard route name a path stands for, or None."""
    if path in ("", "/"):
        return "home"
    for name, pattern in _PATTERNS.items():
        if pattern.match(path):
            return name
    return None


def parse_sitemap(body: str) -> tuple[list[str], list[str]]:
    """(page URLs, child sitemap URLs) of a sitemap or sitemap index; ValueError if unreadable."""
    try:
        root = ElementTree.fromstring(body.encode("utf-8"))
    except (ParseError, DefusedXmlException) as exc:
        raise ValueError(f"it is not a readable sitemap ({exc.__class__.__name__})") from None
    locs = [el.text.strip() for el in root.iter() if el.tag.endswith("loc") and el.text and el.text.strip()]
    if root.tag.endswith("sitemapindex"):
        return [], locs
    return locs[:MAX_URLS], []


def robots_sitemaps(body: str) -> list[str]:
    return [
        line.split(":", 1)[1].strip()
        for line in body.splitlines()
        if line.lower().startswith("sitemap:") and line.split(":", 1)[1].strip()
    ]


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.hrefs.append(href)


def page_links(html: str, base_url: str) -> list[str]:
    parser = _Links()
    try:
        parser.feed(html)
    except Exception:  # the stdlib parser copes with most bad HTML; never fail the audit on it
        logger.debug("could not parse links of %s", base_url, exc_info=True)
    return [urljoin(base_url, href) for href in parser.hrefs]


def detect_platform(html: str, headers: dict[str, str]) -> str:
    facts = detect.analyse_html(html, "https://example.invalid/")
    for name in ("Shopify", "WooCommerce"):
        if name in facts.platform:
            return name
    if "x-shopid" in headers or "x-shopify-stage" in headers:
        return "Shopify"
    powered = headers.get("x-powered-by", "").lower()
    if _HEADLESS.search(html) or "next.js" in powered or "nuxt" in powered:
        return "headless"
    return facts.platform[0] if facts.platform else ""


def pick(urls: list[str], store_hosts: set[str], source: str, evidence: str) -> dict[str, DiscoveredRoute]:
    """The first path of each standard name among ``urls`` on the store's own hosts."""
    found: dict[str, DiscoveredRoute] = {}
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or (parts.hostname or "").lower() not in store_hosts:
            continue
        path = parts.path or "/"
        name = classify(path)
        if name and name not in found:
            found[name] = DiscoveredRoute(name=name, path=path, source=source, evidence=evidence)
    return found


def specs_for(discovery: RouteDiscovery, budgets: dict[str, int] | None = None) -> list[RouteSpec]:
    """The routes to time when the owner declared none: home, then what was found."""
    budgets = budgets or {}
    found = [r for r in discovery.routes if r.name != "home"]
    specs = [RouteSpec.standard("home", "/", budgets.get("home"))]
    specs += [RouteSpec.standard(r.name, r.path, budgets.get(r.name)) for r in found]
    sources = {"home": "homepage"} | {r.name: r.source for r in found}
    return [RouteSpec(s.name, s.path, s.kind, s.budget_ms, source=sources[s.name]) for s in specs]


# --- I/O ------------------------------------------------------------------------------


async def _get(run: ProbeRun, url: str, max_bytes: int) -> net.FetchResult | None:
    """One budgeted GET; None when the budget is spent."""
    try:
        return await run.fetch(url, max_body_bytes=max_bytes, read_past_certificate=True)
    except BudgetExhausted:
        return None


async def _read_sitemaps(
    run: ProbeRun,
    robots: net.FetchResult | None,
    base: str,
    store_hosts: set[str],
    notes: list[str],
    read: list[str],
) -> list[str]:
    """The page URLs of the store's sitemaps: robots.txt's Sitemap lines on the store's own
    hosts, else /sitemap.xml; an index is followed, product and collection sitemaps first,
    up to ``MAX_SITEMAPS`` files. ``read`` and ``notes`` receive what was read and what not."""
    listed = robots_sitemaps(robots.text()) if robots is not None and robots.status == 200 else []
    queue = [u for u in listed if host_of(u) in store_hosts] or [base + "/sitemap.xml"]
    sitemap_urls: list[str] = []
    while queue and len(read) < MAX_SITEMAPS and len(sitemap_urls) < MAX_URLS:
        url = queue.pop(0)
        if url.endswith(".gz"):
            notes.append(f"{url} is compressed and was not read.")
            continue
        result = await _get(run, url, SITEMAP_MAX_BYTES)
        if result is None or result.status != 200:
            if url in listed:
                notes.append(f"The sitemap {url} could not be read.")
            continue
        read.append(url)
        try:
            pages, children = parse_sitemap(result.text())
        except ValueError as exc:
            notes.append(f"{url}: {exc}.")
            continue
        sitemap_urls += pages
        # Product and collection sitemaps first: they hold what discovery looks for.
        children = [c for c in children if host_of(c) in store_hosts]
        children.sort(key=lambda c: not re.search(r"product|collection|categor", c, re.I))
        queue += children
    return sitemap_urls


def _answered(result: net.FetchResult | None, store_hosts: set[str]) -> bool:
    return (
        result is not None
        and result.status is not None
        and 200 <= result.status < 400
        and result.final is not None
        and host_of(result.final.url) in store_hosts
    )


async def discover_routes(run: ProbeRun) -> RouteDiscovery:
    site = run.site
    base = f"https://{site.canonical_host}"
    store_hosts = {site.apex, site.www}
    notes: list[str] = []
    home, robots = await asyncio.gather(
        _get(run, base + "/", PAGE_MAX_BYTES), _get(run, base + "/robots.txt", 64 * 1024)
    )
    if home is None:
        return RouteDiscovery(unavailable=Unavailable("The audit's request budget was used up."))
    html = home.text() if home.status == 200 else ""
    if not html:
        notes.append(
            f"The homepage could not be read ({home.error.message if home.error else f'HTTP {home.status}'})."
        )
    platform = detect_platform(html, response_headers(home.final)) if html else ""
    read: list[str] = []

    linked = pick(page_links(html, base + "/"), store_hosts, "homepage", "linked from the homepage")
    # The platform's conventions for what the homepage does not link, one request each, sent
    # beside the sitemaps rather than after them: sitemaps list products and pages, seldom a
    # cart, a login or a checkout, so these are nearly always needed, and the round trip
    # they would add comes before the route samples (which wait for the audit's requests).
    conventions = CONVENTIONS.get(platform, CONVENTIONS[""])
    asked = [(name, path) for name, path in conventions.items() if name not in linked]
    answers, sitemap_urls = await asyncio.gather(
        asyncio.gather(*(_get(run, base + path, 64 * 1024) for _name, path in asked)),
        _read_sitemaps(run, robots, base, store_hosts, notes, read),
    )

    found = pick(sitemap_urls, store_hosts, "sitemap", "listed in the sitemap")
    for name, route in linked.items():
        found.setdefault(name, route)
    for (name, path), result in zip(asked, answers, strict=True):
        if name not in found and _answered(result, store_hosts):
            label = f"{platform}'s standard address" if platform else "the usual address"
            found[name] = DiscoveredRoute(
                name=name, path=path, source="platform", evidence=f"{label}, it answers"
            )

    # A product found on the listing page, when neither the sitemap nor the homepage had one.
    if "product" not in found and "listing" in found:
        listing = await _get(run, base + found["listing"].path, PAGE_MAX_BYTES)
        if listing is not None and listing.status == 200:
            links = page_links(listing.text(), base + found["listing"].path)
            # Found by following the listing, so it counts as found where the listing was.
            source = found["listing"].source
            product = pick(links, store_hosts, source, "linked from the listing page").get("product")
            if product:
                found["product"] = product
    found.setdefault(
        "home", DiscoveredRoute(name="home", path="/", source="homepage", evidence="the homepage")
    )
    if run.requests > run.options.request_budget:
        notes.append(
            "The audit's request budget ran out before every page was looked at: some routes may be missing."
        )
    return RouteDiscovery(
        platform=platform,
        routes=[found[name] for name in NAMES if name in found],
        sitemaps=read,
        notes=notes,
    )
