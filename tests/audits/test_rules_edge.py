"""edge stage rules (http.*, tls.*, edge.*): a failing input per check id with its
severity and subject, and the good store passes."""

from __future__ import annotations

import datetime as dt

import pytest

from audits.facts import Cookie, MixedRef, OriginProbe, Unavailable, UnavailableKind, VerifyError
from audits.findings import Status
from audits.rules import evaluate
from audits.rules.tls import hostname_matches
from tests.audits.factories import (
    DOMAIN,
    GOOD_HEADERS,
    HOME,
    NOW,
    WWW,
    cert,
    chain,
    failing,
    good_facts,
    hop,
    host,
    html,
    ok_hop,
    outcome,
    page,
    replace,
    tls,
    with_chain,
    with_host,
    with_page,
    with_tls,
)

G = good_facts()
APP = f"app.{DOMAIN}"
CART = f"https://{WWW}/cart"
LOGIN = f"https://{WWW}/account/login"
CAMPAIGN = f"https://{DOMAIN}/spring"


def headers(**changes: str | None) -> dict[str, str]:
    result = dict(GOOD_HEADERS)
    for key, value in changes.items():
        key = key.replace("_", "-")
        if value is None:
            result.pop(key, None)
        else:
            result[key] = value
    return result


def home_with(**changes: str | None):
    facts = with_chain(G, chain(HOME, replace(ok_hop(), headers=headers(**changes))))
    return with_page(facts, page(headers=headers(**changes)))


def _no_cdn():
    facts = with_host(G, host(WWW, "203.0.113.10", source="www"))
    return with_page(facts, page(headers=headers(server="nginx", cf_ray=None)))


def _asset(kind: str, **changes):
    facts = G
    assets = [replace(a, **changes) if a.kind == kind else a for a in facts.assets]
    return replace(facts, assets=assets)


def _mixed(url: str, route: str, *refs: MixedRef):
    return with_page(G, page(url, route, html=html(mixed_content=list(refs))))


def _cookie(*cookies: Cookie):
    return with_page(G, page(cookies=list(cookies)))


IMG = MixedRef("http://img.example.net/a.png", "img", active=False)
SCRIPT = MixedRef("http://cdn.example.net/a.js", "script", active=True)

FAIL_CASES = [
    pytest.param(
        "http.unreachable",
        with_chain(G, chain(HOME, hop(HOME, None), error="Connection refused")),
        "blocker",
        HOME,
        id="refused",
    ),
    pytest.param("http.server_error", with_chain(G, chain(HOME, hop(HOME, 503))), "blocker", HOME, id="503"),
    pytest.param(
        "http.no_https_redirect",
        with_chain(G, chain(f"http://{WWW}/", ok_hop(f"http://{WWW}/"))),
        "high",
        f"http://{WWW}/",
        id="http-200",
    ),
    pytest.param(
        "http.redirect_not_permanent",
        with_chain(G, chain(f"http://{DOMAIN}/", hop(f"http://{DOMAIN}/", 302, HOME), ok_hop())),
        "medium",
        f"http://{DOMAIN}/",
        id="302",
    ),
    pytest.param(
        "http.duplicate_site",
        with_chain(G, chain(f"https://{DOMAIN}/", ok_hop(f"https://{DOMAIN}/"))),
        "high",
        DOMAIN,
        id="both-200",
    ),
    pytest.param(
        "http.canonical_mismatch",
        with_chain(G, chain(f"https://{DOMAIN}/", ok_hop(f"https://{DOMAIN}/"))),
        "medium",
        f"https://{DOMAIN}/",
        id="ends-on-apex",
    ),
    pytest.param(
        "http.redirect_chain_long",
        with_chain(
            G,
            chain(
                f"http://{DOMAIN}/",
                hop(f"http://{DOMAIN}/", 301, f"https://{DOMAIN}/"),
                hop(f"https://{DOMAIN}/", 301, HOME),
                ok_hop(),
            ),
        ),
        "medium",
        f"http://{DOMAIN}/",
        id="2-hops",
    ),
    pytest.param(
        "http.redirect_chain_long",
        with_chain(
            G,
            chain(
                CAMPAIGN,
                hop(CAMPAIGN, 301, f"http://{WWW}/spring"),
                hop(f"http://{WWW}/spring", 301, f"https://{WWW}/spring"),
                hop(f"https://{WWW}/spring", 301, f"https://{WWW}/collections/spring"),
                ok_hop(f"https://{WWW}/collections/spring"),
                kind="campaign",
            ),
        ),
        "high",
        CAMPAIGN,
        id="3-hops",
    ),
    pytest.param(
        "http.redirect_loop",
        with_chain(
            G,
            chain(
                HOME, hop(HOME, 301, f"https://{DOMAIN}/"), hop(f"https://{DOMAIN}/", 301, HOME), loop=True
            ),
        ),
        "blocker",
        HOME,
        id="loop",
    ),
    pytest.param(
        "http.redirect_downgrade",
        with_chain(
            G,
            chain(
                f"https://{DOMAIN}/",
                hop(f"https://{DOMAIN}/", 301, f"http://{WWW}/"),
                hop(f"http://{WWW}/", 301, HOME),
                ok_hop(),
            ),
        ),
        "high",
        f"https://{DOMAIN}/",
        id="https-to-http",
    ),
    pytest.param(
        "http.campaign_url_broken",
        with_chain(G, chain(CAMPAIGN, hop(CAMPAIGN, 404), kind="campaign")),
        "high",
        CAMPAIGN,
        id="404",
    ),
    pytest.param("http.hsts_missing", home_with(strict_transport_security=None), "high", WWW, id="no-hsts"),
    pytest.param(
        "http.hsts_short", home_with(strict_transport_security="max-age=86400"), "medium", WWW, id="1-day"
    ),
    pytest.param("http.mixed_content", _mixed(HOME, "home", IMG), "medium", HOME, id="passive-home"),
    pytest.param("http.mixed_content", _mixed(CART, "cart", IMG), "high", CART, id="passive-cart"),
    pytest.param("http.mixed_content", _mixed(HOME, "home", SCRIPT), "high", HOME, id="active-home"),
    pytest.param("http.csp_missing", home_with(content_security_policy=None), "medium", WWW, id="no-csp"),
    pytest.param(
        "http.csp_missing",
        home_with(content_security_policy=None, content_security_policy_report_only="default-src 'self'"),
        "medium",
        WWW,
        id="report-only",
    ),
    pytest.param(
        "http.clickjacking",
        with_page(G, page(LOGIN, "login", headers=headers(content_security_policy="default-src 'self'"))),
        "medium",
        LOGIN,
        id="login-frameable",
    ),
    pytest.param("http.nosniff_missing", home_with(x_content_type_options=None), "low", WWW, id="no-nosniff"),
    pytest.param(
        "http.referrer_policy_missing", home_with(referrer_policy=None), "low", WWW, id="no-referrer-policy"
    ),
    pytest.param(
        "http.cookie_insecure",
        _cookie(Cookie("_session_id", secure=True, httponly=False, samesite="lax")),
        "high",
        f"{WWW} cookie _session_id",
        id="session-readable-by-js",
    ),
    pytest.param(
        "http.cookie_insecure",
        _cookie(Cookie("theme", secure=False, samesite="lax")),
        "medium",
        f"{WWW} cookie theme",
        id="plain-not-secure",
    ),
    pytest.param(
        "http.version_leak", home_with(server="nginx/1.18.0 (Ubuntu)"), "low", WWW, id="nginx-version"
    ),
    pytest.param("http.version_leak", home_with(x_powered_by="PHP/8.1.2"), "low", WWW, id="php-version"),
    pytest.param(
        "tls.handshake_failed",
        with_tls(G, tls(APP, handshake_ok=False, cert=None, error="Connection refused on port 443")),
        "blocker",
        APP,
        id="no-tls",
    ),
    pytest.param(
        "tls.cert_expired", with_tls(G, tls(WWW, cert=cert(days_left=-2))), "blocker", WWW, id="expired"
    ),
    pytest.param(
        "tls.cert_expired",
        with_tls(G, tls(WWW, cert=cert(not_before=NOW + dt.timedelta(days=1)))),
        "blocker",
        WWW,
        id="not-yet-valid",
    ),
    pytest.param(
        "tls.cert_expiring", with_tls(G, tls(WWW, cert=cert(days_left=3))), "blocker", WWW, id="3-days"
    ),
    pytest.param(
        "tls.cert_expiring", with_tls(G, tls(WWW, cert=cert(days_left=10))), "high", WWW, id="10-days"
    ),
    pytest.param(
        "tls.cert_expiring", with_tls(G, tls(WWW, cert=cert(days_left=20))), "medium", WWW, id="20-days"
    ),
    pytest.param(
        "tls.hostname_mismatch",
        with_tls(G, tls(APP, cert=cert(host_names=(WWW,)))),
        "blocker",
        APP,
        id="other-name",
    ),
    pytest.param(
        "tls.hostname_mismatch",
        with_tls(G, tls(APP, verify_errors=[VerifyError.HOSTNAME_MISMATCH])),
        "blocker",
        APP,
        id="verify-reason",
    ),
    pytest.param(
        "tls.untrusted", with_tls(G, tls(WWW, cert=cert(self_signed=True))), "blocker", WWW, id="self-signed"
    ),
    pytest.param(
        "tls.untrusted",
        with_tls(G, tls(WWW, verify_errors=[VerifyError.UNTRUSTED])),
        "blocker",
        WWW,
        id="unknown-ca",
    ),
    pytest.param(
        "tls.chain_incomplete",
        with_tls(G, tls(WWW, verify_errors=[VerifyError.INCOMPLETE_CHAIN])),
        "high",
        WWW,
        id="no-intermediate",
    ),
    pytest.param("tls.legacy_protocol", with_tls(G, tls(WWW, tls10=True)), "medium", WWW, id="tls10"),
    pytest.param("tls.no_tls13", with_tls(G, tls(WWW, tls13=False)), "low", WWW, id="no-tls13"),
    pytest.param(
        "tls.weak_key",
        with_tls(G, tls(WWW, cert=cert(key_type="RSA", key_bits=1024))),
        "medium",
        WWW,
        id="rsa1024",
    ),
    pytest.param("edge.no_cdn", _no_cdn(), "medium", WWW, id="origin-only"),
    pytest.param(
        "edge.origin_exposed",
        replace(G, origin_probes=[OriginProbe(f"direct.{DOMAIN}", "203.0.113.10", True, "same <title>")]),
        "medium",
        f"direct.{DOMAIN}",
        id="direct-host",
    ),
    pytest.param(
        "edge.static_not_cached", _asset("css", cache_control="max-age=300"), "medium", WWW, id="5-minutes"
    ),
    pytest.param("edge.static_not_cached", _asset("image", cache_control=""), "medium", WWW, id="no-header"),
    pytest.param("edge.no_compression", _asset("js", content_encoding=""), "medium", WWW, id="plain-js"),
    pytest.param("edge.no_http2", with_tls(G, tls(WWW, http2=False)), "low", WWW, id="http1-only"),
]


@pytest.mark.parametrize(("check", "facts", "severity", "subject"), FAIL_CASES)
def test_check_fails(check, facts, severity, subject) -> None:
    assert (check, severity, subject) in failing(facts, check)


@pytest.mark.parametrize("check", sorted({p.values[0] for p in FAIL_CASES}))
def test_good_store_passes(check) -> None:
    assert failing(G, check) == []
    assert outcome(G, check) == "pass"


BLOCKED = Unavailable("blocked by Cloudflare bot protection", UnavailableKind.BLOCKED)


@pytest.mark.parametrize(
    ("facts", "check", "subject"),
    [
        pytest.param(
            with_chain(G, chain(HOME, unavailable=BLOCKED)), "http.unreachable", HOME, id="waf-home"
        ),
        pytest.param(with_tls(G, tls(WWW, unavailable=BLOCKED)), "tls.handshake_failed", WWW, id="waf-tls"),
        pytest.param(
            with_tls(G, tls(WWW, tls10=None, tls11=None)), "tls.legacy_protocol", WWW, id="cannot-test-tls10"
        ),
        pytest.param(with_tls(G, tls(WWW, http2=None)), "edge.no_http2", WWW, id="alpn-unclear"),
    ],
)
def test_blocked_or_untestable_is_inconclusive(facts, check, subject) -> None:
    findings = evaluate(facts, NOW, [check]).findings
    assert [(f.status, f.subject) for f in findings] == [(Status.INCONCLUSIVE, subject)]


def test_good_redirects_are_one_hop_and_permanent() -> None:
    chains = {c.entry_url: c.redirects for c in G.redirects}
    assert chains[f"http://{DOMAIN}/"] == 1
    assert failing(G, "http.redirect_chain_long") == []


def test_redirect_evidence_shows_the_chain() -> None:
    facts = with_chain(G, chain(f"http://{DOMAIN}/", hop(f"http://{DOMAIN}/", 302, HOME), ok_hop()))
    (finding,) = evaluate(facts, NOW, ["http.redirect_not_permanent"]).findings
    assert finding.evidence.splitlines() == [f"http://{DOMAIN}/ → 302", f"{HOME} → 200"]
    assert "Redirect Rule" in finding.fix  # Cloudflare detected: its own steps


def test_csrf_cookie_is_not_treated_as_a_session_cookie() -> None:
    facts = _cookie(Cookie("csrftoken", secure=True, httponly=False, samesite="lax"))
    assert failing(facts, "http.cookie_insecure") == []


def test_clickjacking_is_skipped_without_login_or_checkout() -> None:
    facts = replace(G, pages=[p for p in G.pages if p.route not in ("login", "checkout")])
    (result,) = evaluate(facts, NOW, ["http.clickjacking"]).results
    assert (result.outcome, result.reason) == ("skipped", "no login or checkout page was fetched")


@pytest.mark.parametrize(
    ("host_name", "names", "expected"),
    [
        ("www.example.com", ["www.example.com"], True),
        ("shop.example.com", ["*.example.com"], True),
        ("example.com", ["*.example.com"], False),
        ("a.b.example.com", ["*.example.com"], False),
        ("WWW.Example.com.", ["www.example.com"], True),
    ],
)
def test_hostname_matches(host_name, names, expected) -> None:
    assert hostname_matches(host_name, names) is expected


def test_hsts_not_checked_when_the_canonical_url_was_not_requested() -> None:
    facts = replace(G, redirects=[c for c in G.redirects if c.entry_url != HOME])
    findings = evaluate(facts, NOW, ["http.hsts_missing"]).findings
    assert [f.status for f in findings] == [Status.INCONCLUSIVE]


def test_small_files_need_no_compression_but_a_page_does() -> None:
    small = _asset("js", content_encoding="", size=150)
    assert failing(small, "edge.no_compression") == []
    page_plain = _asset("html", content_encoding="", size=900)
    assert failing(page_plain, "edge.no_compression") == [("edge.no_compression", "medium", WWW)]


def test_refused_certificate_is_not_reported_as_unreachable() -> None:
    refused = chain(HOME, hop(HOME, None), error="The certificate has expired.", error_kind="tls_certificate")
    facts = with_chain(G, refused)
    # The chain is about the URL; the header check about the host whose page it could not read.
    for check, subject in (("http.unreachable", HOME), ("http.hsts_missing", WWW)):
        findings = evaluate(facts, NOW, [check]).findings
        assert [(f.status, f.subject) for f in findings] == [(Status.INCONCLUSIVE, subject)]
        assert "certificate has expired" in findings[0].evidence


def test_header_checks_are_inconclusive_when_no_storefront_page_was_read() -> None:
    facts = replace(G, pages=[p for p in G.pages if p.host != WWW])
    for check in ("http.csp_missing", "http.nosniff_missing", "http.referrer_policy_missing"):
        findings = evaluate(facts, NOW, [check]).findings
        assert [(f.status, f.subject) for f in findings] == [(Status.INCONCLUSIVE, WWW)]


def test_closed_port_80_does_not_end_on_https() -> None:
    closed = chain(
        f"http://{WWW}/",
        hop(f"http://{WWW}/", None),
        error="Connection refused.",
        error_kind="connection_refused",
    )
    assert failing(with_chain(G, closed), "http.no_https_redirect") == [
        ("http.no_https_redirect", "high", f"http://{WWW}/")
    ]
    no_dns = replace(closed, error_kind="dns_nxdomain")
    assert failing(with_chain(G, no_dns), "http.no_https_redirect") == []


def test_header_checks_judge_the_host_that_answered() -> None:
    # https://example.com/ redirected to www: its headers are www's, and 404 pages do not count.
    apex_page = page(f"https://{DOMAIN}/", "", final_url=HOME, headers=headers(content_security_policy=None))
    error_page = page(f"https://{APP}/", "", status=404, headers=headers(content_security_policy=None))
    facts = with_page(with_page(G, apex_page), error_page)
    assert failing(facts, "http.csp_missing") == [("http.csp_missing", "medium", WWW)]


def test_duplicate_site_is_inconclusive_when_www_cannot_be_read() -> None:
    facts = with_chain(G, chain(f"https://{DOMAIN}/", ok_hop(f"https://{DOMAIN}/")))
    facts = with_chain(
        facts,
        chain(HOME, hop(HOME, None), error="The certificate has expired.", error_kind="tls_certificate"),
    )
    findings = evaluate(facts, NOW, ["http.duplicate_site"]).findings
    assert [(f.status, f.subject) for f in findings] == [(Status.INCONCLUSIVE, DOMAIN)]


def test_refused_certificate_reason_speaks_plainly() -> None:
    refused = chain(HOME, hop(HOME, None), error="The certificate has expired.", error_kind="tls_certificate")
    (finding,) = evaluate(with_chain(G, refused), NOW, ["http.unreachable"]).findings
    assert "tls.*" not in finding.evidence and "certificate findings" in finding.evidence
