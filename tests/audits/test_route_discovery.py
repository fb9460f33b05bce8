"""Route discovery: the store's real paths from its sitemap, homepage links and platform
conventions, against real servers in the sandbox; the pure parts with literal inputs."""

from __future__ import annotations

import asyncio

import pytest

from audits.facts import SiteDeclaration
from audits.probes import ProbeOptions, ProbeRun
from audits.probes.route_discovery import (
    classify,
    discover_routes,
    page_links,
    parse_sitemap,
    pick,
    robots_sitemaps,
)
from launchready import net

URLSET = '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{}</urlset>'


def _urls(*locs: str) -> str:
    return URLSET.format("".join(f"<url><loc>{loc}</loc></url>" for loc in locs))


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/", "home"),
        ("/products/stoneware-mug", "product"),
        ("/collections/summer/products/hat", "product"),
        ("/product/blue-shirt/", "product"),
        ("/collections/all", "listing"),
        ("/shop/", "listing"),
        ("/product-category/shirts/", "listing"),
        ("/cart", "cart"),
        ("/checkout/", "checkout"),
        ("/account/login", "login"),
        ("/my-account/", "login"),
        ("/about-us", None),
        ("/blogs/news/launch", None),
    ],
)
def test_classify_names_a_path(path, name) -> None:
    assert classify(path) == name


def test_sitemap_and_sitemap_index_are_read() -> None:
    pages, children = parse_sitemap(_urls("https://shop.test/", "https://shop.test/products/a"))
    assert (pages, children) == (["https://shop.test/", "https://shop.test/products/a"], [])
    index = (
        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        "<sitemap><loc>https://shop.test/sitemap_products_1.xml</loc></sitemap></sitemapindex>"
    )
    assert parse_sitemap(index) == ([], ["https://shop.test/sitemap_products_1.xml"])


@pytest.mark.parametrize(
    "body",
    [
        "<html>not a sitemap",
        # An entity bomb: defusedxml refuses it instead of expanding it.
        '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        "<urlset><url><loc>&b;</loc></url></urlset>",
    ],
)
def test_an_unreadable_or_hostile_sitemap_is_a_clear_error(body) -> None:
    with pytest.raises(ValueError, match="not a readable sitemap"):
        parse_sitemap(body)


def test_robots_sitemap_lines_and_page_links() -> None:
    assert robots_sitemaps("User-agent: *\nSitemap: https://shop.test/s.xml\nsitemap:\n") == [
        "https://shop.test/s.xml"
    ]
    links = page_links(
        '<a href="/cart">Cart</a><a>none</a><a href="products/x">x</a>', "https://shop.test/c/"
    )
    assert links == ["https://shop.test/cart", "https://shop.test/c/products/x"]


def test_only_the_stores_own_hosts_count() -> None:
    found = pick(
        ["https://other.test/cart", "https://evil.shop.test.example/checkout", "https://www.shop.test/cart"],
        {"shop.test", "www.shop.test"},
        "homepage",
        "linked from the homepage",
    )
    assert {name: route.path for name, route in found.items()} == {"cart": "/cart"}


# --- against the sandbox --------------------------------------------------------------

PAGE = {"title": "Tee Shop", "scripts": [{"src": "https://cdn.shopify.com/s/trekkie.js", "defer": True}]}
SCENARIO = {
    "name": "route_discovery",
    "hosts": [
        {
            # A Shopify store: no sitemap, a homepage that links only to a collection, a
            # product only on the collection page, the platform's own cart and login.
            "name": "www.tee-shop.test",
            "routes": [
                {
                    "path": "/",
                    "html": {
                        **PAGE,
                        "links": ["/collections/tees", "/pages/about", "https://other.test/cart"],
                    },
                },
                {"path": "/collections/tees", "html": {**PAGE, "links": ["/products/black-tee"]}},
                {"path": "/products/*", "html": PAGE},
                {"path": "/cart", "html": PAGE},
                {"path": "/account/login", "html": PAGE},
                {"path": "/checkout", "status": 302, "redirect": "https://checkout.other.test/c/1"},
            ],
        },
        {
            # A sitemap index with more child sitemaps than are read, and a Sitemap line
            # naming another host, which is not followed.
            "name": "www.big-shop.test",
            "routes": [
                {"path": "/", "html": {"title": "Big Shop"}},
                {
                    "path": "/robots.txt",
                    "content_type": "text/plain",
                    "body": "Sitemap: https://tracker.test/sitemap.xml\nSitemap: https://www.big-shop.test/index.xml\n",
                },
                {
                    "path": "/index.xml",
                    "content_type": "application/xml",
                    "body": '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                    + "".join(
                        f"<sitemap><loc>https://www.big-shop.test/pages-{i}.xml</loc></sitemap>"
                        for i in range(9)
                    )
                    + "<sitemap><loc>https://www.big-shop.test/products.xml</loc></sitemap></sitemapindex>",
                },
                {
                    "path": "/pages-*",
                    "content_type": "application/xml",
                    "body": _urls("https://www.big-shop.test/about"),
                },
                {
                    "path": "/products.xml",
                    "content_type": "application/xml",
                    "body": _urls("https://www.big-shop.test/p/lamp", "https://www.big-shop.test/catalog"),
                },
                {"path": "/p/*", "html": {"title": "Lamp"}},
                {"path": "/catalog", "html": {"title": "Catalog"}},
            ],
        },
        {
            # No platform, a sitemap that lists the cart, and the usual cart and login.
            "name": "www.plain-shop.test",
            "routes": [
                {"path": "/", "html": {"title": "Plain Shop"}},
                {
                    "path": "/sitemap.xml",
                    "content_type": "application/xml",
                    "body": _urls("https://www.plain-shop.test/basket"),
                    "latency": 50,
                },
                {"path": "/basket", "html": {"title": "Basket"}},
                {"path": "/cart", "html": {"title": "Cart"}},
                {"path": "/login", "html": {"title": "Login"}},
            ],
        },
        {
            "name": "tracker.test",
            "routes": [
                {
                    "path": "/sitemap.xml",
                    "content_type": "application/xml",
                    "body": _urls("https://www.big-shop.test/products/from-tracker"),
                }
            ],
        },
    ],
}


@pytest.fixture(scope="module")
def sb(sandbox_scenario):
    return sandbox_scenario(SCENARIO)


def _discover(domain: str, **options):
    run = ProbeRun(
        SiteDeclaration(domain=domain), config=net.NetConfig.from_settings(), options=ProbeOptions(**options)
    )
    return asyncio.run(discover_routes(run)), run


def test_a_shopify_store_gets_its_conventions_and_a_product_from_the_listing(sb) -> None:
    found, _run = _discover("tee-shop.test")
    assert found.platform == "Shopify"
    assert [(r.name, r.path, r.source) for r in found.routes] == [
        ("home", "/", "homepage"),
        ("listing", "/collections/tees", "homepage"),
        ("product", "/products/black-tee", "homepage"),
        ("cart", "/cart", "platform"),
        ("login", "/account/login", "platform"),
    ]
    assert found.route("product").evidence == "linked from the listing page"
    # /checkout leaves for another host (Shopify's checkout): not a route of this store.
    assert found.route("checkout") is None


def test_sitemap_index_is_followed_within_bounds_and_on_the_store_only(sb) -> None:
    found, _run = _discover("big-shop.test")
    assert found.route("product").path == "/p/lamp" and found.route("product").source == "sitemap"
    assert found.route("listing").path == "/catalog"
    # The index and the product sitemap (read first), then two page sitemaps: four in all.
    assert found.sitemaps[:2] == [
        "https://www.big-shop.test/index.xml",
        "https://www.big-shop.test/products.xml",
    ]
    assert len(found.sitemaps) == 4
    # tracker.test's sitemap (named in robots.txt) was not read: its product is not taken.
    assert "https://tracker.test/sitemap.xml" not in found.sitemaps


def test_discovery_counts_against_the_request_budget(sb) -> None:
    found, run = _discover("big-shop.test", request_budget=0)
    assert found.unavailable is not None and "budget" in found.unavailable.reason
    found, run = _discover("big-shop.test", request_budget=3)
    assert run.requests > 3  # the refused requests were counted, not sent
    assert any("budget ran out" in note for note in found.notes)


def test_the_conventions_are_asked_beside_the_sitemap_and_the_sitemap_still_wins(sb) -> None:
    # The platform's usual paths (nearly always needed: sitemaps list products and pages,
    # not carts, logins or checkouts) go out with the sitemap request instead of after its
    # answer, one round trip fewer before the route samples; what the sitemap names wins.
    run = ProbeRun(SiteDeclaration(domain="plain-shop.test"), options=ProbeOptions())
    host = run.site.canonical_host
    most = 0

    async def watched():
        nonlocal most
        task = asyncio.create_task(discover_routes(run))
        while not task.done():
            most = max(most, run.turns.in_flight(host))
            await asyncio.sleep(0)
        return await task

    found = asyncio.run(watched())
    assert [(r.name, r.path, r.source) for r in found.routes] == [
        ("home", "/", "homepage"),
        ("cart", "/basket", "sitemap"),
        ("login", "/login", "platform"),
    ]
    assert found.sitemaps == ["https://www.plain-shop.test/sitemap.xml"]
    assert most == 4  # the sitemap and the three usual paths (cart, login, checkout) at once
