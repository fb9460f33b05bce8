"""The demo stores of the sandbox: the good one passes every email check, the broken
one fails the ones its scenario describes. Own module: each sandbox here replaces the
settings for the rest of the module."""

from __future__ import annotations

from .test_probe import failed, findings, probe


def test_demo_scenarios(sandbox_scenario) -> None:
    sandbox_scenario("demo_good")
    good = failed(findings(probe("good-store.test", selectors=["s1"], from_address="hello@good-store.test")))
    assert good == set()
    sandbox_scenario("demo_broken")
    broken = failed(findings(probe("broken-store.test", sending_service="shopify")))
    assert {"email.spf_permissive", "email.dmarc_missing", "email.dkim_missing"} <= broken
