"""The DNS probe against the sandbox's real DNS servers: the typed facts it returns.

Like ``tests/email/test_probe.py``: a scenario with known answers, the probe run as the
audit runs it, assertions on the facts (no mocks, no rules).
"""

from __future__ import annotations

import asyncio

import pytest

from audits.engine import default_options
from audits.facts import DnsStatus, SiteDeclaration
from audits.facts.dns import DnsFacts, HostSource
from audits.probes.base import ProbeRun
from audits.probes.dns import probe_dns, probe_rdap

SCENARIO = {
    "name": "dns_facts",
    "zones": {
        "facts.test": {
            "ttl": 600,
            "serial": 2026010107,
            "nameservers": [
                {"name": "ns1.facts.test"},
                {"name": "ns2.facts.test", "serial": 2026010101},  # a secondary that lags behind
                {"name": "ns3.facts.test", "behaviour": "refused"},
            ],
            "records": [
                {"name": "@", "type": "CAA", "value": '0 issue "letsencrypt.org"'},
                {"name": "admin", "type": "A", "value": "127.77.9.9"},  # a common name that exists
                {"name": "shop", "type": "CNAME", "value": "www.facts.test."},
            ],
        },
        "wild.test": {"records": [{"name": "*", "type": "A", "value": "127.77.9.8"}]},
    },
    "hosts": [{"name": "facts.test"}, {"name": "www.facts.test"}, {"name": "wild.test"}],
    "registrations": {"facts.test": {"expires": "+40d", "registrar": "Example Registrar"}},
}


@pytest.fixture(scope="module")
def sb(sandbox_scenario):
    return sandbox_scenario(SCENARIO)


def run_for(domain: str, **site) -> ProbeRun:
    """A probe run as the audit makes one (the options from settings), with a short guess list."""
    options = default_options(common_subdomains=("admin", "blog", "staging"), ct_url="")
    return ProbeRun(SiteDeclaration(domain=domain, **site), options=options)


@pytest.fixture(scope="module")
def facts(sb) -> DnsFacts:
    return asyncio.run(probe_dns(run_for("facts.test", subdomains=["app", "shop"])))


def test_apex_and_www_resolve_to_the_hosts_addresses(sb, facts):
    apex, www = facts.host("facts.test"), facts.host("www.facts.test")
    assert apex.source == HostSource.APEX and www.source == HostSource.WWW
    assert apex.addresses == [sb.scenario.host("facts.test").address]
    assert www.addresses == [sb.scenario.host("www.facts.test").address]
    assert {r.ttl for r in apex.a.records} == {600}  # the zone's TTL, as served


def test_declared_and_common_names_are_kept_only_when_they_exist(facts):
    names = {h.name: h for h in facts.hosts}
    assert names["app.facts.test"].source == HostSource.DECLARED  # declared: kept, missing or not
    assert names["app.facts.test"].a.status == DnsStatus.NXDOMAIN and not names["app.facts.test"].resolves
    assert names["admin.facts.test"].source == HostSource.COMMON
    assert names["admin.facts.test"].addresses == ["127.77.9.9"]
    assert "blog.facts.test" not in names and "staging.facts.test" not in names  # guessed, not there
    assert names["shop.facts.test"].cname_chain == ["www.facts.test"]


def test_nameservers_are_asked_one_by_one(sb, facts):
    assert sorted(facts.ns.values) == ["ns1.facts.test", "ns2.facts.test", "ns3.facts.test"]
    servers = {ns.name: ns for ns in facts.nameservers}
    apex = sb.scenario.host("facts.test").address
    assert servers["ns1.facts.test"].authoritative and servers["ns1.facts.test"].soa_serial == 2026010107
    assert servers["ns1.facts.test"].apex_a == [apex]
    assert servers["ns2.facts.test"].soa_serial == 2026010101  # out of step with ns1
    assert (
        not servers["ns3.facts.test"].authoritative and "refused" in servers["ns3.facts.test"].error.lower()
    )


def test_caa_is_read_and_no_wildcard_is_reported(facts):
    assert facts.caa is not None and facts.caa.values == ['0 issue "letsencrypt.org"']
    assert facts.wildcard_probe is not None and not facts.wildcard_probe.resolves
    assert facts.wildcard is None and facts.wildcard_guesses == []


def test_without_a_certificate_transparency_source_discovery_says_it_is_incomplete(facts):
    assert facts.ct_unavailable is not None
    assert "certificate-transparency" in facts.ct_unavailable.reason


def test_a_wildcard_answers_the_random_label_and_guessed_names_are_not_hosts(sb):
    facts = asyncio.run(probe_dns(run_for("wild.test")))
    assert facts.wildcard is not None and facts.wildcard.addresses == ["127.77.9.8"]
    assert facts.wildcard_guesses == ["admin.wild.test", "blog.wild.test", "staging.wild.test"]
    assert {h.name for h in facts.hosts} == {"wild.test", "www.wild.test"}


def test_rdap_registration_facts(sb):
    rdap = asyncio.run(probe_rdap(run_for("facts.test")))
    assert rdap.unavailable is None and rdap.registrar == "Example Registrar"
    assert rdap.expires_at is not None
    assert 38 <= (rdap.expires_at - rdap.expires_at.now(rdap.expires_at.tzinfo)).days <= 40


def test_dns_facts_round_trip_through_json(facts):
    assert DnsFacts.from_dict(facts.to_dict()) == facts
