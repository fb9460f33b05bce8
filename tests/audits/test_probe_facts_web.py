"""The web probe against the sandbox's real HTTP(S) servers: redirect chains, pages and
static assets as typed facts (like ``tests/email/test_probe.py`` for email)."""

from __future__ import annotations

import asyncio

import pytest

from audits.engine import default_options
from audits.facts import RouteSpec, SiteDeclaration
from audits.facts.web import Cookie, PageFacts, RedirectChain
from audits.probes.base import ProbeRun
from audits.probes.web import probe_assets, probe_redirects, probe_route_pages

HSTS = "max-age=31536000; includeSubDomains"
SCENARIO = {
    "name": "web_facts",
    "hosts": [
        {"name": "web.test", "redirect_to": "https://www.web.test"},
        {
            "name": "www.web.test",
            "https_redirect": 301,
            "headers": {"Strict-Transport-Security": HSTS},
            "routes": [
                {
                    "path": "/",
                    "scheme": "https",
                    "cookies": ["sessionid=abc; Secure; HttpOnly; SameSite=Lax", "cart=1; Path=/cart"],
                    "html": {
                        "title": "Web Facts Store",
                        "stylesheets": ["/static/app.css"],
                        "scripts": [{"src": "/static/app.js", "defer": True}, "http://cdn.web.test/old.js"],
                        "images": ["/img/logo.png"],
                    },
                },
                {
                    "path": "/static/app.css",
                    "body": "body { margin: 0 }",
                    "headers": {"Cache-Control": "public, max-age=31536000, immutable"},
                },
                {"path": "/static/app.js", "body": "console.log('shop');" * 50, "compress": True},
                {"path": "/img/logo.png", "body": "png", "content_type": "image/png"},
                {"path": "/spring-sale", "redirect": "/sale"},
                {"path": "/sale", "body": "sale"},
                {"path": "/loop", "redirect": "/loop"},
            ],
        },
    ],
}


@pytest.fixture(scope="module")
def sb(sandbox_scenario):
    return sandbox_scenario(SCENARIO)


def run_for(**site) -> ProbeRun:
    return ProbeRun(SiteDeclaration(domain="web.test", **site), options=default_options())


@pytest.fixture(scope="module")
def chains(sb) -> dict[str, RedirectChain]:
    campaigns = ["https://www.web.test/spring-sale", "https://www.web.test/loop"]
    return {c.entry_url: c for c in asyncio.run(probe_redirects(run_for(campaign_urls=campaigns)))}


@pytest.fixture(scope="module")
def pages(sb) -> dict[str, PageFacts]:
    routes = [RouteSpec.standard("home", "/"), RouteSpec.standard("cart", "/cart")]
    return {p.route: p for p in asyncio.run(probe_route_pages(run_for(routes=routes)))}


def test_every_entry_url_ends_on_the_canonical_host(chains):
    assert {url: [h.status for h in c.hops] for url, c in chains.items() if c.kind == "entry"} == {
        "http://web.test/": [301, 200],
        "https://web.test/": [301, 200],
        "http://www.web.test/": [301, 200],
        "https://www.web.test/": [200],
    }
    apex = chains["http://web.test/"]
    assert apex.hops[0].location == "https://www.web.test/" and apex.hops[-1].url == "https://www.web.test/"
    assert not apex.loop and apex.error == "" and apex.unavailable is None


def test_hops_carry_their_headers_and_timings(chains):
    (final,) = chains["https://www.web.test/"].hops
    assert final.headers["strict-transport-security"] == HSTS  # lower-case names
    assert final.elapsed_ms is not None and final.elapsed_ms > 0


def test_campaign_urls_are_followed_and_a_loop_is_named(chains):
    sale = chains["https://www.web.test/spring-sale"]
    assert sale.kind == "campaign" and [h.status for h in sale.hops] == [301, 200]
    assert sale.hops[-1].url == "https://www.web.test/sale"
    loop = chains["https://www.web.test/loop"]
    assert loop.loop and loop.error and loop.error_kind


def test_the_home_page_facts(pages):
    home = pages["home"]
    assert home.url == "https://www.web.test/" and home.status == 200 and home.final_url == ""
    assert home.html is not None and home.html.title == "Web Facts Store"
    scripts = {s.src: s for s in home.html.scripts}
    assert scripts["https://www.web.test/static/app.js"].is_defer
    assert [m.url for m in home.html.mixed_content] == ["http://cdn.web.test/old.js"]
    assert home.html.mixed_content[0].active  # a script can rewrite the page
    assert home.cookies == [
        Cookie(name="sessionid", secure=True, httponly=True, samesite="lax"),
        Cookie(name="cart", path="/cart"),
    ]
    assert home.body_bytes > 0 and not home.truncated and len(home.body_sha256) == 64


def test_a_missing_route_is_its_status_not_an_error(pages):
    cart = pages["cart"]
    assert cart.status == 404 and cart.error == "" and cart.unavailable is None


def test_static_assets_of_the_home_page(sb, pages):
    found = asyncio.run(probe_assets(run_for(), list(pages.values())))
    assets = {a.url: a for a in found}
    assert [(a.kind, a.url) for a in found] == [
        ("html", "https://www.web.test/"),
        ("css", "https://www.web.test/static/app.css"),
        ("js", "https://www.web.test/static/app.js"),
        ("js", "http://cdn.web.test/old.js"),  # a host of the site, though it does not exist
        ("image", "https://www.web.test/img/logo.png"),
    ]
    css = assets["https://www.web.test/static/app.css"]
    assert css.status == 200 and css.cache_control == "public, max-age=31536000, immutable"
    # Compressed, because the probe asks for it as a browser does.
    assert assets["https://www.web.test/static/app.js"].content_encoding in ("br", "gzip")
    logo = assets["https://www.web.test/img/logo.png"]
    assert logo.content_type == "image/png" and logo.size == 3
    missing = assets["http://cdn.web.test/old.js"]
    assert missing.status is None and missing.unavailable is not None
    assert "cdn.web.test does not exist" in missing.unavailable.reason


def test_page_facts_round_trip_through_json(pages):
    assert PageFacts.from_dict(pages["home"].to_dict()) == pages["home"]
