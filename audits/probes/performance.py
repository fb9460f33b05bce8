"""Probes of the ``performance`` stage: sequential timings of each critical route, an
optional light load test (only for a site whose owner proved ownership), and Lighthouse
from PageSpeed Insights when an API key is configured."""

from __future__ import annotations

import asyncio
import logging
import time
from contextlib import nullcontext
from dataclasses import dataclass, replace

from audits import detect, ownership
from audits.facts import LighthouseFacts, LoadTiming, RouteSpec, RouteTiming, Unavailable, host_of
from launchready import net

from .base import BudgetExhausted, ProbeRun, first_byte_ms, response_headers, route_urls
from .turns import QUIET_WAIT_S

logger = logging.getLogger(__name__)

NOT_FOUND = (404, 410)  # the route does not exist (410: it existed and was removed)


async def probe_routes(run: ProbeRun) -> list[RouteTiming]:
    specs = {r.name: r for r in run.site.routes}
    return list(
        await asyncio.gather(
            *(route_timing(run, name, url, specs.get(name)) for name, url in route_urls(run.site))
        )
    )


@dataclass
class _Patience:
    """What a route's samples may still spend, in all, on the audit's own other requests."""

    retakes: int  # samples taken again; at most as many as the route's samples (the request budget)
    left_s: float = QUIET_WAIT_S


async def _sample(
    run: ProbeRun, url: str, patience: _Patience, session: net.Session | None = None
) -> net.FetchResult:
    """One timed request, sent once the audit's other requests to the host are done, and
    taken again when some of them overlapped it after all: the time is the store's, not
    the queue our own requests made in front of it (``HostTurns``). Waiting and retaking
    stop when the patience is spent, so a host that answers everything slowly keeps its
    slow samples instead of holding the audit up."""
    host = host_of(url)
    while True:
        patience.left_s -= await run.turns.quiet(host, patience.left_s)
        started = time.monotonic()
        with run.turns.watch(host) as overlap:
            result = await run.fetch(
                url, max_body_bytes=256 * 1024, read_past_certificate=True, sample=True, session=session
            )
        elapsed = time.monotonic() - started
        if not overlap.crowded or elapsed > patience.left_s or patience.retakes <= 0:
            return result
        patience.left_s -= elapsed
        patience.retakes -= 1


async def route_timing(run: ProbeRun, name: str, url: str, spec: RouteSpec | None) -> RouteTiming:
    """The route's samples, one after the other. With ``samples_keep_alive`` (the default)
    they share one kept-alive connection, as a customer's browser does from page to page
    of a store: the first sample opens it, the others reuse it. What is timed is the same
    either way, the time to first byte after the request is sent; what the reused
    connection saves is a TCP and TLS handshake per sample on both sides."""
    spec = spec or RouteSpec.standard(name)
    ttfb: list[float] = []
    total: list[float] = []
    errors = 0
    examples: list[str] = []
    attempted = 0
    server_errors = 0

    def timing() -> RouteTiming:
        return RouteTiming(name=name, url=url, kind=spec.kind, budget_ms=spec.budget_ms, source=spec.source)

    def unavailable(reason: Unavailable) -> RouteTiming:
        return replace(timing(), samples=attempted, unavailable=reason)

    patience = _Patience(retakes=run.options.samples)
    async with run.session() if run.options.samples_keep_alive else nullcontext() as session:
        for _ in range(run.options.samples):
            try:
                result = await _sample(run, url, patience, session)
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
                blocked = detect.detect_block(status, response_headers(result.final), "")
                if blocked:
                    return unavailable(blocked)
                if status in NOT_FOUND:
                    # A page that does not exist has no speed: perf.route_not_found reports it.
                    return replace(timing(), samples=attempted, not_found=status)
            if not result.ok or status is None or status >= 500:
                errors += 1
                if status is not None and status >= 500:
                    server_errors += 1
                if len(examples) < 3:
                    examples.append(result.error.message if result.error else f"HTTP {status}")
                continue
            if result.timings.ttfb_ms is not None:
                ttfb.append(round(first_byte_ms(result), 1))
                total.append(round(result.elapsed_ms, 1))
    return replace(
        timing(),
        ttfb_ms=ttfb,
        total_ms=total,
        samples=attempted,
        errors=errors,
        server_errors=server_errors,
        error_examples=examples,
    )


async def probe_lighthouse(run: ProbeRun) -> LighthouseFacts | None:
    """Lighthouse mobile performance from PageSpeed Insights, when an API key is configured."""
    options = run.options
    if not (options.pagespeed_key and options.pagespeed_url):
        return None
    target = run.site.canonical_url
    source = "PageSpeed Insights"
    params = {"url": target, "strategy": "mobile", "category": "performance", "key": options.pagespeed_key}
    try:
        run.charge()
        # Lighthouse runs a real browser on Google's side: it takes tens of seconds.
        async with net.async_api_client(
            config=run.config, timeout=90, max_body_bytes=8 * 1024 * 1024, follow_redirects=True
        ) as client:
            with run.clock():
                response = await client.get(options.pagespeed_url, params=params)
    except BudgetExhausted as exc:
        return LighthouseFacts(url=target, source=source, unavailable=Unavailable(str(exc)))
    except net.API_ERRORS as exc:
        reason = net.api_error(exc).message.replace(options.pagespeed_key, "[key]")
        return LighthouseFacts(
            url=target, source=source, unavailable=Unavailable(f"{source} failed: {reason}")
        )
    if response.status_code != 200:
        return LighthouseFacts(
            url=target,
            source=source,
            unavailable=Unavailable(f"{source} failed: it answered HTTP {response.status_code}"),
        )
    try:
        score = response.json()["lighthouseResult"]["categories"]["performance"]["score"]
        performance = round(float(score) * 100)
    except (ValueError, KeyError, TypeError):
        return LighthouseFacts(
            url=target, source=source, unavailable=Unavailable(f"{source} sent no performance score.")
        )
    return LighthouseFacts(url=target, source=source, performance=performance)


async def probe_load(run: ProbeRun, timings: list[RouteTiming]) -> list[LoadTiming] | None:
    """A bounded light-load probe, only for sites whose owner proved ownership.

    The proof is checked again right before the first request: a record or file removed
    since the verification means no load test, and each route says why."""
    site = run.site
    if not site.ownership_verified:
        return None
    targets = [t for t in timings if t.name == "home" and t.ttfb_ms]
    if not targets:
        return []
    proof = await ownership.check_ownership_async(site, site.ownership_token, config=run.config)
    if not proof.verified:
        logger.info("load probe of %s skipped: ownership proof not found", site.domain)
        skipped = Unavailable(
            "The light load test did not run: the ownership proof for "
            f"{site.domain} was not found just before it. {proof.summary}"
        )
        return [load_not_run(run, timing, skipped) for timing in targets]
    return [await load_route(run, timing) for timing in targets]


def load_not_run(run: ProbeRun, timing: RouteTiming, reason: Unavailable) -> LoadTiming:
    return LoadTiming(
        name=timing.name,
        url=timing.url,
        concurrency=run.options.load_concurrency,
        idle_p95_ms=timing.p95,
        unavailable=reason,
    )


async def load_route(run: ProbeRun, timing: RouteTiming) -> LoadTiming:
    options = run.options
    deadline = time.monotonic() + options.load_max_s
    samples: list[float] = []
    errors = 0
    sent = 0

    async def worker() -> None:
        nonlocal errors, sent
        while time.monotonic() < deadline and sent < options.load_max_requests:
            sent += 1
            try:
                result = await run.fetch(timing.url, max_body_bytes=256 * 1024)
            except BudgetExhausted:
                return
            if result.ok and result.status and result.status < 500 and result.timings.ttfb_ms is not None:
                samples.append(round(first_byte_ms(result), 1))
            else:
                errors += 1

    await asyncio.gather(*(worker() for _ in range(options.load_concurrency)))
    return LoadTiming(
        name=timing.name,
        url=timing.url,
        concurrency=options.load_concurrency,
        ttfb_ms=samples,
        idle_p95_ms=timing.p95,
        requests=sent,
        errors=errors,
    )
