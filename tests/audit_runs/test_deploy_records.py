"""The deploy.* checks fire from the site's real records in the web audit (no records is a
finding there; the CLI has none to read and skips them)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from audits import services
from audits.rules import evaluate
from handover.models import Deploy, EnvCheck, EnvVar, Rollback, SmokeResult
from tests.audits.factories import good_facts, replace

pytestmark = pytest.mark.django_db

DEPLOY_CHECKS = {
    "deploy.env_inventory_missing",
    "deploy.env_undocumented",
    "deploy.env_gate_missing",
    "deploy.smoke_missing",
    "deploy.smoke_failed",
    "deploy.rollback_unrehearsed",
}


def outcomes(site) -> dict[str, tuple[str, list]]:
    facts = replace(good_facts(), deploy_records=services.deploy_records_for(site))
    evaluation = evaluate(facts, timezone.now())
    findings = {}
    for f in evaluation.findings:
        findings.setdefault(f.check, []).append(f)
    return {
        r.check: (str(r.outcome), findings.get(r.check, []))
        for r in evaluation.results
        if r.check in DEPLOY_CHECKS
    }


def test_a_site_without_records_fails_what_is_missing_and_skips_what_cannot_be_judged(site):
    seen = outcomes(site)
    assert {c for c, (o, _) in seen.items() if o == "fail"} == {
        "deploy.env_inventory_missing",
        "deploy.env_gate_missing",
        "deploy.smoke_missing",
        "deploy.rollback_unrehearsed",
    }
    assert {c for c, (o, _) in seen.items() if o == "skipped"} == {
        "deploy.env_undocumented",
        "deploy.smoke_failed",
    }


def test_records_drive_the_findings(site):
    now = timezone.now()
    EnvVar.objects.create(site=site, environment="production", name="STRIPE_SECRET_KEY", required=True)
    EnvVar.objects.create(
        site=site,
        environment="production",
        name="DATABASE_URL",
        required=True,
        purpose="Orders",
        storage="hosting",
    )
    EnvCheck.objects.create(site=site, environment="production", names_count=2, ok=True)
    deploy = Deploy.objects.create(
        site=site, environment="production", version="v42", state=Deploy.State.FAILED, smoke_finished_at=now
    )
    SmokeResult.objects.create(
        deploy=deploy,
        route_name="checkout",
        url=f"https://www.{site.domain}/checkout",
        passed=False,
        status_code=500,
        budget_ms=800,
        reason="Status 500 (expected 200–399).",
        checked_at=now,
    )
    Rollback.objects.create(site=site, performed_at=now - timedelta(days=3), minutes=4)

    seen = outcomes(site)
    assert seen["deploy.env_inventory_missing"][0] == "pass"
    assert seen["deploy.env_gate_missing"][0] == "pass"
    assert seen["deploy.smoke_missing"][0] == "pass"
    assert seen["deploy.rollback_unrehearsed"][0] == "pass"
    status, undocumented = seen["deploy.env_undocumented"]
    assert status == "fail" and [f.subject for f in undocumented] == ["STRIPE_SECRET_KEY"]
    status, smoke = seen["deploy.smoke_failed"]
    assert status == "fail" and smoke[0].severity == "blocker"
    assert "checkout: Status 500 (expected 200–399)." in smoke[0].evidence
