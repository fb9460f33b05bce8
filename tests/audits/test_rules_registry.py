"""The rule registry: every check id of this issue's stages has a rule and a failing test
case; a crashing rule or a stage that ran out of time reports inconclusive, never a pass."""

from __future__ import annotations

import importlib
import json
import pkgutil
from pathlib import Path

import pytest

import audits.rules
from audits.checks import CATALOGUE, Severity
from audits.facts import AuditFacts, Unavailable, UnavailableKind
from audits.findings import FindingData, Status
from audits.rules import RULES, evaluate, rule, run_rules
from audits.rules.base import Skip
from tests.audits.factories import NOW, good_facts, replace

# One rule module, one test module of the same name: audits/rules/http.py is tested in
# tests/audits/test_rules_http.py. Email's rules are tested beside the mail protocols.
RULE_MODULES = sorted(m.name for m in pkgutil.iter_modules(audits.rules.__path__) if m.name != "base")
TEST_DIR = Path(__file__).parent
ELSEWHERE = {"email": TEST_DIR.parent / "email" / "test_rules.py"}


def rule_tests(name: str):
    return importlib.import_module(f"tests.audits.test_rules_{name}")


def fail_cases() -> list:
    """The FAIL_CASES table of every rule test module (pytest params or plain tuples)."""
    return [c for name in RULE_MODULES if name not in ELSEWHERE for c in rule_tests(name).FAIL_CASES]


def _values(case) -> tuple:
    return tuple(getattr(case, "values", case))


# Stages of issue 4; email.* and the inventory-based deploy.*/monitoring.* come with other issues.
INVENTORY_CHECKS = {
    "deploy.env_inventory_missing",
    "deploy.env_undocumented",
    "deploy.env_gate_missing",
    "deploy.smoke_failed",
    "deploy.smoke_missing",
    "deploy.rollback_unrehearsed",
}
EXPECTED = {
    c.id
    for c in CATALOGUE.values()
    if str(c.stage) in ("dns", "edge", "deploy", "performance", "monitoring") and c.id not in INVENTORY_CHECKS
}


def test_every_check_of_the_stages_has_a_rule() -> None:
    assert EXPECTED <= set(RULES)


def test_every_rule_has_a_failing_test_case() -> None:
    assert {_values(c)[0] for c in fail_cases()} >= EXPECTED


@pytest.mark.parametrize("name", RULE_MODULES)
def test_each_rule_module_has_a_test_module_of_the_same_name(name) -> None:
    assert ELSEWHERE.get(name, TEST_DIR / f"test_rules_{name}.py").is_file()


@pytest.mark.parametrize("name", [m for m in RULE_MODULES if m not in ELSEWHERE])
def test_a_rule_test_module_tests_the_rules_of_its_namesake(name) -> None:
    # A check id leads to its test by the rule's file name: no http.* case in test_rules_edge.
    checks = {_values(c)[0] for c in rule_tests(name).FAIL_CASES}
    assert checks, name
    assert {c: RULES[c].__module__ for c in checks} == dict.fromkeys(checks, f"audits.rules.{name}")


def test_good_store_has_nothing_above_info() -> None:
    findings = run_rules(good_facts(), NOW)
    assert [(f.check, str(f.severity)) for f in findings] == [("dns.provider_inventory", "info")]


def test_empty_facts_never_crash_and_never_fail_falsely() -> None:
    from audits.facts import SiteDeclaration

    evaluation = evaluate(AuditFacts(site=SiteDeclaration(domain="example.com")), NOW)
    assert not [f for f in evaluation.findings if f.status == Status.FAIL]
    assert {str(r.outcome) for r in evaluation.results} <= {"skipped", "inconclusive", "pass"}


def test_a_crashing_rule_becomes_inconclusive(monkeypatch) -> None:
    def broken(ctx):
        raise ZeroDivisionError

    monkeypatch.setitem(RULES, "http.hsts_missing", broken)
    evaluation = evaluate(good_facts(), NOW, ["http.hsts_missing", "http.hsts_short"])
    (finding,) = evaluation.findings
    assert (finding.check, finding.status) == ("http.hsts_missing", Status.INCONCLUSIVE)
    assert "ZeroDivisionError" in finding.evidence
    assert [str(r.outcome) for r in evaluation.results] == ["inconclusive", "pass"]


def test_stage_out_of_time_is_inconclusive_for_each_of_its_checks() -> None:
    facts = replace(
        good_facts(),
        stage_unavailable={
            "performance": Unavailable("the audit ran out of time", UnavailableKind.OUT_OF_TIME)
        },
    )
    findings = [f for f in run_rules(facts, NOW) if f.stage == "performance"]
    perf_rules = {c for c in RULES if CATALOGUE[c].stage == "performance"}
    assert {f.check for f in findings} == perf_rules
    assert {f.status for f in findings} == {Status.INCONCLUSIVE}


def test_rule_registration_refuses_unknown_and_duplicate_ids() -> None:
    with pytest.raises(KeyError):
        rule("http.no_such_check")
    with pytest.raises(ValueError, match="two rules"):
        rule("http.hsts_missing")(lambda ctx: [])


def test_skip_is_reported_with_its_reason(monkeypatch) -> None:
    def skipping(ctx):
        raise Skip("not today")

    monkeypatch.setitem(RULES, "edge.no_http2", skipping)
    evaluation = evaluate(good_facts(), NOW, ["edge.no_http2"])
    assert evaluation.findings == []
    assert evaluation.results[0].to_dict() == {
        "check": "edge.no_http2",
        "stage": "edge",
        "outcome": "skipped",
        "reason": "not today",
    }


def test_findings_are_sorted_worst_first() -> None:
    facts = replace(good_facts(), lighthouse=replace(good_facts().lighthouse, performance=40), rdap=None)
    facts = replace(facts, tls=[replace(t, tls13=False) for t in facts.tls])
    severities = [f.severity.rank for f in run_rules(facts, NOW)]
    assert severities == sorted(severities)
    assert severities[0] == Severity.MEDIUM.rank


def test_finding_json_has_exactly_the_cli_contract_keys() -> None:
    (finding,) = run_rules(good_facts(), NOW)
    data = json.loads(json.dumps(finding.to_dict()))
    assert list(data) == [
        "check",
        "severity",
        "stage",
        "subject",
        "title",
        "impact",
        "evidence",
        "fix",
        "status",
    ]
    assert data["severity"] == "info" and data["status"] == "fail"
    assert FindingData.from_dict(data) == finding


def test_evaluation_to_dict_is_json() -> None:
    data = json.loads(json.dumps(evaluate(good_facts(), NOW).to_dict()))
    assert len(data["results"]) == len(RULES)
    # good_facts() has no email section: the email.* checks say they were skipped, all else passes.
    assert {r["outcome"] for r in data["results"] if r["stage"] != "email"} == {"pass"}
    assert {r["outcome"] for r in data["results"] if r["stage"] == "email"} == {"skipped"}
