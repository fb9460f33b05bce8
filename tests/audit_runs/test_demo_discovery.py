"""The CLI on the good demo store: with no --route it times the routes found on the store
and says which; a route given at a path that does not exist is perf.route_not_found."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command


@pytest.fixture(scope="module")
def good(sandbox_scenario):
    return sandbox_scenario("demo_good")


def _json(*args: str) -> dict:
    out = StringIO()
    call_command("audit", "good-store.test", "--format", "json", "--dkim-selector", "s1", *args, stdout=out)
    return json.loads(out.getvalue())


def test_without_routes_the_cli_times_the_routes_found_and_says_which(good) -> None:
    # Budgets with a margin: timing is not what this test is about (a loaded CI machine).
    budgets = [
        f"--budget={name}=4000" for name in ("home", "listing", "product", "cart", "login", "checkout")
    ]
    document = _json("--samples", "3", *budgets)
    assert document["routes_used"] == [
        {"name": "home", "path": "/", "source": "homepage"},
        {"name": "listing", "path": "/collections/ceramics", "source": "sitemap"},
        {"name": "product", "path": "/products/mug", "source": "sitemap"},
        {"name": "cart", "path": "/cart", "source": "homepage"},
        {"name": "login", "path": "/login", "source": "homepage"},
        {"name": "checkout", "path": "/checkout", "source": "platform"},
    ]
    timed = {r["name"]: r for r in document["facts"]["routes"]}
    assert all(len(r["ttfb_ms"]) == 3 and r["not_found"] is None for r in timed.values())
    assert document["verdict"] == "ready"
    assert document["facts"]["discovered_routes"]["sitemaps"][0] == "https://www.good-store.test/sitemap.xml"


def test_a_given_route_that_does_not_exist_is_its_own_finding_not_a_timing(good) -> None:
    document = _json("--samples", "2", "--route", "home=/", "--route", "login=/account/login")
    assert document["routes_used"] == [
        {"name": "home", "path": "/", "source": "given"},
        {"name": "login", "path": "/account/login", "source": "given"},
    ]
    missing = [f for f in document["findings"] if f["check"] == "perf.route_not_found"]
    assert [(f["status"], f["severity"], f["subject"]) for f in missing] == [
        ("fail", "high", "login https://www.good-store.test/account/login")
    ]
    (login,) = [r for r in document["facts"]["routes"] if r["name"] == "login"]
    assert login["not_found"] == 404 and login["ttfb_ms"] == [] and login["samples"] == 1


def test_the_text_report_names_the_routes_it_timed(good) -> None:
    out = StringIO()
    call_command("audit", "good-store.test", "--samples", "1", stdout=out)
    assert "none were given with --route, so these were found on the store" in out.getvalue()
    assert "product /products/mug (sitemap)" in out.getvalue()
