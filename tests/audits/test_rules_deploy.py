"""deploy.* checks read from the site's records: a failing input per check id, the good
store passes, and without records (the CLI) each is skipped with its reason, never passed."""

from __future__ import annotations

import datetime as dt

import pytest

from audits.rules import evaluate
from audits.verdict import stage_progress
from tests.audits.factories import NOW, failing, good_facts, outcome, replace

G = good_facts()
R = G.deploy_records
DOMAIN = G.site.domain
DEPLOY_CHECKS = (
    "deploy.env_inventory_missing",
    "deploy.env_undocumented",
    "deploy.env_gate_missing",
    "deploy.smoke_missing",
    "deploy.smoke_failed",
    "deploy.rollback_unrehearsed",
)


def records(**changes):
    return replace(G, deploy_records=replace(R, **changes))


FAIL_CASES = [
    ("deploy.env_inventory_missing", records(has_env_inventory=False), "high", DOMAIN),
    (
        "deploy.env_undocumented",
        records(env_undocumented=["STRIPE_SECRET_KEY"]),
        "medium",
        "STRIPE_SECRET_KEY",
    ),
    ("deploy.env_gate_missing", records(env_gate_last_call=None), "medium", DOMAIN),
    ("deploy.env_gate_missing", records(env_gate_last_call=NOW - dt.timedelta(days=45)), "medium", DOMAIN),
    ("deploy.smoke_missing", records(has_deploys=False, last_smoke_passed=None), "medium", DOMAIN),
    (
        "deploy.smoke_failed",
        records(last_smoke_passed=False, last_smoke_failures=["checkout: 500"]),
        "blocker",
        DOMAIN,
    ),
    (
        "deploy.rollback_unrehearsed",
        records(last_rollback_at=None, last_rollback_minutes=None),
        "high",
        DOMAIN,
    ),
    ("deploy.rollback_unrehearsed", records(last_rollback_at=NOW - dt.timedelta(days=91)), "high", DOMAIN),
    ("deploy.rollback_unrehearsed", records(last_rollback_minutes=14.0), "high", DOMAIN),
]


@pytest.mark.parametrize(("check", "facts", "severity", "subject"), FAIL_CASES)
def test_check_fails(check, facts, severity, subject) -> None:
    assert (check, severity, subject) in failing(facts, check)


@pytest.mark.parametrize("check", DEPLOY_CHECKS)
def test_good_store_passes(check) -> None:
    assert failing(G, check) == [] and outcome(G, check) == "pass"


def test_a_failed_smoke_test_names_the_failing_routes() -> None:
    facts = records(
        last_smoke_passed=False, last_smoke_failures=["checkout: status 500 (expected 2xx or 3xx)"]
    )
    finding = next(f for f in evaluate(facts, NOW).findings if f.check == "deploy.smoke_failed")
    assert "checkout: status 500 (expected 2xx or 3xx)" in finding.evidence


def test_without_records_every_deploy_check_is_skipped_and_the_stage_counts_none_as_passed() -> None:
    cli = replace(G, deploy_records=None)
    for check in DEPLOY_CHECKS:
        assert outcome(cli, check) == "skipped"
    deploy_stage = next(s for s in stage_progress(evaluate(cli, NOW).results) if s.stage == "deploy")
    with_records = next(s for s in stage_progress(evaluate(G, NOW).results) if s.stage == "deploy")
    assert deploy_stage.skipped >= len(DEPLOY_CHECKS)
    assert with_records.passed - deploy_stage.passed == len(DEPLOY_CHECKS)


def test_nothing_to_document_without_an_inventory_is_a_skip_not_a_pass() -> None:
    assert outcome(records(has_env_inventory=False), "deploy.env_undocumented") == "skipped"
    assert outcome(records(last_smoke_passed=None), "deploy.smoke_failed") == "skipped"


@pytest.mark.parametrize(
    "facts",
    [
        pytest.param(replace(G, deploy_records=None), id="cli-no-records"),
        pytest.param(replace(G, deploy_records=type(R)()), id="workspace-nothing-recorded-yet"),
    ],
)
def test_a_deploy_check_without_its_record_says_it_needs_your_deploy_records(facts) -> None:
    # Never a pass: each deploy.* check either reads a record (pass or fail) or says which
    # record it needs and how to start keeping it.
    for result in evaluate(facts, NOW, list(DEPLOY_CHECKS)).results:
        assert str(result.outcome) != "pass", result.check
        if str(result.outcome) == "skipped":
            assert result.reason.startswith("needs your deploy records"), result.reason
            assert "Handover tab" in result.reason or "/api/v1/deploys" in result.reason
