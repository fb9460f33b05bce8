"""The store's other hosts probed on the side loop (audits/probes/side.py, the default) or
on the audit's own loop (``other_hosts_in_flight=0``): the same facts of those hosts and
the same findings, on the demo stores and a store with five subdomains."""

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


def _seen(outcome: AuditOutcome) -> dict[str, object]:
    """What the probes of the hosts found, and the findings; the random path's name masked."""
    facts = outcome.facts
    exposure = [
        re.sub(r"launchready-check-[0-9a-f]{8}", "launchready-check-*", json.dumps(p.to_dict()))
        for p in facts.exposure
    ]
    return {
        "tls": [t.to_dict() for t in facts.tls],
        "exposure": exposure,
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
        here = run_audit(site, options=default_options(samples=3, other_hosts_in_flight=0))
    assert default_options().other_hosts_in_flight > 0  # the side loop is the default
    assert len({t.host for t in aside.facts.tls}) > 1  # the store has other hosts
    assert _seen(aside) == _seen(here)
