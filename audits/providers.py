"""Provider detection from facts: CDN/proxy, hosting, DNS provider, registrar, and the
fingerprints of services whose abandoned names can be taken over.

Pure functions over shipped data (``audits/data/providers.json``): published IP ranges,
response headers and CNAME targets. Used for ``dns.provider_inventory``, for
provider-specific fix steps and for ``dns.dangling_cname``.
"""

from __future__ import annotations

import ipaddress
import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from audits.facts import AuditFacts

logger = logging.getLogger(__name__)

DATA_FILE = Path(__file__).parent / "data" / "providers.json"

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class ProviderMatch:
    slug: str  # "cloudflare", "shopify"… (keys of provider_fix in checks.toml)
    name: str  # "Cloudflare"
    via: str  # how we know: "header cf-ray", "address 104.16.1.1", "CNAME x.cdn.cloudflare.net"


@dataclass(frozen=True)
class TakeoverMatch:
    service: str
    slug: str
    target: str  # the CNAME target that belongs to the service
    evidence: str  # the fingerprint seen, or "target does not exist"


@dataclass(frozen=True)
class _Fingerprint:
    slug: str
    name: str
    ranges: tuple[IpNetwork, ...]
    headers: tuple[tuple[str, str], ...]
    cnames: tuple[str, ...]


@cache
def _data() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    return data


@cache
def _compiled(group: str) -> list[_Fingerprint]:
    result = []
    for slug, entry in _data()[group].items():
        result.append(
            _Fingerprint(
                slug=slug,
                name=entry["name"],
                ranges=tuple(ipaddress.ip_network(r) for r in entry.get("ranges", [])),
                headers=tuple((k.lower(), v.lower()) for k, v in entry.get("headers", [])),
                cnames=tuple(c.lower() for c in entry.get("cname", [])),
            )
        )
    return result


def name_matches(name: str, pattern: str) -> bool:
    """``.example.net`` matches names ending there; ``.awsdns-`` or ``.s3-website.`` (ending in
    a separator) match names containing it; anything else matches exactly."""
    name = name.lower().rstrip(".")
    if pattern.startswith(".") and pattern.endswith(("-", ".")):
        return pattern in f".{name}."
    if pattern.startswith("."):
        return name.endswith(pattern)
    return name == pattern


def _match(
    fp: _Fingerprint, addresses: Iterable[str], headers: Mapping[str, str], cname_chain: Iterable[str]
) -> str | None:
    for target in cname_chain:
        if any(name_matches(target, p) for p in fp.cnames):
            return f"CNAME {target}"
    for header, needle in fp.headers:
        value = headers.get(header)
        if value is not None and needle in value.lower():
            return f"header {header}: {value}" if value else f"header {header}"
    for address in addresses:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            continue
        for network in fp.ranges:
            if ip.version == network.version and ip in network:
                return f"address {address} in {network}"
    return None


def detect_cdn(
    addresses: Iterable[str] = (), headers: Mapping[str, str] | None = None, cname_chain: Iterable[str] = ()
) -> ProviderMatch | None:
    """The CDN/proxy in front of a host, or None when it is served straight from an origin."""
    return _detect("cdn", list(addresses), headers or {}, list(cname_chain))


def detect_hosting(
    addresses: Iterable[str] = (),
    headers: Mapping[str, str] | None = None,
    cname_chain: Iterable[str] = (),
    platform_hints: Iterable[str] = (),
) -> ProviderMatch | None:
    """Where the store is hosted; HTML hints (``HtmlFacts.platform``) count last."""
    found = _detect("hosting", list(addresses), headers or {}, list(cname_chain))
    if found:
        return found
    for hint in platform_hints:
        return ProviderMatch(slug=hint.lower().replace(" ", "_"), name=hint, via="page markup")
    return None


def _detect(
    group: str, addresses: list[str], headers: Mapping[str, str], cname_chain: list[str]
) -> ProviderMatch | None:
    lowered = {k.lower(): v for k, v in headers.items()}
    for fp in _compiled(group):
        via = _match(fp, addresses, lowered, cname_chain)
        if via:
            return ProviderMatch(slug=fp.slug, name=fp.name, via=via)
    return None


def detect_server(headers: Mapping[str, str] | None) -> ProviderMatch | None:
    """The web server that answered, from the first product token of its Server header
    ("Apache/2.4.57 (Debian)" → apache), or None (no header, a CDN's, or one we do not know)."""
    lowered = {k.lower(): v for k, v in (headers or {}).items()}
    value = lowered.get("server", "").strip()
    if not value:
        return None
    product = value.split()[0].split("/")[0].lower()
    for slug, entry in _data()["servers"].items():
        if slug.startswith("_"):
            continue
        if product in entry["products"]:
            return ProviderMatch(slug=slug, name=entry["name"], via=f"header server: {value}")
    return None


def detect_dns_provider(ns_names: Iterable[str]) -> ProviderMatch | None:
    names = [n.lower().rstrip(".") for n in ns_names]
    for slug, entry in _data()["dns"].items():
        for name in names:
            if any(name_matches(name, p) for p in entry["ns"]):
                return ProviderMatch(slug=slug, name=entry["name"], via=f"NS {name}")
    return None


def takeover_service(target: str) -> tuple[str, str] | None:
    """(service, slug) when ``target`` is a name of a service known to allow takeovers."""
    for entry in _data()["takeover"]:
        if any(name_matches(target, p) for p in entry["cname"]):
            return entry["service"], entry["slug"]
    return None


def takeover_fingerprint(
    cname_chain: Iterable[str], body: str, headers: Mapping[str, str] | None = None
) -> TakeoverMatch | None:
    """A CNAME'd host whose answer says the app/bucket is gone at a takeover-able service.

    The body sentence alone is not enough (a blog post may quote it): the CNAME target or
    a response header must also belong to that service.
    """
    targets = list(cname_chain)
    if not targets:
        return None
    lowered = body.lower()
    lowered_headers = {k.lower(): v.lower() for k, v in (headers or {}).items()}
    for entry in _data()["takeover"]:
        needle = next((n for n in entry["body"] if n.lower() in lowered), None)
        if needle is None:
            continue
        target = next((t for t in targets if any(name_matches(t, p) for p in entry["cname"])), None)
        by_header = any(
            name in lowered_headers and value in lowered_headers[name]
            for name, value in entry.get("headers", [])
        )
        if target or by_header:
            via = "" if target else " (identified by its response headers)"
            return TakeoverMatch(
                entry["service"], entry["slug"], target or targets[-1], f"the service answers “{needle}”{via}"
            )
    return None


@dataclass(frozen=True)
class SiteProfile:
    """Who runs what for a site, as far as the facts show."""

    dns: ProviderMatch | None = None
    cdn: ProviderMatch | None = None
    hosting: ProviderMatch | None = None
    registrar: str = ""
    server: ProviderMatch | None = None  # the web server answering the canonical homepage

    def slugs(self, prefer_dns: bool = False) -> list[str]:
        """Provider slugs in the order their fix steps should be preferred. The DNS host's steps
        fit DNS records only (``prefer_dns``): Cloudflare's edge settings do nothing for a store
        that merely keeps its DNS there without the proxy in front."""
        ordered = [self.dns, self.cdn, self.hosting] if prefer_dns else [self.cdn, self.hosting]
        return [p.slug for p in ordered if p]


def host_cdn(facts: AuditFacts, host: str) -> ProviderMatch | None:
    """The CDN in front of one host, from its DNS answers and the headers of its page."""
    addresses: list[str] = []
    chain: list[str] = []
    if facts.dns and (h := facts.dns.host(host)):
        addresses, chain = h.addresses, h.cname_chain
    page = facts.root_page(host)
    headers = page.headers if page else {}
    return detect_cdn(addresses, headers, chain)


def host_server(facts: AuditFacts, host: str) -> ProviderMatch | None:
    """The web server answering ``host``: from the headers of its root page, else of another
    page that host served, else of the canonical homepage."""
    page = facts.root_page(host)
    if page is None or not page.headers or page.served_by != host:
        served = [p for p in facts.pages if p.served_by == host and p.headers]
        page = served[0] if served else facts.home()
    return detect_server(page.headers if page else None)


def site_profile(facts: AuditFacts) -> SiteProfile:
    host = facts.site.canonical_host
    addresses: list[str] = []
    chain: list[str] = []
    dns_provider = None
    if facts.dns:
        dns_provider = detect_dns_provider(facts.dns.ns.values + [ns.name for ns in facts.dns.nameservers])
        if h := facts.dns.host(host):
            addresses, chain = h.addresses, h.cname_chain
    page = facts.home()
    headers = page.headers if page else {}
    hints = page.html.platform if page and page.html else []
    return SiteProfile(
        dns=dns_provider,
        cdn=detect_cdn(addresses, headers, chain),
        hosting=detect_hosting(addresses, headers, chain, hints),
        registrar=facts.rdap.registrar if facts.rdap and not facts.rdap.unavailable else "",
        server=detect_server(headers),
    )
