"""What the workspace has set up to watch the store (read from Launch Ready's own records).

Filled by the audit task, never by the CLI (which has no account): ``None`` on
``AuditFacts.monitoring_setup`` means "not known", and the inventory checks are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from audits.serialization import Serializable


@dataclass(frozen=True)
class MonitoringSetup(Serializable):
    monitored_urls: list[str] = field(default_factory=list)  # active HTTP monitors of the site
    verified_channels: list[str] = field(default_factory=list)  # "Slack: #ops"…, active and verified
    unverified_channels: list[str] = field(default_factory=list)  # added but never verified, or disabled
    escalation_contacts: list[str] = field(default_factory=list)
    heartbeats: list[str] = field(default_factory=list)  # heartbeat monitors (jobs, payment webhooks)
