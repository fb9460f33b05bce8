"""The audit CLI's JSON on the broken demo store: findings stay one per subject, and the
added ``problems`` and ``problem_counts`` keys give each problem once, most urgent first,
with the verdict's counts as distinct problems."""

from __future__ import annotations

import json
from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command

PROBLEM_KEYS = {
    "check",
    "severity",
    "stage",
    "status",
    "title",
    "summary",
    "subjects",
    "impact",
    "fix",
    "why_first",
}


@pytest.fixture(scope="module")
def broken(sandbox_scenario):
    return sandbox_scenario("demo_broken")


@pytest.fixture(scope="module")
def document(broken):
    out = StringIO()
    call_command("audit", "broken-store.test", "--format", "json", "--samples", "3", stdout=out)
    return json.loads(out.getvalue())


def test_problems_group_the_findings_by_check_and_severity(document):
    findings = document["findings"]
    problems = document["problems"]
    assert problems and all(set(p) == PROBLEM_KEYS for p in problems)
    # Every finding belongs to exactly one problem; no problem repeats a (check, severity).
    by_problem = Counter((f["check"], f["severity"], f["status"], f["title"]) for f in findings)
    assert {
        (p["check"], p["severity"], p["status"], p["title"]): len(p["subjects"]) for p in problems
    } == dict(by_problem)
    csp = next(p for p in problems if p["check"] == "http.csp_missing")
    assert len(csp["subjects"]) > 1 and csp["summary"].startswith(
        f"{csp['title']} on {len(csp['subjects'])} hosts: "
    )


def test_problem_counts_are_distinct_problems(document):
    failing = [f for f in document["findings"] if f["status"] == "fail"]
    per_finding = Counter(f["severity"] for f in failing)
    counts = document["problem_counts"]
    print("findings per severity:", dict(per_finding), "problems:", counts)
    assert counts["blocker"] == len({f["check"] for f in failing if f["severity"] == "blocker"})
    assert counts["blocker"] < per_finding["blocker"] and counts["high"] <= per_finding["high"]


def test_the_plan_starts_with_leaked_secrets_and_says_why(document):
    plan = [p for p in document["problems"] if p["status"] == "fail" and p["severity"] in ("blocker", "high")]
    assert [p["check"] for p in plan[:2]] == ["exposure.env_file", "exposure.git"]
    assert all(p["why_first"] for p in plan if p["severity"] == "blocker")
