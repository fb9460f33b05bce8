"""The launch verdict, the 48-hour plan, the deferred list, progress per stage, and the
difference between two runs.

CHECKS.md: ``not_ready`` if any blocker, ``ready_with_risks`` if any high, else
``ready``. Blockers then highs make the 48-hour plan; medium and low the deferred list.
Only failing findings count: an inconclusive check is listed apart and is never
counted as a pass (nor as a failure). A blocker is never averaged away by a score.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

# Verdict lives with the catalogue, so that models can name its choices without loading rules.
from audits.checks import Severity, Stage, Verdict
from audits.findings import Finding, Status
from audits.rules.base import CheckResult, Evaluation, Outcome, sort_key

PLAN_SEVERITIES = (Severity.BLOCKER, Severity.HIGH)
DEFERRED_SEVERITIES = (Severity.MEDIUM, Severity.LOW)


def verdict_for(findings: Iterable[Finding]) -> Verdict:
    severities = {f.severity for f in findings if f.status == Status.FAIL}
    if Severity.BLOCKER in severities:
        return Verdict.NOT_READY
    if Severity.HIGH in severities:
        return Verdict.READY_WITH_RISKS
    return Verdict.READY


@dataclass(frozen=True)
class StageProgress:
    """Checks of one stage: ``evaluated`` = passed + failing; inconclusive and skipped apart."""

    stage: Stage
    passed: int = 0
    failing: int = 0
    inconclusive: int = 0
    skipped: int = 0

    @property
    def evaluated(self) -> int:
        return self.passed + self.failing

    def to_dict(self) -> dict[str, Any]:
        return {
            "stage": str(self.stage),
            "evaluated": self.evaluated,
            "passed": self.passed,
            "failing": self.failing,
            "inconclusive": self.inconclusive,
            "skipped": self.skipped,
        }


@dataclass(frozen=True)
class Report:
    verdict: Verdict
    plan: list[Finding]  # the 48-hour plan: blockers, then highs, each with its fix
    deferred: list[Finding]  # medium and low
    info: list[Finding]  # facts worth knowing (provider inventory…)
    inconclusive: list[Finding]
    stages: list[StageProgress]
    counts: dict[str, int]  # failing findings per severity
    skipped: list[CheckResult] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": str(self.verdict),
            "plan": [f.to_dict() for f in self.plan],
            "deferred": [f.to_dict() for f in self.deferred],
            "info": [f.to_dict() for f in self.info],
            "inconclusive": [f.to_dict() for f in self.inconclusive],
            "stages": [s.to_dict() for s in self.stages],
            "counts": self.counts,
            "skipped": [r.to_dict() for r in self.skipped],
        }


def build_report(evaluation: Evaluation) -> Report:
    findings = sorted(evaluation.findings, key=sort_key)
    failing = [f for f in findings if f.status == Status.FAIL]
    counts = Counter(str(f.severity) for f in failing)
    return Report(
        verdict=verdict_for(findings),
        plan=[f for f in failing if f.severity in PLAN_SEVERITIES],
        deferred=[f for f in failing if f.severity in DEFERRED_SEVERITIES],
        info=[f for f in failing if f.severity == Severity.INFO],
        inconclusive=[f for f in findings if f.status == Status.INCONCLUSIVE],
        stages=stage_progress(evaluation.results),
        counts={str(s): counts.get(str(s), 0) for s in Severity},
        skipped=[r for r in evaluation.results if r.outcome == Outcome.SKIPPED],
    )


def stage_progress(results: Iterable[CheckResult]) -> list[StageProgress]:
    """Per roadmap stage (only stages with at least one check run), in roadmap order."""
    tally: dict[Stage, Counter[Outcome]] = {}
    for result in results:
        tally.setdefault(result.stage, Counter())[result.outcome] += 1
    return [
        StageProgress(
            stage=stage,
            passed=c[Outcome.PASS],
            failing=c[Outcome.FAIL],
            inconclusive=c[Outcome.INCONCLUSIVE],
            skipped=c[Outcome.SKIPPED],
        )
        for stage, c in sorted(tally.items(), key=lambda item: item[0].rank)
    ]


@dataclass(frozen=True)
class FindingDiff:
    new: list[Finding]
    persisting: list[Finding]  # as reported by the current run
    resolved: list[Finding]  # as reported by the previous run


def diff(previous: Iterable[Finding], current: Iterable[Finding]) -> FindingDiff:
    """Compare two runs by (check, subject).

    A finding is resolved only when the current run no longer reports it at all: a check
    that became inconclusive is still reported (persisting), since we could not see it fixed.
    """
    before = {f.key: f for f in previous}
    after = {f.key: f for f in current}
    return FindingDiff(
        new=sorted((f for k, f in after.items() if k not in before), key=sort_key),
        persisting=sorted((f for k, f in after.items() if k in before), key=sort_key),
        resolved=sorted((f for k, f in before.items() if k not in after), key=sort_key),
    )
