"""Fixtures for the audit web pages: saved runs with findings, acceptances, share links.

``make_run(site, findings=[...])`` saves a finished run the way the audit task does
(rows, per-severity finding and problem counts, per-stage counts, verdict). ``audit_run`` is a finished run
of ``site`` with a blocker, a high, a medium and an inconclusive finding.
URL kwargs for the URLconf walk: ``run``, ``finding``, ``accepted_risk``, ``share``.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable

import pytest
from django.utils import timezone

from audits import sharing
from audits.models import AcceptedRisk, AuditRun, Finding

F = dict  # a finding as keyword arguments for Finding


def finding(check: str, severity: str, stage: str, subject: str = "shop.example.com", **extra) -> F:
    data = {
        "check_id": check,
        "severity": severity,
        "stage": stage,
        "subject": subject,
        "status": Finding.Status.FAIL,
        "title": f"Title of {check}",
        "impact": f"Impact of {check}.",
        "evidence": f"Seen for {check}\nsecond line",
        "fix": f"Fix {check} like this.",
    }
    data.update(extra)
    return data


STANDARD_FINDINGS = [
    finding("exposure.env_file", "blocker", "deploy", "https://www.shop.example.com/.env"),
    finding("http.hsts_missing", "high", "edge", "www.shop.example.com"),
    finding("dns.single_nameserver", "medium", "dns"),
    finding(
        "perf.lighthouse_low",
        "low",
        "performance",
        status=Finding.Status.INCONCLUSIVE,
        evidence="No PageSpeed Insights API key is configured.",
    ),
]


@pytest.fixture
def make_run(db) -> Callable[..., AuditRun]:
    def make(
        site,
        findings: list[F] | None = None,
        *,
        status: str = AuditRun.Status.DONE,
        ago_minutes: int = 0,
        **kw,
    ) -> AuditRun:
        findings = STANDARD_FINDINGS if findings is None else findings
        created = timezone.now() - dt.timedelta(minutes=ago_minutes)
        failing = [f for f in findings if f.get("status", "fail") == "fail"]
        counts = Counter(f["severity"] for f in failing)
        problems = Counter(severity for _check, severity in {(f["check_id"], f["severity"]) for f in failing})
        severities = ["blocker", "high", "medium", "low", "info"]
        verdict = "not_ready" if counts["blocker"] else "ready_with_risks" if counts["high"] else "ready"
        stage_counts = {}
        for f in findings:
            c = stage_counts.setdefault(
                f["stage"], {"passed": 3, "failing": 0, "inconclusive": 0, "skipped": 0, "stage": f["stage"]}
            )
            c["failing" if f.get("status", "fail") == "fail" else "inconclusive"] += 1
        for c in stage_counts.values():
            c["evaluated"] = c["passed"] + c["failing"]
        done = status == AuditRun.Status.DONE
        defaults = {
            "site": site,
            "status": status,
            "created_at": created,
            "started_at": created,
            "finished_at": created + dt.timedelta(seconds=9) if done else None,
            "duration_ms": 9000 if done else None,
            "verdict": verdict if done else "",
            "severity_counts": {s: counts.get(s, 0) for s in severities} if done else {},
            "problem_counts": {s: problems.get(s, 0) for s in severities} if done else {},
            "stage_counts": stage_counts if done else {},
            "progress": {"dns": "done", "edge": "running", "deploy": "pending", "performance": "pending"},
        }
        defaults.update(kw)
        run = AuditRun.objects.create(**defaults)
        if done:
            Finding.objects.bulk_create([Finding(run=run, **f) for f in findings])
        return run

    return make


@pytest.fixture
def audit_run(make_run, site) -> AuditRun:
    return make_run(site)


@pytest.fixture
def url_kwarg_run(audit_run):
    return audit_run


@pytest.fixture
def url_kwarg_finding(audit_run):
    return audit_run.findings.get(check_id="http.hsts_missing")


@pytest.fixture
def url_kwarg_accepted_risk(site, owner):
    return AcceptedRisk.objects.create(
        site=site,
        check_id="dns.single_nameserver",
        subject="shop.example.com",
        reason="Moving DNS provider next month.",
        expires_at=timezone.now() + dt.timedelta(days=30),
        accepted_by=owner,
    )


@pytest.fixture
def share_link(site, owner):
    """``(link, token)``: an active 7-day share link of ``site``."""
    return sharing.create_link(site, user=owner, days=7)


@pytest.fixture
def url_kwarg_share(share_link):
    return share_link[0]
