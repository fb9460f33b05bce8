"""http.* and edge.* checks that did not see what they judge: a chain that stopped at a
refused certificate, files that could not be fetched, a page read past a certificate.
Each says "inconclusive" with its reason, or judges what was seen, never a silent pass."""

from __future__ import annotations

from audits.facts import AssetFacts, Unavailable
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
    hop,
    outcome,
    page,
    replace,
    with_chain,
    with_page,
)

G = good_facts()
EXPIRED = "The certificate for www.example.com expired on 2 December 2026."


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


def _assets(**changes):
    return replace(G, assets=[a if a.kind == "html" else replace(a, **changes) for a in G.assets])


def test_static_not_cached_is_inconclusive_when_every_file_failed() -> None:
    facts = _assets(status=None, unavailable=Unavailable("www.example.com refused the connection."))
    findings = evaluate(facts, NOW, ["edge.static_not_cached"]).findings
    assert [(str(f.status), f.subject) for f in findings] == [("inconclusive", WWW)]
    assert "refused the connection" in findings[0].evidence
    all_404 = _assets(status=404)
    assert _statuses(all_404, "edge.static_not_cached") == [("inconclusive", WWW)]


def test_static_files_of_an_unread_homepage_are_inconclusive_not_skipped() -> None:
    facts = replace(with_page(G, page(status=None, error="Connection timed out.", html=None)), assets=[])
    findings = evaluate(facts, NOW, ["edge.static_not_cached"]).findings
    assert [(str(f.status), f.subject) for f in findings] == [("inconclusive", WWW)]
    assert "timed out" in findings[0].evidence
    no_files = replace(G, assets=[a for a in G.assets if a.kind == "html"])
    assert outcome(no_files, "edge.static_not_cached") == "skipped"


def test_files_read_past_a_refused_certificate_are_judged_and_say_so() -> None:
    facts = replace(
        G,
        assets=[
            AssetFacts(f"https://{WWW}/app.css", "css", 200, "", "br", read_past_certificate=True),
        ],
    )
    (finding,) = evaluate(facts, NOW, ["edge.static_not_cached"]).findings
    assert finding.status == Status.FAIL and "read past the certificate" in finding.evidence


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
