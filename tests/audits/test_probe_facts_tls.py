"""The TLS probe against the sandbox's real HTTPS servers and test CA: one handshake and
the protocol versions per host, as typed facts (like ``tests/email/test_probe.py``)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from audits.engine import default_options
from audits.facts import SiteDeclaration, TlsFacts, VerifyError
from audits.probes.base import ProbeRun
from audits.probes.tls import probe_tls, tls_fact
from launchready import net

HOSTS = {
    "good.tls.test": {"http2": True},
    "expired.tls.test": {"cert": "expired"},
    "mismatch.tls.test": {"cert": "wrong_host"},
    "selfsigned.tls.test": {"cert": "self_signed"},
    "chainless.tls.test": {"cert": "missing_intermediate"},
    "rsa.tls.test": {"cert": {"profile": "valid", "key": "rsa2048"}},
    "old.tls.test": {"tls": {"min": "1.0", "max": "1.2"}},
    "plain.tls.test": {"https": False},
}
SCENARIO = {"name": "tls_facts", "hosts": [{"name": name, **host} for name, host in HOSTS.items()]}


@pytest.fixture(scope="module")
def facts(sandbox_scenario) -> dict[str, TlsFacts]:
    sandbox_scenario(SCENARIO)
    run = ProbeRun(SiteDeclaration(domain="tls.test"), options=default_options())
    return {f.host: f for f in asyncio.run(probe_tls(run, list(HOSTS)))}


def test_a_good_host(facts):
    good = facts["good.tls.test"]
    assert good.handshake_ok and good.error == "" and good.verify_errors == []
    assert good.cert is not None and "good.tls.test" in good.cert.sans and good.cert.key_type == "EC"
    assert len(good.chain) == 2 and good.chain[1].subject == good.cert.issuer  # leaf, then intermediate
    now = datetime.now(UTC)
    assert good.cert.not_before < now < good.cert.not_after < now + timedelta(days=61)
    assert (good.tls10, good.tls11, good.tls13) == (False, False, True)
    assert good.http2 is True and good.unavailable is None


@pytest.mark.parametrize(
    ("host", "problem", "sentence"),
    [
        ("expired.tls.test", VerifyError.EXPIRED, "expired"),
        ("mismatch.tls.test", VerifyError.HOSTNAME_MISMATCH, "mismatch"),
        ("selfsigned.tls.test", VerifyError.SELF_SIGNED, "self-signed"),
        ("chainless.tls.test", VerifyError.INCOMPLETE_CHAIN, "does not send the intermediate certificate"),
    ],
)
def test_a_refused_certificate_is_named_and_still_read(facts, host, problem, sentence):
    fact = facts[host]
    assert fact.handshake_ok  # the server answered: the certificate is what failed
    assert problem in fact.verify_errors
    assert sentence in fact.error.lower()
    assert fact.cert is not None  # read anyway, so the report can say what it holds


def test_the_leaf_key_is_reported(facts):
    rsa = facts["rsa.tls.test"].cert
    assert rsa is not None and (rsa.key_type, rsa.key_bits) == ("RSA", 2048)
    assert facts["selfsigned.tls.test"].cert.self_signed


def test_old_protocol_versions_are_seen(facts):
    old = facts["old.tls.test"]
    assert old.handshake_ok and old.tls13 is False
    assert old.tls10 is True and old.tls11 is True


def test_a_host_without_https_fails_its_handshake(facts):
    plain = facts["plain.tls.test"]
    assert not plain.handshake_ok and plain.cert is None and plain.error
    assert plain.unavailable is None  # it was tried, and it failed: not "could not look"


def test_tls_facts_round_trip_through_json(facts):
    for fact in facts.values():
        assert TlsFacts.from_dict(fact.to_dict()) == fact


def test_the_facts_are_those_of_every_version_probed_on_its_own(facts):
    # The probe reads TLS 1.3 from its handshake (a client offering 1.3 gets it from any
    # server that speaks it) and tries only 1.0 and 1.1 on their own: the facts must be
    # those of one handshake per version, host by host.
    config = ProbeRun(SiteDeclaration(domain="tls.test")).config

    async def every_version(host: str) -> TlsFacts:
        handshake, protocols = await asyncio.gather(
            net.tls_handshake(host, config=config), net.tls_protocol_support(host, config=config)
        )
        return tls_fact(host, handshake, protocols)

    for host, fact in facts.items():
        assert asyncio.run(every_version(host)) == fact, host
