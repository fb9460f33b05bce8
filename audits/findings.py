"""FindingData: what a rule reports, with exactly the JSON keys of the audit CLI contract
(DESIGN.md): check, severity, stage, subject, title, impact, evidence, fix, status.
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass
from typing import Any, Self

from audits.checks import Severity, Stage


class Status(enum.StrEnum):
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"


@dataclass(frozen=True)
class FindingData:
    check: str
    severity: Severity
    stage: Stage
    subject: str  # the host, route, URL or record it is about
    title: str
    impact: str
    evidence: str  # what was observed, one item per line
    fix: str
    status: Status = Status.FAIL

    @property
    def key(self) -> tuple[str, str]:
        """Identity across runs: the same check on the same subject is the same finding."""
        return (self.check, self.subject)

    @property
    def is_fail(self) -> bool:
        return self.status == Status.FAIL

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("severity", "stage", "status"):
            data[key] = str(data[key])
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        return cls(
            check=data["check"],
            severity=Severity(data["severity"]),
            stage=Stage(data["stage"]),
            subject=data["subject"],
            title=data["title"],
            impact=data["impact"],
            evidence=data["evidence"],
            fix=data["fix"],
            status=Status(data.get("status", Status.FAIL)),
        )
