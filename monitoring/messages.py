"""What an alert says: one typed message built from a notification, rendered per channel."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.urls import reverse

ACK_SALT = "monitoring.incident.ack"


def ack_token(incident_uuid) -> str:
    return signing.TimestampSigner(salt=ACK_SALT).sign(str(incident_uuid))


def read_ack_token(token: str, max_age_hours: int | None = None) -> str:
    """The incident UUID from a signed acknowledge link; raises ``signing.BadSignature`` (or expired)."""
    hours = max_age_hours if max_age_hours is not None else settings.MONITORING_ACK_LINK_MAX_AGE_HOURS
    return signing.TimestampSigner(salt=ACK_SALT).unsign(token, max_age=hours * 3600)


@dataclass(frozen=True)
class AlertMessage:
    event: str  # opened / resolved / escalated / test
    severity: str
    title: str  # one line: "DOWN: Checkout (shop.example) — Status 502"
    text: str  # a few plain lines
    monitor_name: str = ""
    target: str = ""
    cause: str = ""
    incident_uuid: str = ""
    started_at: str = ""
    ended_at: str = ""
    duration: str = ""
    url: str = ""  # the incident in the app
    ack_url: str = ""

    def as_payload(self) -> dict:
        return {
            "event": self.event,
            "severity": self.severity,
            "title": self.title,
            "text": self.text,
            "monitor": self.monitor_name,
            "target": self.target,
            "cause": self.cause,
            "incident": self.incident_uuid,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "duration": self.duration,
            "url": self.url,
            "ack_url": self.ack_url,
        }


def human_duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, s = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {s} s" if s else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def build_audit(notification) -> AlertMessage:
    """New blockers found by an audit run (a critical alert)."""
    run = notification.audit_run
    site = run.site
    blockers = list(run.findings.filter(change="new", severity="blocker", status="fail").order_by("id")[:5])
    url = settings.SITE_URL + reverse(
        "site_detail", kwargs={"workspace": site.workspace.uuid, "site": site.uuid}
    )
    first = blockers[0].title if blockers else "a new blocker"
    more = f" (+{len(blockers) - 1} more)" if len(blockers) > 1 else ""
    title = f"NEW BLOCKER on {site.domain}: {first}{more}"
    lines = [
        title,
        "The latest audit found problems that stop customers from buying or put the store at risk:",
    ]
    lines += [f"- {b.title} ({b.subject})" for b in blockers]
    lines.append(f"How to fix each one: {url}")
    return AlertMessage(
        event="audit",
        severity="critical",
        title=title,
        text="\n".join(lines),
        monitor_name=f"Launch audit of {site.domain}",
        target=site.domain,
        cause=first,
        started_at=run.created_at.isoformat(),
        url=url,
    )


def build(notification) -> AlertMessage:
    if notification.audit_run_id:
        return build_audit(notification)
    incident = notification.incident
    if incident is None:
        channel = notification.channel
        return AlertMessage(
            event="test",
            severity="info",
            title="Test alert from Launch Ready",
            text=f"This is a test of the channel “{channel.name if channel else ''}”. If you can read it, alerts will reach you here.",
        )
    monitor = incident.monitor
    base = settings.SITE_URL
    workspace = incident.workspace.uuid
    url = base + reverse("monitoring:incident", kwargs={"workspace": workspace, "incident": incident.uuid})
    ack_url = base + reverse("monitoring_ack", kwargs={"token": ack_token(incident.uuid)})
    event = notification.event
    resolved = event in ("resolved", "settled")
    if event == "settled":
        title = (
            f"RESOLVED: {monitor.name} is stable again after going up and down for "
            f"{human_duration(incident.duration.total_seconds())}"
        )
    elif resolved:
        title = (
            f"RESOLVED: {monitor.name} is back up after {human_duration(incident.duration.total_seconds())}"
        )
    elif event == "escalated" and notification.contact_id is None:
        title = f"FLAPPING: {monitor.name} keeps going up and down — {incident.cause}"
    elif event == "escalated":
        title = f"UNACKNOWLEDGED: {monitor.name} — {incident.cause}"
    else:
        title = f"DOWN: {monitor.name} — {incident.cause}"
    lines = [title, f"What: {monitor.target}", f"Since: {incident.started_at:%Y-%m-%d %H:%M} UTC"]
    if incident.ended_at:
        lines.append(f"Resolved: {incident.ended_at:%Y-%m-%d %H:%M} UTC")
    if not resolved:
        lines.append(f"Acknowledge: {ack_url}")
    lines.append(f"Details: {url}")
    return AlertMessage(
        event=event,
        severity=incident.severity,
        title=title,
        text="\n".join(lines),
        monitor_name=monitor.name,
        target=monitor.target,
        cause=incident.cause,
        incident_uuid=str(incident.uuid),
        started_at=incident.started_at.isoformat(),
        ended_at=incident.ended_at.isoformat() if incident.ended_at else "",
        duration=human_duration(incident.duration.total_seconds()),
        url=url,
        ack_url="" if resolved else ack_url,
    )
