"""Rules of the ``performance`` stage: route timings against budgets, errors, behaviour
under light load, render-blocking third parties, page weight, Lighthouse."""

from __future__ import annotations

from audits.checks import Severity
from audits.facts import PageFacts, RouteTiming, host_of
from audits.findings import FindingData
from audits.rules.base import RuleContext, Skip, rule

PRODUCT_ROUTES = {"product", "listing"}  # product detail and product listing pages
PRODUCT_BLOCKER_MS = 1000
ERROR_RATE_LIMIT = 0.01
LOAD_FACTOR = 2.0
HEAVY_HTML_BYTES = 500_000
MAX_SUBRESOURCES = 100
LIGHTHOUSE_MIN = 80


def _routes(ctx: RuleContext) -> list[RouteTiming]:
    if not ctx.facts.routes:
        raise Skip("no critical routes were measured in this run")
    return ctx.facts.routes


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f} ms"


def timing_line(route: RouteTiming) -> str:
    return (
        f"{route.name} {route.url}: time to first byte p50 {_ms(route.p50)}, p95 {_ms(route.p95)}, "
        f"max {_ms(route.max_ms)} over {len(route.ttfb_ms)} samples"
    )


P95_GLOSS = "p95: 95 of 100 requests are answered at least this fast"


def interval_line(route: RouteTiming) -> str:
    return (
        f"with {len(route.ttfb_ms)} samples the true p95 is at least {_ms(route.p95_low)} "
        f"(90% confidence); measured {_ms(route.p95)}"
    )


@rule("perf.route_slow")
def route_slow(ctx: RuleContext) -> list[FindingData]:
    """Slow only when the p95 is clearly over budget given the samples: its lower confidence
    bound is over the budget. A measured p95 over budget whose bound is not is borderline
    (low), so a route that sits at its budget gives the same verdict run after run."""
    routes = _routes(ctx)
    if all(route.not_found is not None for route in routes):
        raise Skip("none of the routes exists on the store, so none could be timed")
    findings = []
    for route in routes:
        subject = f"{route.name} {route.url}"
        if route.unavailable:
            findings.append(ctx.inconclusive("perf.route_slow", subject, route.unavailable))
            continue
        if route.not_found is not None:
            continue  # perf.route_not_found reports it: a missing page has no speed
        p95, low = route.p95, route.p95_low
        if p95 is None or low is None:
            # No request succeeded: perf.route_errors says why, and there is no speed to judge.
            findings.append(ctx.inconclusive("perf.route_slow", subject, _unanswered(route, "its speed")))
            continue
        if p95 <= route.budget_ms:
            continue
        evidence = [
            timing_line(route),
            f"budget for this {route.kind}: {route.budget_ms} ms at p95 ({P95_GLOSS})",
            interval_line(route),
        ]
        if low <= route.budget_ms:
            evidence.append(
                f"borderline: the measured p95 is over the {route.budget_ms} ms budget, but with these "
                "samples it may be within it; re-measure after the next change"
            )
            findings.append(
                ctx.fail(
                    "perf.route_slow",
                    subject,
                    evidence,
                    severity=Severity.LOW,
                    title="A key page or API is borderline slow",
                )
            )
            continue
        blocker = route.kind == "page" and route.name in PRODUCT_ROUTES and low > PRODUCT_BLOCKER_MS
        if blocker:
            evidence.append(f"product pages above {PRODUCT_BLOCKER_MS} ms p95 block the launch")
        severity = Severity.BLOCKER if blocker else Severity.HIGH
        findings.append(ctx.fail("perf.route_slow", subject, evidence, severity=severity))
    return findings


@rule("perf.route_not_found")
def route_not_found(ctx: RuleContext) -> list[FindingData]:
    findings = []
    for route in _routes(ctx):
        if route.not_found is None:
            subject = f"{route.name} {route.url}"
            if route.unavailable:
                findings.append(ctx.inconclusive("perf.route_not_found", subject, route.unavailable))
            elif not route.ttfb_ms and not route.server_errors:
                reason = _unanswered(route, "whether the page exists")
                findings.append(ctx.inconclusive("perf.route_not_found", subject, reason))
            continue
        gone = "410 (gone)" if route.not_found == 410 else "404 (not found)"
        evidence = [f"{route.url} answered HTTP {gone}, so it was not timed"]
        if route.source:
            evidence.append(f"the path was found on the store ({route.source}) but does not answer")
        findings.append(ctx.fail("perf.route_not_found", f"{route.name} {route.url}", evidence))
    return findings


@rule("perf.route_errors")
def route_errors(ctx: RuleContext) -> list[FindingData]:
    findings = []
    for route in _routes(ctx):
        subject = f"{route.name} {route.url}"
        if route.unavailable:
            findings.append(ctx.inconclusive("perf.route_errors", subject, route.unavailable))
            continue
        if route.not_found is not None:
            continue  # perf.route_not_found reports it
        # An HTTP 5xx answer means the server was reached: the route itself fails, whatever
        # its certificate. Only when nothing answered does the cause lie elsewhere.
        unseen = route.samples and not route.ttfb_ms and not route.server_errors
        if unseen and (refused := _tls_refused(ctx, route.url)):
            # Every request died on the certificate: tls.* reports the cause, the route is unseen.
            findings.append(ctx.inconclusive("perf.route_errors", subject, refused))
            continue
        if unseen and (down := _store_down(ctx)):
            # Nothing answered at all: dns.* / http.unreachable report the outage once.
            findings.append(ctx.inconclusive("perf.route_errors", subject, down))
            continue
        if route.samples and route.errors / route.samples > ERROR_RATE_LIMIT:
            evidence = [
                f"{route.errors} of {route.samples} requests failed ({route.errors / route.samples:.0%})"
            ]
            if route.server_errors == route.samples:
                codes = ", ".join(sorted(set(route.error_examples))) or "HTTP 5xx"
                evidence.append(
                    f"every request answered with a server error ({codes}): the store is reached, "
                    "but this page fails on the server for every visitor"
                )
            evidence += route.error_examples[:5]
            findings.append(ctx.fail("perf.route_errors", subject, evidence))
    return findings


def _unanswered(route: RouteTiming, what: str) -> str:
    """Why nothing could be told about ``what`` of a route none of whose requests succeeded."""
    if not route.samples:
        return f"the route was not requested, so {what} is not known"
    requests = "the only request" if route.samples == 1 else f"all {route.samples} requests"
    failed = "answered with a server error" if route.server_errors == route.samples else "failed"
    example = f" ({route.error_examples[0]})" if route.error_examples else ""
    return f"{requests} {failed}{example}, so {what} is not known"


def _store_down(ctx: RuleContext) -> str:
    """Why the canonical URL gave no HTTP answer at all, or "" when it answered."""
    chain = ctx.facts.chain(ctx.site.canonical_url)
    if chain is None or not chain.failed or chain.loop:
        return ""
    return f"every request failed because the store does not answer: {chain.error or 'no answer'}"


def _tls_refused(ctx: RuleContext, url: str) -> str:
    """Why browsers refuse the TLS of ``url``'s host, or "" when they accept it."""
    if not url.startswith("https://"):
        return ""
    tls = ctx.facts.tls_for(host_of(url))
    if tls is None or tls.unavailable:
        return ""
    if not tls.handshake_ok:
        return f"every request failed: {tls.error or 'no TLS on port 443'}"
    if tls.verify_errors:
        problems = ", ".join(str(v).replace("_", " ") for v in tls.verify_errors)
        return f"every request failed: the certificate of {tls.host} is refused ({problems})"
    return ""


@rule("perf.degrades_under_load")
def degrades_under_load(ctx: RuleContext) -> list[FindingData]:
    if ctx.facts.load is None:
        if not ctx.site.ownership_verified:
            raise Skip("the load probe runs only once the site's ownership is verified")
        raise Skip("the load probe did not run")
    idle = {r.name: r.p95 for r in ctx.facts.routes}
    findings = []
    for load in ctx.facts.load:
        subject = f"{load.name} {load.url}"
        if load.unavailable:
            findings.append(ctx.inconclusive("perf.degrades_under_load", subject, load.unavailable))
            continue
        baseline = load.idle_p95_ms if load.idle_p95_ms is not None else idle.get(load.name)
        if baseline is None or load.p95 is None or load.p95 <= LOAD_FACTOR * baseline:
            continue
        evidence = (
            f"p95 {_ms(load.p95)} with {load.concurrency} concurrent requests ({load.requests} requests) "
            f"against {_ms(baseline)} idle: {load.p95 / baseline:.1f}× slower"
        )
        findings.append(ctx.fail("perf.degrades_under_load", subject, evidence))
    return findings


def _html_pages(ctx: RuleContext) -> list[PageFacts]:
    """The public pages of the store: the critical route pages and the apex/www roots."""
    pages = ctx.facts.storefront_pages()
    if not pages:
        raise Skip("no HTML page of the store was fetched")
    return pages


def _first_party(ctx: RuleContext, url: str) -> bool:
    host = host_of(url)
    return ctx.is_site_host(host)


@rule("perf.render_blocking_third_party")
def render_blocking_third_party(ctx: RuleContext) -> list[FindingData]:
    findings = []
    for page in _html_pages(ctx):
        blocking = [
            s.src
            for s in page.html.scripts  # type: ignore[union-attr]
            if s.src
            and s.in_head
            and not (s.is_async or s.is_defer or s.is_module)
            and not _first_party(ctx, s.src)
        ]
        if blocking:
            evidence = [f'<script src="{src}"> in <head> without async or defer' for src in blocking]
            findings.append(ctx.fail("perf.render_blocking_third_party", page.url, evidence))
    return findings


@rule("perf.page_heavy")
def page_heavy(ctx: RuleContext) -> list[FindingData]:
    findings = []
    for page in _html_pages(ctx):
        evidence = []
        if page.body_bytes > HEAVY_HTML_BYTES:
            more = " or more (read capped)" if page.truncated else ""
            evidence.append(f"HTML is {page.body_bytes / 1000:.0f} kB{more} (limit 500 kB)")
        count = page.html.subresource_count if page.html else 0
        if count > MAX_SUBRESOURCES:
            evidence.append(f"{count} subresources (scripts, styles, images…; limit 100)")
        if evidence:
            findings.append(ctx.fail("perf.page_heavy", page.url, evidence))
    return findings


@rule("perf.lighthouse_low")
def lighthouse_low(ctx: RuleContext) -> list[FindingData]:
    lighthouse = ctx.facts.lighthouse
    if lighthouse is None:
        raise Skip("no Lighthouse source is configured (e.g. a PageSpeed Insights API key)")
    if lighthouse.unavailable:
        return [ctx.inconclusive("perf.lighthouse_low", lighthouse.url, lighthouse.unavailable)]
    if lighthouse.performance is None or lighthouse.performance >= LIGHTHOUSE_MIN:
        return []
    evidence = f"{lighthouse.source}: mobile performance score {lighthouse.performance} (80 or more wanted)"
    return [ctx.fail("perf.lighthouse_low", lighthouse.url, evidence)]
