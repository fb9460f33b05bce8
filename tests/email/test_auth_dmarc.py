"""DMARC policy discovery for the live test message (RFC 7489 §6.6.3)."""

from __future__ import annotations

import asyncio
from email.message import EmailMessage

from audits.email.spf_eval import SpfResult
from audits.inbound.auth import DkimSignatureResult, authenticate, evaluate_dmarc
from launchready.net import DnsAnswer, DnsStatus


def zone(records: dict[str, list[str]]):  # a Lookup
    async def lookup(name: str, rdtype: str) -> DnsAnswer:
        texts = records.get(name)
        if texts is None:
            return DnsAnswer(name=name, rdtype=rdtype, status=DnsStatus.NXDOMAIN)
        return DnsAnswer(name=name, rdtype=rdtype, status=DnsStatus.OK, records=tuple(texts))

    return lookup


def message(sender: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = f"Shop <{sender}>"
    msg.set_content("Thanks")
    return msg


SPF_FAIL = SpfResult("fail", "bounce.test", "no match")
DKIM_PASS = [DkimSignatureResult("shop.test", "s1", "pass")]


def test_two_records_at_the_from_domain_end_discovery_without_using_the_parent() -> None:
    lookup = zone(
        {
            "_dmarc.mail.shop.test": ["v=DMARC1; p=reject", "v=DMARC1; p=none"],
            "_dmarc.shop.test": ["v=DMARC1; p=quarantine; sp=quarantine"],
        }
    )
    result = asyncio.run(evaluate_dmarc(message("orders@mail.shop.test"), SPF_FAIL, DKIM_PASS, lookup))
    assert result.record == "" and result.policy == ""
    assert "_dmarc.mail.shop.test holds 2 DMARC records" in result.reason


def test_no_record_at_the_from_domain_falls_back_to_the_organisational_domain() -> None:
    lookup = zone({"_dmarc.shop.test": ["v=DMARC1; p=quarantine; sp=reject"]})
    result = asyncio.run(evaluate_dmarc(message("orders@mail.shop.test"), SPF_FAIL, DKIM_PASS, lookup))
    assert result.record_domain == "shop.test" and result.policy == "reject"
    assert result.result == "pass" and result.dkim_aligned


def test_authentication_results_names_helo_for_a_null_sender() -> None:
    lookup = zone({"mail.shop.test": ["v=spf1 ip4:192.0.2.10 -all"]})
    raw = message("orders@shop.test").as_bytes()
    bounce = asyncio.run(
        authenticate(raw, message("orders@shop.test"), "192.0.2.10", "mail.shop.test", "", lookup)
    )
    assert bounce.spf.result == "pass"
    assert "spf=pass smtp.helo=mail.shop.test" in bounce.header("inbound.test")
    normal = asyncio.run(
        authenticate(
            raw, message("orders@shop.test"), "192.0.2.10", "mail.shop.test", "b@mail.shop.test", lookup
        )
    )
    assert "spf=pass smtp.mailfrom=mail.shop.test" in normal.header("inbound.test")
