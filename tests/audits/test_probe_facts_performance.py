"""The performance probes against the sandbox's real servers: route timings and the light
load test as typed facts (like ``tests/email/test_probe.py`` for email).

Only lower bounds are asserted on times (the server waits at least its latency); how fast
things are on this machine is the benchmarks' business, not the tests'.
"""

from __future__ import annotations

import asyncio

import pytest

from audits.engine import default_options
from audits.facts import RouteSpec, RouteTiming, SiteDeclaration
from audits.ownership import txt_name, txt_value
from audits.probes.base import ProbeRun
from audits.probes.performance import probe_load, probe_routes, route_timing

TOKEN = "perf-facts-token"
LATENCY_MS = 60
# What the probe can see of that wait: the server's timer and ours are not the same clock
# (a sleep may end a millisecond early), so the lower bound keeps a tenth as margin.
SEEN_AT_LEAST_MS = LATENCY_MS * 0.9
SCENARIO = {
    "name": "performance_facts",
    "zones": {
        "perf.test": {
            "records": [{"name": txt_name("perf.test") + ".", "type": "TXT", "value": txt_value(TOKEN)}]
        }
    },
    "hosts": [
        {"name": "perf.test", "redirect_to": "https://www.perf.test"},
        {
            "name": "www.perf.test",
            "routes": [
                {"path": "/", "body": "<html>home</html>", "latency": LATENCY_MS},
                {"path": "/checkout", "status": 500, "body": "boom"},
                {"path": "/login", "status": 429, "headers": {"Retry-After": "30"}},
                {"path": "/api/orders", "body": "[]", "content_type": "application/json"},
            ],
        },
        {"name": "www.unproven.test", "routes": [{"path": "/", "body": "home"}]},
    ],
}
ROUTES = [
    RouteSpec.standard("home", "/"),
    RouteSpec.standard("cart", "/cart"),
    RouteSpec.standard("checkout", "/checkout"),
    RouteSpec.standard("login", "/login"),
    RouteSpec.standard("order", "/api/orders"),
]
SAMPLES = 5


@pytest.fixture(scope="module")
def sb(sandbox_scenario):
    return sandbox_scenario(SCENARIO)


def run_for(domain: str = "perf.test", **site) -> ProbeRun:
    options = default_options(samples=SAMPLES, load_max_s=1.0, load_max_requests=12, load_concurrency=3)
    return ProbeRun(SiteDeclaration(domain=domain, canonical="www", routes=ROUTES, **site), options=options)


@pytest.fixture(scope="module")
def timings(sb) -> dict[str, RouteTiming]:
    return {t.name: t for t in asyncio.run(probe_routes(run_for()))}


def test_a_route_is_sampled_and_timed(timings):
    home = timings["home"]
    assert home.url == "https://www.perf.test/" and (home.kind, home.budget_ms) == ("page", 800)
    assert home.samples == SAMPLES and home.errors == 0 and home.unavailable is None
    assert len(home.ttfb_ms) == len(home.total_ms) == SAMPLES
    assert min(home.ttfb_ms) >= SEEN_AT_LEAST_MS  # the server waited that long before answering
    assert all(total >= first for first, total in zip(home.ttfb_ms, home.total_ms, strict=True))
    assert home.p95 is not None and home.p95 >= home.p50 >= SEEN_AT_LEAST_MS


def test_an_api_route_has_the_api_budget(timings):
    order = timings["order"]
    assert (order.kind, order.budget_ms) == ("api", 500) and len(order.ttfb_ms) == SAMPLES


def test_a_missing_route_is_not_timed(timings):
    cart = timings["cart"]
    assert cart.not_found == 404 and cart.samples == 1 and cart.ttfb_ms == []


def test_server_errors_are_counted_with_examples(timings):
    checkout = timings["checkout"]
    assert (checkout.samples, checkout.errors, checkout.server_errors) == (SAMPLES, SAMPLES, SAMPLES)
    assert checkout.error_examples == ["HTTP 500"] * 3 and checkout.ttfb_ms == []


def test_a_rate_limited_route_could_not_be_measured(timings):
    login = timings["login"]
    assert login.unavailable is not None and login.unavailable.reason.startswith("rate limited")
    assert "retry after 30s" in login.unavailable.reason and login.ttfb_ms == []


def test_no_load_test_without_proven_ownership(timings):
    assert asyncio.run(probe_load(run_for(), list(timings.values()))) is None


def test_the_load_test_of_a_proven_site(timings):
    run = run_for(ownership_verified=True, ownership_token=TOKEN)
    (load,) = asyncio.run(probe_load(run, list(timings.values())))
    assert load.name == "home" and load.concurrency == 3 and load.unavailable is None
    assert 0 < load.requests <= 12 and load.errors == 0 and len(load.ttfb_ms) == load.requests
    assert min(load.ttfb_ms) >= SEEN_AT_LEAST_MS and load.idle_p95_ms == timings["home"].p95


def test_the_load_test_does_not_run_when_the_proof_is_gone(sb):
    run = ProbeRun(
        SiteDeclaration(
            domain="unproven.test", routes=ROUTES[:1], ownership_verified=True, ownership_token=TOKEN
        ),
        options=default_options(samples=2),
    )
    (home,) = asyncio.run(probe_routes(run))
    (load,) = asyncio.run(probe_load(run, [home]))
    assert load.requests == 0 and load.unavailable is not None
    assert "ownership proof for unproven.test was not found" in load.unavailable.reason


def test_route_timings_round_trip_through_json(timings):
    for timing in timings.values():
        assert RouteTiming.from_dict(timing.to_dict()) == timing


def test_a_routes_samples_share_one_kept_alive_connection(sb):
    # As a customer's browser goes from page to page: the first sample opens a connection,
    # the others reuse it. What is timed is the time to first byte after each request,
    # so only the handshakes are saved (on both sides), not part of the measurement.
    sb.clear_http_requests()
    spec = RouteSpec.standard("order", "/api/orders")
    timing = asyncio.run(route_timing(run_for(), "order", "https://www.perf.test/api/orders", spec))
    seen = [r.connection for r in sb.http_requests if r.path == "/api/orders"]
    assert timing.samples == len(timing.ttfb_ms) == len(seen) == SAMPLES
    assert len(set(seen)) == 1


def test_with_samples_keep_alive_off_each_sample_opens_its_own_connection(sb):
    sb.clear_http_requests()
    spec = RouteSpec.standard("order", "/api/orders")
    probe_run = run_for()
    probe_run.options.samples_keep_alive = False
    timing = asyncio.run(route_timing(probe_run, "order", "https://www.perf.test/api/orders", spec))
    seen = [r.connection for r in sb.http_requests if r.path == "/api/orders"]
    assert len(timing.ttfb_ms) == len(set(seen)) == SAMPLES
