"""What the workspace has set up to watch and deploy the store (read from Launch Ready's own records).

Filled by the audit task, never by the CLI (which has no account): ``None`` on
``AuditFacts.monitoring_setup`` or ``AuditFacts.deploy_records`` means "not known",
and the checks that read them are skipped with that reason, never passed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from audits.serialization import Serializable


@dataclass(frozen=True)
class MonitoringSetup(Serializable):
    monitored_urls: list[str] = field(default_factory=list)  # active HTTP monitors of the site
    verified_channels: list[str] = field(default_factory=list)  # "Slack: #ops"…, active and verified
    unverified_channels: list[str] = field(default_factory=list)  # added but never verified, or disabled
    escalation_contacts: list[str] = field(default_factory=list)
    heartbeats: list[str] = field(default_factory=list)  # heartbeat monitors (jobs, payment webhooks)


@dataclass(frozen=True)
class DeployRecords(Serializable):
    """The site's deploy hygiene records: env-var inventory and gate calls, deploys, rollbacks."""

    has_env_inventory: bool = False  # at least one variable recorded, any environment
    env_undocumented: list[str] = field(default_factory=list)  # required, without purpose or storage place
    env_gate_last_call: datetime | None = None
    has_deploys: bool = False  # a deploy reported through the deploy hook
    last_smoke_at: datetime | None = None
    last_smoke_passed: bool | None = None  # None: no smoke test has finished yet
    last_smoke_failures: list[str] = field(default_factory=list)  # "checkout: status 500"…
    last_rollback_at: datetime | None = None  # a rehearsal or a real (verified) rollback
    last_rollback_minutes: float | None = None
    last_rollback_kind: str = ""  # "rehearsal" or "real"
