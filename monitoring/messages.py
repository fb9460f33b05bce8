"""What an alert says: one typed message built from a notification, rendered per channel."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from launchready.formats import human_datetime

from . import correlation

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
    impact: str = ""  # why it costs money, in a founder's words
    action: str = ""  # what to do now

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
            "impact": self.impact,
            "action": self.action,
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


# What a broken monitor costs and what to do first, by what it watches. A founder reads
# these at 3 a.m.: plain words, no jargon, one concrete first step.
_ROUTE_IMPACT = {
    "checkout": (
        "Customers cannot pay: every minute this lasts is lost orders, while ads keep spending.",
        "Place a test order yourself, check your payment provider's status page and undo your latest change if it started after a deploy.",
    ),
    "order": (
        "Customers cannot complete an order: every minute this lasts is lost sales.",
        "Place a test order yourself and undo your latest change if it started after a deploy.",
    ),
    "cart": (
        "Customers cannot add products to their cart, so they cannot buy.",
        "Add a product to the cart yourself and undo your latest change if it started after a deploy.",
    ),
    "login": (
        "Returning customers cannot log in to buy again or follow their orders.",
        "Try logging in yourself and check your login provider or your latest change.",
    ),
}
_KIND_IMPACT = {
    "http": (
        "Visitors cannot use this page: every minute it is down is lost visits and sales, and paid ads keep sending people to it.",
        "Open the address yourself; if it fails, check your host's status page and undo your latest change if it started after a deploy.",
    ),
    "tls_expiry": (
        "When the certificate expires, browsers show a full-page security warning and most visitors leave without buying.",
        "Renew the certificate with your host (or find out why automatic renewal failed) before the date above.",
    ),
    "domain_expiry": (
        "When the domain expires, the store, its email and its payment notifications stop working, and someone else can register the name.",
        "Renew the domain at your registrar now and turn on automatic renewal.",
    ),
    "dns": (
        "A DNS change you did not make can send customers, orders or email to the wrong place.",
        "If nobody on your team made this change, log in to your DNS provider, undo it and change the password.",
    ),
    "heartbeat": (
        "A background job stopped reporting in: orders, payments or emails it handles may be piling up unprocessed.",
        "Check the job's logs and the server it runs on; it pings this monitor each time it succeeds.",
    ),
}
_HOME_IMPACT = (
    "Your store's homepage is unreachable: nobody can shop, and every ad click is paid for nothing.",
    "Open the homepage yourself; if it fails, check your host's status page and undo your latest change if it started after a deploy.",
)
_RESOLVED = (
    "Customers can use it again; the outage above is the time they could not.",
    "Nothing urgent. Open the details to see what caused it and how to keep it from happening again.",
)


def impact_and_action(kind: str, auto_key: str, event: str) -> tuple[str, str]:
    """Why this incident costs money and what to do, for a monitor of ``kind``."""
    if event in ("resolved", "settled"):
        return _RESOLVED
    if auto_key == "home":
        return _HOME_IMPACT
    route = auto_key.removeprefix("route:") if auto_key.startswith("route:") else ""
    return _ROUTE_IMPACT.get(route) or _KIND_IMPACT.get(kind, _KIND_IMPACT["http"])


def _outage(incident, parts) -> str:
    """How long the incident lasted: from its start until its last monitor recovered."""
    ends = [i.ended_at for i in [incident, *parts]]
    end = max(ends) if all(ends) else timezone.now()
    return human_duration((end - incident.started_at).total_seconds())


def _part_span(part, tz: str) -> str:
    if part.ended_at is None:
        return f"down since {human_datetime(part.started_at, tz)}"
    return f"down {human_duration((part.ended_at - part.started_at).total_seconds())}, recovered"


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


def build_deploy(notification) -> AlertMessage:
    """A deploy whose smoke test failed (a critical alert): what failed and what to roll back to."""
    deploy = notification.deploy
    site = deploy.site
    failures = [
        f"{r.route_name}: {r.reason}" for r in deploy.smoke_results.filter(passed=False).order_by("id")
    ]
    if deploy.smoke_error:
        failures.append(deploy.smoke_error)
    good = (
        site.deploys.filter(environment=deploy.environment, state="passed")
        .exclude(pk=deploy.pk)
        .order_by("-created_at")
        .first()
    )
    url = settings.SITE_URL + reverse(
        "deploy_detail", kwargs={"workspace": site.workspace.uuid, "site": site.uuid, "deploy": deploy.uuid}
    )
    first = failures[0] if failures else "the smoke test failed"
    more = f" (+{len(failures) - 1} more)" if len(failures) > 1 else ""
    title = f"DEPLOY FAILED: {deploy.version} to {deploy.environment} on {site.domain} — {first}{more}"
    impact = "The smoke test after this deploy failed on a critical route: customers may not be able to browse or buy right now."
    if good:
        action = f"Roll back to {good.version}, the last version whose smoke test passed, then find out what broke."
    else:
        action = "Undo this deploy with your host's rollback, then find out what broke."
    lines = [title, f"Why it matters: {impact}", f"What to do: {action}", "What failed:"]
    lines += [f"- {f}" for f in failures[:10]]
    lines.append(f"Details: {url}")
    return AlertMessage(
        event="deploy",
        severity="critical",
        title=title,
        text="\n".join(lines),
        monitor_name=f"Deploy smoke test of {site.domain}",
        target=site.domain,
        cause=first,
        started_at=deploy.created_at.isoformat(),
        url=url,
        impact=impact,
        action=action,
    )


def build(notification) -> AlertMessage:
    if notification.audit_run_id:
        return build_audit(notification)
    if notification.deploy_id:
        return build_deploy(notification)
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
    tz = incident.workspace.timezone  # the founder's clock, named in each time
    url = base + reverse("monitoring:incident", kwargs={"workspace": workspace, "incident": incident.uuid})
    ack_url = base + reverse("monitoring_ack", kwargs={"token": ack_token(incident.uuid)})
    event = notification.event
    resolved = event in ("resolved", "settled")
    parts = list(incident.parts.select_related("monitor").order_by("started_at", "pk"))
    # Several monitors, one cause: the alert names the cause (which lists them), not one monitor.
    who = correlation.headline(incident.cause_key) if parts and incident.cause_key else monitor.name
    count = len({monitor.pk, *(p.monitor_id for p in parts)})
    back = f"all {count} monitors are back up" if parts else "is back up"
    if event == "settled":
        title = (
            f"RESOLVED: {who} is stable again after going up and down for "
            f"{human_duration(incident.duration.total_seconds())}"
        )
    elif resolved:
        title = f"RESOLVED: {who}{' —' if parts else ''} {back} after {_outage(incident, parts)}"
    elif parts and incident.cause_key:
        # The cause already lists the monitors: "Certificate of … expired: Homepage and Cart are down."
        if event != "escalated":
            title = f"DOWN: {incident.cause}"
        else:
            title = f"{'UNACKNOWLEDGED' if notification.contact_id else 'FLAPPING'}: {incident.cause}"
    elif event == "escalated" and notification.contact_id is None:
        title = f"FLAPPING: {monitor.name} keeps going up and down — {incident.cause}"
    elif event == "escalated":
        title = f"UNACKNOWLEDGED: {monitor.name} — {incident.cause}"
    else:
        title = f"DOWN: {monitor.name} — {incident.cause}"
    impact, action = impact_and_action(monitor.kind, monitor.auto_key, event)
    if not resolved and incident.cause_key and correlation.impact_and_action(incident.cause_key):
        impact, action = correlation.impact_and_action(incident.cause_key)
    lines = [
        title,
        f"Why it matters: {impact}",
        f"What to do: {action}",
        f"What: {monitor.target}",
        f"Since: {human_datetime(incident.started_at, tz)}",
    ]
    if parts:
        lines.append("Affected monitors:")
        lines += [f"- {i.monitor.name}: {_part_span(i, tz)}" for i in [incident, *parts]]
    if incident.ended_at and not parts:
        lines.append(f"Resolved: {human_datetime(incident.ended_at, tz)}")
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
        impact=impact,
        action=action,
    )
