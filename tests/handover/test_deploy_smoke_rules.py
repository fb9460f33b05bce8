"""The smoke test's rule for one route (pure): status, expected text, time budget."""

from __future__ import annotations

import pytest

from handover.smoke import Verdict, judge


def verdict(**overrides) -> Verdict:
    facts = {
        "error_message": None,
        "status": 200,
        "body_text": "<h1>Blue mug</h1><button>Add to cart</button>",
        "elapsed_ms": 240.4,
        "keyword": "",
        "budget_ms": 800,
    }
    return judge(**{**facts, **overrides})


def test_a_fast_2xx_passes_and_says_how_fast():
    assert verdict() == Verdict(True, "Status 200 in 240 ms.")


@pytest.mark.parametrize("status", [200, 204, 301, 304, 399])
def test_a_final_2xx_or_3xx_passes(status):
    assert verdict(status=status).passed


@pytest.mark.parametrize("status", [404, 429, 500, 502, 503])
def test_a_final_4xx_or_5xx_fails_with_the_status(status):
    assert verdict(status=status) == Verdict(False, f"Status {status} (expected 200–399).")


def test_a_network_failure_is_the_network_layers_sentence():
    sentence = "The name www.gone.test does not exist (NXDOMAIN)."
    assert verdict(error_message=sentence, status=None) == Verdict(False, sentence)


def test_no_response_at_all_fails():
    assert verdict(status=None) == Verdict(False, "No response was received.")


def test_the_expected_text_is_found_whatever_its_case():
    assert verdict(keyword="ADD TO CART").passed


def test_missing_expected_text_fails_and_names_it():
    assert verdict(keyword="Checkout") == Verdict(False, "The text “Checkout” is not on the page.")


def test_over_the_budget_fails_with_both_numbers():
    assert verdict(elapsed_ms=912.2, budget_ms=800) == Verdict(False, "Took 912 ms, over the 800 ms budget.")


def test_exactly_on_the_budget_passes():
    assert verdict(elapsed_ms=800, budget_ms=800).passed


def test_the_status_is_judged_before_the_text_and_the_time():
    assert verdict(status=502, keyword="absent", elapsed_ms=5000).reason == "Status 502 (expected 200–399)."
