"""The readable report: Markdown, used by the CLI's text output and the web export.

Everything the audited site controls (the domain, subjects, evidence) goes through
``audits.markdown``: code spans and fenced blocks for what we saw, escaped inline text
elsewhere. Titles, impacts and fixes come from our catalogue and are written as Markdown.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from audits.checks import stage_label
from audits.findings import Finding
from audits.markdown import md_code, md_code_block, md_text
from audits.verdict import Report

EVIDENCE_LINES = 12  # more is cut, with a count of what was left out
# The item's text starts after "1. " / "- " plus "   - ": nested blocks are indented to it.
NESTED = "     "


def _finding_block(f: Finding, number: int | None = None) -> list[str]:
    head = f"{number}. " if number is not None else "- "
    lines = [f"{head}**[{f.severity}] {f.title}** — {md_code(f.check)} on {md_code(f.subject)}"]
    if f.impact:
        lines.append(f"   - Why it matters: {f.impact}")
    if f.evidence:
        evidence = f.evidence.strip().splitlines()
        if len(evidence) == 1:
            lines.append("   - What we saw: " + md_code(evidence[0]))
        else:
            lines.append("   - What we saw:")
            lines += md_code_block(evidence[:EVIDENCE_LINES], indent=NESTED)
            if len(evidence) > EVIDENCE_LINES:
                lines.append(f"{NESTED}… and {len(evidence) - EVIDENCE_LINES} more lines")
    if f.fix:
        fix = f.fix.strip().splitlines()
        lines.append("   - How to fix: " + fix[0])
        lines += [f"     {line}" for line in fix[1:]]
    return lines


def render_markdown(
    domain: str,
    report: Report,
    *,
    started_at: datetime | None = None,
    duration_ms: int | None = None,
    accepted: Iterable[Finding] = (),
) -> str:
    lines = [f"# Launch audit of {md_text(domain)}", ""]
    when = f" on {started_at:%Y-%m-%d %H:%M} UTC" if started_at else ""
    took = f" in {duration_ms / 1000:.1f} s" if duration_ms is not None else ""
    lines += [f"Verdict: **{report.verdict.line}**", "", f"Audited{when}{took}.", ""]
    counts = ", ".join(f"{n} {sev}" for sev, n in report.counts.items() if n and sev != "info")
    lines += [f"Failing checks: {counts or 'none'}.", ""]

    lines += ["## The 48-hour plan", ""]
    if report.plan:
        for number, f in enumerate(report.plan, 1):
            lines += _finding_block(f, number)
    else:
        lines.append("Nothing to fix before launch.")
    lines.append("")

    lines += ["## Deferred (fix after launch)", ""]
    if report.deferred:
        for f in report.deferred:
            lines += _finding_block(f)
    else:
        lines.append("Nothing deferred.")
    lines.append("")

    accepted = list(accepted)
    if accepted:
        lines += ["## Accepted risks", ""]
        for f in accepted:
            lines += _finding_block(f)
        lines.append("")

    if report.inconclusive:
        lines += ["## Could not be checked", ""]
        for f in report.inconclusive:
            reason = f.evidence.strip().splitlines()[0] if f.evidence.strip() else f.title
            lines.append(f"- {md_code(f.check)} on {md_code(f.subject)}: {md_code(reason)}")
        lines.append("")

    lines += ["## Progress by stage", ""]
    lines += ["| Stage | Passed | Failing | Could not check | Skipped |", "|---|---|---|---|---|"]
    for s in report.stages:
        name = stage_label(str(s.stage))
        lines.append(f"| {md_text(name)} | {s.passed} | {s.failing} | {s.inconclusive} | {s.skipped} |")
    lines.append("")
    if report.info:
        lines += ["## Good to know", ""]
        for f in report.info:
            lines.append(f"- {f.title}: {md_code('; '.join(f.evidence.strip().splitlines()))}")
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
