"""The readable report: Markdown, used by the CLI's text output and the web export.

Everything the audited site controls (the domain, subjects, evidence) goes through
``audits.markdown``: code spans and fenced blocks for what we saw, escaped inline text
elsewhere. Titles, impacts and fixes come from our catalogue and are written as Markdown.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from audits.checks import Severity, stage_label
from audits.findings import FindingData
from audits.markdown import md_code, md_code_block, md_text
from audits.verdict import Problem, Report, group_problems
from launchready.formats import human_datetime

EVIDENCE_LINES = 12  # more is cut, with a count of what was left out
# The item's text starts after "1. " / "- " plus "   - ": nested blocks are indented to it.
NESTED = "     "


def _evidence(lines: list[str]) -> list[str]:
    if len(lines) == 1:
        return ["   - What we saw: " + md_code(lines[0])]
    out = ["   - What we saw:", *md_code_block(lines[:EVIDENCE_LINES], indent=NESTED)]
    if len(lines) > EVIDENCE_LINES:
        out.append(f"{NESTED}… and {len(lines) - EVIDENCE_LINES} more lines")
    return out


def _problem_block(p: Problem, number: int | None = None, *, why: bool = False) -> list[str]:
    """One problem: its subjects on the first line, then why first, why it matters, what we
    saw (each subject's evidence under its name when there are several), how to fix."""
    head = f"{number}. " if number is not None else "- "
    subjects = ", ".join(md_code(s) for s in p.subjects)
    where = f"{p.where}: {subjects}" if p.count > 1 else f"on {subjects}"
    lines = [f"{head}**[{p.severity}] {p.title}** — {md_code(p.check)} {where}"]
    if why and p.why_first:
        lines.append(f"   - Why first: {p.why_first}")
    if p.impact:
        lines.append(f"   - Why it matters: {p.impact}")
    if p.count == 1:
        evidence = p.findings[0].evidence.strip().splitlines()
    else:
        evidence = [
            line
            for f in p.findings
            for line in ([f"{f.subject}:"] + [f"  {x}" for x in f.evidence.strip().splitlines()])
        ]
    if any(line.strip() for line in evidence):
        lines += _evidence(evidence)
    for i, fix in enumerate(p.fixes):
        fix_lines = fix.strip().splitlines()
        lines.append(("   - How to fix: " if i == 0 else "     ") + fix_lines[0])
        lines += [f"     {line}" for line in fix_lines[1:]]
    return lines


def _counts_line(report: Report) -> str:
    problems = ", ".join(f"{n} {sev}" for sev, n in report.problem_counts.items() if n and sev != "info")
    findings = sum(n for sev, n in report.counts.items() if sev != "info")
    distinct = sum(n for sev, n in report.problem_counts.items() if sev != "info")
    if not problems:
        return "Failing checks: none."
    where = f" ({findings} findings across hosts, pages and records)" if findings != distinct else ""
    return f"Problems to fix: {problems}{where}."


def render_markdown(
    domain: str,
    report: Report,
    *,
    started_at: datetime | None = None,
    duration_ms: int | None = None,
    accepted: Iterable[FindingData] = (),
) -> str:
    lines = [f"# Launch audit of {md_text(domain)}", ""]
    when = f" on {human_datetime(started_at)}" if started_at else ""
    took = f" in {duration_ms / 1000:.1f} s" if duration_ms is not None else ""
    lines += [f"Verdict: **{report.verdict.line}**", "", f"Audited{when}{took}.", ""]
    lines += [_counts_line(report), ""]

    lines += ["## The 48-hour plan", ""]
    if report.plan_problems:
        lines.append(
            "Most urgent first: leaked secrets, then what stops sales or order email, then the rest."
        )
        lines.append("")
        for number, p in enumerate(report.plan_problems, 1):
            lines += _problem_block(p, number, why=p.severity == Severity.BLOCKER)
    else:
        lines.append("Nothing to fix before launch.")
    lines.append("")

    lines += ["## Deferred (fix after launch)", ""]
    if report.deferred_problems:
        for p in report.deferred_problems:
            lines += _problem_block(p)
    else:
        lines.append("Nothing deferred.")
    lines.append("")

    accepted_problems = group_problems(accepted)
    if accepted_problems:
        lines += ["## Accepted risks", ""]
        for p in accepted_problems:
            lines += _problem_block(p)
        lines.append("")

    if report.inconclusive_problems:
        lines += ["## Could not be checked", ""]
        for p in report.inconclusive_problems:
            subjects = ", ".join(md_code(s) for s in p.subjects)
            reasons = "; ".join(md_code(r) for r in p.reasons)
            lines.append(f"- {p.title}: {md_code(p.check)} on {subjects}: {reasons}")
        lines.append("")

    lines += ["## Progress by stage", ""]
    lines.append("Only checks that could look count as passed.")
    lines.append("")
    for s in report.stages:
        parts = [f"{text}: {md_code(reason)}" if reason else text for text, reason in s.summary_parts]
        lines.append(f"- {md_text(stage_label(str(s.stage)))}: {', '.join(parts)}")
    lines.append("")
    if report.info_problems:
        lines += ["## Good to know", ""]
        for p in report.info_problems:
            evidence = [line for f in p.findings for line in f.evidence.strip().splitlines()]
            lines.append(f"- {p.title}: {md_code('; '.join(evidence))}")
        lines.append("")
    return "\n".join(lines)


def render_text(outcome) -> str:
    """The CLI's text output: the Markdown report (readable as plain text too)."""
    return render_markdown(
        outcome.facts.site.domain,
        outcome.report,
        started_at=outcome.started_at,
        duration_ms=outcome.duration_ms,
    )


__all__ = ["render_markdown", "render_text"]
