"""The check catalogue: every check id of CHECKS.md with its stage, default severity,
a founder-readable title, the business impact and generic fix steps; and the words the
product uses for each stage and verdict.

The texts live in ``audits/data/checks.toml`` (data, not code); this module loads them
once into the one registry, ``CATALOGUE``. Rules refer to checks by id only. A test
keeps the registry identical to the public contract in CHECKS.md, and the published
catalogue ``docs/CHECKS.md`` is generated from it: ``python -m audits.checks --markdown``.

Fix texts are templates: ``{domain}``, ``{canonical_host}``, ``{host}``… are filled with
the store's own names when a finding is built (``fill``), so a record example reads
``_dmarc.mystore.com``, never a placeholder. The ``[glossary]`` table explains jargon
in one line; ``gloss_line`` adds it once to each finding that uses a term.
"""

from __future__ import annotations

import argparse
import enum
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

DATA_FILE = Path(__file__).parent / "data" / "checks.toml"
PUBLISHED_FILE = Path(__file__).resolve().parents[1] / "docs" / "CHECKS.md"

# The names a fix text may use; the rule context fills every one of them.
TEMPLATE_FIELDS = frozenset({"domain", "domain_dashed", "canonical_host", "host", "subject"})
_TEMPLATE = re.compile(r"\{([a-z_]+)\}")


class Severity(enum.StrEnum):
    BLOCKER = "blocker"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        """0 for blocker … 4 for info: sort ascending to put the worst first."""
        return list(Severity).index(self)

    def at_least(self, other: Severity | str) -> bool:
        return self.rank <= Severity(other).rank


class Stage(enum.StrEnum):
    """The launch roadmap, in order."""

    AUDIT = "audit"
    DNS = "dns"
    EDGE = "edge"
    DEPLOY = "deploy"
    PERFORMANCE = "performance"
    EMAIL = "email"
    MONITORING = "monitoring"

    @property
    def rank(self) -> int:
        return list(Stage).index(self)

    @property
    def label(self) -> str:
        """The stage's name in the launch roadmap (DESIGN.md), as reports and pages show it."""
        return _STAGE_LABELS[self]


_STAGE_LABELS = {
    Stage.AUDIT: "Quick audit",
    Stage.DNS: "Domain and DNS",
    Stage.EDGE: "Edge and TLS",
    Stage.DEPLOY: "Deployment hygiene",
    Stage.PERFORMANCE: "Backend performance",
    Stage.EMAIL: "Email deliverability",
    Stage.MONITORING: "Monitoring and handover",
}


def stage_label(value: str) -> str:
    """The label of a stage given by its stored value; an unknown value is shown as it is
    (progress and facts saved by an older version may name a stage that no longer exists)."""
    try:
        return Stage(value).label
    except ValueError:
        return value


class Verdict(enum.StrEnum):
    """The launch verdict (CHECKS.md): any blocker, any high, or neither."""

    NOT_READY = "not_ready"
    READY_WITH_RISKS = "ready_with_risks"
    READY = "ready"

    @property
    def label(self) -> str:
        """The headline: "Ready, with risks"."""
        return _VERDICT_TEXTS[self][0]

    @property
    def explanation(self) -> str:
        """What to do about it, as a sentence."""
        return _VERDICT_TEXTS[self][1]

    @property
    def line(self) -> str:
        """One line for the text report: "READY WITH RISKS — you can launch; …"."""
        explanation = self.explanation
        return f"{self.value.replace('_', ' ').upper()} — {explanation[0].lower()}{explanation[1:]}"


_VERDICT_TEXTS = {
    Verdict.NOT_READY: ("Not ready", "Fix the blockers below before you spend on traffic."),
    Verdict.READY_WITH_RISKS: ("Ready, with risks", "You can launch; fix the high items within 48 hours."),
    Verdict.READY: ("Ready", "Nothing blocks the launch."),
}


@dataclass(frozen=True)
class Check:
    id: str
    stage: Stage
    severity: Severity  # the default; some rules raise or lower it (CHECKS.md)
    title: str
    impact: str
    fix: str
    # Provider-specific fix steps, keyed by provider slug ("cloudflare", "vercel"…).
    provider_fix: dict[str, str] = field(default_factory=dict)
    # Web-server-specific fix steps, keyed by server slug ("nginx", "apache", "caddy", "iis"…).
    server_fix: dict[str, str] = field(default_factory=dict)
    fails_when: str = ""  # the rule in one line, as the published catalogue shows it
    severity_detail: str = ""  # "blocker < 7 days, high < 30 days" where the rule moves the severity
    # Needs what a workspace records (alert channels, deploys…): a one-off CLI audit cannot look.
    needs_workspace: bool = False

    def fix_for(self, providers: Iterable[str], server: str | None = None) -> str:
        """The fix for the first detected provider (CDN, host) that has specific steps, else for
        the detected web server, else the generic one."""
        for slug in providers:
            if slug and slug in self.provider_fix:
                return self.provider_fix[slug]
        if server and server in self.server_fix:
            return self.server_fix[server]
        return self.fix


@cache
def _load() -> dict[str, Check]:
    raw = tomllib.loads(DATA_FILE.read_text(encoding="utf-8"))
    catalogue: dict[str, Check] = {}
    for check_id, entry in raw["checks"].items():
        catalogue[check_id] = Check(
            id=check_id,
            stage=Stage(entry["stage"]),
            severity=Severity(entry["severity"]),
            title=entry["title"].strip(),
            impact=entry["impact"].strip(),
            fix=entry["fix"].strip(),
            provider_fix={k: v.strip() for k, v in entry.get("provider_fix", {}).items()},
            server_fix={k: v.strip() for k, v in entry.get("server_fix", {}).items()},
            fails_when=entry.get("fails_when", "").strip(),
            severity_detail=entry.get("severity_detail", "").strip(),
            needs_workspace=bool(entry.get("needs_workspace", False)),
        )
    return catalogue


@cache
def glossary() -> dict[str, str]:
    """{term: one-line plain-words explanation}, from the ``[glossary]`` table."""
    raw = tomllib.loads(DATA_FILE.read_text(encoding="utf-8"))
    return {term: gloss.strip() for term, gloss in raw.get("glossary", {}).items()}


@cache
def _term_pattern(term: str) -> re.Pattern[str]:
    # Whole words only, and case as written: "SPF" is jargon, "v=spf1" is a record; "TLS" is
    # not glossed inside "TLS-RPT" nor "STS" inside "MTA-STS".
    return re.compile(rf"(?<![\w-]){re.escape(term)}(?![\w-])")


def glossed_terms(*texts: str) -> list[str]:
    """The glossary terms the texts use, in the glossary's order."""
    joined = "\n".join(texts)
    return [term for term in glossary() if _term_pattern(term).search(joined)]


def gloss_line(*texts: str) -> str:
    """One line explaining every glossary term the texts use ("" when none)."""
    terms = glossed_terms(*texts)
    if not terms:
        return ""
    return "In plain words: " + "; ".join(f"{term} is {glossary()[term]}" for term in terms) + "."


def fill(text: str, values: Mapping[str, str]) -> str:
    """Put the store's own names into a fix template (``{domain}`` → ``mystore.com``).
    Only known names are replaced: other braces (a JSON example) stay as written."""
    return _TEMPLATE.sub(
        lambda m: (
            values[m.group(1)] if m.group(1) in TEMPLATE_FIELDS and m.group(1) in values else m.group(0)
        ),
        text,
    )


CATALOGUE: dict[str, Check] = _load()


def get_check(check_id: str) -> Check:
    """The catalogue entry; ``KeyError`` for an unknown id (a typo must fail loudly)."""
    return CATALOGUE[check_id]


def checks_for_stage(stage: Stage | str) -> list[Check]:
    return [c for c in CATALOGUE.values() if c.stage == Stage(stage)]


def template_values(
    domain: str, canonical_host: str = "", host: str = "", subject: str = ""
) -> dict[str, str]:
    """The values of every ``TEMPLATE_FIELDS`` name for one finding."""
    canonical_host = canonical_host or domain
    return {
        "domain": domain,
        "domain_dashed": domain.replace(".", "-"),
        "canonical_host": canonical_host,
        "host": host or canonical_host,
        "subject": subject or host or canonical_host,
    }


# --- The published catalogue (docs/CHECKS.md) ------------------------------------------

_INTRO = """\
# The check catalogue

Generated from `audits/data/checks.toml` by `python -m audits.checks --markdown`; do not
edit by hand (a test fails when this file is stale).

Every finding Launch Ready reports carries one of these stable check ids. The ids are a
public contract: the JSON output of `manage.py audit`, the API, the weekly report and the
tests all use them. New checks are added; an id is never renamed or reused.

Severities, highest first: `blocker` (do not launch / fix now), `high` (fix within the
48-hour sprint), `medium` (deferred, fix after launch), `low`, `info` (a fact worth
knowing, no action). A run's verdict: `not_ready` if any blocker, `ready_with_risks` if
any high, else `ready`. Blocker + high make the 48-hour plan; medium + low make the
deferred list.

A check that could not be evaluated (timeout, the scanner was blocked by a firewall, rate
limit) reports status `inconclusive` with the reason, never a false failure and never a
silent pass. Checks marked *workspace* read what the workspace records (alert channels,
escalation contacts, heartbeats, deploys): the web app runs them; a one-off CLI audit
cannot, and says how many it left out.

Each finding: `check`, `severity`, `stage`, `subject` (host, route or record it is about),
`title` (one line a founder understands), `impact` (the business risk), `evidence` (what
was observed), `fix` (concrete steps, written for the provider or web server detected:
Cloudflare, Vercel, Netlify, Shopify, nginx, Apache, Caddy, IIS…, with the store's own
domain in every record example). Jargon is explained in one line where it appears (see
the glossary at the end).
"""


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def render_markdown() -> str:
    """The published catalogue: one table per stage, then the glossary."""
    lines = [_INTRO]
    for stage in Stage:
        checks = checks_for_stage(stage)
        if not checks:
            continue
        lines += [f"## {stage}: {stage.label}", "", "| id | default severity | fails when | title |"]
        lines.append("|---|---|---|---|")
        for c in checks:
            severity = c.severity_detail or str(c.severity)
            when = c.fails_when or c.title
            if c.needs_workspace:
                when += " *(workspace)*"
            lines.append(f"| {c.id} | {_cell(severity)} | {_cell(when)} | {_cell(c.title)} |")
        lines.append("")
    lines += ["## Glossary", "", "| term | in plain words |", "|---|---|"]
    lines += [f"| {_cell(term)} | {_cell(gloss)} |" for term, gloss in glossary().items()]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m audits.checks", description=__doc__.split("\n")[0])
    parser.add_argument("--markdown", action="store_true", help="print the catalogue as Markdown")
    parser.add_argument("--write", action="store_true", help=f"write it to {PUBLISHED_FILE.name} in docs/")
    args = parser.parse_args(argv)
    text = render_markdown()
    if args.write:
        PUBLISHED_FILE.parent.mkdir(exist_ok=True)
        PUBLISHED_FILE.write_text(text, encoding="utf-8")
    elif args.markdown:
        print(text, end="")
    else:
        parser.print_help()


if __name__ == "__main__":
    main()
