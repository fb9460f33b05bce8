"""The launch verdict, the 48-hour plan, the deferred list, progress per stage, and the
difference between two runs.

CHECKS.md: ``not_ready`` if any blocker, ``ready_with_risks`` if any high, else
``ready``. Blockers then highs make the 48-hour plan; medium and low the deferred list.
Only failing findings count: an inconclusive check is listed apart and is never
counted as a pass (nor as a failure). A blocker is never averaged away by a score.

Findings are per subject (host, route, record): that is what history, accepted risks and
the API keep. The reader sees *problems*: one check failing at one severity on several
subjects is one problem ("No Content-Security-Policy on 6 hosts"), counted once. Within a
severity, problems are ordered by harm: leaked secrets first, then what stops sales
(checkout, the store itself, order email), then the rest in roadmap order.
"""

from __future__ import annotations

import enum
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

# Verdict lives with the catalogue, so that models can name its choices without loading rules.
from audits.checks import Severity, Stage, Verdict
from audits.findings import FindingData, Status
from audits.rules.base import Evaluation, Outcome, RuleResult

PLAN_SEVERITIES = (Severity.BLOCKER, Severity.HIGH)
DEFERRED_SEVERITIES = (Severity.MEDIUM, Severity.LOW)


def verdict_for(findings: Iterable[FindingData]) -> Verdict:
    severities = {f.severity for f in findings if f.status == Status.FAIL}
    if Severity.BLOCKER in severities:
        return Verdict.NOT_READY
    if Severity.HIGH in severities:
        return Verdict.READY_WITH_RISKS
    return Verdict.READY


class Harm(enum.IntEnum):
    """How much a problem costs right now, worst first (the order within a severity)."""

    SECRETS = 0  # keys, source code or an admin open to anyone
    SALES = 1  # stops checkout, the store itself, or order email
    OTHER = 2


_STOPS_STORE = "Stops sales: customers cannot open the store."
_BROWSER_WARNING = "Stops sales: browsers show a security warning instead of the page, and visitors leave."
_STOPS_EMAIL = "Stops order email: confirmations bounce or land in spam."

# Why a problem comes where it does in the plan, in one line. Checks not listed here are
# ordered after these, by roadmap stage, with the line of their severity below.
HARM: dict[str, tuple[Harm, str]] = {
    "exposure.env_file": (
        Harm.SECRETS,
        "Leaked secrets come first: anyone can download this file and use your keys right now.",
    ),
    "exposure.git": (
        Harm.SECRETS,
        "Leaked secrets come first: anyone can download your source code and any password committed in it.",
    ),
    "exposure.debug_page": (
        Harm.SECRETS,
        "Leaks secrets: the error page shows your settings and code to anyone who opens it.",
    ),
    "exposure.admin_public": (
        Harm.SECRETS,
        "An open door: anyone can reach this admin or staging site without a password.",
    ),
    "dns.domain_unresolvable": (Harm.SALES, _STOPS_STORE),
    "dns.apex_unresolved": (Harm.SALES, _STOPS_STORE),
    "dns.www_unresolved": (Harm.SALES, "Stops sales: customers who type www. reach nothing."),
    "http.unreachable": (Harm.SALES, _STOPS_STORE),
    "http.server_error": (Harm.SALES, _STOPS_STORE),
    "http.redirect_loop": (Harm.SALES, "Stops sales: browsers give up on the store's address."),
    "domain.expiring": (Harm.SALES, "When the domain lapses, the store and its email stop at once."),
    "tls.handshake_failed": (Harm.SALES, _BROWSER_WARNING),
    "tls.cert_expired": (Harm.SALES, _BROWSER_WARNING),
    "tls.hostname_mismatch": (Harm.SALES, _BROWSER_WARNING),
    "tls.untrusted": (Harm.SALES, _BROWSER_WARNING),
    "tls.cert_expiring": (Harm.SALES, "Soon stops sales: browsers will warn visitors away when it expires."),
    "tls.chain_incomplete": (Harm.SALES, "Some phones and payment or API clients refuse the connection."),
    "perf.route_errors": (Harm.SALES, "Stops sales: this route fails for customers."),
    "http.mixed_content": (
        Harm.SALES,
        "Browsers block insecure parts of the page, which can break checkout.",
    ),
    "deploy.smoke_failed": (
        Harm.SALES,
        "The last deploy failed its smoke test: the live store may be broken.",
    ),
    "email.spf_invalid": (Harm.SALES, _STOPS_EMAIL),
    "email.spf_multiple": (Harm.SALES, _STOPS_EMAIL),
    "email.spf_too_many_lookups": (Harm.SALES, _STOPS_EMAIL),
    "email.spf_sender_unauthorized": (Harm.SALES, _STOPS_EMAIL),
    "email.dkim_missing": (Harm.SALES, _STOPS_EMAIL),
    "email.dkim_invalid": (Harm.SALES, _STOPS_EMAIL),
    "email.dmarc_missing": (Harm.SALES, _STOPS_EMAIL),
    "email.dmarc_invalid": (Harm.SALES, _STOPS_EMAIL),
    "email.test_message_failed": (
        Harm.SALES,
        "Stops order email: a real test message failed authentication.",
    ),
    "email.mx_missing": (Harm.SALES, "Customers' replies and bounces about orders are lost."),
    "dns.dangling_cname": (
        Harm.OTHER,
        "Someone else can claim this name and show their pages on your domain.",
    ),
    "perf.route_slow": (Harm.OTHER, "Slow key pages lose buyers before they reach checkout."),
}
_DEFAULT_WHY = {
    Severity.BLOCKER: "Fix before launch, after the items above that leak secrets or stop sales.",
    Severity.HIGH: "Fix within the 48-hour sprint, after the items above.",
}


def harm_of(check: str) -> Harm:
    return HARM.get(check, (Harm.OTHER, ""))[0]


_HARM_ORDER = {check: i for i, check in enumerate(HARM)}


def harm_key(f: FindingData) -> tuple[int, int, int, int, int, str, str]:
    """Worst severity first; failures before inconclusives; then harm (and, within a kind of
    harm, the order of ``HARM``: the .env file before .git), roadmap stage, id, subject."""
    return (
        f.severity.rank,
        f.status != Status.FAIL,
        harm_of(f.check),
        _HARM_ORDER.get(f.check, len(_HARM_ORDER)),
        f.stage.rank,
        f.check,
        f.subject,
    )


_HOST = re.compile(
    r"^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]*[a-z0-9])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9])?)+\.?$", re.I
)


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


@dataclass(frozen=True)
class Problem:
    """One check failing (or not checkable) at one severity, on one or more subjects.

    The plan, the report's cards and the counts are made of problems; each keeps its
    findings (one per subject) for the evidence, the history and "Accept risk".
    """

    check: str
    severity: Severity
    stage: Stage
    status: Status
    title: str
    findings: tuple[FindingData, ...]

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.check, str(self.severity), str(self.status), self.title)

    @property
    def subjects(self) -> list[str]:
        return [f.subject for f in self.findings]

    @property
    def count(self) -> int:
        return len(self.findings)

    @property
    def impact(self) -> str:
        return self.findings[0].impact

    @property
    def fixes(self) -> list[str]:
        """The fix, once (a rule may add a note for one subject: then each distinct text)."""
        return list(dict.fromkeys(f.fix for f in self.findings if f.fix))

    @property
    def fix(self) -> str:
        return "\n\n".join(self.fixes)

    @property
    def harm(self) -> Harm:
        return harm_of(self.check)

    @property
    def why_first(self) -> str:
        """One line: why this problem sits where it does in the plan."""
        return HARM.get(self.check, (Harm.OTHER, ""))[1] or _DEFAULT_WHY.get(self.severity, "")

    @property
    def noun(self) -> str:
        """What the subjects are, in the plural ("hosts", "pages", "routes", "places")."""
        if self.check.startswith("perf.route"):
            return "routes"
        if all(_HOST.match(s) for s in self.subjects):
            return "hosts"
        if all(s.startswith(("http://", "https://")) for s in self.subjects):
            return "addresses"
        return "places"

    @property
    def where(self) -> str:
        """ "on 6 hosts" (empty for a single subject, which is shown as the subject)."""
        return f"on {self.count} {self.noun}" if self.count > 1 else ""

    @property
    def headline(self) -> str:
        """ "No Content-Security-Policy on 6 hosts: admin.shop.com, app.shop.com, …"."""
        if self.count == 1:
            return f"{self.title} ({self.subjects[0]})"
        return f"{self.title} {self.where}: {', '.join(self.subjects)}"

    @property
    def reasons(self) -> list[str]:
        """Why an inconclusive problem could not be checked, once per distinct reason."""
        return list(dict.fromkeys(inconclusive_reason(f) for f in self.findings))

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "severity": str(self.severity),
            "stage": str(self.stage),
            "status": str(self.status),
            "title": self.title,
            "summary": self.headline,
            "subjects": self.subjects,
            "impact": self.impact,
            "fix": self.fix,
            "why_first": self.why_first,
        }


def inconclusive_reason(f: FindingData) -> str:
    """The first line of an inconclusive finding's evidence, without "Could not be checked:"."""
    lines = [line.strip() for line in (f.evidence or "").splitlines() if line.strip()]
    reason = lines[0] if lines else f.title
    prefix = "Could not be checked:"
    return reason[len(prefix) :].strip() if reason.startswith(prefix) else reason


def group_problems(findings: Iterable[FindingData]) -> list[Problem]:
    """One problem per (check, severity, status, title), in harm order, subjects in order."""
    groups: dict[tuple[str, str, str, str], list[FindingData]] = {}
    for f in sorted(findings, key=harm_key):
        groups.setdefault((f.check, str(f.severity), str(f.status), f.title), []).append(f)
    return [
        Problem(
            check=fs[0].check,
            severity=fs[0].severity,
            stage=fs[0].stage,
            status=fs[0].status,
            title=fs[0].title,
            findings=tuple(fs),
        )
        for fs in groups.values()
    ]


def problem_counts(problems: Iterable[Problem]) -> dict[str, int]:
    """Distinct failing problems per severity (every severity present, zeros included)."""
    counts = Counter(str(p.severity) for p in problems if p.status == Status.FAIL)
    return {str(s): counts.get(str(s), 0) for s in Severity}


@dataclass(frozen=True)
class StageProgress:
    """Checks of one stage: ``evaluated`` = passed + failing; inconclusive and skipped apart.

    ``inconclusive_reasons`` and ``skipped_reasons`` say why (one entry per check, so the
    same reason may repeat); the summary counts only what was evaluated as passed.
    """

    stage: Stage
    passed: int = 0
    failing: int = 0
    inconclusive: int = 0
    skipped: int = 0
    inconclusive_reasons: tuple[str, ...] = ()
    skipped_reasons: tuple[str, ...] = ()

    @property
    def evaluated(self) -> int:
        return self.passed + self.failing

    @property
    def total(self) -> int:
        return self.passed + self.failing + self.inconclusive + self.skipped

    @property
    def summary_parts(self) -> list[tuple[str, str]]:
        """The summary as (count, reason) pairs: [("6 of 8 checks passed", ""), ("2 not checked", "…")]."""
        parts = [(f"{self.passed} of {_plural(self.total, 'check')} passed", "")]
        if self.failing:
            parts.append((f"{self.failing} failed", ""))
        parts += _with_reasons(self.inconclusive, "could not be checked", self.inconclusive_reasons)
        parts += _with_reasons(self.skipped, "not checked", self.skipped_reasons)
        return parts

    @property
    def summary(self) -> str:
        """ "6 of 8 checks passed, 2 not checked: needs the site's deploy records…"."""
        return ", ".join(f"{text}: {reason}" if reason else text for text, reason in self.summary_parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "stage": str(self.stage),
            "evaluated": self.evaluated,
            "passed": self.passed,
            "failing": self.failing,
            "inconclusive": self.inconclusive,
            "skipped": self.skipped,
            "inconclusive_reasons": list(self.inconclusive_reasons),
            "skipped_reasons": list(self.skipped_reasons),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StageProgress:
        """A stored ``to_dict()`` (older runs have no reasons)."""
        return cls(
            stage=Stage(data["stage"]),
            passed=int(data.get("passed", 0)),
            failing=int(data.get("failing", 0)),
            inconclusive=int(data.get("inconclusive", 0)),
            skipped=int(data.get("skipped", 0)),
            inconclusive_reasons=tuple(data.get("inconclusive_reasons") or ()),
            skipped_reasons=tuple(data.get("skipped_reasons") or ()),
        )


def _with_reasons(count: int, verb: str, reasons: Iterable[str]) -> list[tuple[str, str]]:
    """ "2 not checked" for reason A, "1 not checked" for reason B; no reason if none is known."""
    if not count:
        return []
    tally = Counter(r for r in reasons if r)
    parts = [(f"{n} {verb}", reason) for reason, n in tally.items()]
    unexplained = count - sum(tally.values())
    if unexplained > 0:
        parts.append((f"{unexplained} {verb}", ""))
    return parts


@dataclass(frozen=True)
class Report:
    verdict: Verdict
    plan: list[FindingData]  # the 48-hour plan: blockers, then highs, each in harm order
    deferred: list[FindingData]  # medium and low
    info: list[FindingData]  # facts worth knowing (provider inventory…)
    inconclusive: list[FindingData]
    stages: list[StageProgress]
    counts: dict[str, int]  # failing findings (one per subject) per severity
    skipped: list[RuleResult] = field(default_factory=list)

    @cached_property
    def plan_problems(self) -> list[Problem]:
        return group_problems(self.plan)

    @cached_property
    def deferred_problems(self) -> list[Problem]:
        return group_problems(self.deferred)

    @cached_property
    def info_problems(self) -> list[Problem]:
        return group_problems(self.info)

    @cached_property
    def inconclusive_problems(self) -> list[Problem]:
        return group_problems(self.inconclusive)

    @property
    def problems(self) -> list[Problem]:
        """Every problem: the plan, the deferred list, the facts, what could not be checked."""
        return self.plan_problems + self.deferred_problems + self.info_problems + self.inconclusive_problems

    @property
    def problem_counts(self) -> dict[str, int]:
        """Distinct failing problems per severity: what the plan and its badges count."""
        return problem_counts(self.plan_problems + self.deferred_problems + self.info_problems)

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
            "problems": [p.to_dict() for p in self.problems],
            "problem_counts": self.problem_counts,
        }


def build_report(evaluation: Evaluation) -> Report:
    findings = sorted(evaluation.findings, key=harm_key)
    failing = [f for f in findings if f.status == Status.FAIL]
    counts = Counter(str(f.severity) for f in failing)
    inconclusive = [f for f in findings if f.status == Status.INCONCLUSIVE]
    return Report(
        verdict=verdict_for(findings),
        plan=[f for f in failing if f.severity in PLAN_SEVERITIES],
        deferred=[f for f in failing if f.severity in DEFERRED_SEVERITIES],
        info=[f for f in failing if f.severity == Severity.INFO],
        inconclusive=inconclusive,
        stages=stage_progress(evaluation.results, inconclusive),
        counts={str(s): counts.get(str(s), 0) for s in Severity},
        skipped=[r for r in evaluation.results if r.outcome == Outcome.SKIPPED],
    )


def stage_progress(
    results: Iterable[RuleResult], inconclusive: Iterable[FindingData] = ()
) -> list[StageProgress]:
    """Per roadmap stage (only stages with at least one check run), in roadmap order.

    ``inconclusive`` (the run's inconclusive findings) gives each inconclusive check its reason.
    """
    why_not: dict[str, str] = {}
    for f in inconclusive:
        why_not.setdefault(f.check, inconclusive_reason(f))
    tally: dict[Stage, Counter[Outcome]] = {}
    reasons: dict[Stage, dict[Outcome, list[str]]] = {}
    for result in results:
        tally.setdefault(result.stage, Counter())[result.outcome] += 1
        reason = result.reason if result.outcome == Outcome.SKIPPED else why_not.get(result.check, "")
        if reason:
            reasons.setdefault(result.stage, {}).setdefault(result.outcome, []).append(reason)
    return [
        StageProgress(
            stage=stage,
            passed=c[Outcome.PASS],
            failing=c[Outcome.FAIL],
            inconclusive=c[Outcome.INCONCLUSIVE],
            skipped=c[Outcome.SKIPPED],
            inconclusive_reasons=tuple(reasons.get(stage, {}).get(Outcome.INCONCLUSIVE, ())),
            skipped_reasons=tuple(reasons.get(stage, {}).get(Outcome.SKIPPED, ())),
        )
        for stage, c in sorted(tally.items(), key=lambda item: item[0].rank)
    ]


@dataclass(frozen=True)
class FindingDiff:
    new: list[FindingData]
    persisting: list[FindingData]  # as reported by the current run
    resolved: list[FindingData]  # as reported by the previous run


def diff(previous: Iterable[FindingData], current: Iterable[FindingData]) -> FindingDiff:
    """Compare two runs by (check, subject).

    A finding is resolved only when the current run no longer reports it at all: a check
    that became inconclusive is still reported (persisting), since we could not see it fixed.
    """
    before = {f.key: f for f in previous}
    after = {f.key: f for f in current}
    return FindingDiff(
        new=sorted((f for k, f in after.items() if k not in before), key=harm_key),
        persisting=sorted((f for k, f in after.items() if k in before), key=harm_key),
        resolved=sorted((f for k, f in before.items() if k not in after), key=harm_key),
    )
