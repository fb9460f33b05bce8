"""Verdict, 48-hour plan, deferred list, stage progress and the run-to-run diff."""

from __future__ import annotations

import pytest

from audits.checks import Severity, Stage
from audits.findings import Finding, Status
from audits.rules import CheckResult, Evaluation, Outcome, evaluate
from audits.verdict import Verdict, build_report, diff, stage_progress, verdict_for
from tests.audits.factories import NOW, good_facts


def f(
    check: str, severity: str, subject: str = "example.com", status: Status = Status.FAIL, stage: str = "edge"
) -> Finding:
    return Finding(check, Severity(severity), Stage(stage), subject, "t", "i", "e", "fix it", status)


@pytest.mark.parametrize(
    ("severities", "expected"),
    [
        (["blocker", "high", "low"], Verdict.NOT_READY),
        (["high", "medium"], Verdict.READY_WITH_RISKS),
        (["medium", "low", "info"], Verdict.READY),
        ([], Verdict.READY),
    ],
)
def test_verdict(severities, expected) -> None:
    assert verdict_for([f(f"c.x{i}", s) for i, s in enumerate(severities)]) == expected


def test_inconclusive_blocker_does_not_decide_the_verdict_but_is_listed_apart() -> None:
    findings = [f("http.unreachable", "blocker", status=Status.INCONCLUSIVE), f("http.hsts_short", "medium")]
    report = build_report(Evaluation(findings=findings))
    assert report.verdict == Verdict.READY
    assert [x.check for x in report.inconclusive] == ["http.unreachable"]
    assert report.plan == [] and [x.check for x in report.deferred] == ["http.hsts_short"]


def test_plan_lists_blockers_then_highs_with_fixes_and_defers_the_rest() -> None:
    findings = [
        f("http.hsts_missing", "high"),
        f("dns.caa_missing", "low", stage="dns"),
        f("tls.cert_expired", "blocker", subject="www.example.com"),
        f("dns.apex_unresolved", "blocker", stage="dns"),
        f("http.csp_missing", "medium"),
        f("dns.provider_inventory", "info", stage="dns"),
    ]
    report = build_report(Evaluation(findings=findings))
    assert report.verdict == Verdict.NOT_READY
    assert [x.check for x in report.plan] == ["dns.apex_unresolved", "tls.cert_expired", "http.hsts_missing"]
    assert all(x.fix for x in report.plan)
    assert [x.check for x in report.deferred] == ["http.csp_missing", "dns.caa_missing"]
    assert [x.check for x in report.info] == ["dns.provider_inventory"]
    assert report.counts == {"blocker": 2, "high": 1, "medium": 1, "low": 1, "info": 1}


def test_stage_progress_counts_evaluated_checks_and_keeps_inconclusive_apart() -> None:
    results = [
        CheckResult("dns.a", Stage.DNS, Outcome.PASS),
        CheckResult("dns.b", Stage.DNS, Outcome.FAIL),
        CheckResult("dns.c", Stage.DNS, Outcome.INCONCLUSIVE),
        CheckResult("perf.d", Stage.PERFORMANCE, Outcome.SKIPPED, "no source"),
        CheckResult("edge.e", Stage.EDGE, Outcome.PASS),
    ]
    progress = {str(p.stage): p.to_dict() for p in stage_progress(results)}
    assert list(progress) == ["dns", "edge", "performance"]
    assert progress["dns"] == {
        "stage": "dns",
        "evaluated": 2,
        "passed": 1,
        "failing": 1,
        "inconclusive": 1,
        "skipped": 0,
    }
    assert progress["performance"]["evaluated"] == 0 and progress["performance"]["skipped"] == 1


def test_report_of_the_good_store() -> None:
    report = build_report(evaluate(good_facts(), NOW))
    assert report.verdict == Verdict.READY
    assert report.plan == [] and report.deferred == [] and report.inconclusive == []
    assert all(p.failing == 0 and p.passed > 0 for p in report.stages if str(p.stage) != "email")
    # No email facts in good_facts(): the email stage is all skipped, never counted as passed.
    email = next(p for p in report.stages if str(p.stage) == "email")
    assert email.passed == 0 and email.skipped > 0
    assert report.to_dict()["verdict"] == "ready"


def test_diff_by_check_and_subject() -> None:
    before = [
        f("tls.cert_expiring", "high", "www.example.com"),
        f("http.csp_missing", "medium"),
        f("dns.caa_missing", "low"),
    ]
    after = [
        f("tls.cert_expiring", "blocker", "www.example.com"),  # same finding, now worse
        f("tls.cert_expiring", "high", "app.example.com"),  # same check, new subject
        f("dns.caa_missing", "low", status=Status.INCONCLUSIVE),  # not seen fixed: persisting
    ]
    result = diff(before, after)
    assert [(x.check, x.subject) for x in result.new] == [("tls.cert_expiring", "app.example.com")]
    assert [(x.check, str(x.severity)) for x in result.persisting] == [
        ("tls.cert_expiring", "blocker"),
        ("dns.caa_missing", "low"),
    ]
    assert [x.check for x in result.resolved] == ["http.csp_missing"]
