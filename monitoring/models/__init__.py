"""Monitoring models: monitors and their results, incidents, alert channels and the outbox."""

from .alerts import AlertChannel, ApiToken, EscalationContact, Notification
from .bars import UptimeBar
from .monitors import (
    AlertSeverity,
    CheckResult,
    ClosedDay,
    DailyRollup,
    HeartbeatPing,
    HourlyRollup,
    Incident,
    MaintenanceWindow,
    Monitor,
    StatusPage,
)

__all__ = [
    "AlertChannel",
    "ApiToken",
    "CheckResult",
    "ClosedDay",
    "DailyRollup",
    "EscalationContact",
    "HeartbeatPing",
    "HourlyRollup",
    "Incident",
    "MaintenanceWindow",
    "Monitor",
    "Notification",
    "AlertSeverity",
    "StatusPage",
    "UptimeBar",
]
