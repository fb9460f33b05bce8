"""dns stage rules: one failing input per check id (check, severity, subject), and the
good store passes each of them."""

from __future__ import annotations

import datetime as dt

import pytest

from audits.facts import DnsStatus, HostDns, NameServerFacts, PageFacts
from audits.findings import Status
from audits.rules import evaluate
from tests.audits.factories import (
    DOMAIN,
    NOW,
    WWW,
    answer,
    failing,
    good_facts,
    host,
    outcome,
    replace,
    with_dns,
    with_host,
    with_page,
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
