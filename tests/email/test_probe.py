"""The email probe against real DNS and HTTPS from the sandbox, then the rules."""

from __future__ import annotations

import asyncio
import base64
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

import audits.rules  # noqa: F401 - registers the rules
from audits.facts import DnsStatus
from audits.facts.email import EmailFacts
from audits.findings import Status
from audits.probes.email import parse_mta_sts_policy, probe_email
from audits.rules.base import RULES, RuleContext, Skip

from .test_rules import _Facts

NOW = datetime(2026, 11, 28, tzinfo=UTC)


def dkim_public(bits: int) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode()


def txt(name: str, value: object) -> dict:
    return {"name": name, "type": "TXT", "value": value}


SCENARIO = {
    "name": "email_checks",
    "zones": {
        "google.com": {"records": [txt("_spf", "v=spf1 ip4:192.0.2.0/24 ~all")]},
        "vendor.test": {
            "records": [
                txt("_spf", "v=spf1 ip5:192.0.2.1 -all"),  # a syntax error one include deep
                txt("loop", "v=spf1 include:loop2.vendor.test -all"),
                txt("loop2", "v=spf1 include:loop.vendor.test -all"),
                *[txt(f"s{i}", "v=spf1 a:nowhere.vendor.test -all") for i in range(6)],
            ]
        },
        "reports.test": {"records": [txt("ok.test._report._dmarc", "v=DMARC1")]},
        # Every SPF, DKIM and DMARC problem at once.
        "broken.test": {
            "records": [
                {"name": "@", "type": "MX", "value": "0 ."},
                txt("@", "v=spf1 include:_spf.vendor.test include:loop.vendor.test ?all"),
                txt("google._domainkey", "v=DKIM1; k=rsa; p="),
                txt("sel1._domainkey", "v=DKIM1; k=rsa; p=not-base64!"),
                txt("_dmarc", "v=DMARC1; p=maybe; pct=150; rua=mailto:dmarc@elsewhere.test"),
            ]
        },
        "many.test": {
            "records": [
                {"name": "@", "type": "MX", "value": "10 mx.many.test."},
                txt("@", "v=spf1 " + " ".join(f"include:s{i}.vendor.test" for i in range(6)) + " -all"),
                txt("_dmarc", "v=DMARC1; p=none"),
                txt("_dmarc", "v=DMARC1; p=reject"),
            ]
        },
        "multi.test": {
            "records": [
                {"name": "@", "type": "MX", "value": "10 mx.multi.test."},
                txt("@", "v=spf1 -all"),
                txt("@", "v=spf1 include:_spf.google.com -all"),
                txt("_dmarc", "v=DMARC1; p=reject"),
            ]
        },
        "ok.test": {
            "records": [
                {"name": "@", "type": "MX", "value": "10 mx.ok.test."},
                txt("@", ["v=spf1 include:_spf.google.com ", "-all"]),
                txt("google._domainkey", "v=DKIM1; k=rsa; p=" + dkim_public(1024)),
                txt("_dmarc", "v=DMARC1; p=none; rua=mailto:agg@reports.test,mailto:d@unauthorised.test"),
                txt("_mta-sts", "v=STSv1; id=1"),
            ]
        },
    },
    "hosts": [
        {
            "name": "mta-sts.ok.test",
            "http": False,
            "routes": [
                {"path": "/.well-known/mta-sts.txt", "content_type": "text/plain", "body": "version: STSv1\n"}
            ],
        }
    ],
}


@pytest.fixture(scope="module")
def sb(sandbox_scenario):
    return sandbox_scenario(SCENARIO)


def probe(domain: str, **kwargs: object) -> EmailFacts:
    return asyncio.run(probe_email(domain, **kwargs))


def findings(facts: EmailFacts) -> dict[str, list]:
    from audits.facts import SiteDeclaration

    ctx = RuleContext(facts=_Facts(site=SiteDeclaration(domain=facts.domain), email=facts), now=NOW)
    out = {}
    for check_id, func in RULES.items():
        if not check_id.startswith("email."):
            continue
        try:
            out[check_id] = func(ctx)
        except Skip:
            out[check_id] = None
    return out


def failed(result: dict[str, list]) -> set[str]:
    return {k for k, v in result.items() if v and any(f.status == Status.FAIL for f in v)}


def test_broken_domain(sb) -> None:
    facts = probe("broken.test", sending_service="google", selectors=["sel1"], from_address="shop@gmail.test")
    assert facts.mx.null_mx
    assert facts.spf.error_domain == "_spf.vendor.test" and facts.spf.error_term == "ip5:192.0.2.1"
    assert facts.spf.loops == ["broken.test → loop.vendor.test → loop2.vendor.test → loop.vendor.test"]
    assert facts.spf.all_qualifier == "?"
    result = findings(facts)
    assert failed(result) >= {
        "email.mx_missing",
        "email.spf_invalid",
        "email.spf_permissive",
        "email.spf_sender_unauthorized",
        "email.dkim_invalid",
        "email.dmarc_invalid",
        "email.from_domain_mismatch",
    }
    assert {f.subject for f in result["email.dkim_invalid"]} == {
        "google._domainkey.broken.test",
        "sel1._domainkey.broken.test",
    }
    assert "p=maybe" in result["email.dmarc_invalid"][0].evidence


def test_too_many_lookups_and_voids_and_two_dmarc_records(sb) -> None:
    facts = probe("many.test")
    assert facts.spf.lookup_count == 12  # 6 includes + 6 "a" terms
    assert facts.spf.void_lookups == 6
    result = findings(facts)
    assert {"email.spf_too_many_lookups", "email.dmarc_invalid"} <= failed(result)
    assert result["email.dkim_missing"][0].status == Status.INCONCLUSIVE  # no selector to look at
    assert failed(result).isdisjoint({"email.dmarc_missing", "email.spf_missing", "email.mx_missing"})


def test_mostly_good_domain(sb) -> None:
    facts = probe("ok.test", sending_service="google", from_address="orders@ok.test")
    assert facts.spf.includes == ["_spf.google.com"] and facts.spf.lookup_count == 1
    key = facts.dkim.selectors[0]
    assert key.status == DnsStatus.OK and key.bits == 1024
    assert facts.mta_sts.policy_fetched and facts.mta_sts.policy_errors
    assert [e.authorised for e in facts.dmarc.external_rua] == [True, False]
    result = failed(findings(facts))
    assert result == {
        "email.dkim_weak_key",
        "email.dmarc_external_rua_unauthorized",
        "email.dmarc_monitoring_only",
        "email.mta_sts_missing",
    }


def test_missing_everything(sb) -> None:
    facts = probe("absent.test", sending_service="shopify")
    result = failed(findings(facts))
    assert {"email.mx_missing", "email.spf_missing", "email.dkim_missing", "email.dmarc_missing"} <= result


def test_mta_sts_policy_parser() -> None:
    assert parse_mta_sts_policy("version: STSv1\nmode: enforce\nmx: mx.ok.test\nmax_age: 86400\n") == (
        "enforce",
        [],
    )
    mode, errors = parse_mta_sts_policy("version: STSv1\nmode: strict\nmax_age: forever\n")
    assert mode == "strict" and len(errors) == 2


def test_email_facts_round_trip_through_json(sb) -> None:
    facts = probe("ok.test", sending_service="google", from_address="orders@ok.test")
    assert EmailFacts.from_dict(facts.to_dict()) == facts


def test_two_spf_records_and_no_dmarc_reports(sb) -> None:
    result = failed(findings(probe("multi.test")))
    assert {"email.spf_multiple", "email.dmarc_no_reporting"} <= result
    assert "email.spf_invalid" not in result


def test_sandbox_scenarios_fail_every_record_check() -> None:
    """Across this module's scenarios every email.* id fails at least once with real DNS
    (the test message check is covered over SMTP in test_receiver)."""
    covered = {
        "email.mx_missing", "email.spf_invalid", "email.spf_permissive", "email.spf_sender_unauthorized",
        "email.dkim_invalid", "email.dmarc_invalid", "email.from_domain_mismatch",  # broken.test
        "email.spf_too_many_lookups",  # many.test
        "email.dkim_weak_key", "email.dmarc_external_rua_unauthorized", "email.dmarc_monitoring_only",
        "email.mta_sts_missing",  # ok.test
        "email.spf_missing", "email.dkim_missing", "email.dmarc_missing",  # absent.test
        "email.spf_multiple", "email.dmarc_no_reporting",  # multi.test
    }  # fmt: skip
    assert covered | {"email.test_message_failed"} == {c for c in RULES if c.startswith("email.")}
