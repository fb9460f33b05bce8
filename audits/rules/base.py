"""The rule registry: one pure function per check id, from facts to findings.

A rule is ``def rule(ctx: RuleContext) -> list[FindingData]`` registered with
``@rule("check.id")``. It reads ``ctx.facts`` and ``ctx.now`` (never the clock, never
the network), returns one finding per failing subject (an empty list means pass), and
raises ``Skip(reason)`` when the check does not apply (no Lighthouse source…).
``evaluate()`` runs every rule; an exception inside one rule becomes an inconclusive
finding for that check, never a crash of the audit.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any
from urllib.parse import urlsplit

from audits.checks import CATALOGUE, Severity, Stage, fill, get_check, gloss_line, template_values
from audits.facts import AuditFacts, SiteDeclaration, Unavailable, host_of
from audits.findings import FindingData, Status
from audits.providers import SiteProfile, host_server, site_profile
from launchready.domains import hostname_under

logger = logging.getLogger(__name__)


class Skip(Exception):
    """The check does not apply to this site; the reason is shown with the results."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class RuleContext:
    facts: AuditFacts
    now: datetime

    @cached_property
    def profile(self) -> SiteProfile:
        return site_profile(self.facts)

    @property
    def site(self) -> SiteDeclaration:
        return self.facts.site

    def origin_of(self, subject: str) -> str:
        """How the audit found the subdomain a finding is about: declared by the founder,
        guessed, or seen in certificate logs ("" for the apex, www and anything else)."""
        host = _subject_hostname(subject)
        origin = self.facts.dns.origin_of(host) if self.facts.dns else ""
        return f"{host}: {origin}" if origin else ""

    @cached_property
    def taken_over_hosts(self) -> frozenset[str]:
        """Subdomains that dns.dangling_cname reports: a takeover risk is reported as that,
        once, and no other stage's check (a certificate, a header) speaks of the host."""
        try:
            found = RULES["dns.dangling_cname"](self)
        except Exception:  # the rule's own run reports its failure
            return frozenset()
        return frozenset(f.subject for f in found if f.status == Status.FAIL)

    def is_site_host(self, host: str) -> bool:
        """The site's own domain or one of its subdomains (not a third party's)."""
        return hostname_under(host, self.site.domain)

    def subject_host(self, subject: str) -> str:
        """The host a finding's subject is about: the host of a URL in it ("cart https://…"),
        the subject itself when it is one of the site's hosts, else the canonical host."""
        for word in subject.split():
            if "://" in word:
                host = urlsplit(word).hostname or ""
                if host:
                    return host
        if self.is_site_host(subject):
            return subject
        return self.site.canonical_host

    def fix_text(self, check_id: str, subject: str, fix_note: str = "") -> str:
        """The catalogue's fix for the detected provider (CDN, host) or else the web server
        answering the subject's host, with the store's own names put into it."""
        check = get_check(check_id)
        host = self.subject_host(subject)
        server = host_server(self.facts, host)
        fix = check.fix_for(
            self.profile.slugs(prefer_dns=check.stage in (Stage.DNS, Stage.EMAIL)),
            server.slug if server else None,
        )
        values = template_values(self.site.domain, self.site.canonical_host, host, subject)
        return fill(f"{fix} {fix_note}".strip(), values)

    def fail(
        self,
        check_id: str,
        subject: str,
        evidence: str | Iterable[str],
        *,
        severity: Severity | None = None,
        title: str | None = None,
        fix_note: str = "",
    ) -> FindingData:
        """A failing finding with the catalogue's texts, the fix that fits the store, and a
        plain-words line for the jargon it uses."""
        check = get_check(check_id)
        return _glossed(
            check=check_id,
            severity=severity or check.severity,
            stage=check.stage,
            subject=subject,
            title=title or check.title,
            impact=check.impact,
            evidence=_lines([_lines(evidence), self.origin_of(subject)]),
            fix=self.fix_text(check_id, subject, fix_note),
            status=Status.FAIL,
        )

    def inconclusive(self, check_id: str, subject: str, reason: str | Unavailable) -> FindingData:
        check = get_check(check_id)
        text = reason.reason if isinstance(reason, Unavailable) else reason
        return _glossed(
            check=check_id,
            severity=check.severity,
            stage=check.stage,
            subject=subject,
            title=check.title,
            impact=check.impact,
            evidence=f"Could not be checked: {text}",
            fix="Nothing to fix yet: run the audit again, or allow the Launch Ready scanner through your firewall.",
            status=Status.INCONCLUSIVE,
        )

    def declared(self, check_id: str, subject: str, what: str, service: str, seen: str) -> FindingData:
        """A check the owner settled by declaring the service they use: it passes (an info
        finding, like the provider inventory), and the report says what it rests on."""
        check = get_check(check_id)
        return _glossed(
            check=check_id,
            severity=Severity.INFO,
            stage=check.stage,
            subject=subject,
            title=f"{what} declared by you: {service}",
            impact="You told us which service you use, so the check passes on your word.",
            evidence=_lines([f"declared by you: {service}", seen]),
            fix="Nothing to do. If you stop using it, clear the declaration in the site settings.",
            status=Status.FAIL,
        )


def _glossed(**fields: Any) -> FindingData:
    """The finding, its fix followed by one line explaining the jargon its texts use."""
    gloss = gloss_line(fields["title"], fields["impact"], fields["evidence"], fields["fix"])
    if gloss:
        fields["fix"] = f"{fields['fix']}\n{gloss}"
    return FindingData(**fields)


def checks_needing_workspace(facts: AuditFacts) -> list[str]:
    """The catalogue's workspace checks these facts cannot run: no monitoring set-up (alert
    channels, escalation contacts, heartbeats, monitors) or no deploy records to read, as in
    a one-off CLI audit. The web audit has both and runs them all."""
    missing: Mapping[Stage, bool] = {
        Stage.MONITORING: facts.monitoring_setup is None,
        Stage.DEPLOY: facts.deploy_records is None,
    }
    return [c.id for c in CATALOGUE.values() if c.needs_workspace and missing.get(c.stage, True)]


RuleFunc = Callable[[RuleContext], list[FindingData]]
RULES: dict[str, RuleFunc] = {}


def rule(check_id: str) -> Callable[[RuleFunc], RuleFunc]:
    """Register the rule for ``check_id`` (which must be in the catalogue, once)."""
    get_check(check_id)

    def register(func: RuleFunc) -> RuleFunc:
        if check_id in RULES:
            raise ValueError(f"two rules registered for {check_id}")
        RULES[check_id] = func
        return func

    return register


class Outcome(enum.StrEnum):
    PASS = "pass"  # noqa: S105 - an outcome, not a password
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class RuleResult:
    """How one check came out as a whole (across all of its subjects)."""

    check: str
    stage: Stage
    outcome: Outcome
    reason: str = ""  # why it was skipped

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "stage": str(self.stage),
            "outcome": str(self.outcome),
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Evaluation:
    findings: list[FindingData] = field(default_factory=list)
    results: list[RuleResult] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "findings": [f.to_dict() for f in self.findings],
            "results": [r.to_dict() for r in self.results],
        }


def sort_key(f: FindingData) -> tuple[int, int, int, str, str]:
    """Worst first; within a severity failures before inconclusives, then by roadmap stage."""
    return (f.severity.rank, f.status != Status.FAIL, f.stage.rank, f.check, f.subject)


def evaluate(facts: AuditFacts, now: datetime, checks: Iterable[str] | None = None) -> Evaluation:
    """Run the registered rules (all, or the given ids) over ``facts``."""
    ctx = RuleContext(facts=facts, now=now)
    findings: list[FindingData] = []
    results: list[RuleResult] = []
    for check_id in checks if checks is not None else list(RULES):
        func = RULES[check_id]
        check = CATALOGUE[check_id]
        subject = facts.site.domain
        try:
            gone = facts.stage_unavailable.get(str(check.stage))
            produced = [ctx.inconclusive(check_id, subject, gone)] if gone else func(ctx)
        except Skip as skip:
            results.append(RuleResult(check_id, check.stage, Outcome.SKIPPED, skip.reason))
            continue
        except Exception as exc:
            logger.exception("rule %s failed", check_id)
            reason = (
                f"the check itself failed ({type(exc).__name__}); this is a Launch Ready bug, not your site"
            )
            produced = [ctx.inconclusive(check_id, subject, reason)]
        if check.stage != Stage.DNS and ctx.facts.dns is not None:
            produced = [f for f in produced if _subject_hostname(f.subject) not in ctx.taken_over_hosts]
        findings.extend(produced)
        results.append(RuleResult(check_id, check.stage, _outcome(produced)))
    findings.sort(key=sort_key)
    return Evaluation(findings=findings, results=results)


def run_rules(facts: AuditFacts, now: datetime) -> list[FindingData]:
    """All findings for ``facts``, worst first."""
    return evaluate(facts, now).findings


def _outcome(findings: list[FindingData]) -> Outcome:
    # An info finding (dns.provider_inventory) reports a fact, it is not a failure.
    if any(f.status == Status.FAIL and f.severity != Severity.INFO for f in findings):
        return Outcome.FAIL
    if any(f.status == Status.INCONCLUSIVE for f in findings):
        return Outcome.INCONCLUSIVE
    return Outcome.PASS


def _lines(evidence: str | Iterable[str]) -> str:
    if isinstance(evidence, str):
        return evidence
    return "\n".join(line for line in evidence if line)


def _subject_hostname(subject: str) -> str:
    """The host name in a finding's subject: the subject itself, or the host of its URL
    ("product https://www.example.com/p" → "www.example.com")."""
    words = subject.split()
    last = words[-1] if words else ""
    return host_of(last) if "://" in last else last.lower()
