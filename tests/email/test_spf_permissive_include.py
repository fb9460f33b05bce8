"""An include whose record ends in +all makes the whole SPF record pass any sender."""

from __future__ import annotations

import asyncio

from audits.email.spf_expand import expand_spf

from .test_auth_dmarc import zone
from .test_rules import run


def test_include_of_a_plus_all_record_is_permissive() -> None:
    lookup = zone({"shop.test": ["v=spf1 include:lax.test -all"], "lax.test": ["v=spf1 +all"]})
    spf = asyncio.run(expand_spf("shop.test", lookup))
    assert spf.all_qualifier == "-" and spf.permissive_includes == ["shop.test: include:lax.test"]
    [finding] = run("email.spf_permissive", spf=spf)
    assert "include:lax.test names a record ending in +all" in finding.evidence


def test_include_of_a_strict_record_and_a_negated_include_are_not() -> None:
    lookup = zone(
        {
            "shop.test": ["v=spf1 include:strict.test -include:lax.test -all"],
            "strict.test": ["v=spf1 ip4:192.0.2.1 ~all"],
            "lax.test": ["v=spf1 +all"],
        }
    )
    spf = asyncio.run(expand_spf("shop.test", lookup))
    assert spf.permissive_includes == [] and not spf.permissive
    assert run("email.spf_permissive", spf=spf) == []
