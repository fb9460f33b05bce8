"""Rules of perf.* (audits/rules/performance.py): a failing input per check id, the good
store passes; a route with no successful request has no speed to pass ("inconclusive"
with the reason); a route answering 404 or 410 is perf.route_not_found, never a timing;
and route_slow decides with a margin, so a p95 at its budget is borderline (low), never
high one run in three."""

from __future__ import annotations

import random

import pytest

from audits.facts import LighthouseFacts, ScriptRef, Unavailable, VerifyError, p95_lower_bound
from audits.findings import Status
from audits.rules import evaluate
from tests.audits.factories import (
    HOME,
    NOW,
    WWW,
    chain,
    failing,
    good_facts,
    html,
    outcome,
    page,
    replace,
    timing,
    tls,
    with_chain,
    with_page,
    with_route,
    with_tls,
)

G = good_facts()
PRODUCT = f"https://{WWW}/products/tee"
CART = f"cart https://{WWW}/cart"
LOGIN = f"login https://{WWW}/account/login"
NO_ANSWER = "the host did not answer within 10 s."

SYNC_GTM = ScriptRef("https://www.googletagmanager.com/gtm.js?id=GTM-X", in_head=True)

FAIL_CASES = [
    pytest.param(
        "perf.route_slow",
        with_route(G, timing("product", "/products/tee", 1200)),
        "blocker",
        f"product {PRODUCT}",
        id="product-1.2s",
    ),
    pytest.param(
        "perf.route_slow",
        with_route(G, timing("cart", "/cart", 900)),
        "high",
        f"cart https://{WWW}/cart",
        id="cart-900ms",
    ),
    pytest.param(
        "perf.route_slow",
        with_route(G, timing("order", "/api/orders", 600)),
        "high",
        f"order https://{WWW}/api/orders",
        id="api-600ms",
    ),
    pytest.param(
        "perf.route_errors",
        with_route(G, timing("product", "/products/tee", samples=20, errors=2, error_examples=["HTTP 502"])),
        "blocker",
        f"product {PRODUCT}",
        id="10pct-errors",
    ),
    pytest.param(
        "perf.route_not_found",
        with_route(G, timing("cart", "/cart", ttfb_ms=[], total_ms=[], samples=1, not_found=404)),
        "high",
        f"cart https://{WWW}/cart",
        id="cart-404",
    ),
    pytest.param(
        "perf.degrades_under_load",
        replace(G, load=[replace(G.load[0], ttfb_ms=[500.0] * 40)]),
        "high",
        f"product {PRODUCT}",
        id="3x-slower",
    ),
    pytest.param(
        "perf.render_blocking_third_party",
        with_page(G, page(html=html(scripts=[SYNC_GTM]))),
        "medium",
        HOME,
        id="sync-gtm",
    ),
    pytest.param("perf.page_heavy", with_page(G, page(body_bytes=650_000)), "medium", HOME, id="650kB"),
    pytest.param(
        "perf.page_heavy",
        with_page(G, page(html=html(subresource_count=140))),
        "medium",
        HOME,
        id="140-resources",
    ),
    pytest.param(
        "perf.lighthouse_low",
        replace(G, lighthouse=LighthouseFacts(HOME, "PageSpeed Insights", 54)),
        "medium",
        HOME,
        id="54",
    ),
]


@pytest.mark.parametrize(("check", "facts", "severity", "subject"), FAIL_CASES)
def test_check_fails(check, facts, severity, subject) -> None:
    assert (check, severity, subject) in failing(facts, check)


@pytest.mark.parametrize("check", sorted({p.values[0] for p in FAIL_CASES}))
def test_good_store_passes(check) -> None:
    assert failing(G, check) == []
    assert outcome(G, check) == "pass"


def test_product_page_within_one_second_is_high_not_blocker() -> None:
    facts = with_route(G, timing("product", "/products/tee", 900))
    assert failing(facts, "perf.route_slow") == [("perf.route_slow", "high", f"product {PRODUCT}")]


def test_slow_route_evidence_gives_percentiles_and_budget() -> None:
    (finding,) = evaluate(with_route(G, timing("cart", "/cart", 900)), NOW, ["perf.route_slow"]).findings
    assert "p50 909 ms, p95 918 ms, max 919 ms over 20 samples" in finding.evidence
    assert "budget for this page: 800 ms" in finding.evidence


@pytest.mark.parametrize(
    ("facts", "reason"),
    [
        (
            replace(G, lighthouse=None),
            "no Lighthouse source is configured (e.g. a PageSpeed Insights API key)",
        ),
        (
            replace(G, load=None, site=replace(G.site, ownership_verified=False)),
            "the load probe runs only once the site's ownership is verified",
        ),
    ],
)
def test_optional_sources_are_skipped_with_a_reason(facts, reason) -> None:
    check = "perf.lighthouse_low" if facts.lighthouse is None else "perf.degrades_under_load"
    evaluation = evaluate(facts, NOW, [check])
    assert evaluation.findings == []
    assert [(r.outcome, r.reason) for r in evaluation.results] == [("skipped", reason)]


def test_route_errors_from_a_refused_certificate_are_inconclusive() -> None:
    from audits.facts import VerifyError
    from tests.audits.factories import tls, with_tls

    facts = with_tls(G, tls(WWW, verify_errors=[VerifyError.EXPIRED]))
    facts = with_route(
        facts, timing("cart", "/cart", ttfb_ms=[], total_ms=[], errors=20, error_examples=["expired"])
    )
    findings = evaluate(facts, NOW, ["perf.route_errors"]).findings
    assert [(f.status, f.subject) for f in findings] == [(Status.INCONCLUSIVE, f"cart https://{WWW}/cart")]
    assert "certificate of www.example.com is refused (expired)" in findings[0].evidence


def test_route_errors_when_the_store_does_not_answer_at_all_are_inconclusive() -> None:

    down = chain(HOME, error="Connection to www.example.com timed out after 10 s.")
    facts = with_chain(G, down)
    facts = with_route(
        facts, timing("cart", "/cart", ttfb_ms=[], total_ms=[], errors=20, error_examples=["timed out"])
    )
    findings = evaluate(facts, NOW, ["perf.route_errors"]).findings
    assert [(f.status, f.subject) for f in findings] == [(Status.INCONCLUSIVE, f"cart https://{WWW}/cart")]
    assert "store does not answer" in findings[0].evidence


# --- routes that could not be timed ------------------------------------------------------


def _findings(facts, check):
    return [(str(f.status), f.subject) for f in evaluate(facts, NOW, [check]).findings]


def _evidence(facts, check) -> str:
    (finding,) = evaluate(facts, NOW, [check]).findings
    return finding.evidence


def _cart_failed(**kw):
    defaults = {"ttfb_ms": [], "total_ms": [], "samples": 5, "errors": 5, "error_examples": [NO_ANSWER]}
    defaults.update(kw)
    return with_route(G, timing("cart", "/cart", **defaults))


def test_a_route_with_no_successful_request_has_no_speed_to_pass() -> None:
    facts = _cart_failed()
    assert _findings(facts, "perf.route_slow") == [("inconclusive", CART)]
    assert "all 5 requests failed (the host did not answer" in _evidence(facts, "perf.route_slow")


def test_a_route_that_never_answered_may_or_may_not_exist() -> None:
    facts = _cart_failed()
    assert _findings(facts, "perf.route_not_found") == [("inconclusive", CART)]
    assert "whether the page exists is not known" in _evidence(facts, "perf.route_not_found")


def test_a_route_answering_server_errors_exists_but_has_no_speed() -> None:
    facts = _cart_failed(server_errors=5, error_examples=["HTTP 500"])
    assert outcome(facts, "perf.route_not_found") == "pass"
    assert "answered with a server error (HTTP 500)" in _evidence(facts, "perf.route_slow")


def test_route_slow_is_skipped_when_no_route_exists() -> None:
    missing = [replace(r, ttfb_ms=[], total_ms=[], samples=1, not_found=404) for r in G.routes]
    (result,) = evaluate(replace(G, routes=missing), NOW, ["perf.route_slow"]).results
    assert (str(result.outcome), result.reason) == (
        "skipped",
        "none of the routes exists on the store, so none could be timed",
    )


def test_an_unavailable_route_is_inconclusive_for_not_found_too() -> None:
    facts = with_route(G, timing("cart", "/cart", ttfb_ms=[], unavailable=Unavailable("blocked by a WAF")))
    assert _findings(facts, "perf.route_not_found") == [("inconclusive", CART)]
    assert outcome(G, "perf.route_not_found") == "pass"


# --- routes that do not exist -----------------------------------------------------------


def _missing(status: int = 404, **kw):
    return timing("login", "/account/login", ttfb_ms=[], total_ms=[], samples=1, not_found=status, **kw)


@pytest.mark.parametrize("status", [404, 410])
def test_a_route_that_does_not_exist_is_its_own_high_finding(status) -> None:
    facts = with_route(G, _missing(status))
    assert failing(facts, "perf.route_not_found") == [("perf.route_not_found", "high", LOGIN)]
    (finding,) = evaluate(facts, NOW, ["perf.route_not_found"]).findings
    assert f"answered HTTP {status}" in finding.evidence and "not timed" in finding.evidence


def test_a_missing_route_is_never_a_timing_nor_an_error() -> None:
    facts = with_route(G, _missing())
    assert failing(facts, "perf.route_slow") == []
    assert failing(facts, "perf.route_errors") == []
    assert outcome(facts, "perf.route_slow") == "pass"


def test_the_good_store_has_no_missing_route() -> None:
    assert outcome(G, "perf.route_not_found") == "pass"


def test_a_found_path_that_does_not_answer_says_where_it_was_found() -> None:
    facts = with_route(G, _missing(source="sitemap"))
    (finding,) = evaluate(facts, NOW, ["perf.route_not_found"]).findings
    assert "found on the store (sitemap)" in finding.evidence


def test_every_request_answering_500_is_a_failure_that_says_so_even_behind_a_refused_certificate() -> None:
    # The certificate is refused (tls.* reports it) but the page was read past it: HTTP 500 each time.
    facts = with_tls(G, tls(WWW, verify_errors=[VerifyError.EXPIRED]))
    all_500 = timing(
        "cart", "/cart", ttfb_ms=[], total_ms=[], errors=20, server_errors=20, error_examples=["HTTP 500"] * 3
    )
    (finding,) = evaluate(with_route(facts, all_500), NOW, ["perf.route_errors"]).findings
    assert (finding.status, finding.subject, str(finding.severity)) == (Status.FAIL, CART, "blocker")
    assert "20 of 20 requests failed (100%)" in finding.evidence
    assert "every request answered with a server error (HTTP 500)" in finding.evidence
    assert "certificate" not in finding.evidence


# --- stable verdicts ------------------------------------------------------------------


def _cart(samples: list[float]):
    return with_route(G, timing("cart", "/cart", ttfb_ms=samples, total_ms=samples, samples=len(samples)))


# 18 samples under the 800 ms budget, 2 just over it: the measured p95 (the 19th) is over,
# but the samples cannot tell whether the route's true p95 is.
STRADDLING = [600.0 + 10 * i for i in range(18)] + [812.0, 830.0]

CLEARLY_SLOW = [700.0 + 10 * i for i in range(14)] + [900.0, 950.0, 990.0, 1000.0, 1100.0, 1200.0]


def test_samples_straddling_the_budget_are_borderline_low_with_the_interval() -> None:
    facts = _cart(STRADDLING)
    assert failing(facts, "perf.route_slow") == [("perf.route_slow", "low", CART)]
    (finding,) = evaluate(facts, NOW, ["perf.route_slow"]).findings
    assert "borderline" in finding.title.lower()
    assert "true p95 is at least 770 ms (90% confidence); measured 812 ms" in finding.evidence
    assert "95 of 100 requests" in finding.evidence  # p95 explained in plain words


def test_clearly_slow_samples_are_high() -> None:
    assert failing(_cart(CLEARLY_SLOW), "perf.route_slow") == [("perf.route_slow", "high", CART)]


def test_the_same_samples_decide_the_same_way_every_time_in_any_order() -> None:
    rng = random.Random(12)
    for samples, expected in ((STRADDLING, "low"), (CLEARLY_SLOW, "high")):
        decisions = set()
        for _ in range(20):
            shuffled = samples[:]
            rng.shuffle(shuffled)
            decisions.add(tuple(failing(_cart(shuffled), "perf.route_slow")))
        assert decisions == {(("perf.route_slow", expected, CART),)}


def test_product_pages_block_only_when_clearly_above_one_second() -> None:
    product = [820.0 + 10 * i for i in range(18)] + [1020.0, 1030.0]
    facts = with_route(G, timing("product", "/products/tee", ttfb_ms=product, total_ms=product))
    assert [severity for _check, severity, _subject in failing(facts, "perf.route_slow")] == ["high"]


def test_the_lower_bound_is_an_order_statistic() -> None:
    # Binomial(20, 0.95): P(at least 18 samples at or below the true p95) = 0.92 >= 0.90.
    assert p95_lower_bound([float(v) for v in range(1, 21)]) == 18.0
    assert p95_lower_bound([5.0]) == 5.0
    assert p95_lower_bound([]) is None
