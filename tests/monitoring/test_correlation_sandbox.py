"""One cause, one incident: monitors failing for one reason share an incident (real checks, sandbox)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from monitoring import outbox, runner
from monitoring.models import AlertChannel, EscalationContact, Incident, Monitor, Notification
from monitoring.scheduler import Claim

pytestmark = [pytest.mark.sandbox, pytest.mark.django_db]

SCENARIO = {
    "name": "correlation",
    # "gone" resolves to an address where nothing listens: the connection is refused.
    "zones": {"mystore.test": {"records": [{"name": "gone", "type": "A", "value": "127.77.9.200"}]}},
    "hosts": [
        {
            "name": "www.mystore.test",
            "cert": "expired",
            "routes": [{"path": "/"}, {"path": "/cart"}, {"path": "/checkout"}, {"path": "/login"}],
        },
        {
            "name": "api.mystore.test",
            "routes": [
                {"path": "/"},
                {"path": "/broken", "status": 502, "body": "Bad gateway"},
                {"path": "/pay", "status": 503, "body": "Payment service unavailable"},
            ],
        },
    ],
}
STEP = timedelta(minutes=15)


@pytest.fixture(scope="module")
def sb(sandbox_scenario):
    return sandbox_scenario(SCENARIO)


@pytest.fixture(autouse=True)
def _settings(sb, settings):
    settings.MONITORING_ESCALATE_AFTER_MINUTES = 15
    sb.recorder.clear()


def email_channel(workspace, address: str) -> AlertChannel:
    ch = AlertChannel(workspace=workspace, kind=AlertChannel.Kind.EMAIL, name=address, label=address)
    ch.credentials = {"address": address}
    ch.save()
    return ch


def http(workspace, name: str, url: str, **extra) -> Monitor:
    return Monitor.objects.create(workspace=workspace, name=name, url=url, **extra)


def run(*monitors) -> None:
    now = timezone.now()
    runner.run_batch([Claim(m.pk, now) for m in monitors])
    for m in monitors:
        m.refresh_from_db()


def send_all() -> None:
    for pk in Notification.objects.filter(status="pending").order_by("pk").values_list("pk", flat=True):
        assert outbox.send(pk), Notification.objects.get(pk=pk).last_error


def store_monitors(workspace) -> list[Monitor]:
    pages = [
        http(workspace, "Homepage", "https://www.mystore.test/", severity="critical"),
        http(workspace, "Cart", "https://www.mystore.test/cart"),
        http(workspace, "Checkout", "https://www.mystore.test/checkout", severity="critical"),
        http(workspace, "Login", "https://www.mystore.test/login"),
    ]
    cert = Monitor.objects.create(
        workspace=workspace, kind=Monitor.Kind.TLS_EXPIRY, name="Certificate", hostname="www.mystore.test"
    )
    return [*pages, cert]


def test_one_expired_certificate_is_one_incident_one_alert_per_channel_and_one_escalation(workspace, sb):
    ops = email_channel(workspace, "ops@example.com")
    team = email_channel(workspace, "team@example.com")
    EscalationContact.objects.create(workspace=workspace, name="Dana", email="dana@example.com")
    monitors = store_monitors(workspace)
    run(monitors[0])  # the homepage opens the incident…
    run(*monitors[1:])  # …the others join it silently

    assert all(m.state == Monitor.State.DOWN for m in monitors)
    assert Incident.objects.count() == 5  # each monitor keeps its own record…
    (primary,) = Incident.objects.filter(primary__isnull=True)  # …under one incident of the cause
    assert primary.cause_key == "tls-expired:www.mystore.test"
    assert set(primary.parts.values_list("cause_key", flat=True)) == {"tls-expired:www.mystore.test"}
    assert primary.cause == (
        "Certificate of www.mystore.test expired: Homepage, Cart, Checkout and Login are down."
    )
    assert primary.severity == "critical"
    events = sorted(Notification.objects.values_list("channel_id", "event"))
    assert events == sorted([(ops.pk, "opened"), (team.pk, "opened")])

    send_all()
    assert sorted(e.to[0] for e in mail.outbox) == ["ops@example.com", "team@example.com"]
    assert mail.outbox[0].subject == f"[Launch Ready] DOWN: {primary.cause}"
    first_sent = Notification.objects.filter(status="sent").order_by("sent_at").first().sent_at
    assert outbox.escalate(now=first_sent + STEP - timedelta(seconds=30)) == []
    escalated = outbox.escalate(now=first_sent + STEP + timedelta(seconds=30))
    assert len(escalated) == 1
    assert outbox.escalate(now=first_sent + STEP + timedelta(seconds=31)) == []  # a doubled beat
    send_all()
    assert [e.to for e in mail.outbox[2:]] == [["dana@example.com"]]
    assert mail.outbox[2].subject.startswith("[Launch Ready] UNACKNOWLEDGED: Certificate of www.mystore.test")


def test_monitors_recovering_close_their_part_and_the_incident_resolves_once(workspace, sb):
    ops = email_channel(workspace, "ops@example.com")
    monitors = store_monitors(workspace)[:3]
    run(*monitors)
    primary = Incident.objects.get(primary__isnull=True)
    for i, m in enumerate(monitors):
        m.url = "https://api.mystore.test/"  # fixed, one after the other
        m.save()
        run(m)
        assert m.state == Monitor.State.UP
        assert Incident.objects.get(monitor=m).ended_at is not None  # its part ended…
        primary.refresh_from_db()
        resolved = Notification.objects.filter(channel=ops, event="resolved").count()
        assert resolved == (1 if i == len(monitors) - 1 else 0)  # …the incident only with the last
    assert primary.ended_at is not None and not primary.group_is_open()
    send_all()
    assert [e.subject.split(":")[0] for e in mail.outbox] == [
        "[Launch Ready] DOWN",
        "[Launch Ready] RESOLVED",
    ]
    assert "all 3 monitors are back up" in mail.outbox[1].subject


def test_a_second_cause_during_the_first_opens_its_own_incident(workspace, sb):
    ops = email_channel(workspace, "ops@example.com")
    cert_pages = store_monitors(workspace)[:2]
    run(*cert_pages)
    refused = http(workspace, "Order API", "https://gone.mystore.test/orders")
    refused_too = http(workspace, "Order status", "https://gone.mystore.test/status")
    run(refused, refused_too)
    keys = sorted(Incident.objects.filter(primary__isnull=True).values_list("cause_key", flat=True))
    assert keys == ["tcp:gone.mystore.test", "tls-expired:www.mystore.test"]
    tcp = Incident.objects.get(cause_key="tcp:gone.mystore.test", primary__isnull=True)
    assert tcp.cause == "gone.mystore.test does not answer: Order API and Order status are down."
    assert Notification.objects.filter(channel=ops, event="opened").count() == 2


def test_a_page_failing_while_its_dependency_is_down_joins_the_dependency_incident(workspace, sb):
    ops = email_channel(workspace, "ops@example.com")
    home = http(workspace, "Homepage", "https://api.mystore.test/broken")
    checkout = http(
        workspace, "Checkout", "https://api.mystore.test/pay", depends_on=home, severity="critical"
    )
    unrelated = http(workspace, "Payments", "https://api.mystore.test/pay")
    run(home, checkout, unrelated)
    own = Incident.objects.get(monitor=home)
    assert own.primary is None
    assert Incident.objects.get(monitor=checkout).primary == own  # no alert of its own
    assert Incident.objects.get(monitor=unrelated).primary is None  # no dependency: its own incident
    own.refresh_from_db()
    assert own.severity == "critical" and own.severity_reason == "the Checkout monitor's severity"
    assert Notification.objects.filter(channel=ops, event="opened").count() == 2


def test_no_escalation_before_the_primary_channels_were_told(workspace, sb):
    email_channel(workspace, "ops@example.com")
    EscalationContact.objects.create(workspace=workspace, name="Dana", email="dana@example.com")
    page = http(workspace, "Checkout", "https://api.mystore.test/broken")
    run(page)
    incident = Incident.objects.get(monitor=page)
    # The alert to the channel is still waiting (its worker has not run): nobody was told yet.
    assert outbox.escalate(now=incident.started_at + 3 * STEP) == []
    send_all()
    sent_at = Notification.objects.get(event="opened").sent_at
    assert outbox.escalate(now=sent_at + STEP - timedelta(seconds=1)) == []
    assert len(outbox.escalate(now=sent_at + STEP + timedelta(seconds=1))) == 1


def test_a_channel_added_during_an_incident_hears_of_it_before_anyone_is_escalated(workspace, sb):
    email_channel(workspace, "ops@example.com")
    EscalationContact.objects.create(workspace=workspace, name="Dana", email="dana@example.com")
    page = http(workspace, "Checkout", "https://api.mystore.test/broken")
    run(page)
    send_all()
    sent_at = Notification.objects.get(event="opened").sent_at
    late = email_channel(workspace, "late@example.com")
    ids = outbox.escalate(now=sent_at + STEP + timedelta(minutes=1))
    assert [Notification.objects.get(pk=pk).channel for pk in ids] == [late]  # not the contact yet
    send_all()
    assert mail.outbox[-1].to == ["late@example.com"] and "DOWN: Checkout" in mail.outbox[-1].subject
    ids = outbox.escalate(now=sent_at + STEP + timedelta(minutes=2))
    assert [Notification.objects.get(pk=pk).contact.name for pk in ids] == ["Dana"]
    page.url = "https://api.mystore.test/"
    page.save()
    run(page)
    assert set(Notification.objects.filter(event="resolved").values_list("channel__label", flat=True)) == {
        "ops@example.com",
        "late@example.com",
    }
