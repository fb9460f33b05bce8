"""deploy (exposure.*, deploy.staging_not_separated), performance and monitoring
detection rules: a failing input per check id, and the good store passes."""

from __future__ import annotations

import pytest

from audits.facts import ExposureProbe, LighthouseFacts, PageFacts, ScriptRef, Sniff
from audits.findings import Status
from audits.rules import evaluate
from tests.audits.factories import (
    DOMAIN,
    HOME,
    NOW,
    WWW,
    failing,
    good_facts,
    host,
    html,
    outcome,
    page,
    replace,
    timing,
    with_exposure,
    with_host,
    with_page,
    with_route,
)

G = good_facts()
STAGING = f"staging.{DOMAIN}"
ADMIN = f"admin.{DOMAIN}"
PRODUCT = f"https://{WWW}/products/tee"


def _probe(path: str, sniff: Sniff, detail: str = "", content_type: str = "text/plain"):
    return with_exposure(G, ExposureProbe(f"https://{WWW}{path}", 200, content_type, sniff, detail))


def _open_host(name: str, **kw):
    return with_page(G, page(f"https://{name}/", "", html=html(title="Staging"), body_sha256="other", **kw))


def _staging_copy():
    facts = with_host(G, host(STAGING, "104.16.1.9"))
    return with_page(facts, page(f"https://{STAGING}/", "", body_sha256="home-hash"))


def _all_pages(**html_changes):
    return replace(G, pages=[replace(p, html=replace(p.html, **html_changes)) for p in G.pages])


SYNC_GTM = ScriptRef("https://www.googletagmanager.com/gtm.js?id=GTM-X", in_head=True)

FAIL_CASES = [
    pytest.param(
        "exposure.env_file",
        _probe("/.env", Sniff.ENV_FILE, "2 variables: DB_URL, STRIPE_KEY"),
        "blocker",
        WWW,
        id="env",
    ),
    pytest.param(
        "exposure.git",
        _probe("/.git/HEAD", Sniff.GIT_HEAD, "ref: refs/heads/main"),
        "blocker",
        WWW,
        id="git-head",
    ),
    pytest.param(
        "exposure.debug_page",
        with_page(G, page(f"https://{WWW}/cart", "cart", status=500, html=html(debug_page="Django"))),
        "blocker",
        WWW,
        id="django-debug",
    ),
    pytest.param(
        "exposure.debug_page",
        _probe("/phpinfo.php", Sniff.DEBUG_PAGE, "phpinfo"),
        "blocker",
        WWW,
        id="phpinfo",
    ),
    pytest.param(
        "exposure.directory_listing",
        _probe("/uploads/", Sniff.DIRECTORY_LISTING),
        "medium",
        WWW,
        id="autoindex",
    ),
    pytest.param("exposure.admin_public", _open_host(ADMIN), "high", ADMIN, id="open-admin"),
    pytest.param("exposure.admin_public", _open_host(STAGING), "high", STAGING, id="open-staging"),
    pytest.param("exposure.staging_indexable", _open_host(STAGING), "medium", STAGING, id="indexable"),
    pytest.param(
        "exposure.source_maps", _probe("/assets/app.js.map", Sniff.SOURCE_MAP), "low", WWW, id="map"
    ),
    pytest.param("deploy.staging_not_separated", _staging_copy(), "medium", STAGING, id="same-page"),
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
    pytest.param(
        "monitoring.error_tracking_missing", _all_pages(error_tracking=[]), "medium", WWW, id="no-tracker"
    ),
    pytest.param("monitoring.analytics_missing", _all_pages(analytics=[]), "low", WWW, id="no-analytics"),
    pytest.param(
        "monitoring.uptime_routes_missing",
        replace(G, monitoring_setup=replace(G.monitoring_setup, monitored_urls=[f"https://{WWW}/"])),
        "high",
        G.site.domain,
        id="homepage-only",
    ),
    pytest.param(
        "monitoring.alert_channel_missing",
        replace(
            G,
            monitoring_setup=replace(
                G.monitoring_setup, verified_channels=[], unverified_channels=["Email: a@b"]
            ),
        ),
        "high",
        G.site.domain,
        id="unverified-only",
    ),
    pytest.param(
        "monitoring.escalation_contact_missing",
        replace(G, monitoring_setup=replace(G.monitoring_setup, escalation_contacts=[])),
        "medium",
        G.site.domain,
        id="no-contact",
    ),
    pytest.param(
        "monitoring.heartbeat_missing",
        replace(G, monitoring_setup=replace(G.monitoring_setup, heartbeats=[])),
        "low",
        G.site.domain,
        id="no-heartbeat",
    ),
]


@pytest.mark.parametrize(("check", "facts", "severity", "subject"), FAIL_CASES)
def test_check_fails(check, facts, severity, subject) -> None:
    assert (check, severity, subject) in failing(facts, check)


@pytest.mark.parametrize("check", sorted({p.values[0] for p in FAIL_CASES}))
def test_good_store_passes(check) -> None:
    assert failing(G, check) == []
    assert outcome(G, check) == "pass"


def test_inventory_checks_are_skipped_without_an_account() -> None:
    facts = replace(G, monitoring_setup=None)  # the CLI: nothing to read
    for check in ("monitoring.uptime_routes_missing", "monitoring.alert_channel_missing"):
        assert outcome(facts, check) == "skipped"


def test_protected_admin_host_passes() -> None:
    for protected in (
        _open_host(ADMIN, status=401),
        _open_host(ADMIN, final_url=f"https://{ADMIN}/login"),
        _open_host(ADMIN, final_url="https://example.cloudflareaccess.com/cdn-cgi/access/login"),
    ):
        assert failing(protected, "exposure.admin_public") == []


def test_noindex_staging_is_not_indexable() -> None:
    facts = _open_host(STAGING, headers={"x-robots-tag": "noindex, nofollow", "content-type": "text/html"})
    assert failing(facts, "exposure.staging_indexable") == []


def test_env_probe_blocked_is_inconclusive() -> None:
    from audits.facts import Unavailable

    facts = with_exposure(
        G, ExposureProbe(f"https://{WWW}/.env", None, unavailable=Unavailable("rate limited"))
    )
    findings = evaluate(facts, NOW, ["exposure.env_file"]).findings
    assert [(f.status, f.subject) for f in findings] == [(Status.INCONCLUSIVE, WWW)]


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


def test_declared_error_tracking_satisfies_the_check() -> None:
    facts = _all_pages(error_tracking=[])
    facts = replace(facts, site=replace(facts.site, error_tracking_declared="Sentry (server side)"))
    # It passes on the owner's word, and the report says so (an info line, not a failure).
    assert outcome(facts, "monitoring.error_tracking_missing") == "pass"
    assert failing(facts, "monitoring.error_tracking_missing") == [
        ("monitoring.error_tracking_missing", "info", WWW)
    ]


def test_shopify_counts_as_platform_analytics() -> None:
    facts = _all_pages(analytics=[])
    facts = with_page(
        facts,
        replace(page(html=html(analytics=[])), headers={"x-shopid": "123", "content-type": "text/html"}),
    )
    assert failing(facts, "monitoring.analytics_missing") == []


def test_no_readable_page_makes_detection_inconclusive() -> None:
    facts = replace(G, pages=[PageFacts(url=HOME, route="home", error="timed out")])
    findings = evaluate(facts, NOW, ["monitoring.analytics_missing"]).findings
    assert [f.status for f in findings] == [Status.INCONCLUSIVE]


def test_tracker_on_an_admin_host_does_not_count_for_the_storefront() -> None:
    facts = _all_pages(error_tracking=[])
    facts = with_page(facts, page(f"https://{ADMIN}/", "", html=html(error_tracking=["Sentry"])))
    assert failing(facts, "monitoring.error_tracking_missing") == [
        ("monitoring.error_tracking_missing", "medium", WWW)
    ]


def test_staging_cname_of_the_production_apex_is_not_separated() -> None:
    facts = with_host(G, host(STAGING, "104.16.1.1", chain=[DOMAIN]))
    (finding,) = evaluate(facts, NOW, ["deploy.staging_not_separated"]).findings
    assert finding.subject == STAGING
    assert "CNAME of the production host example.com" in finding.evidence


def test_staging_on_the_same_origin_address_is_not_separated() -> None:
    facts = with_host(G, host(DOMAIN, "203.0.113.10", source="apex"))
    facts = with_host(facts, host(STAGING, "203.0.113.10"))
    assert failing(facts, "deploy.staging_not_separated") == [
        ("deploy.staging_not_separated", "medium", STAGING)
    ]


def test_shared_cdn_address_is_not_the_same_origin() -> None:
    assert failing(with_host(G, host(STAGING, "104.16.1.1")), "deploy.staging_not_separated") == []


def test_admin_host_redirecting_to_the_store_is_not_an_open_admin() -> None:
    facts = with_page(G, page(f"https://{ADMIN}/", "", final_url=HOME, html=html(title="Example Store")))
    assert failing(facts, "exposure.admin_public") == []


def test_apex_root_counts_as_storefront_when_www_is_unreadable() -> None:
    # www's pages could not be read; the apex serves the store itself, without trackers.
    unreadable = [replace(p, status=None, html=None, error="certificate expired") for p in G.pages if p.route]
    apex = page(f"https://{DOMAIN}/", "", html=html(error_tracking=[], analytics=[]))
    facts = replace(G, pages=[*unreadable, apex])
    assert failing(facts, "monitoring.error_tracking_missing") == [
        ("monitoring.error_tracking_missing", "medium", WWW)
    ]


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
    from tests.audits.factories import chain, with_chain

    down = chain(HOME, error="Connection to www.example.com timed out after 10 s.")
    facts = with_chain(G, down)
    facts = with_route(
        facts, timing("cart", "/cart", ttfb_ms=[], total_ms=[], errors=20, error_examples=["timed out"])
    )
    findings = evaluate(facts, NOW, ["perf.route_errors"]).findings
    assert [(f.status, f.subject) for f in findings] == [(Status.INCONCLUSIVE, f"cart https://{WWW}/cart")]
    assert "store does not answer" in findings[0].evidence
