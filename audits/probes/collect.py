"""Wiring: start every probe of an audit as soon as what it needs is in, and keep what
finished when the time budget runs out.

DNS, RDAP, the redirect chains, the route pages and the route timings start at once;
TLS, host pages and exposure start as soon as DNS has named the hosts, and static
assets as soon as the homepage is in. The audit is as fast as its slowest chain, which
is usually the sequential samples of the slowest route.

The audit's own loop holds the store's own host alone: its pages, redirects, route
discovery, TLS and exposure paths (which the route samples wait for: ``turns.py``), then
the samples. Everything else (DNS, the registry, email, and the other hosts' TLS, root
pages and exposure paths: most of an audit's CPU) runs on the side loop, a second event
loop in its own thread (``side.py``), where it overlaps that chain without delaying the
samples' clock. The own host's TLS and exposure start once DNS has resolved its name.

A probe never raises for a network failure: the error sentence is carried in the
facts. When the audit's time budget runs out, the stages that did not finish are
marked unavailable, so their checks report "inconclusive".
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TypeVar

from audits.checks import Stage
from audits.facts import (
    AssetFacts,
    AuditFacts,
    DnsFacts,
    ExposureProbe,
    LighthouseFacts,
    LoadTiming,
    OriginProbe,
    PageFacts,
    RdapFacts,
    RedirectChain,
    RouteDiscovery,
    RouteTiming,
    TlsFacts,
    Unavailable,
    UnavailableKind,
)
from audits.facts.dns import HostSource
from audits.facts.email import EmailFacts

from . import dns, email, exposure, performance, route_discovery, tls, web
from .base import BudgetExhausted, ProbeRun
from .side import SideLoop

logger = logging.getLogger(__name__)

# The most the side loop's work waits for the store's own host's route pages (``_start``).
SIDE_HEAD_START_S = 1.0

T = TypeVar("T")
A = TypeVar("A")

# The roadmap stages an audit probes, in the order the run page lists their progress.
PROBED_STAGES = (Stage.DNS, Stage.EDGE, Stage.DEPLOY, Stage.PERFORMANCE, Stage.EMAIL)


@dataclass
class StageTracker:
    """Which stages are still collecting, for live progress on the run page."""

    on_change: Callable[[dict[str, str]], None] | None = None
    state: dict[str, str] = field(default_factory=dict)

    def set(self, stage: Stage, value: str) -> None:
        key = str(stage)
        if self.state.get(key) != value:
            self.state[key] = value
            if self.on_change:
                self.on_change(dict(self.state))


@dataclass(frozen=True)
class _Probes:
    """One task per probe: a task that finished holds its facts; one that did not, none."""

    routes: asyncio.Task[list[RouteTiming]]
    rdap: asyncio.Task[RdapFacts]
    redirects: asyncio.Task[list[RedirectChain]]
    pages: asyncio.Task[list[PageFacts]]
    dns: asyncio.Task[DnsFacts]
    email: asyncio.Task[EmailFacts]
    lighthouse: asyncio.Task[LighthouseFacts | None]  # None: no PageSpeed key
    tls: asyncio.Task[list[TlsFacts]]
    host_pages: asyncio.Task[list[PageFacts]]
    exposure: asyncio.Task[list[ExposureProbe]]
    assets: asyncio.Task[list[AssetFacts]]
    source_maps: asyncio.Task[list[ExposureProbe]]
    origin: asyncio.Task[list[OriginProbe]]
    load: asyncio.Task[list[LoadTiming] | None]  # None: ownership not proven, no load test
    discovery: asyncio.Task[RouteDiscovery]
    early: list[asyncio.Task]  # the store's own name and its part of tls and exposure

    def of_stage(self, stage: Stage) -> tuple[asyncio.Task, ...]:
        return {
            Stage.DNS: (self.dns, self.rdap),
            Stage.EDGE: (self.redirects, self.pages, self.tls, self.host_pages, self.assets, self.origin),
            Stage.DEPLOY: (self.exposure, self.source_maps),
            Stage.PERFORMANCE: (self.routes, self.load, self.lighthouse, self.discovery),
            Stage.EMAIL: (self.email,),
        }[stage]

    def all(self) -> list[asyncio.Task]:
        return [task for stage in PROBED_STAGES for task in self.of_stage(stage)]


async def collect_facts(
    run: ProbeRun, *, progress: Callable[[dict[str, str]], None] | None = None
) -> AuditFacts:
    """Every fact of one audit; the counters on ``run`` say what it cost."""
    tracker = StageTracker(progress)
    for stage in PROBED_STAGES:
        tracker.set(stage, "running")
    async with SideLoop(run.options.other_hosts_in_flight) as side:
        probes = _start(run, side)

        async def stage_done(stage: Stage) -> None:
            tasks = probes.of_stage(stage)
            await asyncio.gather(*tasks, return_exceptions=True)
            if all(_finished(t) for t in tasks):
                tracker.set(stage, "done")

        try:
            async with asyncio.timeout(run.options.time_budget_s):
                await asyncio.gather(*(stage_done(stage) for stage in PROBED_STAGES))
        except TimeoutError:
            logger.info("audit of %s ran out of time; keeping finished probes", run.site.domain)
        for task in probes.early:
            task.cancel()  # done by now, unless the time ran out
    for task in probes.all():
        if task.done() and not task.cancelled() and task.exception():
            exc = task.exception()
            # Surface programming errors (network failures never raise).
            if not isinstance(exc, BudgetExhausted):
                logger.error("audit probe failed", exc_info=exc)

    stage_unavailable: dict[str, Unavailable] = {}
    for stage in PROBED_STAGES:
        if not all(_finished(t) for t in probes.of_stage(stage)):
            stage_unavailable[str(stage)] = Unavailable(
                f"The audit ran out of time ({run.options.time_budget_s:g} s) before these checks "
                "finished; run it again.",
                UnavailableKind.OUT_OF_TIME,
            )
            tracker.set(stage, "incomplete")
    return AuditFacts(
        site=run.site,
        collected_at=datetime.now(UTC),
        dns=_value(probes.dns),
        rdap=_value(probes.rdap),
        redirects=_list(probes.redirects),
        pages=_list(probes.pages) + _list(probes.host_pages),
        assets=_list(probes.assets),
        tls=_list(probes.tls),
        origin_probes=_list(probes.origin),
        exposure=_list(probes.exposure) + _list(probes.source_maps),
        routes=_list(probes.routes),
        discovered_routes=_value(probes.discovery),
        load=_value(probes.load),
        lighthouse=_value(probes.lighthouse),
        email=_value(probes.email),
        stage_unavailable=stage_unavailable,
        allowed_networks=[str(n) for n in run.config.allowed_networks],
    )


def _start(run: ProbeRun, side: SideLoop) -> _Probes:
    """Start every probe; the dependent ones wait for what they need inside their task."""

    async def timed(coro: Awaitable[T]) -> T:
        started = time.monotonic()
        try:
            return await coro
        finally:
            run.longest_chain_s = max(run.longest_chain_s, time.monotonic() - started)

    def start(coro: Awaitable[T]) -> asyncio.Task[T]:
        return asyncio.create_task(timed(coro))

    def after(needed: asyncio.Task[A], probe: Callable[[A], Awaitable[T]]) -> asyncio.Task[T]:
        async def wait_then_probe() -> T:
            return await timed(probe(await needed))

        return asyncio.create_task(wait_then_probe())

    def hosts(found: DnsFacts) -> list[str]:
        return dns.contactable(found.hosts, run.config)

    discovery = start(route_discovery.discover_routes(run))
    routes: asyncio.Task[list[RouteTiming]]
    pages: asyncio.Task[list[PageFacts]]
    if run.options.time_discovered_routes and not run.site.routes:
        # No declared route: time what the store really has, once discovery found it.
        async def use_discovered(found: RouteDiscovery) -> None:
            run.site = replace(run.site, routes=route_discovery.specs_for(found, run.options.route_budgets))

        found_routes = after(discovery, use_discovered)
        routes = after(found_routes, lambda _: performance.probe_routes(run))
        pages = after(found_routes, lambda _: web.probe_route_pages(run))
    else:
        # Created in this order so the longest chain (the route samples) starts first.
        routes = start(performance.probe_routes(run))
        pages = start(web.probe_route_pages(run))

    async def head_start() -> None:
        """The side loop's work waits until the store's own host has answered its route
        pages (at most ``SIDE_HEAD_START_S``): the first requests of the chain the samples
        wait for get the machine first (both sides of the connection: a small store's
        server is often the one of its other hosts and DNS), then the rest fills in the
        time the samples spend waiting on the network."""
        await asyncio.wait([pages], timeout=SIDE_HEAD_START_S)

    def aside(make: Callable[[], Awaitable[T]]) -> Awaitable[T]:
        """``make()`` on the side loop after the head start (at once on this loop when the
        side loop is off)."""
        if not run.options.side_loop:
            return make()

        async def there(_limit: asyncio.Semaphore) -> T:
            return await make()

        async def later() -> T:
            await head_start()
            return await side.run(there)

        return later()

    rdap = start(aside(lambda: dns.probe_rdap(run)))
    redirects = start(web.probe_redirects(run))
    own = run.site.canonical_host
    # The store's own name, looked up on its own: its TLS and exposure paths need only that,
    # not the whole DNS stage (every other name, nameservers, CNAME checks).
    source = HostSource.WWW if own == run.site.www else HostSource.APEX
    own_named = asyncio.create_task(dns.resolve_host(run, own, source))
    dns_facts = start(aside(lambda: dns.probe_dns(run)))
    site_email = start(aside(lambda: email.probe_site_email(run)))
    lighthouse = start(performance.probe_lighthouse(run))
    early: list[asyncio.Task] = [own_named]

    def own_first_others_aside(
        probe: Callable[[list[str], asyncio.Semaphore | None], Awaitable[list[T]]],
    ) -> Callable[[list[str]], Awaitable[list[T]]]:
        """``probe`` of the store's own host on this loop, started as soon as its name is
        resolved (the route samples wait for these requests: the rest of the DNS stage is
        not theirs to wait for), and of the other hosts once the DNS stage has named them, on
        the side loop (on this loop when ``side_loop`` is off). Whether the own host is
        probed at all is the DNS stage's word. Host by host; the facts in the order of the
        hosts, as if all were probed at once."""

        async def each(names: list[str], limit: asyncio.Semaphore | None) -> list[list[T]]:
            return list(await asyncio.gather(*(probe([name], limit) for name in names)))

        async def own_host() -> list[list[T]] | None:
            if not dns.contactable([await own_named], run.config):
                return None  # the DNS stage will say; what it says is what counts
            return await each([own], None)

        own_early = asyncio.create_task(own_host())
        early.append(own_early)

        async def probed(names: list[str]) -> list[T]:
            here = [i for i, name in enumerate(names) if name == own]
            aside = [i for i in range(len(names)) if i not in here]

            async def mine() -> list[list[T]]:
                if not here:
                    own_early.cancel()
                    return []
                return await own_early or await each([own], None)

            if not run.options.side_loop or not aside:
                ours, theirs = await asyncio.gather(mine(), each([names[i] for i in aside], None))
            else:

                async def there(limit: asyncio.Semaphore) -> list[list[T]]:
                    return await each([names[i] for i in aside], limit)

                ours, theirs = await asyncio.gather(mine(), side.run(there))
            found = dict(zip(here + aside, ours + theirs, strict=True))
            return [fact for i in range(len(names)) for fact in found[i]]

        return probed

    tls_by_host = own_first_others_aside(lambda names, limit: tls.probe_tls(run, names, limit))
    exposure_by_host = own_first_others_aside(lambda names, limit: exposure.probe_exposure(run, names, limit))

    async def other_host_pages(names: list[str]) -> list[PageFacts]:
        """The root page of every host but the store's own (its routes are its pages)."""
        others = [name for name in names if name != own]
        if not run.options.side_loop or not others:
            return await web.probe_host_pages(run, others)
        return await side.run(lambda limit: web.probe_host_pages(run, others, limit))

    async def origins() -> list[OriginProbe]:
        found, page_list = await dns_facts, await pages
        return await timed(web.probe_origins(run, found, page_list))

    return _Probes(
        routes=routes,
        rdap=rdap,
        redirects=redirects,
        pages=pages,
        dns=dns_facts,
        email=site_email,
        lighthouse=lighthouse,
        tls=after(dns_facts, lambda d: tls_by_host(hosts(d))),
        host_pages=after(dns_facts, lambda d: other_host_pages(hosts(d))),
        exposure=after(dns_facts, lambda d: exposure_by_host(hosts(d))),
        assets=after(pages, lambda p: web.probe_assets(run, p)),
        source_maps=after(pages, lambda p: exposure.probe_source_maps(run, p)),
        origin=asyncio.create_task(origins()),
        load=after(routes, lambda r: performance.probe_load(run, r)),
        discovery=discovery,
        early=early,
    )


def _finished(task: asyncio.Task) -> bool:
    return task.done() and not task.cancelled() and task.exception() is None


def _value(task: asyncio.Task[T]) -> T | None:
    return task.result() if _finished(task) else None


def _list(task: asyncio.Task[list[T]]) -> list[T]:
    return list(task.result()) if _finished(task) else []
