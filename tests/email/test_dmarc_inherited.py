"""A store on a subdomain is covered by its organisational domain's DMARC record."""

from __future__ import annotations

import asyncio

from audits.probes.email import probe_dmarc

from .test_auth_dmarc import zone
from .test_rules import run


def test_subdomain_store_inherits_the_organisational_record_and_its_sp() -> None:
    lookup = zone({"_dmarc.example.com": ["v=DMARC1; p=reject; sp=none; rua=mailto:d@example.com"]})
    facts = asyncio.run(probe_dmarc("shop.example.com", lookup))
    assert facts.domain == "example.com" and facts.inherited_from == "shop.example.com"
    assert facts.policy == "none" and facts.rua == ["mailto:d@example.com"]
    assert run("email.dmarc_missing", dmarc=facts) == []
    [finding] = run("email.dmarc_monitoring_only", dmarc=facts)
    assert "shop.example.com has no DMARC record of its own" in finding.evidence


def test_own_record_wins_and_missing_everywhere_is_still_missing() -> None:
    lookup = zone(
        {
            "_dmarc.shop.example.com": ["v=DMARC1; p=quarantine"],
            "_dmarc.example.com": ["v=DMARC1; p=none"],
        }
    )
    own = asyncio.run(probe_dmarc("shop.example.com", lookup))
    assert own.domain == "shop.example.com" and own.policy == "quarantine" and not own.inherited_from
    nothing = asyncio.run(probe_dmarc("shop.example.com", zone({})))
    assert nothing.domain == "shop.example.com" and not nothing.records
    [finding] = run("email.dmarc_missing", dmarc=nothing)
    assert "_dmarc.shop.example.com" in finding.evidence
