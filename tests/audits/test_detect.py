"""HTML and header detections: trackers, analytics, scripts in <head>, mixed content,
debug pages, directory listings, exposure sniffing, WAF blocks and cookies."""

from __future__ import annotations

import pytest

from audits.detect import (
    analyse_html,
    detect_block,
    detect_debug_page,
    is_directory_listing,
    is_noindex,
    parse_set_cookie,
    sniff_exposure,
)
from audits.facts import HtmlFacts, Sniff, UnavailableKind

STORE = """<!doctype html><html><head><title> Example
 Store </title>
<meta name="robots" content="index,follow">
<script src="https://www.googletagmanager.com/gtag/js?id=G-ABC" async></script>
<script>window.dataLayer=[];function gtag(){dataLayer.push(arguments)} gtag('config','G-ABC');</script>
<script src="https://browser.sentry-cdn.com/8.0.0/bundle.min.js"></script>
<script src="/static/app.js" defer></script>
<link rel="stylesheet" href="http://fonts.example.net/a.css">
</head><body>
<img src="http://img.example.net/hero.png"><img src="/logo.png" srcset="/logo@2x.png 2x, /logo@3x.png 3x">
<iframe src="https://www.youtube.com/embed/x"></iframe>
<p>unclosed <div><span>bad html
</body></html>"""


def test_analyse_store_page() -> None:
    facts = analyse_html(STORE, "https://www.example.com/")
    assert facts.title == "Example Store"
    assert facts.error_tracking == ["Sentry"]
    assert facts.analytics == ["Google Analytics 4"]
    head = [(s.src, s.is_async, s.is_defer) for s in facts.scripts if s.in_head and s.src]
    assert head == [
        ("https://www.googletagmanager.com/gtag/js?id=G-ABC", True, False),
        ("https://browser.sentry-cdn.com/8.0.0/bundle.min.js", False, False),
        ("https://www.example.com/static/app.js", False, True),
    ]
    assert [(m.url, m.tag, m.active) for m in facts.mixed_content] == [
        ("http://fonts.example.net/a.css", "link", True),
        ("http://img.example.net/hero.png", "img", False),
    ]
    assert facts.subresource_count == 9
    assert not facts.noindex and not facts.debug_page and not facts.directory_listing


def test_mixed_content_only_on_https_pages() -> None:
    assert analyse_html(STORE, "http://www.example.com/").mixed_content == []


def test_scripts_in_body_are_not_in_head() -> None:
    facts = analyse_html(
        '<html><body><script src="https://x.example.net/a.js"></script></body></html>', "https://e.com/"
    )
    assert [s.in_head for s in facts.scripts] == [False]


@pytest.mark.parametrize(
    ("snippet", "tracker", "analytics"),
    [
        ('<script src="https://d2wy8f7a9ursnm.cloudfront.net/v7/bugsnag.min.js"></script>', "Bugsnag", None),
        ("<script>window.DD_RUM && DD_RUM.init({})</script>", "Datadog RUM", None),
        ("<script>var _rollbarConfig = {};</script>", "Rollbar", None),
        ('<script src="https://cdn.logrocket.io/LogRocket.min.js"></script>', "LogRocket", None),
        ("<script>window.NREUM||(NREUM={})</script>", "New Relic", None),
        (
            '<script src="https://www.googletagmanager.com/gtm.js?id=GTM-X"></script>',
            None,
            "Google Tag Manager",
        ),
        (
            '<script defer data-domain="e.com" src="https://plausible.io/js/script.js"></script>',
            None,
            "Plausible",
        ),
        ('<script src="https://cdn.usefathom.com/script.js"></script>', None, "Fathom"),
        (
            '<script>analytics.load("KEY")</script><script src="https://cdn.segment.com/a.js"></script>',
            None,
            "Segment",
        ),
        ("<script>window.ShopifyAnalytics = {}; trekkie.load()</script>", None, "Shopify Analytics"),
        ("<script>var _paq = []; _paq.push(['trackPageView'])</script>", None, "Matomo"),
    ],
)
def test_tracker_and_analytics_detection(snippet, tracker, analytics) -> None:
    facts = analyse_html(f"<html><head>{snippet}</head></html>", "https://e.com/")
    assert facts.error_tracking == ([tracker] if tracker else [])
    assert facts.analytics == ([analytics] if analytics else [])


def test_page_without_trackers() -> None:
    facts = analyse_html("<html><head><title>Plain</title></head><body>Hello</body></html>", "https://e.com/")
    assert (facts.error_tracking, facts.analytics) == ([], [])


@pytest.mark.parametrize(
    ("body", "framework"),
    [
        (
            "<p>You're seeing this error because you have <code>DEBUG = True</code> in your Django settings</p>",
            "Django",
        ),
        ("<h1>Whoops! There was an error.</h1>", "Laravel"),
        ("<h1>Action Controller: Exception caught</h1>", "Rails"),
        (
            "<pre>Error: boom<br> &nbsp; &nbsp;at Layer.handle [as handle_request] "
            "(/app/node_modules/express/lib/router/layer.js:95:5)</pre>",
            "Express (Node.js)",
        ),
        ("<title>PHP 8.2.1 - phpinfo()</title>", "phpinfo"),
        ("<h2>Server Error in '/' Application.</h2>", "ASP.NET"),
        ("<title>Werkzeug Debugger</title>", "Werkzeug (Flask)"),
    ],
)
def test_debug_pages(body, framework) -> None:
    assert detect_debug_page(body) == framework
    assert analyse_html(body, "https://e.com/").debug_page == framework


def test_ordinary_error_page_is_not_a_debug_page() -> None:
    assert detect_debug_page("<h1>Something went wrong</h1><p>Please try again.</p>") == ""


@pytest.mark.parametrize(
    ("body", "listing"),
    [
        ("<html><head><title>Index of /uploads</title></head><body><h1>Index of /uploads</h1>", True),
        ("<title>Directory listing for /</title>", True),
        ("<title>Index of products</title>", False),
    ],
)
def test_directory_listing(body, listing) -> None:
    assert is_directory_listing(body) is listing


def test_noindex_from_header_or_meta() -> None:
    meta = analyse_html('<head><meta name="robots" content="noindex, nofollow"></head>', "https://e.com/")
    assert meta.noindex and is_noindex({}, meta)
    assert is_noindex({"x-robots-tag": "noindex"}, None)
    assert not is_noindex({"x-robots-tag": "nofollow"}, HtmlFacts())


@pytest.mark.parametrize(
    ("url", "status", "ctype", "body", "sniff"),
    [
        (
            "https://e.com/.env",
            200,
            "text/plain",
            "# prod\nDB_URL=postgres://u:secret@h/db\nSTRIPE_KEY=sk_live_x\n",
            Sniff.ENV_FILE,
        ),
        ("https://e.com/.env", 200, "text/html", "<!doctype html><html>Our shop</html>", Sniff.NOTHING),
        ("https://e.com/.env", 404, "text/plain", "DB_URL=x", Sniff.NOTHING),
        ("https://e.com/.git/HEAD", 200, "text/plain", "ref: refs/heads/main\n", Sniff.GIT_HEAD),
        (
            "https://e.com/.git/config",
            200,
            "text/plain",
            "[core]\n\trepositoryformatversion = 0\n",
            Sniff.GIT_CONFIG,
        ),
        (
            "https://e.com/a.js.map",
            200,
            "application/json",
            '{"version":3,"sources":["a.ts"],"mappings":"AAAA"}',
            Sniff.SOURCE_MAP,
        ),
        ("https://e.com/info.php", 200, "text/html", "<title>phpinfo()</title>", Sniff.DEBUG_PAGE),
        ("https://e.com/files/", 200, "text/html", "<title>Index of /files</title>", Sniff.DIRECTORY_LISTING),
    ],
)
def test_sniff_exposure(url, status, ctype, body, sniff) -> None:
    assert sniff_exposure(url, status, ctype, body)[0] == sniff


def test_env_sniff_keeps_names_never_values() -> None:
    _sniff, detail = sniff_exposure(
        "https://e.com/.env", 200, "text/plain", "DB_URL=postgres://u:hunter2@h/db\nAPI_KEY=abc\n"
    )
    assert detail == "2 variables: DB_URL, API_KEY"
    assert "hunter2" not in detail


@pytest.mark.parametrize(
    ("status", "headers", "body", "kind", "word"),
    [
        (429, {"retry-after": "30"}, "", UnavailableKind.RATE_LIMITED, "429"),
        (
            403,
            {"server": "cloudflare", "cf-ray": "x"},
            "<title>Just a moment...</title>",
            UnavailableKind.BLOCKED,
            "Cloudflare",
        ),
        (200, {"cf-mitigated": "challenge"}, "", UnavailableKind.BLOCKED, "Cloudflare"),
        (
            403,
            {"server": "AkamaiGHost"},
            "Access Denied ... Reference #18.1",
            UnavailableKind.BLOCKED,
            "Akamai",
        ),
        (403, {"x-iinfo": "1"}, "Incapsula incident ID: 1", UnavailableKind.BLOCKED, "Imperva"),
        (403, {"x-amzn-waf-action": "block"}, "", UnavailableKind.BLOCKED, "AWS WAF"),
    ],
)
def test_detect_block(status, headers, body, kind, word) -> None:
    blocked = detect_block(status, headers, body)
    assert blocked is not None and blocked.kind == kind and word in blocked.reason


@pytest.mark.parametrize(
    ("status", "headers"),
    [(200, {"server": "cloudflare"}), (403, {"server": "nginx"}), (404, {"server": "cloudflare"})],
)
def test_ordinary_answers_are_not_blocks(status, headers) -> None:
    assert detect_block(status, headers, "<h1>Forbidden</h1>") is None


def test_parse_set_cookie() -> None:
    cookie = parse_set_cookie("_session_id=abc; Path=/; Secure; HttpOnly; SameSite=Lax")
    assert (cookie.name, cookie.secure, cookie.httponly, cookie.samesite, cookie.path) == (
        "_session_id",
        True,
        True,
        "lax",
        "/",
    )
    bare = parse_set_cookie("theme=dark")
    assert (bare.secure, bare.httponly, bare.samesite) == (False, False, "")


def test_debug_pages_count_on_error_statuses_but_files_need_2xx() -> None:
    django_500 = "<p>You're seeing this error because you have <code>DEBUG = True</code></p>"
    assert sniff_exposure("https://e.com/debug", 500, "text/html", django_500) == (
        Sniff.DEBUG_PAGE,
        "a Django debug page / stack trace",
    )
    assert sniff_exposure("https://e.com/.git/HEAD", 403, "text/plain", "ref: refs/heads/main") == (
        Sniff.NOTHING,
        "",
    )
