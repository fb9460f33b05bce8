"""perf.route_not_found, perf.route_errors when every request answered 5xx, and stable
route_slow verdicts: a p95 at its budget is borderline (low), never high one run in three."""

from __future__ import annotations

import random

import pytest

from audits.facts import VerifyError, p95_lower_bound
from audits.findings import Status
from audits.rules import evaluate
from tests.audits.factories import (
    NOW,
    WWW,
    failing,
    good_facts,
    outcome,
    timing,
    tls,
    with_route,
    with_tls,
)

G = good_facts()
CART = f"cart https://{WWW}/cart"
LOGIN = f"login https://{WWW}/account/login"


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
