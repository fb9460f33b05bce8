"""Checks, confirmation and alerts against real servers in the sandbox (no HTTP mocks)."""

from __future__ import annotations

import hashlib
import hmac
import json
from base64 import b64decode
from datetime import timedelta
from urllib.parse import parse_qs

import pytest
from django.core import mail
from django.utils import timezone

from monitoring import outbox, runner
from monitoring.models import AlertChannel, CheckResult, Incident, Monitor, Notification
from monitoring.scheduler import Claim

pytestmark = [pytest.mark.sandbox, pytest.mark.django_db]

SCENARIO = {
    "name": "monitoring",
    "zones": {"shop.test": {"records": [{"name": "api", "type": "A", "value": "127.77.9.1"}]}},
    "registrations": {"shop.test": {"expires": "+20d"}},
    "hosts": [
        {
            "name": "www.shop.test",
            "routes": [
                {"path": "/", "body": "Welcome. Add to cart"},
                {"path": "/broken", "status": 502, "body": "Bad gateway: upstream checkout service"},
            ],
        },
        {"name": "expiring.shop.test", "cert": {"profile": "expiring", "days": 5}, "routes": [{"path": "/"}]},
    ],
}


@pytest.fixture(scope="module")
def sb(sandbox_scenario):
    return sandbox_scenario(SCENARIO)


@pytest.fixture(autouse=True)
def _clean(sb, settings):
    settings.LAUNCHREADY_TWILIO_BASE_URL = "https://hooks.sandbox.test/twilio"
    sb.recorder.clear()


def channel(workspace, kind, **creds) -> AlertChannel:
    ch = AlertChannel(workspace=workspace, kind=kind, name=f"{kind} channel", label=kind)
    ch.credentials = creds
    ch.save()
    return ch


def run(*monitors):
    """Run one batch now, as the Celery task does, and reload the monitors."""
    now = timezone.now()
    result = runner.run_batch([Claim(m.pk, now) for m in monitors])
    for m in monitors:
        m.refresh_from_db()
    return result


def test_healthy_page_is_up_with_a_result_row(workspace, sb):
    m = Monitor.objects.create(
        workspace=workspace, name="Home", url="https://www.shop.test/", keyword="Add to cart"
    )
    run(m)
    assert m.state == Monitor.State.UP
    row = CheckResult.objects.get(monitor=m)
    assert row.ok and row.status_code == 200 and row.latency_ms is not None


def test_broken_page_opens_one_incident_after_immediate_recheck_and_alerts_once(workspace, sb):
    ch = channel(workspace, AlertChannel.Kind.EMAIL, address="ops@example.com")
    m = Monitor.objects.create(workspace=workspace, name="Checkout", url="https://www.shop.test/broken")
    run(m)
    # Two failures in one batch: the first check and its immediate recheck.
    assert CheckResult.objects.filter(monitor=m, ok=False).count() == 2
    assert m.state == Monitor.State.DOWN
    incident = Incident.objects.get(monitor=m)
    assert incident.cause == "Status 502 (expected 200-399)."
    assert "upstream checkout service" in incident.snippet
    run(m)
    run(m)
    assert Incident.objects.filter(monitor=m).count() == 1
    assert list(Notification.objects.filter(channel=ch).values_list("event", flat=True)) == ["opened"]

    m.url = "https://www.shop.test/"
    m.save()
    run(m)
    run(m)
    incident.refresh_from_db()
    assert m.state == Monitor.State.UP and incident.ended_at is not None
    assert sorted(Notification.objects.filter(channel=ch).values_list("event", flat=True)) == [
        "opened",
        "resolved",
    ]
    for pk in Notification.objects.order_by("pk").values_list("pk", flat=True):
        assert outbox.send(pk), Notification.objects.get(pk=pk).last_error
    subjects = [e.subject for e in mail.outbox]
    assert subjects[0] == "[Launch Ready] DOWN: Checkout — Status 502 (expected 200-399)."
    assert subjects[1].startswith("[Launch Ready] RESOLVED: Checkout is back up after ")
    assert len(subjects) == 2
    assert "Acknowledge: http" in mail.outbox[0].body
    html = mail.outbox[0].alternatives[0][0]
    assert "What to do:" in html and "Why it matters:" in html


def test_slack_webhook_receives_the_alert(workspace, sb, http_monitor):
    ch = channel(
        workspace, AlertChannel.Kind.SLACK, webhook_url="https://hooks.sandbox.test/services/T1/B2/secret"
    )
    incident = Incident.objects.create(
        monitor=http_monitor, workspace=workspace, started_at=timezone.now(), cause="Status 502."
    )
    n = Notification.objects.create(workspace=workspace, incident=incident, channel=ch, event="opened")
    assert outbox.send(n.pk) is True
    (req,) = sb.webhook_requests
    assert req.method == "POST" and req.path == "/services/T1/B2/secret"
    assert req.json()["text"].startswith("*DOWN: Checkout — Status 502.*")
    assert "\nWhy it matters: Visitors cannot use this page" in req.json()["text"]
    assert "\nWhat to do: Open the address yourself" in req.json()["text"]
    n.refresh_from_db()
    assert n.status == "sent" and n.attempts == 1


def test_twilio_sms_is_a_form_post_with_basic_auth(workspace, sb, http_monitor):
    ch = channel(
        workspace,
        AlertChannel.Kind.SMS,
        account_sid="AC123",
        auth_token="tok-secret",
        from_number="+15005550006",
        to_number="+31612345678",
    )
    incident = Incident.objects.create(
        monitor=http_monitor, workspace=workspace, started_at=timezone.now(), cause="Timed out after 10 s."
    )
    n = Notification.objects.create(workspace=workspace, incident=incident, channel=ch, event="opened")
    assert outbox.send(n.pk)
    (req,) = sb.webhook_requests
    assert req.path == "/twilio/2010-04-01/Accounts/AC123/Messages.json"
    auth = {k.lower(): v for k, v in req.headers.items()}["authorization"]
    assert b64decode(auth.split()[1]).decode() == "AC123:tok-secret"
    form = parse_qs(req.body.decode())
    assert form["To"] == ["+31612345678"] and form["From"] == ["+15005550006"]
    assert form["Body"][0].startswith("DOWN: Checkout — Timed out after 10 s.")


def test_webhook_is_signed_with_hmac_sha256(workspace, sb, http_monitor):
    ch = channel(
        workspace, AlertChannel.Kind.WEBHOOK, url="https://hooks.sandbox.test/hook", signing_secret="s3cret"
    )
    incident = Incident.objects.create(
        monitor=http_monitor, workspace=workspace, started_at=timezone.now(), cause="x"
    )
    n = Notification.objects.create(workspace=workspace, incident=incident, channel=ch, event="opened")
    assert outbox.send(n.pk)
    (req,) = sb.webhook_requests
    headers = {k.lower(): v for k, v in req.headers.items()}
    expected = hmac.new(
        b"s3cret", headers["x-launchready-timestamp"].encode() + b"." + req.body, hashlib.sha256
    )
    assert headers["x-launchready-signature"] == "sha256=" + expected.hexdigest()
    payload = json.loads(req.body)
    assert payload["event"] == "opened" and payload["incident"] == str(incident.uuid)


def test_permanent_failure_disables_the_channel_with_its_error(workspace, sb, http_monitor):
    ch = channel(
        workspace, AlertChannel.Kind.WEBHOOK, url="https://hooks.sandbox.test/status/410", signing_secret="k"
    )
    incident = Incident.objects.create(
        monitor=http_monitor, workspace=workspace, started_at=timezone.now(), cause="x"
    )
    n = Notification.objects.create(workspace=workspace, incident=incident, channel=ch, event="opened")
    assert outbox.send(n.pk) is False
    ch.refresh_from_db()
    n.refresh_from_db()
    assert n.status == "failed" and ch.disabled_at is not None
    assert ch.last_error.startswith("The webhook answered 410")


def test_transient_failure_is_retried_later_with_backoff(workspace, sb, http_monitor):
    ch = channel(
        workspace, AlertChannel.Kind.WEBHOOK, url="https://hooks.sandbox.test/status/503", signing_secret="k"
    )
    incident = Incident.objects.create(
        monitor=http_monitor, workspace=workspace, started_at=timezone.now(), cause="x"
    )
    n = Notification.objects.create(workspace=workspace, incident=incident, channel=ch, event="opened")
    before = timezone.now()
    assert outbox.send(n.pk) is False
    n.refresh_from_db()
    ch.refresh_from_db()
    assert n.status == "pending" and n.attempts == 1 and n.next_attempt_at >= before + timedelta(seconds=29)
    assert ch.disabled_at is None
    assert outbox.send(n.pk) is False  # not due yet: not claimed, not sent again
    assert len(sb.webhook_requests) == 1


def test_certificate_within_seven_days_is_critical_and_reaches_sms(workspace, sb):
    sms = channel(workspace, "sms", account_sid="AC1", auth_token="t", from_number="+1", to_number="+2")
    email = channel(workspace, "email", address="ops@example.com")
    m = Monitor.objects.create(
        workspace=workspace,
        name="Cert",
        kind=Monitor.Kind.TLS_EXPIRY,
        hostname="expiring.shop.test",
        interval_s=86400,
    )
    run(m)
    incident = Incident.objects.get(monitor=m)
    assert incident.severity == "critical"
    assert incident.cause.startswith("The certificate expires on ") and incident.cause.endswith(
        ("in 4 days.", "in 5 days.")
    )
    assert m.alerted_threshold_days == 7
    assert set(Notification.objects.values_list("channel_id", flat=True)) == {sms.pk, email.pk}
    run(m)  # the same threshold again: no new incident
    assert Incident.objects.filter(monitor=m).count() == 1


def test_domain_expiry_from_rdap_is_a_warning_that_skips_sms(workspace, sb):
    sms = channel(workspace, "sms", account_sid="AC1", auth_token="t", from_number="+1", to_number="+2")
    m = Monitor.objects.create(
        workspace=workspace,
        name="Domain",
        kind=Monitor.Kind.DOMAIN_EXPIRY,
        hostname="shop.test",
        interval_s=86400,
    )
    run(m)
    incident = Incident.objects.get(monitor=m)
    assert incident.severity == "warning" and m.alerted_threshold_days == 30
    assert m.expires_at is not None
    assert not Notification.objects.filter(channel=sms).exists()


def test_dns_monitor_compares_expected_values(workspace, sb):
    good = Monitor.objects.create(
        workspace=workspace,
        name="API A",
        kind="dns",
        hostname="api.shop.test",
        expected_values=["127.77.9.1"],
    )
    bad = Monitor.objects.create(
        workspace=workspace,
        name="API A bad",
        kind="dns",
        hostname="api.shop.test",
        expected_values=["127.77.9.2"],
    )
    run(good, bad)
    assert good.state == "up" and bad.state == "down"
    assert Incident.objects.get(monitor=bad).cause == "Records are 127.77.9.1; expected 127.77.9.2."


@pytest.fixture
def eager_celery():
    from launchready.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def test_checkout_breaking_reaches_slack_once_through_the_whole_pipeline(
    workspace, sb, eager_celery, django_capture_on_commit_callbacks
):
    """Beat tick → batch task → confirmed incident → outbox → Slack, and only once."""
    from monitoring import tasks

    channel(workspace, AlertChannel.Kind.SLACK, webhook_url="https://hooks.sandbox.test/services/T/B/x")
    m = Monitor.objects.create(
        workspace=workspace, name="Checkout", url="https://www.shop.test/broken", severity="critical"
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.dispatch_due_monitors() == 1
    (req,) = sb.webhook_requests
    assert req.json()["text"].startswith("*DOWN: Checkout — Status 502")
    # The next interval: still down, no second alert.
    Monitor.objects.filter(pk=m.pk).update(next_check_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        tasks.dispatch_due_monitors()
    assert len(sb.webhook_requests) == 1
    Monitor.objects.filter(pk=m.pk).update(next_check_at=timezone.now(), url="https://www.shop.test/")
    with django_capture_on_commit_callbacks(execute=True):
        tasks.dispatch_due_monitors()
    assert [r.json()["text"].split(":")[0] for r in sb.webhook_requests] == ["*DOWN", "*RESOLVED"]


def test_send_test_marks_a_working_channel_verified(workspace, sb):
    ch = channel(
        workspace, AlertChannel.Kind.WEBHOOK, url="https://hooks.sandbox.test/test", signing_secret="k"
    )
    n = outbox.queue_test(ch)
    assert outbox.send(n.pk)
    ch.refresh_from_db()
    assert ch.verified and sb.webhook_requests[0].json()["event"] == "test"


def test_a_webhook_to_a_private_address_is_refused_for_good_without_echoing_the_url(
    workspace, sb, http_monitor
):
    ch = channel(workspace, AlertChannel.Kind.SLACK, webhook_url="https://127.0.0.1/services/secret-token")
    incident = Incident.objects.create(
        monitor=http_monitor, workspace=workspace, started_at=timezone.now(), cause="x"
    )
    n = Notification.objects.create(workspace=workspace, incident=incident, channel=ch, event="opened")
    assert outbox.send(n.pk) is False
    ch.refresh_from_db()
    assert ch.disabled_at is not None and ch.last_error
    assert "secret-token" not in ch.last_error
    assert sb.webhook_requests == []


def test_escalation_texts_a_contact_with_a_phone_through_the_sms_channel(
    workspace, sb, http_monitor, settings
):
    from monitoring.models import EscalationContact

    settings.MONITORING_ESCALATE_AFTER_MINUTES = 5
    sms = channel(
        workspace, "sms", account_sid="AC9", auth_token="t", from_number="+15005550006", to_number="+100"
    )
    EscalationContact.objects.create(
        workspace=workspace, name="Sam", email="sam@example.com", phone="+31699999999"
    )
    warning = Incident.objects.create(
        monitor=http_monitor,
        workspace=workspace,
        severity="warning",
        started_at=timezone.now() - timedelta(minutes=6),
        cause="Status 502.",
    )
    assert Notification.objects.get(pk__in=outbox.escalate()).channel is None  # a warning: email only
    Incident.objects.filter(pk=warning.pk).update(ended_at=timezone.now())
    Notification.objects.all().delete()
    critical = Incident.objects.create(
        monitor=http_monitor,
        workspace=workspace,
        severity="critical",
        started_at=timezone.now() - timedelta(minutes=6),
        cause="Status 502.",
    )
    # Its alert reached the SMS channel when it opened and nobody acknowledged: the contact is next.
    Notification.objects.create(
        workspace=workspace,
        incident=critical,
        channel=sms,
        event="opened",
        status="sent",
        sent_at=critical.started_at,
    )
    ids = outbox.escalate()
    assert len(ids) == 2  # an email and a text
    for pk in ids:
        assert outbox.send(pk), Notification.objects.get(pk=pk).last_error
    (req,) = sb.webhook_requests
    form = parse_qs(req.body.decode())
    assert form["To"] == ["+31699999999"] and form["Body"][0].startswith("UNACKNOWLEDGED: Checkout")
    assert mail.outbox[-1].to == ["sam@example.com"]


def test_an_unreadable_certificate_is_rechecked_before_it_opens_an_incident(workspace, sb, monkeypatch):
    monkeypatch.setattr(runner, "RECHECK_DELAY_S", 0.0)
    m = Monitor.objects.create(
        workspace=workspace,
        name="Cert",
        kind=Monitor.Kind.TLS_EXPIRY,
        hostname="missing.shop.test",
        interval_s=86400,
    )
    run(m)
    assert CheckResult.objects.filter(monitor=m).count() == 2  # the daily check and its recheck
    assert Incident.objects.filter(monitor=m).count() == 1


def test_a_recheck_that_might_outlast_the_batch_is_left_to_the_next_check(workspace, sb, monkeypatch):
    monkeypatch.setattr(runner, "CHECK_BUDGET_S", 2.0, raising=False)  # under one 10 s recheck round
    m = Monitor.objects.create(workspace=workspace, name="Checkout", url="https://www.shop.test/broken")
    run(m)
    # Only the first check ran, and its result was written; the failure counts toward N.
    assert CheckResult.objects.filter(monitor=m, ok=False).count() == 1
    assert m.consecutive_failures == 1 and m.state != Monitor.State.DOWN
    run(m)  # the next scheduled check confirms it
    assert m.state == Monitor.State.DOWN and Incident.objects.filter(monitor=m).count() == 1


def test_a_long_cause_shortens_the_text_message_but_keeps_the_whole_ack_link(workspace, sb, http_monitor):
    from monitoring.messages import read_ack_token
    from monitoring.transports.sms import SMS_CHARS

    ch = channel(workspace, "sms", account_sid="AC1", auth_token="t", from_number="+1555", to_number="+3161")
    incident = Incident.objects.create(
        monitor=http_monitor,
        workspace=workspace,
        started_at=timezone.now(),
        cause="Keyword missing. " * 17,  # 289 characters: the column holds 300
    )
    n = Notification.objects.create(workspace=workspace, incident=incident, channel=ch, event="opened")
    assert outbox.send(n.pk)
    (req,) = sb.webhook_requests
    body = parse_qs(req.body.decode())["Body"][0]
    assert len(body) <= SMS_CHARS
    link = body.split(" Ack: ")[1]
    assert read_ack_token(link.rstrip("/").rsplit("/", 1)[1]) == str(incident.uuid)  # the link is whole
