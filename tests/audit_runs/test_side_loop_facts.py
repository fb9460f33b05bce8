"""DNS, email and the store's other hosts probed on the side loop (audits/probes/side.py,
the default) or on the audit's own loop (``side_loop=False``): the same facts and the same
findings, on the demo stores and a store with five subdomains."""

from __future__ import annotations

import json
import re

import pytest
from django.test import override_settings

from audits.engine import AuditOutcome, default_options, run_audit
from audits.facts import SiteDeclaration
from sandbox.runner import Sandbox

STORES = {
    "demo_good": SiteDeclaration(domain="good-store.test"),
    "demo_broken": SiteDeclaration(domain="broken-store.test"),
    "report_lab": SiteDeclaration(
        domain="edge-store.test", subdomains=["origin", "cached", "preview", "store", "shop"]
    ),
}


def _unordered(value: object) -> object:
    """Lists sorted: a DNS server hands out the records of a set in any order (round robin)."""
    if isinstance(value, dict):
        return {key: _unordered(item) for key, item in value.items()}
    if isinstance(value, list):
        return sorted((_unordered(item) for item in value), key=json.dumps)
    return value


def _masked(fact: object) -> str:
    """A fact as JSON (lists in any order), the random names an audit makes up masked."""
    text = json.dumps(_unordered(fact.to_dict()))  # type: ignore[attr-defined]
    text = re.sub(r"launchready-check-[0-9a-f]{8}", "launchready-check-*", text)
    return re.sub(r"launchready-[0-9a-f]{12}\.", "launchready-*.", text)


def _seen(outcome: AuditOutcome) -> dict[str, object]:
    """What the probes found (DNS, email, TLS, exposure, pages) and the findings."""
    facts = outcome.facts
    return {
        "dns": _masked(facts.dns),
        "email": _masked(facts.email),
        "tls": [t.to_dict() for t in facts.tls],
        "exposure": [_masked(p) for p in facts.exposure],
        "pages": [(p.url, p.route, p.status, p.error) for p in facts.pages],
        "findings": sorted(
            (f.check, f.subject, str(f.status), str(f.severity)) for f in outcome.evaluation.findings
        ),
    }


@pytest.mark.slow
@pytest.mark.parametrize("scenario", sorted(STORES))
def test_the_other_hosts_give_the_same_facts_on_the_side_loop_as_on_the_audits_own(scenario) -> None:
    site = STORES[scenario]
    with Sandbox(scenario) as sandbox, override_settings(**sandbox.settings):
        aside = run_audit(site, options=default_options(samples=3))
        here = run_audit(site, options=default_options(samples=3, side_loop=False))
    assert default_options().side_loop  # the default
    assert len({t.host for t in aside.facts.tls}) > 1  # the store has other hosts
    assert _seen(aside) == _seen(here)
