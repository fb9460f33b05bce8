"""Kept pages (launchready.pagecache) and kept API lists show what the check loop, the ping
endpoint and the outbox's workers change with ``queryset.update()`` (no signal) at once,
not a minute later; and a busy workspace's pings do not throw its other kept pages away.

Each test keeps a page through the real test client and cache (``kept`` proves it is served
from the cache), makes the change as the worker or endpoint really makes it, then reads the
page again."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from monitoring import engine, outbox
from monitoring.checks.specs import CheckOutcome
from monitoring.messages import ack_token
from monitoring.models import AlertChannel, ApiToken, EscalationContact, Incident, Monitor, Notification

pytestmark = pytest.mark.django_db

SECRET = "k" * 32  # the browser's CSRF cookie: pages are kept only for a browser that has one


def browser(client_as, user) -> Client:
    client = client_as(user)
    client.cookies["csrftoken"] = SECRET
    return client


def fetch(client: Client, url: str, **headers) -> tuple[str, int]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, **headers)
    assert response.status_code == 200, url
    return response.content.decode(), len(ctx)


def kept(client: Client, url: str, **headers) -> str:
    """The page, drawn once and then served from the cache (far fewer queries)."""
    drawn, drawing = fetch(client, url, **headers)
    again, serving = fetch(client, url, **headers)
    assert again == drawn and serving < drawing, f"{url} is not kept"
    return again


def is_kept(client: Client, url: str, **headers) -> bool:
    """Whether the next read is a hit (as few queries as a hit of the same page)."""
    _, first = fetch(client, url, **headers)
    _, second = fetch(client, url, **headers)
    return first == second


def get(client: Client, url: str, **headers) -> str:
    return fetch(client, url, **headers)[0]


def monitor_url(monitor: Monitor) -> str:
    return reverse(
        "monitoring:monitor_detail", kwargs={"workspace": monitor.workspace.uuid, "monitor": monitor.uuid}
    )


def incident_url(incident: Incident) -> str:
    return reverse(
        "monitoring:incident", kwargs={"workspace": incident.workspace.uuid, "incident": incident.uuid}
    )


def overview_url(workspace) -> str:
    return reverse("monitoring:overview", kwargs={"workspace": workspace.uuid})


def recent_pings(page: str) -> list[str]:
    section = re.search(r'<h2 id="ping-h">Recent pings</h2>(.*?)</section>', page, re.S)
    return re.findall(r"— (\w+)</li>", section.group(1)) if section else []


@pytest.fixture
def heartbeat(workspace) -> Monitor:
    return Monitor.objects.create(workspace=workspace, kind="heartbeat", name="Nightly backup", period_s=3600)


@pytest.fixture
def token(workspace) -> str:
    return ApiToken.issue(workspace, "CI", read_only=True)[1]


def api(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def as_listed(when) -> str:
    """A time as the API writes it (milliseconds, UTC as ``Z``)."""
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def ping(client: Client, monitor: Monitor, kind: str = "") -> None:
    """A job pinging its heartbeat, as it really does: the public ping URL."""
    assert client.get(f"/ping/{monitor.uuid}" + (f"/{kind}" if kind else "")).status_code == 200


# ----------------------------------------------------------------------------- heartbeat pings


def test_a_ping_shows_on_the_heartbeats_page_at_once(client, client_as, owner, heartbeat):
    """The founder pings a job that is already up (no change of state) and reloads its page."""
    ping(client, heartbeat)  # unknown to up
    page = browser(client_as, owner)
    assert recent_pings(kept(page, monitor_url(heartbeat))) == ["Success"]
    ping(client, heartbeat)
    assert recent_pings(get(page, monitor_url(heartbeat))) == ["Success", "Success"]


def test_start_and_fail_pings_show_on_the_heartbeats_page_at_once(client, client_as, owner, heartbeat):
    ping(client, heartbeat, "fail")  # unknown to down
    page = browser(client_as, owner)
    kept(page, monitor_url(heartbeat))
    ping(client, heartbeat, "start")
    assert recent_pings(get(page, monitor_url(heartbeat))) == ["Start", "Fail"]
    ping(client, heartbeat, "fail")  # down already: no change of state
    assert recent_pings(get(page, monitor_url(heartbeat))) == ["Fail", "Start", "Fail"]


def test_a_ping_shows_in_the_heartbeats_api_at_once(client, heartbeat, token):
    ping(client, heartbeat)  # unknown to up
    first = kept(client, "/api/v1/heartbeats", **api(token))
    ping(client, heartbeat, "start")
    started = get(client, "/api/v1/heartbeats", **api(token))
    heartbeat.refresh_from_db()
    assert started != first and as_listed(heartbeat.last_start_at) in started
    ping(client, heartbeat)
    pinged = get(client, "/api/v1/heartbeats", **api(token))
    heartbeat.refresh_from_db()
    assert as_listed(heartbeat.last_ping_at) in pinged


def test_a_ping_after_a_quiet_while_shows_on_the_monitoring_overview_at_once(
    client, client_as, owner, workspace, heartbeat
):
    """The overview says how long ago each heartbeat pinged, in minutes."""
    ping(client, heartbeat)
    Monitor.objects.filter(pk=heartbeat.pk).update(last_ping_at=timezone.now() - timedelta(hours=2))
    page = browser(client_as, owner)
    assert "2\xa0hours ago" in kept(page, overview_url(workspace))
    ping(client, heartbeat)
    assert "0\xa0minutes ago" in get(page, overview_url(workspace))


def test_pings_leave_the_workspaces_other_kept_pages_kept(
    client, client_as, owner, workspace, site, heartbeat, token
):
    """A busy workspace's heartbeats ping all the time: each ping drops only what shows it."""
    ping(client, heartbeat)
    page = browser(client_as, owner)
    others = [
        reverse("workspace_overview", kwargs={"workspace": workspace.uuid}),
        reverse("site_detail", kwargs={"workspace": workspace.uuid, "site": site.uuid}),
        reverse("site_list", kwargs={"workspace": workspace.uuid}),
        monitor_url(Monitor.objects.filter(site=site).first()),
    ]
    for url in [*others, overview_url(workspace)]:
        kept(page, url)
    kept(client, "/api/v1/monitors", **api(token))
    ping(client, heartbeat)  # within a minute of the last: the overview still says "0 minutes ago"
    ping(client, heartbeat, "start")
    for url in [*others, overview_url(workspace)]:
        assert is_kept(page, url), url
    assert is_kept(client, "/api/v1/monitors", **api(token))


# ----------------------------------------------------------------------------- the check loop


@pytest.mark.parametrize("state", ["down", "unknown"])
def test_a_check_that_could_not_run_shows_on_the_monitors_page_at_once(client_as, owner, http_monitor, state):
    """No change of state (a down monitor stays down, an unknown one unknown): only the message."""
    now = timezone.now()
    if state == "down":
        engine.apply_outcomes([CheckOutcome(http_monitor.pk, False, now, "Status 502.")] * 2)
    http_monitor.refresh_from_db()
    assert http_monitor.state == state
    page = browser(client_as, owner)
    assert "could not run" not in kept(page, monitor_url(http_monitor))
    # A result the database refuses (a negative latency breaks its CHECK constraint): the
    # batch writes the monitor on its own, then marks its check as one that could not run.
    applied = engine.apply_outcomes(
        [CheckOutcome(http_monitor.pk, True, now + timedelta(minutes=1), "Status 200.", latency_ms=-5)]
    )
    assert applied.could_not_run == [http_monitor.pk]
    assert "This check could not run because of a problem on our side" in get(page, monitor_url(http_monitor))


# ----------------------------------------------------------------------------- the outbox


@pytest.fixture
def incident(http_monitor) -> Incident:
    return Incident.objects.create(
        monitor=http_monitor,
        workspace=http_monitor.workspace,
        started_at=timezone.now(),
        cause="Status 502.",
        notified=True,
    )


def alerts(page: str) -> list[str]:
    section = re.search(r'<h2 id="n-h">Alerts sent</h2>(.*?)</section>', page, re.S)
    return re.findall(r"<li>(.*?)</li>", section.group(1), re.S)


def alert(incident: Incident, channel: AlertChannel) -> Notification:
    return Notification.objects.create(
        workspace=incident.workspace, incident=incident, channel=channel, event=Notification.Event.OPENED
    )


def test_an_alert_claimed_and_sent_shows_on_the_incident_page_at_once(
    client_as, owner, incident, email_channel
):
    n = alert(incident, email_channel)
    page = browser(client_as, owner)
    assert alerts(kept(page, incident_url(incident))) == ["Incident opened → Email: Ops mail: Pending"]
    assert outbox.claim(n.pk) is not None  # the worker took it; the mail server is slow
    assert alerts(get(page, incident_url(incident))) == ["Incident opened → Email: Ops mail: Sending"]
    Notification.objects.filter(pk=n.pk).update(status=Notification.Status.PENDING, claimed_until=None)
    assert outbox.send(n.pk)
    assert alerts(get(page, incident_url(incident))) == ["Incident opened → Email: Ops mail: Sent"]


def test_an_alert_to_a_disabled_channel_shows_as_failed_at_once(client_as, owner, incident, email_channel):
    n = alert(incident, email_channel)
    AlertChannel.objects.filter(pk=email_channel.pk).update(disabled_at=timezone.now())
    page = browser(client_as, owner)
    kept(page, incident_url(incident))
    assert outbox.send(n.pk) is False
    assert alerts(get(page, incident_url(incident))) == [
        "Incident opened → Email: Ops mail: Failed (The channel is disabled.)"
    ]


def test_an_alert_that_could_not_be_sent_shows_as_failed_at_once(client_as, owner, workspace, incident):
    broken = AlertChannel.objects.create(
        workspace=workspace, kind="email", name="Broken", secret="not-a-token"
    )
    n = alert(incident, broken)
    page = browser(client_as, owner)
    kept(page, incident_url(incident))
    assert outbox.send(n.pk) is False
    assert alerts(get(page, incident_url(incident))) == [
        f"Incident opened → Email: Broken: Failed ({outbox.NOT_SENT})"
    ]


class RefusingBackend:
    """A mail server that refuses every recipient: the channel is at fault and is disabled."""

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        import smtplib

        raise smtplib.SMTPRecipientsRefused({m.to[0]: (550, b"No such user") for m in messages})


def test_a_channel_disabled_by_a_failed_alert_shows_on_the_overview_at_once(
    client_as, owner, workspace, incident, email_channel, settings
):
    n = alert(incident, email_channel)
    page = browser(client_as, owner)
    assert "channel-disabled" not in kept(page, overview_url(workspace))
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    assert outbox.send(n.pk) is False
    assert "disabled: The mail server refused the recipient address." in get(page, overview_url(workspace))


def test_an_escalation_shows_on_the_incident_page_at_once(
    client_as, owner, workspace, http_monitor, settings
):
    settings.MONITORING_ESCALATE_AFTER_MINUTES = 10
    EscalationContact.objects.create(workspace=workspace, position=1, name="Dana", email="dana@example.com")
    incident = Incident.objects.create(
        monitor=http_monitor,
        workspace=workspace,
        started_at=timezone.now() - timedelta(minutes=11),
        cause="Status 502.",
        notified=True,
    )
    page = browser(client_as, owner)
    assert alerts(kept(page, incident_url(incident))) == []
    assert len(outbox.escalate()) == 1
    assert alerts(get(page, incident_url(incident))) == ["Incident escalated → Dana: Pending"]


def test_an_incident_acknowledged_from_the_alerts_link_shows_at_once(
    client, client_as, owner, workspace, incident, token
):
    """The signed link in an alert email, opened in a browser that is not logged in."""
    page = browser(client_as, owner)
    assert "<dt>Acknowledged</dt><dd>not yet</dd>" in kept(page, incident_url(incident))
    assert "· acknowledged" not in kept(page, overview_url(workspace))
    assert kept(client, "/api/v1/incidents", **api(token)).count('"acknowledged_at": null') == 1
    ack = reverse("monitoring_ack", kwargs={"token": ack_token(incident.uuid)})
    assert client.post(ack).status_code == 200
    assert "<dt>Acknowledged</dt><dd>not yet</dd>" not in get(page, incident_url(incident))
    assert "· acknowledged" in get(page, overview_url(workspace))
    assert '"acknowledged_at": null' not in get(client, "/api/v1/incidents", **api(token))
    assert not mail.outbox


# ----------------------------------------------------------------------------- the versions


def test_a_pings_bumps_happen_again_when_its_transaction_commits(
    workspace, heartbeat, django_capture_on_commit_callbacks
):
    """A page drawn between the ping's update and its commit read the old row."""
    from django.db import transaction

    from launchready import fragments
    from monitoring import runner

    keys = [
        fragments.monitor_version_key(heartbeat.uuid),
        fragments.pings_version_key(workspace.pk),
        fragments.ping_ages_version_key(workspace.pk),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            runner.record_ping(heartbeat, "success")
            during = fragments.page_versions([workspace.pk], 0, keys)
    after = fragments.page_versions([workspace.pk], 0, keys)
    assert [a - b for a, b in zip(after[-3:], during[-3:], strict=True)] == [1, 1, 1]


def test_a_monitors_version_is_forgotten_after_a_while(workspace, monkeypatch):
    """A member asking for made-up monitor ids leaves no version behind for long (a day; a
    second here); the workspace's own version stays."""
    import time
    import uuid

    from django.core.cache import cache

    from launchready import fragments

    monkeypatch.setattr(fragments, "MONITOR_VERSION_TTL", 1)
    made_up = fragments.monitor_version_key(uuid.uuid4())
    first = fragments.page_versions([workspace.pk], 0, [made_up])
    assert cache.get(made_up) == first[-1]
    time.sleep(1.5)
    assert cache.get(made_up) is None
    assert cache.get(f"fragments:workspace:{workspace.pk}") == first[0]
    assert fragments.page_versions([workspace.pk], 0, [made_up])[-1] > first[-1]  # from the clock again
