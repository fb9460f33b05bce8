"""Which channels hear about which severity. Pure.

Critical (homepage or checkout down, a certificate within 7 days of expiry, a new
audit blocker) goes everywhere including SMS; a warning goes to email, Slack and
webhooks; info goes to no channel: the weekly report (reports/content.py) lists the week's
info incidents under "For your information".
"""

from __future__ import annotations

CRITICAL, WARNING, INFO = "critical", "warning", "info"

ROUTES: dict[str, frozenset[str]] = {
    CRITICAL: frozenset({"email", "slack", "sms", "webhook"}),
    WARNING: frozenset({"email", "slack", "webhook"}),
    INFO: frozenset(),
}


def channel_kinds_for(severity: str) -> frozenset[str]:
    return ROUTES.get(severity, ROUTES[WARNING])


def wants(channel_kind: str, severity: str) -> bool:
    return channel_kind in channel_kinds_for(severity)
