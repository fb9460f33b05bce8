"""Rules of audits/rules/dns.py (dns.* and domain.*): one failing input per check id
(check, severity, subject), the good store passes each of them, and a check that could not
look says "inconclusive" with its reason (or "skipped" when it does not apply) and still
judges what it did see. test_no_silent_pass.py holds every check to this over wholly empty
facts; the last tests here show it one fact at a time, beside a store that answered."""

from __future__ import annotations

import datetime as dt

import pytest

from audits.facts import DnsStatus, HostDns, NameServerFacts, PageFacts, VerifyError
from audits.findings import Status
from audits.rules import evaluate
from tests.audits.factories import (
    DOMAIN,
    NOW,
    WWW,
    answer,
    cert,
    failing,
    good_facts,
    host,
    outcome,
    replace,
    tls,
    with_dns,
    with_host,
    with_page,
    with_tls,
)

G = good_facts()
APP = f"app.{DOMAIN}"


def _lame() -> list[NameServerFacts]:
    first, second = G.dns.nameservers
    return [first, replace(second, authoritative=False)]


def _disagree() -> list[NameServerFacts]:
    first, second = G.dns.nameservers
    return [first, replace(second, soa_serial=6, www_a=["198.51.100.9"])]


def _conflict() -> HostDns:
    base = host(APP, "104.16.1.3", chain=["app.example-saas.net"])
    return replace(base, other_types=["MX", "TXT"])


def _s3_takeover():
    facts = with_host(G, host(APP, "52.216.1.1", chain=["assets.example.com.s3.amazonaws.com"]))
    body = "<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message></Error>"
    return with_page(facts, PageFacts(url=f"https://{APP}/", status=404, body_excerpt=body))


def _rdap(**changes):
    return replace(G, rdap=replace(G.rdap, **changes))


RANDOM = f"launchready-0123456789ab.{DOMAIN}"


def _wildcard(*addresses: str, chain=(), guesses=(), status=None):
    probe = host(RANDOM, *addresses, source="wildcard", chain=chain, status=status)
    return with_dns(G, wildcard_probe=probe, wildcard_guesses=[f"{g}.{DOMAIN}" for g in guesses])


def _abandoned_blog(status: int = 404):
    """blog. CNAMEs to a hosting service that answers with its own certificate only."""
    blog = f"blog.{DOMAIN}"
    facts = with_host(G, host(blog, "93.184.216.40", chain=["old-blog.hostingco.example"]))
    facts = with_page(facts, PageFacts(url=f"https://{blog}/", status=status, body_excerpt="Not Found"))
    platform_cert = cert(host_names=["old-blog.hostingco.example"])
    return with_tls(facts, tls(blog, cert=platform_cert, verify_errors=[VerifyError.HOSTNAME_MISMATCH]))


FAIL_CASES = [
    pytest.param(
        "dns.domain_unresolvable",
        with_dns(G, ns=answer(DOMAIN, "NS", status=DnsStatus.NXDOMAIN)),
        "blocker",
        DOMAIN,
        id="nxdomain",
    ),
    pytest.param(
        "dns.domain_unresolvable",
        with_dns(G, ns=answer(DOMAIN, "NS", status=DnsStatus.SERVFAIL)),
        "blocker",
        DOMAIN,
        id="servfail",
    ),
    pytest.param(
        "dns.apex_unresolved", with_host(G, host(DOMAIN, source="apex")), "blocker", DOMAIN, id="apex-nodata"
    ),
    pytest.param(
        "dns.www_unresolved",
        with_host(G, host(WWW, source="www", status=DnsStatus.NXDOMAIN)),
        "high",
        WWW,
        id="www-nxdomain",
    ),
    pytest.param(
        "dns.apex_cname",
        with_host(G, host(DOMAIN, "23.227.38.65", chain=["shops.myshopify.com"])),
        "high",
        DOMAIN,
        id="apex-cname",
    ),
    pytest.param("dns.cname_conflict", with_host(G, _conflict()), "high", APP, id="cname-and-mx"),
    pytest.param(
        "dns.single_nameserver",
        with_dns(G, ns=answer(DOMAIN, "NS", "ns1.example.net")),
        "medium",
        DOMAIN,
        id="one-ns",
    ),
    pytest.param(
        "dns.single_nameserver",
        with_dns(
            G,
            nameservers=[
                replace(ns, addresses=[f"192.0.2.{i + 1}"]) for i, ns in enumerate(G.dns.nameservers)
            ],
        ),
        "medium",
        DOMAIN,
        id="same-slash24",
    ),
    pytest.param(
        "dns.nameserver_lame", with_dns(G, nameservers=_lame()), "high", "bob.ns.cloudflare.com", id="lame"
    ),
    pytest.param(
        "dns.nameservers_disagree", with_dns(G, nameservers=_disagree()), "medium", DOMAIN, id="disagree"
    ),
    pytest.param(
        "dns.ttl_too_high",
        with_host(G, host(WWW, "104.16.1.2", ttl=172_800)),
        "medium",
        DOMAIN,
        id="ttl-2-days",
    ),
    pytest.param(
        "dns.subdomain_unresolved",
        with_host(G, host(APP, status=DnsStatus.NXDOMAIN)),
        "medium",
        APP,
        id="declared-missing",
    ),
    pytest.param(
        "dns.dangling_cname",
        with_host(G, host(APP, chain=["old-shop.herokuapp.com"], status=DnsStatus.NXDOMAIN)),
        "blocker",
        APP,
        id="cname-nxdomain",
    ),
    pytest.param("dns.dangling_cname", _s3_takeover(), "blocker", APP, id="s3-nosuchbucket"),
    pytest.param(
        "dns.dangling_cname", _abandoned_blog(), "blocker", f"blog.{DOMAIN}", id="abandoned-at-the-provider"
    ),
    pytest.param(
        "dns.wildcard_record", _wildcard("203.0.113.50", guesses=["admin"]), "info", DOMAIN, id="wildcard"
    ),
    pytest.param("dns.private_address", with_host(G, host(APP, "10.0.0.5")), "medium", APP, id="rfc1918"),
    pytest.param("dns.private_address", with_host(G, host(APP, "::1")), "medium", APP, id="loopback-v6"),
    pytest.param("dns.caa_missing", with_dns(G, caa=answer(DOMAIN, "CAA")), "low", DOMAIN, id="no-caa"),
    pytest.param(
        "domain.expiring", _rdap(expires_at=NOW + dt.timedelta(days=5)), "blocker", DOMAIN, id="5-days"
    ),
    pytest.param(
        "domain.expiring", _rdap(expires_at=NOW - dt.timedelta(days=1)), "blocker", DOMAIN, id="expired"
    ),
    pytest.param(
        "domain.expiring", _rdap(expires_at=NOW + dt.timedelta(days=20)), "high", DOMAIN, id="20-days"
    ),
    pytest.param("domain.transfer_unlocked", _rdap(statuses=["active"]), "low", DOMAIN, id="unlocked"),
    pytest.param("dns.provider_inventory", G, "info", DOMAIN, id="inventory"),
]


@pytest.mark.parametrize(("check", "facts", "severity", "subject"), FAIL_CASES)
def test_check_fails(check, facts, severity, subject) -> None:
    assert (check, severity, subject) in failing(facts, check)


DNS_CHECKS = sorted({p.values[0] for p in FAIL_CASES} - {"dns.provider_inventory"})


@pytest.mark.parametrize("check", DNS_CHECKS)
def test_good_store_passes(check) -> None:
    assert failing(G, check) == []
    assert outcome(G, check) == "pass"


@pytest.mark.parametrize(
    ("facts", "check"),
    [
        pytest.param(
            with_dns(G, ns=answer(DOMAIN, "NS", status=DnsStatus.TIMEOUT)),
            "dns.domain_unresolvable",
            id="ns-timeout",
        ),
        pytest.param(
            with_host(G, host(WWW, status=DnsStatus.TIMEOUT)), "dns.www_unresolved", id="www-timeout"
        ),
        pytest.param(_rdap(unavailable=None, expires_at=None), "domain.expiring", id="no-expiry-published"),
        pytest.param(
            with_dns(
                G, nameservers=[replace(ns, responded=False, error="timed out") for ns in G.dns.nameservers]
            ),
            "dns.nameserver_lame",
            id="no-ns-reachable",
        ),
    ],
)
def test_query_problems_are_inconclusive_not_failures(facts, check) -> None:
    findings = evaluate(facts, NOW, [check]).findings
    assert [f.status for f in findings] == [Status.INCONCLUSIVE]
    assert findings[0].evidence.startswith("Could not be checked")


def test_sandbox_networks_are_not_private() -> None:
    facts = replace(with_host(G, host(APP, "127.0.0.5")), allowed_networks=["127.0.0.0/8"])
    assert failing(facts, "dns.private_address") == []


def test_registry_lock_counts_as_transfer_lock() -> None:
    assert failing(_rdap(statuses=["serverTransferProhibited"]), "domain.transfer_unlocked") == []


def test_dangling_cname_names_the_takeover_service() -> None:
    facts = with_host(G, host(APP, chain=["old-shop.herokuapp.com"], status=DnsStatus.NXDOMAIN))
    (finding,) = evaluate(facts, NOW, ["dns.dangling_cname"]).findings
    assert "app.example.com → old-shop.herokuapp.com" in finding.evidence
    assert "Heroku" in finding.evidence
    assert failing(facts, "dns.subdomain_unresolved") == []  # reported once, as the blocker


def test_fix_is_provider_specific_when_the_dns_provider_is_known() -> None:
    facts = with_host(G, host(DOMAIN, source="apex"))
    (finding,) = evaluate(facts, NOW, ["dns.apex_unresolved"]).findings
    assert "Cloudflare" in finding.fix
    assert "A 192.0.2.1" not in finding.evidence
    assert "NODATA" in finding.evidence


def test_provider_inventory_lists_providers() -> None:
    (finding,) = evaluate(G, NOW, ["dns.provider_inventory"]).findings
    assert "DNS provider: Cloudflare" in finding.evidence
    assert "Registrar: Example Registrar" in finding.evidence
    assert "CDN / proxy: Cloudflare" in finding.evidence
    assert outcome(G, "dns.provider_inventory") == "pass"  # info, not a failure


def test_dangling_cname_to_a_custom_named_pages_host() -> None:
    facts = with_host(G, host(f"blog.{DOMAIN}", "127.77.2.30", chain=["store.pages-host.example"]))
    body = "<h1>404</h1><p>There isn't a GitHub Pages site here.</p>"
    facts = with_page(
        facts,
        PageFacts(
            url=f"https://blog.{DOMAIN}/", status=404, headers={"server": "GitHub.com"}, body_excerpt=body
        ),
    )
    assert failing(facts, "dns.dangling_cname") == [("dns.dangling_cname", "blocker", f"blog.{DOMAIN}")]


# --- wildcard records ------------------------------------------------------------------


def test_wildcard_is_said_once_with_what_it_points_at_and_the_guesses_it_answered() -> None:
    facts = _wildcard("203.0.113.50", chain=["stores.hostingco.example"], guesses=["admin", "staging"])
    (finding,) = evaluate(facts, NOW, ["dns.wildcard_record"]).findings
    assert finding.severity == "info" and finding.status == Status.FAIL
    assert f"*.{DOMAIN} → CNAME stores.hostingco.example (203.0.113.50)" in finding.evidence
    assert "admin, staging" in finding.evidence
    assert outcome(facts, "dns.wildcard_record") == "pass"  # a fact worth knowing, not a problem


def test_no_wildcard_when_the_random_label_does_not_exist() -> None:
    facts = _wildcard(status=DnsStatus.NXDOMAIN)
    assert evaluate(facts, NOW, ["dns.wildcard_record"]).findings == []
    assert outcome(facts, "dns.wildcard_record") == "pass"


def test_wildcard_is_inconclusive_when_the_random_label_got_no_answer() -> None:
    (finding,) = evaluate(_wildcard(status=DnsStatus.TIMEOUT), NOW, ["dns.wildcard_record"]).findings
    assert finding.status == Status.INCONCLUSIVE


def test_wildcard_check_is_skipped_for_audits_that_did_not_look() -> None:
    assert outcome(with_dns(G, wildcard_probe=None), "dns.wildcard_record") == "skipped"


# --- declared or guessed ---------------------------------------------------------------


def test_evidence_says_whether_a_subdomain_was_declared_or_guessed() -> None:
    declared = with_host(G, host(APP, "10.0.0.5", source="declared"))
    guessed = with_host(G, host(f"admin.{DOMAIN}", "10.0.0.6", source="common"))
    from_ct = with_host(G, host(f"old.{DOMAIN}", "10.0.0.7", source="ct"))
    (d,) = evaluate(declared, NOW, ["dns.private_address"]).findings
    (g,) = evaluate(guessed, NOW, ["dns.private_address"]).findings
    (c,) = evaluate(from_ct, NOW, ["dns.private_address"]).findings
    assert f"{APP}: a subdomain you declared" in d.evidence
    assert f"admin.{DOMAIN}: not declared by you: found by guessing common subdomain names" in g.evidence
    assert f"old.{DOMAIN}: not declared by you: found in public certificate logs" in c.evidence
    assert (
        "declared"
        not in evaluate(with_host(G, host(WWW, source="www")), NOW, ["dns.www_unresolved"]).findings
    )


def test_evidence_of_other_stages_says_it_too() -> None:
    guessed = f"staging.{DOMAIN}"
    facts = with_host(G, host(guessed, "93.184.216.60", source="common"))
    facts = with_tls(facts, tls(guessed, cert=cert(host_names=["other.example"])))
    (finding,) = [f for f in evaluate(facts, NOW, ["tls.hostname_mismatch"]).findings if f.subject == guessed]
    assert "found by guessing common subdomain names" in finding.evidence


# --- a dangling CNAME is reported once, as a takeover risk -----------------------------


def test_a_subdomain_abandoned_at_its_provider_is_a_takeover_not_a_certificate_problem() -> None:
    blog = f"blog.{DOMAIN}"
    evaluation = evaluate(_abandoned_blog(), NOW)
    about_blog = [(f.check, str(f.status)) for f in evaluation.findings if blog in f.subject]
    assert about_blog == [("dns.dangling_cname", "fail")]
    (finding,) = [f for f in evaluation.findings if f.subject == blog]
    assert "takes over" in finding.evidence and "old-blog.hostingco.example" in finding.evidence
    assert "Delete this CNAME record" in finding.fix and "reclaim" in finding.fix
    assert "Issue a certificate" not in finding.fix
    mismatch = next(r for r in evaluation.results if r.check == "tls.hostname_mismatch")
    assert str(mismatch.outcome) == "pass"  # the store's own hosts have the right certificates


def test_a_cname_to_a_provider_that_serves_the_name_is_not_dangling() -> None:
    # The provider answers 200 (it serves the site) but with a wrong certificate: that is
    # a certificate problem, and stays one.
    facts = _abandoned_blog(status=200)
    assert failing(facts, "dns.dangling_cname") == []
    assert ("tls.hostname_mismatch", "blocker", f"blog.{DOMAIN}") in failing(facts, "tls.hostname_mismatch")


# --- checks that could not look: one fact at a time, beside a store that answered --------

TIMEOUT = DnsStatus.TIMEOUT


def _findings(facts, check):
    return [(str(f.status), f.subject) for f in evaluate(facts, NOW, [check]).findings]


def _evidence(facts, check) -> str:
    (finding,) = evaluate(facts, NOW, [check]).findings
    return finding.evidence


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
