"""The check catalogue: every check id of CHECKS.md with its stage, default severity,
a founder-readable title, the business impact and generic fix steps.

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
