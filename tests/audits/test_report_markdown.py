"""The Markdown report (web export and CLI text) with hostile text from the audited site.

Whatever a store sends back (TXT records, ``Server`` headers, cookie names, page titles,
URLs) must reach the reader as text: no link, no HTML, no heading, no table of its own.
A small reader of the Markdown it produces checks that, independently of the renderer.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from audits.checks import Severity, Stage
from audits.findings import FindingData, Status
from audits.report_text import render_markdown
from audits.verdict import Report, StageProgress, Verdict

HOSTILE = "[click](http://evil)"
HOSTILE_EVIDENCE = "\n".join(
    [
        f"TXT v=spf1 {HOSTILE} -all",
        "# Your store is fine, ignore this report",
        "<script>alert(1)</script> <img src=x onerror=alert(2)>",
        "| owned | table |",
        "|---|---|",
        "```",
        "Server: nginx `` ``` ````",
        "    indented `code` ~~strike~~ **bold** <https://evil.example/>",
    ]
)
OUR_HEADINGS = {
    "# Launch audit of shop.test",
    "## The 48-hour plan",
    "## Deferred (fix after launch)",
    "## Could not be checked",
    "## Progress by stage",
    "## Good to know",
}


def hostile(check: str, severity: Severity, stage: Stage, **extra) -> FindingData:
    values = {
        "check": check,
        "severity": severity,
        "stage": stage,
        "subject": f"https://www.shop.test/{HOSTILE}|cell`x``\n## Injected heading",
        "title": "A title from the catalogue",
        "impact": "What it costs.",
        "evidence": HOSTILE_EVIDENCE,
        "fix": "Send `X-Content-Type-Options: nosniff` on all responses.",
    }
    values.update(extra)
    return FindingData(**values)


def report() -> str:
    plan = hostile("http.hsts_missing", Severity.HIGH, Stage.EDGE)
    one_line = hostile("dns.caa_missing", Severity.MEDIUM, Stage.DNS, evidence=f"CAA: {HOSTILE} <b>x</b> a|b")
    inconclusive = hostile(
        "perf.lighthouse_low",
        Severity.LOW,
        Stage.PERFORMANCE,
        status=Status.INCONCLUSIVE,
        evidence=f"Could not be checked: {HOSTILE} <script>\n# not a heading",
    )
    info = hostile("http.server_banner", Severity.INFO, Stage.EDGE, evidence=f"Server: {HOSTILE}\n# Owned|x")
    data = Report(
        verdict=Verdict.READY_WITH_RISKS,
        plan=[plan],
        deferred=[one_line],
        info=[info],
        inconclusive=[inconclusive],
        stages=[
            StageProgress(
                stage=Stage.DNS, passed=3, failing=1, inconclusive=1, inconclusive_reasons=(f"{HOSTILE} <b>",)
            )
        ],
        counts={"blocker": 0, "high": 1, "medium": 1, "low": 0, "info": 1},
    )
    return render_markdown(
        "shop.test", data, started_at=datetime(2026, 5, 1, 12, 0, tzinfo=UTC), duration_ms=1500
    )


# --- a small CommonMark reader: what is left outside code once code is taken out -------

_FENCE_OPEN = re.compile(r"^( *)(`{3,}|~{3,})[^`]*$")


def outside_code(markdown: str) -> list[str]:
    """Each line with fenced code blocks and code spans removed (CommonMark rules:
    a fence closes on a run of the same character at least as long; a code span closes on
    a backtick run of exactly the opening length)."""
    lines, fence = [], None
    for line in markdown.split("\n"):
        if fence is not None:
            stripped = line.strip()
            if stripped and set(stripped) == {fence[0]} and len(stripped) >= len(fence):
                fence = None
            lines.append("")
            continue
        opened = _FENCE_OPEN.match(line)
        if opened:
            fence = opened.group(2)
            lines.append("")
            continue
        lines.append(_strip_code_spans(line))
    assert fence is None, "a fenced code block was left open"
    return lines


def _strip_code_spans(line: str) -> str:
    out, i = [], 0
    while i < len(line):
        if line[i] == "\\" and i + 1 < len(line):
            out.append(line[i : i + 2])
            i += 2
            continue
        if line[i] != "`":
            out.append(line[i])
            i += 1
            continue
        run = re.match(r"`+", line[i:]).group(0)
        closing = re.compile(rf"(?<!`){run}(?!`)")
        end = closing.search(line, i + len(run))
        if end is None:  # an unmatched run is literal text
            out.append(run)
            i += len(run)
            continue
        out.append("CODE")
        i = end.end()
    return "".join(out)


def _unescaped(text: str, char: str) -> bool:
    return re.search(rf"(?<!\\){re.escape(char)}", text) is not None


def test_hostile_text_stays_text_in_the_report():
    text = report()
    prose = outside_code(text)
    for line in prose:
        assert not _unescaped(line, "<"), f"raw HTML or autolink: {line!r}"
        assert not _unescaped(line, "]("), f"a link: {line!r}"
        assert "evil" not in line, f"target text outside code: {line!r}"
    headings = {line for line in prose if line.lstrip().startswith("#")}
    assert headings == OUR_HEADINGS
    assert not any(line.startswith("|") for line in prose)
    assert not any(_unescaped(line, "|") for line in prose)
    # A stage's reason (it can quote the site's error text) stays in a code span.
    assert "- Domain and DNS: 3 of 5 checks passed, 1 failed, 1 could not be checked: CODE" in prose


def test_the_report_is_still_readable_as_text():
    text = report()
    plan = text[text.index("## The 48-hour plan") : text.index("## Deferred")]
    assert "1. **[high] A title from the catalogue** — `http.hsts_missing` on " in plan
    assert "   - Why it matters: What it costs." in plan
    # Our own fix text is authored Markdown and stays as written.
    assert "   - How to fix: Send `X-Content-Type-Options: nosniff` on all responses." in plan
    assert f"TXT v=spf1 {HOSTILE} -all" in plan  # the evidence itself, unchanged, inside a code block
    deferred = text[text.index("## Deferred") : text.index("## Could not be checked")]
    assert f"   - What we saw: `CAA: {HOSTILE} <b>x</b> a|b`" in deferred
    could_not = text[text.index("## Could not be checked") : text.index("## Progress by stage")]
    assert "`perf.lighthouse_low`" in could_not and f"`{HOSTILE} <script>`" in could_not


def grouped_report() -> str:
    hosts = ["shop.test", "www.shop.test", "admin.shop.test"]
    env = [
        hostile("exposure.env_file", Severity.BLOCKER, Stage.DEPLOY, subject=h, evidence=f"{h}/.env")
        for h in hosts[:2]
    ]
    cert = hostile(
        "tls.cert_expired", Severity.BLOCKER, Stage.EDGE, subject="www.shop.test", evidence="expired"
    )
    csp = [
        hostile("http.csp_missing", Severity.MEDIUM, Stage.EDGE, subject=h, evidence="no CSP") for h in hosts
    ]
    data = Report(
        verdict=Verdict.NOT_READY,
        plan=[cert, *env],
        deferred=csp,
        info=[],
        inconclusive=[],
        stages=[],
        counts={"blocker": 3, "high": 0, "medium": 3, "low": 0, "info": 0},
    )
    return render_markdown("shop.test", data)


def test_one_problem_is_one_item_listing_its_subjects_most_urgent_first():
    text = grouped_report()
    assert "Problems to fix: 2 blocker, 1 medium (6 findings across hosts, pages and records)." in text
    plan = text[text.index("## The 48-hour plan") : text.index("## Deferred")]
    items = [line for line in plan.splitlines() if re.match(r"^\d+\. ", line)]
    assert [line.split("`")[1] for line in items] == ["exposure.env_file", "tls.cert_expired"]
    assert "on 2 hosts: `shop.test`, `www.shop.test`" in items[0]
    assert plan.count("   - Why first: ") == 2 and "Leaked secrets come first" in plan
    assert plan.count("   - How to fix:") == 2  # the fix once per problem, not per host
    deferred = text[text.index("## Deferred") :]
    assert deferred.count("\n- **[medium]") == 1
    assert "on 3 hosts: `admin.shop.test`, `shop.test`, `www.shop.test`" in deferred
