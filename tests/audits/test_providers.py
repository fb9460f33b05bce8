"""Provider detection from shipped IP ranges, headers, CNAME targets and NS names."""

from __future__ import annotations

import pytest

from audits.providers import (
    detect_cdn,
    detect_dns_provider,
    detect_hosting,
    detect_server,
    host_server,
    name_matches,
    site_profile,
    takeover_fingerprint,
    takeover_service,
)
from tests.audits.factories import DOMAIN, WWW, good_facts, host, page, with_host, with_page


@pytest.mark.parametrize(
    ("addresses", "headers", "chain", "slug"),
    [
        (["104.16.132.229"], {}, [], "cloudflare"),
        (["2606:4700::6810:84e5"], {}, [], "cloudflare"),
        ([], {"cf-ray": "8c-AMS"}, [], "cloudflare"),
        ([], {"Server": "cloudflare"}, [], "cloudflare"),
        (["151.101.1.195"], {}, [], "fastly"),
        ([], {"x-served-by": "cache-ams21049-AMS"}, [], "fastly"),
        ([], {"x-amz-cf-id": "abc"}, [], "cloudfront"),
        ([], {}, ["d111111abcdef8.cloudfront.net"], "cloudfront"),
        ([], {}, ["e123.a.akamaiedge.net"], "akamai"),
        ([], {"x-vercel-id": "fra1::abc"}, [], "vercel"),
        (["76.76.21.21"], {}, [], "vercel"),
        ([], {"x-nf-request-id": "01H"}, [], "netlify"),
        ([], {}, ["shop.example.com.cdn.cloudflare.net"], "cloudflare"),
    ],
)
def test_detect_cdn(addresses, headers, chain, slug) -> None:
    found = detect_cdn(addresses, headers, chain)
    assert found is not None and found.slug == slug and found.via


def test_origin_is_no_cdn() -> None:
    assert detect_cdn(["203.0.113.10"], {"server": "nginx"}, []) is None


@pytest.mark.parametrize(
    ("addresses", "headers", "chain", "hints", "slug"),
    [
        (["23.227.38.65"], {}, [], [], "shopify"),
        ([], {}, ["shops.myshopify.com"], [], "shopify"),
        ([], {"via": "1.1 vegur"}, [], [], "heroku"),
        ([], {}, ["app.onrender.com"], [], "render"),
        ([], {"fly-request-id": "01"}, [], [], "fly"),
        ([], {}, ["user.github.io"], [], "github_pages"),
        (["185.199.108.153"], {}, [], [], "github_pages"),
        ([], {}, ["app-abc.ondigitalocean.app"], [], "digitalocean"),
        (["198.185.159.144"], {}, [], [], "squarespace"),
        ([], {"x-wix-request-id": "1"}, [], [], "wix"),
        (["203.0.113.10"], {}, [], ["WooCommerce"], "woocommerce"),
    ],
)
def test_detect_hosting(addresses, headers, chain, hints, slug) -> None:
    found = detect_hosting(addresses, headers, chain, hints)
    assert found is not None and found.slug == slug


@pytest.mark.parametrize(
    ("ns", "slug"),
    [
        (["amy.ns.cloudflare.com"], "cloudflare"),
        (["ns-123.awsdns-45.com."], "route53"),
        (["ns01.domaincontrol.com"], "godaddy"),
        (["dns1.registrar-servers.com"], "namecheap"),
        (["ns1.vercel-dns.com"], "vercel"),
        (["dns1.p01.nsone.net"], "netlify"),
    ],
)
def test_detect_dns_provider(ns, slug) -> None:
    assert detect_dns_provider(ns).slug == slug


def test_unknown_dns_provider() -> None:
    assert detect_dns_provider(["ns1.example.net"]) is None


def test_suffix_patterns_do_not_match_lookalikes() -> None:
    assert name_matches("shop.netlify.app", ".netlify.app")
    assert not name_matches("shop.netlify.app.evil.example", ".netlify.app")
    assert not name_matches("evilnetlify.app", ".netlify.app")
    assert name_matches("ns-1.awsdns-2.org", ".awsdns-")


@pytest.mark.parametrize(
    ("chain", "body", "service"),
    [
        (["assets.s3.amazonaws.com"], "<Code>NoSuchBucket</Code>", "AWS S3"),
        (["old.herokuapp.com"], '<iframe src="//www.herokucdn.com/error-pages/no-such-app.html">', "Heroku"),
        (["me.github.io"], "There isn't a GitHub Pages site here.", "GitHub Pages"),
        (["shop.myshopify.com"], "Sorry, this shop is currently unavailable.", "Shopify"),
        (["x.global.fastly.net"], "Fastly error: unknown domain: shop.example.com", "Fastly"),
        (["old.azurewebsites.net"], "404 Web Site not found", "Microsoft Azure"),
        (["old.vercel.app"], "DEPLOYMENT_NOT_FOUND", "Vercel"),
    ],
)
def test_takeover_fingerprints(chain, body, service) -> None:
    match = takeover_fingerprint(chain, body)
    assert match is not None and match.service == service and match.target == chain[0]


def test_fingerprint_needs_the_service_cname() -> None:
    # A page quoting the sentence is not a takeover when the name does not point at the service.
    assert takeover_fingerprint(["origin.example.net"], "There isn't a GitHub Pages site here.") is None
    assert takeover_service("old.herokuapp.com") == ("Heroku", "heroku")
    assert takeover_service("www.example.com") is None


def test_site_profile_of_the_good_store() -> None:
    profile = site_profile(good_facts())
    assert (profile.dns.slug, profile.cdn.slug, profile.registrar) == (
        "cloudflare",
        "cloudflare",
        "Example Registrar",
    )
    assert profile.slugs() == ["cloudflare"]  # the CDN's steps (the proxy is on)
    assert profile.slugs(prefer_dns=True) == ["cloudflare", "cloudflare"]


def test_dns_host_alone_gives_no_edge_steps() -> None:
    # DNS at Cloudflare, the store served straight from an origin: no Cloudflare edge settings.
    facts = with_page(
        with_host(good_facts(), host(WWW, "203.0.113.10", source="www")),
        page(headers={"server": "nginx", "content-type": "text/html"}),
    )
    profile = site_profile(facts)
    assert profile.dns.slug == "cloudflare" and profile.cdn is None
    assert profile.slugs() == [] and profile.slugs(prefer_dns=True) == ["cloudflare"]
    assert profile.server.slug == "nginx"


@pytest.mark.parametrize(
    ("server", "slug"),
    [
        ("Apache/2.4.57 (Debian)", "apache"),
        ("Apache", "apache"),
        ("nginx/1.25.3", "nginx"),
        ("openresty/1.21.4.1", "nginx"),
        ("Caddy", "caddy"),
        ("Microsoft-IIS/10.0", "iis"),
        ("LiteSpeed", "litespeed"),
        ("Apache-Coyote/1.1", None),
        ("cloudflare", None),
        ("", None),
    ],
)
def test_detect_server(server, slug) -> None:
    found = detect_server({"Server": server})
    assert (found.slug if found else None) == slug
    if found:
        assert found.via == f"header server: {server}"


def test_host_server_reads_the_host_own_answer() -> None:
    facts = with_page(
        good_facts(), page(f"https://admin.{DOMAIN}/", route="", headers={"server": "Apache/2.4"})
    )
    assert host_server(facts, f"admin.{DOMAIN}").slug == "apache"
    assert host_server(facts, WWW) is None  # www answers through Cloudflare


def test_fingerprint_by_service_headers_when_the_cname_is_a_custom_name() -> None:
    body = "<h1>404</h1><p>There isn't a GitHub Pages site here.</p>"
    match = takeover_fingerprint(["pages.example-host.net"], body, {"Server": "GitHub.com"})
    assert match is not None and match.service == "GitHub Pages" and "response headers" in match.evidence
    assert takeover_fingerprint([], body, {"Server": "GitHub.com"}) is None  # no CNAME: not a dangling record
