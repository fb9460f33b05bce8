"""Lighthouse scores from PageSpeed Insights, when a key is configured (sandbox stands in for Google)."""

from __future__ import annotations

import json

import pytest

from audits.engine import default_options, run_audit
from audits.facts import RouteSpec, SiteDeclaration

SCENARIO = {
    "name": "lighthouse",
    "hosts": [
        {"name": "www.psi-store.test", "routes": [{"path": "/", "html": {"title": "PSI Store"}}]},
        {
            "name": "pagespeed.googleapis.test",
            "routes": [
                {
                    "path": "/runPagespeed",
                    "content_type": "application/json",
                    "body": json.dumps(
                        {"lighthouseResult": {"categories": {"performance": {"score": 0.54}}}}
                    ),
                }
            ],
        },
    ],
}
SITE = SiteDeclaration(domain="psi-store.test", routes=[RouteSpec.standard("home")])


@pytest.fixture(scope="module")
def sb(sandbox_scenario):
    return sandbox_scenario(SCENARIO)


def _lighthouse_findings(outcome):
    return [f for f in outcome.evaluation.findings if f.check == "perf.lighthouse_low"]


def test_low_score_fails(sb):
    options = default_options(
        samples=1, pagespeed_url="https://pagespeed.googleapis.test/runPagespeed", pagespeed_key="k-123"
    )
    outcome = run_audit(SITE, options=options)
    assert outcome.facts.lighthouse.performance == 54
    (finding,) = _lighthouse_findings(outcome)
    assert finding.status == "fail" and str(finding.severity) == "medium"
    assert "54" in finding.evidence


def test_request_asks_for_mobile_performance_and_a_missing_score_is_inconclusive(sb):
    sb.recorder.clear()
    options = default_options(
        samples=1, pagespeed_url="https://hooks.sandbox.test/psi", pagespeed_key="k-456"
    )
    outcome = run_audit(SITE, options=options)
    (request,) = [r for r in sb.webhook_requests if r.path == "/psi"]
    assert "strategy=mobile" in request.query and "key=k-456" in request.query
    assert "url=https://www.psi-store.test/" in request.query  # the recorder shows it decoded
    (finding,) = _lighthouse_findings(outcome)
    assert finding.status == "inconclusive" and "no performance score" in finding.evidence


def test_without_a_key_the_check_is_skipped_and_says_so(sb):
    outcome = run_audit(SITE, options=default_options(samples=1, pagespeed_key=""))
    assert outcome.facts.lighthouse is None
    skipped = {r.check: r.reason for r in outcome.evaluation.results if str(r.outcome) == "skipped"}
    assert "PageSpeed Insights" in skipped["perf.lighthouse_low"]
