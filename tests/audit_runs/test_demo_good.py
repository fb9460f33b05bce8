"""The good demo store passes: nothing above `low`, verdict ready."""

import pytest

from audits.engine import default_options, run_audit
from audits.facts import SiteDeclaration


@pytest.fixture(scope="module")
def good(sandbox_scenario):
    return sandbox_scenario("demo_good")


def test_good_store_has_nothing_above_low(good):
    outcome = run_audit(
        SiteDeclaration(
            domain="good-store.test", dkim_selectors=["s1"], from_address="orders@good-store.test"
        ),
        options=default_options(samples=5),
    )
    serious = [
        (f.check, f.subject, f.evidence)
        for f in outcome.evaluation.findings
        if f.status == "fail" and str(f.severity) in ("blocker", "high", "medium")
    ]
    assert serious == []
    assert str(outcome.report.verdict) == "ready"
    # Every stage was really evaluated, not skipped into a pass.
    evaluated = {str(s.stage) for s in outcome.report.stages if s.passed}
    assert {"dns", "edge", "deploy", "performance", "email", "monitoring"} <= evaluated
