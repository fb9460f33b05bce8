"""dns.*, exposure.*, deploy.staging_not_separated and perf.* checks that could not look:
each says "inconclusive" with its reason (or "skipped" when it does not apply), and still
judges what it did see. test_no_silent_pass.py holds every check to this over wholly
empty facts; these tests show it one fact at a time, beside a store that answered."""

from __future__ import annotations

from audits.facts import DnsStatus, ExposureProbe, PageFacts, Unavailable
from audits.rules import evaluate
from tests.audits.factories import (
    DOMAIN,
    NOW,
    WWW,
    answer,
    good_facts,
    host,
    outcome,
    replace,
    timing,
    with_dns,
    with_host,
    with_page,
    with_route,
)

G = good_facts()
APP = f"app.{DOMAIN}"
ADMIN = f"admin.{DOMAIN}"
TIMEOUT = DnsStatus.TIMEOUT
NO_ANSWER = "the host did not answer within 10 s."


def _findings(facts, check):
    return [(str(f.status), f.subject) for f in evaluate(facts, NOW, [check]).findings]


def _evidence(facts, check) -> str:
    (finding,) = evaluate(facts, NOW, [check]).findings
    return finding.evidence


# --- dns -------------------------------------------------------------------------------

NAME_CHECKS = ("dns.private_address", "dns.ttl_too_high", "dns.cname_conflict", "dns.dangling_cname")


def _no_name_answered():
    return with_dns(G, hosts=[host(h.name, source=h.source, status=TIMEOUT) for h in G.dns.hosts])


def test_checks_over_all_names_are_inconclusive_when_no_name_got_an_answer() -> None:
    facts = _no_name_answered()
    for check in NAME_CHECKS:
        assert _findings(facts, check) == [("inconclusive", DOMAIN)], check
        assert "no name under example.com got an answer from DNS" in _evidence(facts, check)


def test_checks_over_all_names_judge_the_names_that_answered() -> None:
    # www timed out, the apex and app answered: what was seen is judged, no inconclusive piled on.
    facts = with_host(G, host(WWW, source="www", status=TIMEOUT))
    for check in NAME_CHECKS:
        assert outcome(facts, check) == "pass", check
    # A name that answered "does not exist" was looked at too.
    gone = with_dns(G, hosts=[host(h.name, source=h.source, status=DnsStatus.NXDOMAIN) for h in G.dns.hosts])
    assert outcome(gone, "dns.private_address") == "pass"


def test_name_server_checks_are_inconclusive_when_the_name_servers_could_not_be_listed() -> None:
    facts = with_dns(G, ns=answer(DOMAIN, "NS", status=TIMEOUT))
    for check in ("dns.single_nameserver", "dns.nameserver_lame", "dns.nameservers_disagree"):
        assert _findings(facts, check) == [("inconclusive", DOMAIN)], check
        assert "name servers could not be listed" in _evidence(facts, check)


def test_name_server_checks_are_skipped_for_a_domain_without_name_servers() -> None:
    facts = with_dns(G, ns=answer(DOMAIN, "NS", status=DnsStatus.NXDOMAIN))
    for check in ("dns.single_nameserver", "dns.nameserver_lame", "dns.nameservers_disagree"):
        (result,) = evaluate(facts, NOW, [check]).results
        assert (str(result.outcome), "no name servers" in result.reason) == ("skipped", True), check
    assert outcome(facts, "dns.domain_unresolvable") == "fail"  # reported there, once


def test_name_servers_that_did_not_both_answer_cannot_be_compared() -> None:
    first, second = G.dns.nameservers
    facts = with_dns(G, nameservers=[first, replace(second, responded=False, error="timed out")])
    assert _findings(facts, "dns.nameservers_disagree") == [("inconclusive", DOMAIN)]
    assert "only 1 of the 2 name servers answered" in _evidence(facts, "dns.nameservers_disagree")


def test_a_single_name_server_has_nothing_to_disagree_with() -> None:
    facts = with_dns(G, ns=answer(DOMAIN, "NS", "amy.ns.cloudflare.com"), nameservers=G.dns.nameservers[:1])
    assert outcome(facts, "dns.nameservers_disagree") == "skipped"
    assert outcome(facts, "dns.single_nameserver") == "fail"


def test_apex_cname_needs_an_answer_for_the_apex() -> None:
    timed_out = with_host(G, host(DOMAIN, source="apex", status=TIMEOUT))
    assert _findings(timed_out, "dns.apex_cname") == [("inconclusive", DOMAIN)]
    not_looked_up = with_dns(G, hosts=[h for h in G.dns.hosts if h.name != DOMAIN])
    assert _findings(not_looked_up, "dns.apex_cname") == [("inconclusive", DOMAIN)]
    missing = with_host(G, host(DOMAIN, source="apex", status=DnsStatus.NXDOMAIN))
    assert outcome(missing, "dns.apex_cname") == "pass"  # looked: no CNAME (apex_unresolved says the rest)


def test_provider_inventory_is_inconclusive_only_when_nothing_could_be_identified() -> None:
    no_ns = with_dns(G, ns=answer(DOMAIN, "NS", status=TIMEOUT))
    # The pages still show Cloudflare in front: the inventory lists what was seen.
    assert outcome(no_ns, "dns.provider_inventory") == "pass"
    assert "CDN / proxy: Cloudflare" in _evidence(no_ns, "dns.provider_inventory")
    blind = replace(no_ns, pages=[], redirects=[], rdap=None, tls=[], assets=[])
    blind = with_dns(
        blind, nameservers=[], hosts=[host(h.name, source=h.source, status=TIMEOUT) for h in G.dns.hosts]
    )
    assert _findings(blind, "dns.provider_inventory") == [("inconclusive", DOMAIN)]
    assert "no provider could be identified" in _evidence(blind, "dns.provider_inventory")


# --- exposure and staging ----------------------------------------------------------------


def _app_unanswered():
    return with_page(G, PageFacts(url=f"https://{APP}/", error=NO_ANSWER))


def test_debug_pages_and_listings_are_inconclusive_for_a_host_that_never_answered() -> None:
    facts = _app_unanswered()
    for check in ("exposure.debug_page", "exposure.directory_listing"):
        assert _findings(facts, check) == [("inconclusive", APP)], check
        assert NO_ANSWER in _evidence(facts, check)
    # The same host answering once (a probed path) is enough to have looked at it.
    answered = replace(facts, exposure=[*facts.exposure, ExposureProbe(f"https://{APP}/.env", 404)])
    assert outcome(answered, "exposure.debug_page") == "pass"


def _without_map_probe(facts):
    return replace(facts, exposure=[p for p in facts.exposure if not p.url.endswith(".map")])


def test_source_maps_are_inconclusive_when_the_homepage_could_not_be_read() -> None:
    unread_home = with_page(G, PageFacts(url=f"https://{WWW}/", route="home", error=NO_ANSWER))
    facts = _without_map_probe(unread_home)
    assert _findings(facts, "exposure.source_maps") == [("inconclusive", WWW)]
    assert "source maps were not looked for" in _evidence(facts, "exposure.source_maps")
    # A readable homepage with no script of the store's own has no source map to expose.
    assert outcome(_without_map_probe(G), "exposure.source_maps") == "pass"


def test_an_admin_host_that_did_not_answer_is_not_a_protected_one() -> None:
    facts = with_page(G, PageFacts(url=f"https://{ADMIN}/", error=NO_ANSWER))
    assert _findings(facts, "exposure.admin_public") == [("inconclusive", ADMIN)]
    assert NO_ANSWER in _evidence(facts, "exposure.admin_public")


def test_open_host_checks_are_inconclusive_when_no_name_could_be_looked_up() -> None:
    facts = _no_name_answered()
    for check in ("exposure.admin_public", "exposure.staging_indexable", "deploy.staging_not_separated"):
        assert _findings(facts, check) == [("inconclusive", DOMAIN)], check
        assert "could not be looked for" in _evidence(facts, check)


def test_open_host_checks_are_skipped_when_nothing_was_looked_up_or_fetched() -> None:
    facts = replace(G, dns=None, pages=[])
    for check in ("exposure.admin_public", "exposure.staging_indexable", "deploy.staging_not_separated"):
        assert outcome(facts, check) == "skipped", check


# --- performance ------------------------------------------------------------------------


def _cart_failed(**kw):
    defaults = {"ttfb_ms": [], "total_ms": [], "samples": 5, "errors": 5, "error_examples": [NO_ANSWER]}
    defaults.update(kw)
    return with_route(G, timing("cart", "/cart", **defaults))


CART = f"cart https://{WWW}/cart"


def test_a_route_with_no_successful_request_has_no_speed_to_pass() -> None:
    facts = _cart_failed()
    assert _findings(facts, "perf.route_slow") == [("inconclusive", CART)]
    assert "all 5 requests failed (the host did not answer" in _evidence(facts, "perf.route_slow")


def test_a_route_that_never_answered_may_or_may_not_exist() -> None:
    facts = _cart_failed()
    assert _findings(facts, "perf.route_not_found") == [("inconclusive", CART)]
    assert "whether the page exists is not known" in _evidence(facts, "perf.route_not_found")


def test_a_route_answering_server_errors_exists_but_has_no_speed() -> None:
    facts = _cart_failed(server_errors=5, error_examples=["HTTP 500"])
    assert outcome(facts, "perf.route_not_found") == "pass"
    assert "answered with a server error (HTTP 500)" in _evidence(facts, "perf.route_slow")


def test_route_slow_is_skipped_when_no_route_exists() -> None:
    missing = [replace(r, ttfb_ms=[], total_ms=[], samples=1, not_found=404) for r in G.routes]
    (result,) = evaluate(replace(G, routes=missing), NOW, ["perf.route_slow"]).results
    assert (str(result.outcome), result.reason) == (
        "skipped",
        "none of the routes exists on the store, so none could be timed",
    )


def test_an_unavailable_route_is_inconclusive_for_not_found_too() -> None:
    facts = with_route(G, timing("cart", "/cart", ttfb_ms=[], unavailable=Unavailable("blocked by a WAF")))
    assert _findings(facts, "perf.route_not_found") == [("inconclusive", CART)]
    assert outcome(G, "perf.route_not_found") == "pass"
