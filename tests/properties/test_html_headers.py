"""Properties of what the audit reads from web answers: the HTML scanner, the response
header reader of the network layer, and the rules that read headers.

Whatever a server sends — a broken status line, header lines with control characters,
folded lines, values of thousands of digits, half a tag, a sitemap bomb — the fetch
returns a result, the page becomes facts, and every rule gives a finding, a pass or
an inconclusive with a reason about the site: never "the check itself failed".
"""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
import socket

from hypothesis import given
from hypothesis import strategies as st

from audits import detect
from audits.facts import HtmlFacts
from audits.probes import route_discovery
from audits.probes.base import response_headers
from audits.probes.web import page_fact
from audits.rules import evaluate
from launchready.net import FetchResult, NetConfig, fetch
from tests.audits import factories as f

from .strategies import PROPERTY, any_text, budget, built_from

HEADER_NAMES = [
    "Strict-Transport-Security",
    "Cache-Control",
    "Content-Security-Policy",
    "Set-Cookie",
    "Server",
    "X-Robots-Tag",
    "Content-Type",
    "Content-Encoding",
    "Location",
    "Content-Length",
    "Transfer-Encoding",
    "X-Content-Type-Options",
    "Referrer-Policy",
    "CF-Ray",
    "Via",
    "X-Powered-By",
    "Retry-After",
    "CF-Mitigated",
    "Vary",
    "Age",
    "X-Frame-Options",
]
HEADER_WORDS = [
    "max-age=",
    "max-age=31536000",
    "max-age=" + "9" * 5000,
    "max-age=" + "0" * 5000 + "1",
    "s-maxage=",
    '"',
    "includeSubDomains",
    "preload",
    "no-store",
    "public",
    "private",
    "default-src 'self'",
    "frame-ancestors",
    "nosniff",
    "noindex",
    "none",
    "cloudflare",
    "text/html",
    "charset=",
    "gzip",
    "br",
    "chunked",
    "Secure",
    "HttpOnly",
    "SameSite=",
    "Path=/",
    "Domain=",
    "https://",
    "http://10.0.0.1/",
    "file:///etc/passwd",
    "=",
    ";",
    ",",
    "9" * 5000,
]
header_values = st.one_of(any_text, built_from(HEADER_WORDS, [";", "; ", ",", " ", "", "="], 8))
header_dicts = st.dictionaries(
    st.sampled_from([n.lower() for n in HEADER_NAMES]) | st.text(max_size=20), header_values, max_size=10
)

HTML_WORDS = [
    "<html>",
    "<head>",
    "</head>",
    "<body>",
    "<script",
    "<script src=",
    "</script>",
    "<link",
    "rel=stylesheet",
    "href=",
    "src=",
    "http://",
    "https://",
    "//cdn.test/",
    "javascript:",
    "data:",
    "<img",
    "<iframe",
    "<meta",
    'name="robots"',
    'content="noindex"',
    'http-equiv="Content-Security-Policy"',
    "<title>",
    "</title>",
    "<form>",
    '<input type="password"',
    "<!--",
    "-->",
    "<![CDATA[",
    "]]>",
    "<!doctype html>",
    "&#",
    "&amp;",
    "&#x110000;",
    "<a href=",
    "Traceback (most recent call last)",
    "Index of /",
    "sentry.init(",
    "gtag('config'",
    "'",
    '"',
    "<",
    ">",
    "/>",
    "\x00",
    "</",
]
html_texts = st.one_of(any_text, built_from(HTML_WORDS, ["", " ", "\n", ">", "=", '"'], 60))
urls = st.sampled_from(["https://www.example.com/", "http://example.com/a/b?c", "https://[::1]/", ""]) | (
    st.text(max_size=40)
)


def _not_a_bug(findings) -> None:
    for finding in findings:
        assert "the check itself failed" not in (finding.evidence or ""), (finding.check, finding.evidence)


@budget(50)
@given(header_dicts, st.integers(100, 599) | st.none())
def test_every_rule_reads_any_response_headers(headers, status):
    facts = f.good_facts()
    home = f.page(status=status, headers=headers)
    hops = [dataclasses.replace(f.ok_hop(), status=status, headers=headers)]
    facts = f.replace(
        facts,
        pages=[home] + [p for p in facts.pages if p.url != home.url],
        redirects=[dataclasses.replace(c, hops=c.hops[:-1] + hops) for c in facts.redirects],
        assets=[dataclasses.replace(a, cache_control=headers.get("cache-control", "")) for a in facts.assets],
    )
    _not_a_bug(evaluate(facts, f.NOW).findings)


@PROPERTY
@given(html_texts, urls, st.integers(0, 2**40) | st.none())
def test_html_scanner_never_raises(html, url, size):
    facts = detect.analyse_html(html, url, size)
    assert isinstance(facts, HtmlFacts)
    assert len(facts.title) <= 200
    assert facts.subresource_count <= len(html)
    assert isinstance(route_discovery.page_links(html, url), list)
    assert isinstance(route_discovery.detect_platform(html, {}), str)
    assert isinstance(detect.is_directory_listing(html), bool)
    assert isinstance(detect.detect_debug_page(html), str)


@budget(100)
@given(urls, st.integers(0, 999) | st.none(), any_text, html_texts, header_dicts)
def test_body_sniffers_never_raise(url, status, content_type, body, headers):
    sniff, detail = detect.sniff_exposure(url, status, content_type, body)
    assert isinstance(detail, str)
    assert detect.detect_block(status, headers, body) is None or status is not None or headers
    assert isinstance(detect.is_noindex(headers, None), bool)
    for value in headers.values():
        cookie = detect.parse_set_cookie(value)
        assert cookie.path


SITEMAP_WORDS = [
    "<?xml version='1.0'?>",
    "<urlset>",
    "</urlset>",
    "<sitemapindex>",
    "</sitemapindex>",
    "<url>",
    "</url>",
    "<loc>",
    "</loc>",
    "<sitemap>",
    "https://shop.test/p/1",
    "<!DOCTYPE x [",
    "<!ENTITY a 'b'>",
    "]>",
    "&a;",
    "&lt;",
    "<",
    ">",
    'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"',
]


@PROPERTY
@given(st.one_of(any_text, built_from(SITEMAP_WORDS, ["", " ", "\n"], 40)))
def test_sitemap_and_robots_readers_raise_only_value_error(body):
    try:
        pages, children = route_discovery.parse_sitemap(body)
    except ValueError:
        pass
    else:
        assert len(pages) <= route_discovery.MAX_URLS
    for url in route_discovery.robots_sitemaps(body):
        assert url


# --- the network layer's response reader, over a real loopback socket ---------------

ADDRESS = "127.77.250.2"
line_bytes = st.binary(max_size=120).filter(lambda b: b"\n" not in b)
status_lines = st.one_of(
    st.builds(
        lambda v, c, r: b"HTTP/" + v + b" " + c + b" " + r,
        st.sampled_from([b"1.1", b"1.0", b"2", b"x"]),
        st.integers(0, 9999).map(lambda n: str(n).encode()) | line_bytes,
        line_bytes,
    ),
    line_bytes,
)
header_lines = st.lists(
    st.one_of(
        st.tuples(st.sampled_from(HEADER_NAMES), header_values).map(
            lambda kv: kv[0].encode() + b": " + kv[1].encode("utf-8", "surrogatepass")
        ),
        line_bytes,
        st.just(b" folded continuation"),
        st.just(b"Content-Length: 99999999999999999999999"),
        st.just(b"Transfer-Encoding: chunked"),
        st.just(b"Content-Encoding: gzip"),
    ),
    max_size=30,
)
bodies = st.one_of(
    st.binary(max_size=2000),
    st.just(b"zz\r\nnot chunked\r\n"),
    st.just(b"5\r\nhello\r\n0\r\n\r\n"),
    st.just(b"\x1f\x8b\x08\x00" + b"\x00" * 100),
)


def _port() -> int:
    with socket.socket() as sock:
        sock.bind((ADDRESS, 0))
        return sock.getsockname()[1]


def serve_once(raw: bytes, url_path: str = "/") -> FetchResult:
    async def main() -> FetchResult:
        port = _port()

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                await reader.readuntil(b"\r\n\r\n")
                writer.write(raw)
                await writer.drain()
            except (ConnectionError, asyncio.IncompleteReadError):
                pass
            finally:
                writer.close()

        server = await asyncio.start_server(handle, ADDRESS, port)
        config = NetConfig(
            allowed_networks=(ipaddress.ip_network("127.77.0.0/16"),),
            port_map={80: port},
            read_timeout=1,
            total_timeout=3,
        )
        try:
            return await fetch(f"http://{ADDRESS}{url_path}", config=config, max_redirects=0)
        finally:
            server.close()
            await server.wait_closed()

    return asyncio.run(main())


@PROPERTY
@given(status_lines, header_lines, st.sampled_from([b"\r\n", b"\n"]), bodies)
def test_any_response_becomes_a_result_and_page_facts(status_line, lines, eol, body):
    raw = eol.join([status_line, *lines]) + eol + eol + body
    result = serve_once(raw)
    assert isinstance(result, FetchResult)
    page = page_fact(f"http://{ADDRESS}/", "home", result)
    assert page.error or page.status is not None
    if result.final is not None:
        assert isinstance(response_headers(result.final), dict)
    facts = f.good_facts()
    facts = f.replace(facts, pages=[dataclasses.replace(page, url=f.HOME)] + facts.pages[1:])
    _not_a_bug(evaluate(facts, f.NOW).findings)
