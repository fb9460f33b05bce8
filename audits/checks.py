"""The check catalogue: every check id of CHECKS.md with its stage, default severity,
a founder-readable title, the business impact and generic fix steps; and the words the
product uses for each stage and verdict.

The texts live in ``audits/data/checks.toml`` (data, not code); this module loads them
once into the one registry, ``CATALOGUE``. Rules refer to checks by id only. A test
keeps the registry identical to the public contract in CHECKS.md.
"""

from __future__ import annotations

import enum
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

DATA_FILE = Path(__file__).parent / "data" / "checks.toml"


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

    def fix_for(self, providers: list[str]) -> str:
        """The fix for the first detected provider that has specific steps, else the generic one."""
        for slug in providers:
            if slug and slug in self.provider_fix:
                return self.provider_fix[slug]
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
        )
    return catalogue


CATALOGUE: dict[str, Check] = _load()


def get_check(check_id: str) -> Check:
    """The catalogue entry; ``KeyError`` for an unknown id (a typo must fail loudly)."""
    return CATALOGUE[check_id]


def checks_for_stage(stage: Stage | str) -> list[Check]:
    return [c for c in CATALOGUE.values() if c.stage == Stage(stage)]
