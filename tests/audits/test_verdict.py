"""Verdict, 48-hour plan, deferred list, stage progress and the run-to-run diff."""

from __future__ import annotations

import pytest

from audits.checks import Severity, Stage
from audits.findings import FindingData, Status
from audits.rules import Evaluation, Outcome, RuleResult, evaluate
from audits.verdict import StageProgress, Verdict, build_report, diff, stage_progress, verdict_for
from tests.audits.factories import NOW, good_facts


def f(
    check: str, severity: str, subject: str = "example.com", status: Status = Status.FAIL, stage: str = "edge"
) -> FindingData:
    return FindingData(check, Severity(severity), Stage(stage), subject, "t", "i", "e", "fix it", status)


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
        RuleResult("dns.a", Stage.DNS, Outcome.PASS),
        RuleResult("dns.b", Stage.DNS, Outcome.FAIL),
        RuleResult("dns.c", Stage.DNS, Outcome.INCONCLUSIVE),
        RuleResult("perf.d", Stage.PERFORMANCE, Outcome.SKIPPED, "no source"),
        RuleResult("edge.e", Stage.EDGE, Outcome.PASS),
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
        "inconclusive_reasons": [],
        "skipped_reasons": [],
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


# --- One problem once, most urgent first ------------------------------------------------

HOSTS = [
    "admin.shop.com",
    "app.shop.com",
    "shop.com",
    "checkout.shop.com",
    "staging.shop.com",
    "www.shop.com",
]


def titled(check: str, severity: str, subject: str, title: str, stage: str = "edge") -> FindingData:
    return FindingData(check, Severity(severity), Stage(stage), subject, title, "i", "e", "fix it")


def test_one_check_failing_on_several_subjects_is_one_problem_counted_once() -> None:
    findings = [titled("http.csp_missing", "medium", h, "No Content-Security-Policy") for h in HOSTS]
    findings += [
        titled("exposure.env_file", "blocker", "shop.com", "Secrets file public", "deploy"),
        titled("exposure.env_file", "blocker", "www.shop.com", "Secrets file public", "deploy"),
        titled("http.hsts_missing", "high", "www.shop.com", "No HSTS"),
    ]
    report = build_report(Evaluation(findings=findings))
    # Findings stay per subject (history, accepted risks and the API read them)...
    assert report.counts["blocker"] == 2 and report.counts["medium"] == 6
    assert len(report.plan) == 3
    # ...the reader gets one item per problem, with its subjects, and counts problems.
    assert [(p.check, p.subjects) for p in report.plan_problems] == [
        ("exposure.env_file", ["shop.com", "www.shop.com"]),
        ("http.hsts_missing", ["www.shop.com"]),
    ]
    (csp,) = report.deferred_problems
    assert csp.count == 6 and csp.where == "on 6 hosts"
    assert csp.headline == "No Content-Security-Policy on 6 hosts: " + ", ".join(
        [
            "admin.shop.com",
            "app.shop.com",
            "checkout.shop.com",
            "shop.com",
            "staging.shop.com",
            "www.shop.com",
        ]
    )
    assert report.problem_counts == {"blocker": 1, "high": 1, "medium": 1, "low": 0, "info": 0}
    document = report.to_dict()
    assert document["counts"]["blocker"] == 2 and document["problem_counts"]["blocker"] == 1
    assert document["problems"][0]["subjects"] == ["shop.com", "www.shop.com"]


def test_one_check_at_two_severities_is_two_problems() -> None:
    findings = [
        titled("perf.route_slow", "blocker", "product /p/1", "Slow", "performance"),
        titled("perf.route_slow", "high", "checkout /checkout", "Slow", "performance"),
    ]
    report = build_report(Evaluation(findings=findings))
    assert [(str(p.severity), p.subjects, p.noun) for p in report.plan_problems] == [
        ("blocker", ["product /p/1"], "routes"),
        ("high", ["checkout /checkout"], "routes"),
    ]
    assert report.problem_counts["blocker"] == 1 and report.problem_counts["high"] == 1


def test_within_a_severity_leaked_secrets_come_first_then_what_stops_sales() -> None:
    findings = [
        f("dns.dangling_cname", "blocker", "old.example.com", stage="dns"),
        f("perf.route_slow", "blocker", "product /p/1", stage="performance"),
        f("tls.cert_expired", "blocker", "www.example.com"),
        f("exposure.git", "blocker", "example.com", stage="deploy"),
        f("exposure.env_file", "blocker", "example.com", stage="deploy"),
        f("email.dmarc_missing", "high", "_dmarc.example.com", stage="email"),
        f("http.hsts_missing", "high", "www.example.com"),
        f("exposure.admin_public", "high", "admin.example.com", stage="deploy"),
    ]
    report = build_report(Evaluation(findings=findings))
    assert [p.check for p in report.plan_problems] == [
        "exposure.env_file",
        "exposure.git",
        "tls.cert_expired",
        "dns.dangling_cname",
        "perf.route_slow",
        "exposure.admin_public",
        "email.dmarc_missing",
        "http.hsts_missing",
    ]
    why = {p.check: p.why_first for p in report.plan_problems}
    assert all(line and "\n" not in line for line in why.values())  # each says why, in one line
    assert why["exposure.env_file"].startswith("Leaked secrets come first")
    assert "Stops sales" in why["tls.cert_expired"] and "Stops order email" in why["email.dmarc_missing"]
    assert "after the items above" in why["http.hsts_missing"]


def test_a_stage_summary_counts_only_what_was_evaluated() -> None:
    deploy_records = "needs the site's deploy records in a workspace"
    results = [RuleResult(f"deploy.p{i}", Stage.DEPLOY, Outcome.PASS) for i in range(6)]
    results += [RuleResult(f"deploy.s{i}", Stage.DEPLOY, Outcome.SKIPPED, deploy_records) for i in range(2)]
    results += [
        RuleResult("edge.a", Stage.EDGE, Outcome.PASS),
        RuleResult("edge.b", Stage.EDGE, Outcome.FAIL),
        RuleResult("http.hsts_missing", Stage.EDGE, Outcome.INCONCLUSIVE),
    ]
    unread = f(
        "http.hsts_missing",
        "high",
        status=Status.INCONCLUSIVE,
        subject="www.example.com",
    )
    unread = FindingData(**{**unread.__dict__, "evidence": "Could not be checked: the page timed out"})
    progress = {str(p.stage): p for p in stage_progress(results, [unread])}
    assert progress["deploy"].summary == f"6 of 8 checks passed, 2 not checked: {deploy_records}"
    assert (
        progress["edge"].summary
        == "1 of 3 checks passed, 1 failed, 1 could not be checked: the page timed out"
    )
    # Stored and read back (the web page reads the run's stored stage counts).
    again = StageProgress.from_dict(progress["deploy"].to_dict())
    assert again == progress["deploy"]
    # An older run stored no reasons: the counts still never call them passed.
    old = StageProgress.from_dict(
        {"stage": "email", "passed": 2, "failing": 0, "inconclusive": 1, "skipped": 3}
    )
    assert old.summary == "2 of 6 checks passed, 1 could not be checked, 3 not checked"
