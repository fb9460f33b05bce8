"""The same store audited twice in a row gets the same verdict and the same failing
(check, subject) pairs, at the same severity (a route "high" in one run and "low" in the
next changes the plan): both demo stores and every store of the sandbox scenarios, each
audited with the real engine through the sandbox internet (issue 12, "stable verdicts").

A check that flips between two runs of an unchanged store is a defect at its cause (a
timing read against a threshold without a margin, an order that depends on which answer
came first, a random choice), never something to retry.

Not audited here: the hostile lab's attacking stores (they stage time-outs and caps:
tests/audits/test_hostile_targets.py; its calm store is audited), launchready_self (its
www host is the real app started by tests/dogfood), netlab and peers_lab (no store).
"""

from __future__ import annotations

import pytest
from django.test import override_settings

from audits.engine import AuditOutcome, default_options, run_audit
from audits.facts import RouteSpec, SiteDeclaration
from sandbox.runner import Sandbox
from tests.audit_runs.test_checks_e2e import SITES as E2E_SITES

R = RouteSpec.standard

# The good store's real paths (tests/audit_runs/test_demo_good.py), at the standard budgets:
# the verdict must hold where the budgets are, not only with a margin added by a test.
GOOD_ROUTES = [
    R("home", "/"),
    R("listing", "/collections/ceramics"),
    R("product", "/products/mug"),
    R("cart", "/cart"),
    R("login", "/login"),
    R("checkout", "/checkout"),
]

STORES: dict[str, list[SiteDeclaration]] = {
    "demo_good": [
        SiteDeclaration(
            domain="good-store.test",
            dkim_selectors=["s1"],
            from_address="orders@good-store.test",
            routes=GOOD_ROUTES,
        )
    ],
    "demo_broken": [SiteDeclaration(domain="broken-store.test")],
    "report_lab": [
        SiteDeclaration(domain="refused-store.test"),
        SiteDeclaration(domain="mute-store.test"),
        SiteDeclaration(
            domain="edge-store.test", subdomains=["origin", "cached", "preview", "store", "shop"]
        ),
    ],
    "guess_lab": [
        SiteDeclaration(domain="wild-store.test", subdomains=["app"]),
        SiteDeclaration(domain="wildcname-store.test", subdomains=["shop"]),
        SiteDeclaration(domain="gone-blog-store.test", subdomains=["blog"]),
    ],
    "hostile_lab": [SiteDeclaration(domain="calm-store.test")],
    # The end-to-end test's stores, declared as that test declares them.
    "audit_lab": list(E2E_SITES.values()),
}
SAMPLES = 5  # fewer than production's 20: what matters is that two runs agree


def _summary(outcome: AuditOutcome) -> tuple[str, list[tuple[str, str, str]]]:
    failing = sorted(
        (f.check, f.subject, str(f.severity)) for f in outcome.evaluation.findings if f.status == "fail"
    )
    return str(outcome.report.verdict), failing


@pytest.mark.slow
@pytest.mark.parametrize("scenario", list(STORES))
def test_the_same_store_audited_twice_gets_the_same_verdict(scenario) -> None:
    with Sandbox(scenario) as sandbox, override_settings(**sandbox.settings):
        for site in STORES[scenario]:
            first = _summary(run_audit(site, options=default_options(samples=SAMPLES)))
            second = _summary(run_audit(site, options=default_options(samples=SAMPLES)))
            assert first[0] == second[0], f"{site.domain}: {first[0]} then {second[0]}"
            flipped = sorted(set(first[1]) ^ set(second[1]))
            assert not flipped, f"{site.domain}: failing in one run only: {flipped}"
