"""Rules of http.* (audits/rules/http.py): a failing input per check id with its severity
and subject, the good store passes, and a check that did not see what it judges (a chain
that stopped at a refused certificate, a page read past a certificate) says "inconclusive"
with its reason, or judges what was seen, never a silent pass."""

from __future__ import annotations

import pytest

from audits.facts import Cookie, MixedRef, Unavailable, UnavailableKind
from audits.findings import Status
from audits.rules import evaluate
from tests.audits.factories import (
    DOMAIN,
    HOME,
    NOW,
    WWW,
    chain,
    failing,
    good_facts,
    headers,
    hop,
    html,
    ok_hop,
    outcome,
    page,
    replace,
    with_chain,
    with_page,
)

G = good_facts()
APP = f"app.{DOMAIN}"
CART = f"https://{WWW}/cart"
LOGIN = f"https://{WWW}/account/login"
CAMPAIGN = f"https://{DOMAIN}/spring"
EXPIRED = "The certificate for www.example.com expired on 2 December 2026."


def home_with(**changes: str | None):
    facts = with_chain(G, chain(HOME, replace(ok_hop(), headers=headers(**changes))))
    return with_page(facts, page(headers=headers(**changes)))


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


def test_hsts_not_checked_when_the_canonical_url_was_not_requested() -> None:
    facts = replace(G, redirects=[c for c in G.redirects if c.entry_url != HOME])
    findings = evaluate(facts, NOW, ["http.hsts_missing"]).findings
    assert [f.status for f in findings] == [Status.INCONCLUSIVE]


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


# --- checks that did not see what they judge ---------------------------------------------


def _statuses(facts, check):
    return [(str(f.status), f.subject) for f in evaluate(facts, NOW, [check]).findings]


def _refused(entry: str, *hops):
    return chain(entry, *hops, error=EXPIRED, error_kind="tls_certificate")


def test_a_chain_broken_at_a_certificate_error_is_not_a_short_chain() -> None:
    # http://example.com/ → https://www.example.com/ (refused): one hop seen, the rest not.
    broken = _refused(f"http://{DOMAIN}/", hop(f"http://{DOMAIN}/", 301, HOME), hop(HOME, None))
    facts = with_chain(G, broken)
    assert _statuses(facts, "http.redirect_chain_long") == [("inconclusive", f"http://{DOMAIN}/")]
    (finding,) = evaluate(facts, NOW, ["http.redirect_chain_long"]).findings
    assert "could not be followed to the end" in finding.evidence and EXPIRED in finding.evidence


def test_two_hops_seen_before_the_break_already_fail() -> None:
    broken = _refused(
        f"http://{DOMAIN}/",
        hop(f"http://{DOMAIN}/", 301, f"https://{DOMAIN}/"),
        hop(f"https://{DOMAIN}/", 301, HOME),
        hop(HOME, None),
    )
    assert failing(with_chain(G, broken), "http.redirect_chain_long") == [
        ("http.redirect_chain_long", "medium", f"http://{DOMAIN}/")
    ]


def test_the_other_redirect_checks_do_not_pass_a_chain_they_did_not_see_end() -> None:
    broken = _refused(f"http://{DOMAIN}/", hop(f"http://{DOMAIN}/", 301, HOME), hop(HOME, None))
    facts = with_chain(G, broken)
    for check in ("http.redirect_loop", "http.redirect_downgrade", "http.redirect_not_permanent"):
        assert _statuses(facts, check) == [("inconclusive", f"http://{DOMAIN}/")], check
    # A temporary hop seen before the break is a failure all the same.
    temporary = _refused(f"http://{DOMAIN}/", hop(f"http://{DOMAIN}/", 302, HOME), hop(HOME, None))
    assert failing(with_chain(G, temporary), "http.redirect_not_permanent") == [
        ("http.redirect_not_permanent", "medium", f"http://{DOMAIN}/")
    ]


def _home_read_past_certificate(**changes):
    facts = with_chain(G, _refused(HOME, hop(HOME, None)))
    return with_page(facts, page(read_past_certificate=True, **changes))


def test_a_store_read_past_its_refused_certificate_answers() -> None:
    # The report must not say "does not answer" and then quote that page's cookies.
    facts = _home_read_past_certificate()
    assert outcome(facts, "http.unreachable") == "pass"


def test_hsts_is_read_from_the_page_read_past_the_certificate() -> None:
    facts = _home_read_past_certificate()
    assert outcome(facts, "http.hsts_missing") == "pass"
    without = _home_read_past_certificate(
        headers={k: v for k, v in page().headers.items() if k != "strict-transport-security"}
    )
    (finding,) = evaluate(without, NOW, ["http.hsts_missing"]).findings
    assert finding.status == Status.FAIL and "read past the refused certificate" in finding.evidence


def test_server_error_behind_a_refused_certificate_is_seen_or_inconclusive() -> None:
    assert failing(_home_read_past_certificate(status=503), "http.server_error") == [
        ("http.server_error", "blocker", HOME)
    ]
    unread = with_chain(G, _refused(HOME, hop(HOME, None)))  # the page was not read past it
    assert _statuses(unread, "http.server_error") == [("inconclusive", HOME)]


def test_hsts_short_is_not_measured_on_a_page_nobody_read() -> None:
    facts = with_chain(G, chain(HOME, hop(HOME, None), error="Connection timed out."))
    assert _statuses(facts, "http.hsts_short") == [("inconclusive", WWW)]


def _no_such_name(entry: str):
    host = entry.split("/")[2]
    return chain(
        entry, hop(entry, None), error=f"{host} does not exist (NXDOMAIN).", error_kind="dns_nxdomain"
    )


def test_an_entry_url_whose_name_does_not_exist_has_no_redirect_to_judge() -> None:
    # Canonical apex, no www at all: dns.www_unresolved says it; the redirect checks do not
    # pile "could not be checked" on addresses that do not exist, nor call them passed.
    facts = replace(G, site=replace(G.site, canonical="apex"))
    www_entries = [f"http://{WWW}/", f"https://{WWW}/"]
    for entry in www_entries:
        facts = with_chain(facts, _no_such_name(entry))
    for check in ("http.redirect_chain_long", "http.redirect_loop", "http.canonical_mismatch"):
        assert not [s for s in _statuses(facts, check) if s[1] in www_entries], check
    assert outcome(facts, "http.duplicate_site") == "pass"
    nothing = replace(
        facts, redirects=[_no_such_name(c.entry_url) for c in facts.redirects if c.kind == "entry"]
    )
    for check in ("http.redirect_chain_long", "http.no_https_redirect", "http.duplicate_site"):
        assert outcome(nothing, check) == "skipped", check


def test_a_campaign_url_on_a_name_that_does_not_exist_is_broken() -> None:
    facts = with_chain(G, replace(_no_such_name(f"https://{DOMAIN}/spring"), kind="campaign"))
    assert failing(facts, "http.campaign_url_broken") == [
        ("http.campaign_url_broken", "high", f"https://{DOMAIN}/spring")
    ]


def test_a_lookup_that_timed_out_does_not_make_the_store_unreachable() -> None:
    """Our resolver's silence says nothing about the store: inconclusive, with the reason."""
    timed_out = chain(
        HOME, hop(HOME, None), error="The DNS servers did not answer in time.", error_kind="dns_timeout"
    )
    assert _statuses(with_chain(G, timed_out), "http.unreachable") == [("inconclusive", HOME)]
    refused = chain(
        HOME, hop(HOME, None), error="The connection was refused.", error_kind="connection_refused"
    )
    assert _statuses(with_chain(G, refused), "http.unreachable") == [("fail", HOME)]
