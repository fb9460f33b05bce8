"""Probes: all the network I/O of an audit, turned into facts.

Everything goes through ``launchready.net`` (the SSRF guard, timeouts, size caps).
Probes run concurrently: DNS, RDAP, the redirect chains, the route pages and the
route timings start at once; TLS, host pages and exposure start as soon as DNS has
named the hosts, and static assets as soon as the homepage is in. The audit is as fast
as its slowest chain, which is usually the sequential samples of the slowest route.

A probe never raises for a network failure: the error sentence is carried in the
facts. When the audit's time budget runs out, what finished is kept and the stages
that did not finish are marked unavailable, so their checks report "inconclusive".
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlencode, urljoin, urlsplit

from audits import detect, ownership
from audits.email.facts import EmailFacts
from audits.email.probe import probe_email
from audits.facts import (
    AssetFacts,
    AuditFacts,
    CertInfo,
    DnsAnswer,
    DnsFacts,
    DnsRecord,
    DnsStatus,
    ExposureProbe,
    HostDns,
    HttpHop,
    LighthouseFacts,
    LoadTiming,
    NameServerFacts,
    OriginProbe,
    PageFacts,
    RdapFacts,
    RedirectChain,
    RouteSpec,
    RouteTiming,
    SiteDeclaration,
    Sniff,
    TlsFacts,
    Unavailable,
    UnavailableKind,
    VerifyError,
    host_of,
)
from audits.providers import detect_cdn
from launchready import net

logger = logging.getLogger(__name__)

COMMON_SUBDOMAINS = (
    "www",
    "app",
    "admin",
    "api",
    "checkout",
    "shop",
    "store",
    "staging",
    "dev",
    "preview",
    "beta",
    "test",
    "mail",
    "blog",
    "cdn",
    "static",
    "status",
)
RDAP_BOOTSTRAP = {
    "com": "https://rdap.verisign.com/com/v1/",
    "net": "https://rdap.verisign.com/net/v1/",
    "org": "https://rdap.publicinterestregistry.org/rdap/",
}
RDAP_FALLBACK = "https://rdap.org/"

# The roadmap stages an audit collects, and the probes each one waits for (live progress,
# and the stages marked unavailable when the time budget runs out).
STAGE_PROBES: dict[str, tuple[str, ...]] = {
    "dns": ("dns", "rdap"),
    "edge": ("redirects", "pages", "tls", "host_pages", "assets", "origin"),
    "deploy": ("exposure", "source_maps"),
    "performance": ("routes", "load", "lighthouse"),
    "email": ("email",),
}

_CERT_PROBLEM_TO_VERIFY = {
    net.CertProblem.EXPIRED: VerifyError.EXPIRED,
    net.CertProblem.NOT_YET_VALID: VerifyError.NOT_YET_VALID,
    net.CertProblem.HOSTNAME_MISMATCH: VerifyError.HOSTNAME_MISMATCH,
    net.CertProblem.SELF_SIGNED: VerifyError.SELF_SIGNED,
    net.CertProblem.UNTRUSTED_ROOT: VerifyError.UNTRUSTED,
    net.CertProblem.UNKNOWN_ISSUER: VerifyError.UNTRUSTED,
    net.CertProblem.INCOMPLETE_CHAIN: VerifyError.INCOMPLETE_CHAIN,
    net.CertProblem.INVALID: VerifyError.UNTRUSTED,
}
_STYLESHEET = re.compile(r"<link\b[^>]*\brel=[\"']?stylesheet[^>]*>", re.I)
_HREF = re.compile(r"\bhref=[\"']?([^\"' >]+)", re.I)
_IMG = re.compile(r"<img\b[^>]*\bsrc=[\"']?([^\"' >]+)", re.I)
_ASSET_KIND = {".css": "css", ".js": "js", ".mjs": "js", ".png": "image", ".jpg": "image", ".jpeg": "image"}


@dataclass
class ProbeOptions:
    samples: int = 20  # sequential samples per critical route
    time_budget_s: float = 120.0  # the whole audit; what is unfinished becomes inconclusive
    request_budget: int = 800  # scanner etiquette: at most this many HTTP requests per audit
    load_concurrency: int = 5
    load_max_s: float = 20.0
    load_max_requests: int = 300
    ct_url: str = ""  # a crt.sh-style JSON source of certificate-transparency names
    pagespeed_url: str = ""  # PageSpeed Insights v5 runPagespeed endpoint (Lighthouse source)
    pagespeed_key: str = ""  # its API key; empty: no Lighthouse source, perf.lighthouse_low is skipped
    rdap_url: str = ""
    common_subdomains: tuple[str, ...] = COMMON_SUBDOMAINS


@dataclass
class StageTracker:
    """Which stages are still collecting, for live progress on the run page."""

    on_change: Callable[[dict[str, str]], None] | None = None
    state: dict[str, str] = field(default_factory=dict)

    def set(self, stage: str, value: str) -> None:
        if self.state.get(stage) != value:
            self.state[stage] = value
            if self.on_change:
                self.on_change(dict(self.state))


class BudgetExhausted(Exception):
    pass


class Prober:
    """Collects the facts of one audit. One instance per run."""

    def __init__(
        self,
        site: SiteDeclaration,
        *,
        config: net.NetConfig | None = None,
        options: ProbeOptions | None = None,
        progress: Callable[[dict[str, str]], None] | None = None,
    ) -> None:
        self.site = site
        self.config = config or net.NetConfig.from_settings()
        self.options = options or ProbeOptions()
        self.tracker = StageTracker(progress)
        self.requests = 0
        self.probe_seconds = 0.0  # the sum of every probe's own time (for the benchmark)
        self.longest_chain_s = 0.0
        self.refused_certificates: set[str] = set()  # hosts read past a refused certificate
        self._results: dict[str, object] = {}

    # --- the budgeted fetch -----------------------------------------------------------

    async def fetch(self, url: str, *, read_past_certificate: bool = False, **kwargs) -> net.FetchResult:
        """A budgeted fetch. ``read_past_certificate``: when the host's certificate is
        refused (the tls.* checks report that), read the page anyway so its headers,
        content and timings are still checked."""
        host = host_of(url)
        insecure = read_past_certificate and host in self.refused_certificates
        result = await self._fetch_once(url, verify_certificate=not insecure, **kwargs)
        if (
            read_past_certificate
            and not insecure
            and result.error
            and result.error.kind == net.ErrorKind.TLS_CERTIFICATE
            and result.final
            and host_of(result.final.url) == host
        ):
            self.refused_certificates.add(host)
            result = await self._fetch_once(url, verify_certificate=False, **kwargs)
        return result

    async def _fetch_once(self, url: str, **kwargs) -> net.FetchResult:
        self.requests += 1
        if self.requests > self.options.request_budget:
            raise BudgetExhausted(
                f"The audit's request budget ({self.options.request_budget} requests) was used up."
            )
        started = time.monotonic()
        result = await net.fetch(url, config=self.config, **kwargs)
        self.probe_seconds += time.monotonic() - started
        return result

    async def _timed(self, name: str, coro: Awaitable) -> object:
        started = time.monotonic()
        try:
            result = await coro
        finally:
            self.longest_chain_s = max(self.longest_chain_s, time.monotonic() - started)
        self._results[name] = result
        return result

    # --- orchestration ----------------------------------------------------------------

    async def collect(self) -> AuditFacts:
        stages = STAGE_PROBES
        for stage in stages:
            self.tracker.set(stage, "running")
        try:
            async with asyncio.timeout(self.options.time_budget_s):
                await self._collect_all(stages)
        except TimeoutError:
            logger.info("audit of %s ran out of time; keeping finished probes", self.site.domain)
        stage_unavailable: dict[str, Unavailable] = {}
        for stage, parts in stages.items():
            missing = [p for p in parts if p not in self._results]
            if missing:
                stage_unavailable[stage] = Unavailable(
                    f"The audit ran out of time ({self.options.time_budget_s:g} s) before these checks "
                    "finished; run it again.",
                    UnavailableKind.OUT_OF_TIME,
                )
                self.tracker.set(stage, "incomplete")
        r = self._results
        dns = r.get("dns")
        return AuditFacts(
            site=self.site,
            collected_at=datetime.now(UTC),
            dns=dns if isinstance(dns, DnsFacts) else None,
            rdap=r.get("rdap"),
            redirects=list(r.get("redirects", [])),
            pages=list(r.get("pages", [])) + list(r.get("host_pages", [])),
            assets=list(r.get("assets", [])),
            tls=list(r.get("tls", [])),
            origin_probes=list(r.get("origin", [])),
            exposure=list(r.get("exposure", [])) + list(r.get("source_maps", [])),
            routes=list(r.get("routes", [])),
            load=r.get("load"),
            lighthouse=r.get("lighthouse"),
            email=r.get("email"),
            stage_unavailable=stage_unavailable,
            allowed_networks=[str(n) for n in self.config.allowed_networks],
        )

    async def _collect_all(self, stages: dict[str, tuple[str, ...]]) -> None:
        async def stage_done_when(stage: str, *tasks: asyncio.Task) -> None:
            await asyncio.gather(*tasks, return_exceptions=True)
            if all(p in self._results for p in stages[stage]):
                self.tracker.set(stage, "done")

        routes = asyncio.create_task(self._timed("routes", self.route_timings()))
        rdap = asyncio.create_task(self._timed("rdap", self.rdap()))
        redirects = asyncio.create_task(self._timed("redirects", self.redirect_chains()))
        pages = asyncio.create_task(self._timed("pages", self.route_pages()))
        dns = asyncio.create_task(self._timed("dns", self.dns()))
        email = asyncio.create_task(self._timed("email", self.email()))
        lighthouse = asyncio.create_task(self._timed("lighthouse", self.lighthouse()))

        async def after_dns() -> None:
            dns_facts = await dns
            hosts = self.contactable(dns_facts.hosts)
            extra = [h for h in hosts if h != self.site.canonical_host]
            await asyncio.gather(
                self._timed("tls", self.tls(hosts)),
                self._timed("host_pages", self.host_pages(extra)),
                self._timed("exposure", self.exposure(hosts)),
            )

        async def after_pages() -> None:
            page_list = await pages
            await asyncio.gather(
                self._timed("assets", self.assets(page_list)),
                self._timed("source_maps", self.source_maps(page_list)),
            )

        async def after_both() -> None:
            dns_facts = await dns
            page_list = await pages
            await self._timed("origin", self.origin_probes(dns_facts, page_list))

        async def load_after_routes() -> None:
            timings = await routes
            await self._timed("load", self.load(timings))

        chained = [
            asyncio.create_task(after_dns()),
            asyncio.create_task(after_pages()),
            asyncio.create_task(after_both()),
            asyncio.create_task(load_after_routes()),
        ]
        await asyncio.gather(
            stage_done_when("dns", dns, rdap),
            stage_done_when("edge", redirects, pages, *chained[:3]),
            stage_done_when("deploy", chained[0], chained[1]),
            stage_done_when("performance", routes, chained[3], lighthouse),
            stage_done_when("email", email),
        )
        # Surface programming errors (network failures never raise).
        for task in [routes, rdap, redirects, pages, dns, email, lighthouse, *chained]:
            if task.done() and not task.cancelled() and task.exception():
                exc = task.exception()
                if not isinstance(exc, BudgetExhausted):
                    logger.error("audit probe failed", exc_info=exc)

    # --- DNS --------------------------------------------------------------------------

    async def _resolve(self, name: str, rdtype: str) -> DnsAnswer:
        answer = await net.resolve(name, rdtype, config=self.config)
        return dns_answer_fact(answer)

    async def dns(self) -> DnsFacts:
        domain = self.site.domain
        ns_task = asyncio.create_task(self._resolve(domain, "NS"))
        caa_task = asyncio.create_task(self._resolve(domain, "CAA"))
        names: dict[str, str] = {domain: "apex", f"www.{domain}": "www"}
        for label in self.site.subdomains:
            names.setdefault(f"{label}.{domain}", "declared")
        for label in self.options.common_subdomains:
            names.setdefault(f"{label}.{domain}", "common")
        ct_names, ct_unavailable = await self.ct_names()
        for name in ct_names:
            names.setdefault(name, "ct")

        async def host(name: str, source: str) -> HostDns:
            a, aaaa = await asyncio.gather(self._resolve(name, "A"), self._resolve(name, "AAAA"))
            return HostDns(name=name, source=source, a=a, aaaa=aaaa)

        hosts = await asyncio.gather(*(host(n, s) for n, s in names.items()))
        # Common names that do not exist are not part of the store: keep only what is there.
        hosts = [h for h in hosts if h.source != "common" or h.resolves or h.cname_chain]
        ns = await ns_task
        nameservers = await asyncio.gather(*(self.nameserver(n) for n in ns.values))
        hosts = await self.cname_conflicts(hosts, nameservers)
        return DnsFacts(
            domain=domain,
            ns=ns,
            nameservers=list(nameservers),
            caa=await caa_task,
            hosts=hosts,
            ct_unavailable=ct_unavailable,
        )

    def contactable(self, hosts: list[HostDns]) -> list[str]:
        """The resolving names with at least one address the SSRF guard lets us contact.

        A public name on a private address is what dns.private_address reports; probing
        it further would only turn every TLS and exposure check into "could not be checked".
        """
        return [
            h.name
            for h in hosts
            if h.resolves and any(net.address_problem(a, self.config) is None for a in h.addresses)
        ]

    async def cname_conflicts(
        self, hosts: list[HostDns], nameservers: list[NameServerFacts]
    ) -> list[HostDns]:
        """Ask an authoritative nameserver (ANY) what else sits beside each CNAME."""
        ranked = sorted(nameservers, key=lambda ns: (not ns.authoritative, not ns.responded))
        server = next((a for ns in ranked if ns.responded for a in ns.addresses), None)
        if server is None:
            return hosts

        async def check(host: HostDns) -> HostDns:
            if not host.cname_chain:
                return host
            reply = await net.query_nameserver(server, host.name, "ANY", config=self.config)
            others = sorted(
                {t for owner, t in reply.answer_types if owner == host.name and t not in ("CNAME", "RRSIG")}
            )
            return dataclasses.replace(host, other_types=others) if others else host

        return list(await asyncio.gather(*(check(h) for h in hosts)))

    async def nameserver(self, ns_name: str) -> NameServerFacts:
        ns_name = ns_name.rstrip(".").lower()
        a = await net.resolve(ns_name, "A", config=self.config)
        if not a.ok:
            message = a.error.message if a.error else f"{ns_name} has no address."
            return NameServerFacts(name=ns_name, responded=False, error=message)
        address = a.records[0]
        domain = self.site.domain
        soa, apex, www = await asyncio.gather(
            net.query_nameserver(address, domain, "SOA", config=self.config),
            net.query_nameserver(address, domain, "A", config=self.config),
            net.query_nameserver(address, f"www.{domain}", "A", config=self.config),
        )
        responded = soa.status not in (net.DnsStatus.TIMEOUT, net.DnsStatus.ERROR, net.DnsStatus.BLOCKED)
        error = ""
        if soa.error:
            error = soa.error.message
        elif soa.status == net.DnsStatus.REFUSED:
            error = f"{ns_name} refused to answer for {domain}."
        return NameServerFacts(
            name=ns_name,
            addresses=list(a.records),
            responded=responded,
            authoritative=soa.authoritative and soa.status == net.DnsStatus.OK,
            soa_serial=soa.soa_serial,
            apex_a=sorted(r for r in apex.records if _looks_like_ip(r)),
            www_a=sorted(r for r in www.records if _looks_like_ip(r)),
            error=error,
        )

    async def ct_names(self) -> tuple[list[str], Unavailable | None]:
        if not self.options.ct_url:
            return [], Unavailable(
                "No certificate-transparency source is configured, so subdomains known only from "
                "certificates were not looked for.",
            )
        url = self.options.ct_url.format(domain=self.site.domain)
        try:
            result = await self.fetch(url, headers={"Accept": "application/json"})
        except BudgetExhausted as exc:
            return [], Unavailable(str(exc))
        if not result.ok or result.status != 200:
            reason = result.error.message if result.error else f"HTTP {result.status}"
            return [], Unavailable(f"The certificate-transparency source did not answer: {reason}")
        try:
            rows = result.json()
        except ValueError:
            return [], Unavailable("The certificate-transparency source sent something that is not JSON.")
        names: set[str] = set()
        for row in rows if isinstance(rows, list) else []:
            for value in str(row.get("name_value", "")).split("\n") if isinstance(row, dict) else []:
                value = value.strip().lower().lstrip("*.")
                if value.endswith("." + self.site.domain) and len(names) < 50:
                    names.add(value)
        return sorted(names), None

    # --- Email -----------------------------------------------------------------------

    async def email(self) -> EmailFacts:
        started = time.monotonic()
        facts = await probe_email(
            self.site.domain,
            sending_service=self.site.sending_service,
            from_address=self.site.from_address,
            selectors=self.site.dkim_selectors,
            config=self.config,
        )
        self.probe_seconds += time.monotonic() - started
        return facts

    # --- RDAP -------------------------------------------------------------------------

    async def rdap(self) -> RdapFacts:
        domain = self.site.domain
        base = self.options.rdap_url or RDAP_BOOTSTRAP.get(domain.rsplit(".", 1)[-1], RDAP_FALLBACK)
        url = urljoin(base if base.endswith("/") else base + "/", f"domain/{domain}")
        try:
            result = await self.fetch(url, headers={"Accept": "application/rdap+json"})
        except BudgetExhausted as exc:
            return RdapFacts(domain=domain, unavailable=Unavailable(str(exc)))
        if not result.ok:
            return RdapFacts(
                domain=domain,
                unavailable=Unavailable(f"The registry (RDAP) could not be reached: {result.error.message}"),
            )
        if result.status == 404:
            return RdapFacts(
                domain=domain, unavailable=Unavailable("The registry (RDAP) has no record of this domain.")
            )
        if result.status != 200:
            return RdapFacts(
                domain=domain, unavailable=Unavailable(f"The registry (RDAP) answered HTTP {result.status}.")
            )
        try:
            return parse_rdap(domain, result.json())
        except (ValueError, TypeError, AttributeError):
            return RdapFacts(
                domain=domain, unavailable=Unavailable("The registry (RDAP) answer was unreadable.")
            )

    # --- HTTP: redirect chains, pages, assets -----------------------------------------

    def entry_urls(self) -> list[str]:
        apex, www = self.site.apex, self.site.www
        return [f"{scheme}://{host}/" for host in (apex, www) for scheme in ("http", "https")]

    async def redirect_chains(self) -> list[RedirectChain]:
        entries = [(u, "entry") for u in self.entry_urls()]
        entries += [(u, "campaign") for u in self.site.campaign_urls]
        return list(await asyncio.gather(*(self.chain(u, kind) for u, kind in entries)))

    async def chain(self, url: str, kind: str) -> RedirectChain:
        try:
            result = await self.fetch(url, max_body_bytes=64 * 1024)
        except BudgetExhausted as exc:
            return RedirectChain(entry_url=url, kind=kind, unavailable=Unavailable(str(exc)))
        hops = [hop_fact(h) for h in result.hops]
        loop = bool(
            result.error
            and result.error.kind in (net.ErrorKind.REDIRECT_LOOP, net.ErrorKind.TOO_MANY_REDIRECTS)
        )
        unavailable = None
        if result.final and result.final.status:
            unavailable = detect.detect_block(
                result.final.status, _headers(result.final), result.text()[:4000]
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

    def route_urls(self) -> list[tuple[str, str]]:
        base = f"https://{self.site.canonical_host}"
        routes = self.site.routes or []
        pairs = [(r.name, base + r.path) for r in routes]
        if not any(name == "home" for name, _ in pairs):
            pairs.insert(0, ("home", base + "/"))
        return pairs

    async def route_pages(self) -> list[PageFacts]:
        return list(await asyncio.gather(*(self.page(url, route=name) for name, url in self.route_urls())))

    async def host_pages(self, hosts: list[str]) -> list[PageFacts]:
        return list(await asyncio.gather(*(self.host_root(h) for h in hosts)))

    async def host_root(self, host: str) -> PageFacts:
        page = await self.page(f"https://{host}/", route="", follow=False)
        if page.status is None and not page.unavailable:
            # No HTTPS at all: what does plain HTTP serve?
            fallback = await self.page(f"http://{host}/", route="", follow=False)
            if fallback.status is not None:
                return fallback
        return page

    async def page(self, url: str, *, route: str, follow: bool = True) -> PageFacts:
        try:
            result = await self.fetch(url, follow_redirects=follow, read_past_certificate=True)
        except BudgetExhausted as exc:
            return PageFacts(url=url, route=route, unavailable=Unavailable(str(exc)))
        return page_fact(url, route, result)

    async def assets(self, pages: list[PageFacts]) -> list[AssetFacts]:
        home = next((p for p in pages if p.route == "home"), None)
        if home is None or home.status != 200:
            return []
        urls = asset_urls(home, self.site.domain)
        results = [
            AssetFacts(
                url=home.final_url or home.url,
                kind="html",
                status=home.status,
                cache_control=home.headers.get("cache-control", ""),
                content_encoding=home.headers.get("content-encoding", ""),
                content_type=home.headers.get("content-type", ""),
                size=home.body_bytes,
            )
        ]
        results += await asyncio.gather(*(self.asset(u, k) for u, k in urls))
        return results

    async def asset(self, url: str, kind: str) -> AssetFacts:
        try:
            result = await self.fetch(
                url, headers={"Accept-Encoding": "gzip, deflate, br"}, max_body_bytes=512 * 1024
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
        )

    async def origin_probes(self, dns: DnsFacts, pages: list[PageFacts]) -> list[OriginProbe]:
        """Hosts that bypass the CDN the canonical host sits behind, and serve the same site."""
        canonical = dns.host(self.site.canonical_host)
        home = next((p for p in pages if p.route == "home"), None)
        if not canonical or not home or not home.html:
            return []
        canonical_cdn = detect_cdn(
            addresses=canonical.addresses, headers=home.headers, cname_chain=canonical.cname_chain
        )
        if canonical_cdn is None:
            return []
        contactable = set(self.contactable(dns.hosts))
        candidates = [
            h
            for h in dns.hosts
            if h.name in contactable
            and h.name not in (self.site.canonical_host, self.site.apex, self.site.www)
            and detect_cdn(addresses=h.addresses, headers={}, cname_chain=h.cname_chain) is None
        ]

        async def probe(h: HostDns) -> OriginProbe:
            page = await self.page(f"https://{h.name}/", route="", follow=False)
            title = page.html.title if page.html else ""
            same = bool(title) and title == home.html.title
            evidence = (
                f"https://{h.name}/ answers HTTP {page.status} with the storefront's title “{title}”"
                if same
                else f"https://{h.name}/ → {page.status or page.error}"
            )
            return OriginProbe(
                host=h.name,
                address=h.addresses[0],
                serves_site=same if page.status else None,
                evidence=evidence,
            )

        return list(await asyncio.gather(*(probe(h) for h in candidates[:10])))

    # --- TLS --------------------------------------------------------------------------

    async def tls(self, hosts: list[str]) -> list[TlsFacts]:
        return list(await asyncio.gather(*(self.tls_host(h) for h in hosts)))

    async def tls_host(self, host: str) -> TlsFacts:
        started = time.monotonic()
        handshake, protocols = await asyncio.gather(
            net.tls_handshake(host, config=self.config),
            net.tls_protocol_support(host, config=self.config),
        )
        self.probe_seconds += time.monotonic() - started
        return tls_fact(host, handshake, protocols)

    # --- Exposure ---------------------------------------------------------------------

    async def exposure(self, hosts: list[str]) -> list[ExposureProbe]:
        jobs = []
        for host in hosts:
            for path in detect.EXPOSURE_PATHS:
                jobs.append(self.exposure_probe(f"https://{host}{path}"))
            # A path that cannot exist shows a framework's debug 404 page when debug is on.
            jobs.append(self.exposure_probe(f"https://{host}/launchready-check-{uuid.uuid4().hex[:8]}"))
        return list(await asyncio.gather(*jobs))

    async def exposure_probe(self, url: str) -> ExposureProbe:
        try:
            result = await self.fetch(
                url, follow_redirects=False, max_body_bytes=64 * 1024, read_past_certificate=True
            )
        except BudgetExhausted as exc:
            return ExposureProbe(url=url, unavailable=Unavailable(str(exc)))
        if not result.ok:
            return ExposureProbe(url=url, unavailable=Unavailable(result.error.message))
        body = result.text()
        content_type = result.header("content-type") or ""
        blocked = detect.detect_block(result.status, _headers(result.final), body[:4000])
        if blocked:
            return ExposureProbe(
                url=url, status=result.status, content_type=content_type, unavailable=blocked
            )
        sniff, detail = detect.sniff_exposure(url, result.status, content_type, body)
        return ExposureProbe(
            url=url, status=result.status, content_type=content_type, sniff=sniff, detail=detail
        )

    async def source_maps(self, pages: list[PageFacts]) -> list[ExposureProbe]:
        home = next((p for p in pages if p.route == "home"), None)
        if not home or not home.html:
            return []
        bundles = [s.src for s in home.html.scripts if s.src and host_of(s.src).endswith(self.site.domain)]
        return list(await asyncio.gather(*(self.exposure_probe(src + ".map") for src in bundles[:3])))

    # --- Performance ------------------------------------------------------------------

    async def route_timings(self) -> list[RouteTiming]:
        specs = {r.name: r for r in self.site.routes}
        return list(
            await asyncio.gather(
                *(self.route_timing(name, url, specs.get(name)) for name, url in self.route_urls())
            )
        )

    async def route_timing(self, name: str, url: str, spec: RouteSpec | None) -> RouteTiming:
        spec = spec or RouteSpec.standard(name)
        ttfb: list[float] = []
        total: list[float] = []
        errors = 0
        examples: list[str] = []
        attempted = 0

        def unavailable(reason: Unavailable) -> RouteTiming:
            return RouteTiming(
                name=name,
                url=url,
                kind=spec.kind,
                budget_ms=spec.budget_ms,
                samples=attempted,
                unavailable=reason,
            )

        for _ in range(self.options.samples):
            try:
                result = await self.fetch(url, max_body_bytes=256 * 1024, read_past_certificate=True)
            except BudgetExhausted as exc:
                if not ttfb:
                    return unavailable(Unavailable(str(exc)))
                break
            attempted += 1
            status = result.status
            if result.error and result.error.kind == net.ErrorKind.TLS_CERTIFICATE and not ttfb:
                # The certificate problem is reported by the tls.* checks; timings would only repeat it.
                return unavailable(Unavailable(f"could not be measured: {result.error.message}"))
            if result.final and status is not None and not ttfb:
                blocked = detect.detect_block(status, _headers(result.final), "")
                if blocked:
                    return unavailable(blocked)
            if not result.ok or status is None or status >= 500:
                errors += 1
                if len(examples) < 3:
                    examples.append(result.error.message if result.error else f"HTTP {status}")
                continue
            timings = result.timings
            if timings.ttfb_ms is not None:
                ttfb.append(round(_first_byte_ms(result), 1))
                total.append(round(result.elapsed_ms, 1))
        return RouteTiming(
            name=name,
            url=url,
            kind=spec.kind,
            budget_ms=spec.budget_ms,
            ttfb_ms=ttfb,
            total_ms=total,
            samples=attempted,
            errors=errors,
            error_examples=examples,
        )

    async def lighthouse(self) -> LighthouseFacts | None:
        """Lighthouse mobile performance from PageSpeed Insights, when an API key is configured."""
        if not (self.options.pagespeed_key and self.options.pagespeed_url):
            return None
        target = self.site.canonical_url
        query = urlencode(
            {
                "url": target,
                "strategy": "mobile",
                "category": "performance",
                "key": self.options.pagespeed_key,
            }
        )
        source = "PageSpeed Insights"
        try:
            # Lighthouse runs a real browser on Google's side: it takes tens of seconds.
            result = await self.fetch(
                f"{self.options.pagespeed_url}?{query}", timeout=90, max_body_bytes=8 * 1024 * 1024
            )
        except BudgetExhausted as exc:
            return LighthouseFacts(url=target, source=source, unavailable=Unavailable(str(exc)))
        if not result.ok or result.status != 200:
            reason = result.error.message if result.error else f"it answered HTTP {result.status}"
            reason = reason.replace(self.options.pagespeed_key, "[key]")
            return LighthouseFacts(
                url=target, source=source, unavailable=Unavailable(f"{source} failed: {reason}")
            )
        try:
            score = result.json()["lighthouseResult"]["categories"]["performance"]["score"]
            performance = round(float(score) * 100)
        except (ValueError, KeyError, TypeError):
            return LighthouseFacts(
                url=target, source=source, unavailable=Unavailable(f"{source} sent no performance score.")
            )
        return LighthouseFacts(url=target, source=source, performance=performance)

    async def load(self, timings: list[RouteTiming]) -> list[LoadTiming] | None:
        """A bounded light-load probe, only for sites whose owner proved ownership.

        The proof is checked again right before the first request: a record or file removed
        since the verification means no load test, and each route says why."""
        if not self.site.ownership_verified:
            return None
        targets = [t for t in timings if t.name == "home" and t.ttfb_ms]
        if not targets:
            return []
        proof = await ownership.check_ownership_async(
            self.site, self.site.ownership_token, config=self.config
        )
        if not proof.verified:
            logger.info("load probe of %s skipped: ownership proof not found", self.site.domain)
            skipped = Unavailable(
                "The light load test did not run: the ownership proof for "
                f"{self.site.domain} was not found just before it. {proof.summary}"
            )
            return [self.load_not_run(timing, skipped) for timing in targets]
        return [await self.load_route(timing) for timing in targets]

    def load_not_run(self, timing: RouteTiming, reason: Unavailable) -> LoadTiming:
        return LoadTiming(
            name=timing.name,
            url=timing.url,
            concurrency=self.options.load_concurrency,
            idle_p95_ms=timing.p95,
            unavailable=reason,
        )

    async def load_route(self, timing: RouteTiming) -> LoadTiming:
        deadline = time.monotonic() + self.options.load_max_s
        samples: list[float] = []
        errors = 0
        sent = 0

        async def worker() -> None:
            nonlocal errors, sent
            while time.monotonic() < deadline and sent < self.options.load_max_requests:
                sent += 1
                try:
                    result = await self.fetch(timing.url, max_body_bytes=256 * 1024)
                except BudgetExhausted:
                    return
                if result.ok and result.status and result.status < 500 and result.timings.ttfb_ms is not None:
                    samples.append(round(_first_byte_ms(result), 1))
                else:
                    errors += 1

        await asyncio.gather(*(worker() for _ in range(self.options.load_concurrency)))
        return LoadTiming(
            name=timing.name,
            url=timing.url,
            concurrency=self.options.load_concurrency,
            ttfb_ms=samples,
            idle_p95_ms=timing.p95,
            requests=sent,
            errors=errors,
        )


# --- conversions from the network layer's results to facts (pure) ---------------------


def _looks_like_ip(value: str) -> bool:
    return bool(re.fullmatch(r"[0-9.]+|[0-9a-fA-F:]+", value))


def _headers(hop: net.Hop | None) -> dict[str, str]:
    """Lower-case header names; repeated headers joined (Set-Cookie kept apart elsewhere)."""
    merged: dict[str, str] = {}
    for key, value in hop.headers if hop else ():
        key = key.lower()
        merged[key] = f"{merged[key]}, {value}" if key in merged and key != "set-cookie" else value
    return merged


def _first_byte_ms(result: net.FetchResult) -> float:
    """Server response time: time to first byte of the final response (all hops included)."""
    earlier = sum(h.timings.total_ms or 0.0 for h in result.hops[:-1])
    return earlier + (result.timings.ttfb_ms or 0.0)


def dns_answer_fact(answer: net.DnsAnswer) -> DnsAnswer:
    ttl = answer.ttl if answer.ttl is not None else 0
    return DnsAnswer(
        name=answer.name,
        rtype=answer.rdtype,
        status=DnsStatus(str(answer.status)),
        records=[DnsRecord(rtype=answer.rdtype, value=v, ttl=ttl) for v in answer.records],
        cname_chain=list(answer.cname_chain),
        error=answer.error.message if answer.error else "",
    )


def hop_fact(hop: net.Hop) -> HttpHop:
    return HttpHop(
        url=hop.url,
        status=hop.status,
        location=hop.location or "",
        headers=_headers(hop),
        elapsed_ms=hop.timings.total_ms,
        error=hop.error.message if hop.error else "",
    )


def page_fact(url: str, route: str, result: net.FetchResult) -> PageFacts:
    final = result.final
    if final is None or final.status is None:
        return PageFacts(url=url, route=route, error=result.error.message if result.error else "no answer")
    headers = _headers(final)
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
            if urlsplit(absolute).scheme in ("http", "https") and (
                host == domain or host.endswith("." + domain)
            ):
                out.append((absolute, kind))
                seen += 1
                if seen >= limit:
                    break
    return out


def cert_fact(cert: net.CertificateInfo) -> CertInfo:
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


def tls_fact(host: str, handshake: net.TlsResult, protocols: net.TlsProtocolSupport) -> TlsFacts:
    if handshake.error and handshake.error.kind == net.ErrorKind.BLOCKED:
        # The SSRF guard kept us from connecting (a private address…): nothing was tried,
        # so nothing failed. dns.private_address reports such a host.
        return TlsFacts(host=host, handshake_ok=False, unavailable=Unavailable(handshake.error.message))
    chain = [cert_fact(c) for c in handshake.chain]
    handshake_ok = bool(handshake.protocol or handshake.chain)
    verify = [_CERT_PROBLEM_TO_VERIFY[p] for p in handshake.problems if p in _CERT_PROBLEM_TO_VERIFY]
    reasons = [
        p.reason
        for p in (protocols.tls1_0, protocols.tls1_1, protocols.tls1_3)
        if p.accepted is None and p.reason
    ]
    return TlsFacts(
        host=host,
        handshake_ok=handshake_ok,
        error=(handshake.reason_message or (handshake.error.message if handshake.error else ""))
        if not handshake.trusted
        else "",
        verify_errors=list(dict.fromkeys(verify)),
        cert=chain[0] if chain else None,
        chain=chain,
        tls10=protocols.tls1_0.accepted,
        tls11=protocols.tls1_1.accepted,
        tls13=protocols.tls1_3.accepted,
        protocol_reason="; ".join(dict.fromkeys(reasons)),
        http2=(handshake.alpn == "h2") if handshake_ok else None,
    )


def parse_rdap(domain: str, data: dict) -> RdapFacts:
    expires = None
    for event in data.get("events", []):
        if event.get("eventAction") == "expiration" and event.get("eventDate"):
            expires = datetime.fromisoformat(event["eventDate"].replace("Z", "+00:00"))
    registrar = ""
    for entity in data.get("entities", []):
        if "registrar" in entity.get("roles", []):
            for item in (entity.get("vcardArray") or [None, []])[1]:
                if item and item[0] == "fn":
                    registrar = str(item[3])
    return RdapFacts(
        domain=domain,
        registrar=registrar,
        expires_at=expires,
        statuses=[str(s).lower() for s in data.get("status", [])],
    )


async def collect(
    site: SiteDeclaration,
    *,
    config: net.NetConfig | None = None,
    options: ProbeOptions | None = None,
    progress: Callable[[dict[str, str]], None] | None = None,
) -> tuple[AuditFacts, Prober]:
    prober = Prober(site, config=config, options=options, progress=progress)
    facts = await prober.collect()
    return facts, prober


__all__ = ["COMMON_SUBDOMAINS", "ProbeOptions", "Prober", "Sniff", "collect"]
