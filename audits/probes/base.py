"""What every probe shares: the options, the audit's request budget and the budgeted fetch.

One ``ProbeRun`` per audit carries the declared site, the network settings and the
counters the benchmark reads (requests sent, the probes' own time added up, the longest
single probe). Stage modules take it as their first argument; none of them keeps state.
"""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any

from audits.facts import SiteDeclaration, host_of
from launchready import net

from .turns import HostTurns

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
    # The owner declared no route (the CLI without --route): time the routes found on the
    # store. Otherwise only the declared (confirmed) routes are timed; what discovery found
    # is kept in the facts for the owner to confirm.
    time_discovered_routes: bool = False
    route_budgets: dict[str, int] = field(default_factory=dict)  # p95 budgets by route name (--budget)
    # The exposure paths of a host are read over this many kept-alive connections, each
    # path after the other on its connection: one TLS handshake per connection instead of
    # one per path (BENCHMARKS.md, audit_large). The store's own host reads its paths all
    # at once (its route samples wait for them); the other hosts, probed on the side loop
    # while the samples run, over two: 7 round trips, well inside the samples' 20, for
    # half the handshakes of four (audit CPU 0.68 against 0.81 s on the large store).
    # Off: every path on a fresh connection, all at once.
    exposure_keep_alive: bool = True
    exposure_connections: int = 2
    # A route's samples over one kept-alive connection, as a browser moves from page to
    # page (performance.route_timing). Off: a fresh connection per sample. The time to
    # first byte is measured from the request either way.
    samples_keep_alive: bool = True
    # Everything but the store's own host (DNS, the registry, email, and the other hosts'
    # TLS, root pages and exposure paths) is probed on the side loop, a second event loop
    # in its own thread (side.py), so its CPU overlaps the route samples and the requests
    # they wait for without holding up the samples' clock. Off: all on the audit's loop.
    side_loop: bool = True
    # On the side loop, the other hosts' requests open at once (the stores' servers are
    # often shared: not hundreds of connections while the samples are timed).
    other_hosts_in_flight: int = 24


class BudgetExhausted(Exception):
    """The audit's request budget is spent: the probe that meets it reports "unavailable"."""


@dataclass
class ProbeRun:
    """One audit's probing: the site, the network settings, and the shared request budget."""

    site: SiteDeclaration
    config: net.NetConfig = field(default_factory=net.NetConfig.from_settings)
    options: ProbeOptions = field(default_factory=ProbeOptions)
    requests: int = 0
    probe_seconds: float = 0.0  # the sum of every probe's own time (for the benchmark)
    longest_chain_s: float = 0.0
    refused_certificates: set[str] = field(default_factory=set)  # hosts read past a refused certificate
    turns: HostTurns = field(default_factory=HostTurns)  # requests in flight per host, for the samples
    # The counters above are shared with the side loop's thread (side.py).
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    async def fetch(
        self,
        url: str,
        *,
        read_past_certificate: bool = False,
        sample: bool = False,
        session: net.Session | None = None,
        **kwargs,
    ) -> net.FetchResult:
        """A budgeted fetch. ``read_past_certificate``: when the host's certificate is
        refused (the tls.* checks report that), read the page anyway so its headers,
        content and timings are still checked. ``sample``: a timed route sample, which
        is not counted in ``turns`` (the samples wait for the other requests only).
        ``session``: from ``self.session()``, to reuse its kept-alive connections; each
        request still counts against the budget."""
        host = host_of(url)
        insecure = read_past_certificate and host in self.refused_certificates
        with self.turns.request(host) if not sample else nullcontext():
            result = await self._fetch_once(url, verify_certificate=not insecure, session=session, **kwargs)
        if (
            read_past_certificate
            and not insecure
            and result.error
            and result.error.kind == net.ErrorKind.TLS_CERTIFICATE
            and result.final
            and host_of(result.final.url) == host
        ):
            self.refused_certificates.add(host)
            with self.turns.request(host) if not sample else nullcontext():
                result = await self._fetch_once(url, verify_certificate=False, session=session, **kwargs)
        return result

    async def _fetch_once(self, url: str, *, session: net.Session | None = None, **kwargs) -> net.FetchResult:
        self.charge()
        with self.clock():
            if session is not None:
                return await session.fetch(url, **kwargs)
            return await net.fetch(url, config=self.config, **kwargs)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[net.Session]:
        """Kept-alive connections on this audit's network settings, closed on the way out."""
        async with net.Session(self.config) as session:
            yield session

    def charge(self) -> None:
        """Count one request against the audit's budget (API calls through httpx count too)."""
        with self._lock:
            self.requests += 1
            spent = self.requests > self.options.request_budget
        if spent:
            raise BudgetExhausted(
                f"The audit's request budget ({self.options.request_budget} requests) was used up."
            )

    @asynccontextmanager
    async def api_client(self, **options: Any) -> AsyncIterator[Any]:  # an httpx.AsyncClient
        """The network layer's httpx client for API calls (RDAP, certificate transparency…),
        on this audit's settings: every request it sends is charged to the request budget
        (``BudgetExhausted`` when spent, as for ``fetch``) and its time to ``probe_seconds``."""

        async def charge(_request: object) -> None:
            self.charge()

        async with net.async_api_client(config=self.config, **options) as client:
            client.event_hooks["request"].append(charge)
            with self.clock():
                yield client

    @contextmanager
    def clock(self) -> Iterator[None]:
        """Count the time inside towards ``probe_seconds`` (I/O that is not a budgeted fetch)."""
        started = time.monotonic()
        try:
            yield
        finally:
            with self._lock:
                self.probe_seconds += time.monotonic() - started


def route_urls(site: SiteDeclaration) -> list[tuple[str, str]]:
    """(name, URL) of each declared route on the canonical host; the homepage always first."""
    base = f"https://{site.canonical_host}"
    pairs = [(r.name, base + r.path) for r in site.routes or []]
    if not any(name == "home" for name, _ in pairs):
        pairs.insert(0, ("home", base + "/"))
    return pairs


def response_headers(hop: net.Hop | None) -> dict[str, str]:
    """Lower-case header names; repeated headers joined (Set-Cookie kept apart elsewhere)."""
    merged: dict[str, str] = {}
    for key, value in hop.headers if hop else ():
        key = key.lower()
        merged[key] = f"{merged[key]}, {value}" if key in merged and key != "set-cookie" else value
    return merged


def first_byte_ms(result: net.FetchResult) -> float:
    """Server response time: time to first byte of the final response (all hops included)."""
    earlier = sum(h.timings.total_ms or 0.0 for h in result.hops[:-1])
    return earlier + (result.timings.ttfb_ms or 0.0)
