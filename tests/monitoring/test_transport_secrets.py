"""A channel's secrets never leave: not in ``last_error``, a log line or a Sentry event.

The generic webhook URL is a capability (whoever holds it can post), and the Twilio
account SID, token and phone numbers are credentials and personal data. They must not
show up even cut short (the SSRF guard cuts URLs at 120 characters) or in an exception
raised halfway through a send. Secrets are built at run time so that they never appear
in the source lines Sentry attaches to frames.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import uuid

import pytest
import sentry_sdk
from django.urls import reverse
from django.utils import timezone

from launchready import net
from launchready.observability import RequestIdFilter, init_sentry
from monitoring import outbox
from monitoring.models import AlertChannel, Incident, Notification
from monitoring.transports.webhook import WebhookTransport
from tests.foundation.test_observability import CapturingTransport

pytestmark = pytest.mark.django_db


def channel(workspace, kind, **creds) -> AlertChannel:
    ch = AlertChannel(workspace=workspace, kind=kind, name=f"{kind} channel", label=kind)
    ch.credentials = creds
    ch.save()
    return ch


def opened(ch: AlertChannel, monitor) -> Notification:
    incident = Incident.objects.create(
        monitor=monitor, workspace=ch.workspace, started_at=timezone.now(), cause="Status 502."
    )
    return Notification.objects.create(workspace=ch.workspace, incident=incident, channel=ch, event="opened")


def secret_path() -> str:
    """About 200 characters of path and query, all of it random."""
    return "/" + "/".join(uuid.uuid4().hex for _ in range(5)) + "?token=" + uuid.uuid4().hex


def assert_no_part_of(secret: str, text: str, window: int = 8) -> None:
    """Not the secret, nor any run of ``window`` of its characters (a cut-off piece)."""
    for start in range(len(secret) - window + 1):
        piece = secret[start : start + window]
        where = text.find(piece)
        assert where == -1, f"{piece!r} of the secret leaked: …{text[max(0, where - 200) : where + 40]}…"


def phone() -> str:
    return "+3161" + str(uuid.uuid4().int)[:7]


@pytest.fixture
def stdout_log():
    """What the stdout handler installed by the LOGGING setting writes (its filter included)."""
    handler = next(
        h for h in logging.getLogger().handlers if any(isinstance(f, RequestIdFilter) for f in h.filters)
    )
    stream = io.StringIO()
    previous = handler.setStream(stream)
    yield stream
    handler.setStream(previous)


@pytest.fixture
def sentry_events():
    transport = CapturingTransport()
    init_sentry("https://public@sentry.example/1", environment="test", transport=transport)
    yield transport
    sentry_sdk.get_client().close()
    sentry_sdk.init()


def test_a_long_refused_webhook_url_leaves_only_its_host_in_last_error_and_the_log(
    workspace, http_monitor, client_as, owner, member, viewer, stdout_log
):
    path = secret_path()
    url = "https://hooks.corp.internal" + path
    assert len(url) > 200
    ch = channel(workspace, AlertChannel.Kind.WEBHOOK, url=url, signing_secret=uuid.uuid4().hex)
    n = opened(ch, http_monitor)
    assert outbox.send(n.pk) is False
    ch.refresh_from_db()
    n.refresh_from_db()
    assert ch.disabled_at is not None and n.status == "failed"
    # Still says what went wrong and where.
    assert "hooks.corp.internal" in ch.last_error and "not fetched" in ch.last_error
    assert_no_part_of(path, ch.last_error)
    assert_no_part_of(path, n.last_error)
    assert "hooks.corp.internal" in stdout_log.getvalue()
    assert_no_part_of(path, stdout_log.getvalue())
    page_url = reverse("monitoring:channels", kwargs={"workspace": workspace.uuid})
    for user in (owner, member, viewer):
        page = client_as(user).get(page_url).content.decode()
        assert "hooks.corp.internal" in page
        assert_no_part_of(path, page)


def test_numbers_and_sid_echoed_by_twilio_stay_out_of_last_error(workspace, http_monitor, monkeypatch):
    sid, to = "AC" + uuid.uuid4().hex, phone()
    ch = channel(
        workspace,
        AlertChannel.Kind.SMS,
        account_sid=sid,
        auth_token=uuid.uuid4().hex,
        from_number=phone(),
        to_number=to,
    )

    async def twilio_refuses(url, **kwargs):  # Twilio's real error shape, echoing the number and account
        body = json.dumps(
            {"code": 21211, "message": f"The 'To' number {to} is not a valid phone number for {sid}."}
        ).encode()
        return net.FetchResult(url=url, hops=(net.Hop(url=url, status=400),), body=body)

    monkeypatch.setattr(net.http, "fetch", twilio_refuses)
    n = opened(ch, http_monitor)
    assert outbox.send(n.pk) is False
    ch.refresh_from_db()
    assert ch.last_error.startswith("Twilio answered 400") and "not a valid phone number" in ch.last_error
    for value in (sid, to, to[1:]):
        assert_no_part_of(value, ch.last_error)


# -- an exception halfway through a send, against the sandbox's receivers ---------------


@pytest.fixture(scope="module")
def sb(sandbox_scenario):
    return sandbox_scenario({"name": "channel-secrets"})


@pytest.fixture
def fetch_fails_after_sending(sb, settings, monkeypatch):
    """The request really reaches the sandbox; then the network layer hits a bug that logs
    the URL and body and raises with the URL in its message, as careless libraries do."""
    settings.LAUNCHREADY_TWILIO_BASE_URL = "https://hooks.sandbox.test/twilio"
    sb.recorder.clear()
    real_fetch = net.fetch

    async def fetch(url, **kwargs):
        await real_fetch(url, **kwargs)
        logging.getLogger("launchready.net.http").error(
            "Could not read the answer from %s to %r", url, kwargs.get("body")
        )
        raise RuntimeError(f"unreadable answer from {url}")

    monkeypatch.setattr(net.http, "fetch", fetch)


def send_as_the_worker_does(n: Notification) -> None:
    """Whoever catches the exception (the outbox, or else the Celery worker) logs it, and
    Sentry gets it: by then the send is over and its secrets are no longer registered."""
    try:
        outbox.send(n.pk)
    except RuntimeError:
        logging.getLogger("celery.app.trace").exception("Task send_notification raised unexpected")
        sentry_sdk.capture_exception()
    sentry_sdk.flush()


def test_an_exception_mid_send_keeps_a_long_webhook_url_out_of_sentry_and_the_log(
    workspace, http_monitor, sb, fetch_fails_after_sending, sentry_events, stdout_log
):
    path, signing_secret = secret_path(), uuid.uuid4().hex
    ch = channel(
        workspace,
        AlertChannel.Kind.WEBHOOK,
        url="https://hooks.sandbox.test" + path,
        signing_secret=signing_secret,
    )
    send_as_the_worker_does(opened(ch, http_monitor))
    assert len(sb.webhook_requests) == 1  # really sent
    events = sentry_events.events()
    # The error logged during the send and the exception the worker saw.
    assert any("Could not read the answer" in json.dumps(e) for e in events)
    assert any(e.get("exception") for e in events)
    log = stdout_log.getvalue()
    assert "RuntimeError: unreadable answer from https://hooks.sandbox.test/" in log  # the traceback
    text = json.dumps(events) + log
    assert "hooks.sandbox.test" in text and '"function": "post"' in text
    assert_no_part_of(path, text)
    assert signing_secret not in text


def test_an_exception_mid_send_keeps_the_twilio_sid_token_and_numbers_out_of_sentry_and_the_log(
    workspace, http_monitor, sb, fetch_fails_after_sending, sentry_events, stdout_log
):
    sid, token, sender, to = "AC" + uuid.uuid4().hex, uuid.uuid4().hex, phone(), phone()
    ch = channel(
        workspace, AlertChannel.Kind.SMS, account_sid=sid, auth_token=token, from_number=sender, to_number=to
    )
    send_as_the_worker_does(opened(ch, http_monitor))
    assert len(sb.webhook_requests) == 1
    events = sentry_events.events()
    assert any("Could not read the answer" in json.dumps(e) for e in events)
    text = json.dumps(events) + stdout_log.getvalue()
    assert "RuntimeError: unreadable answer" in stdout_log.getvalue()
    assert any(e.get("exception") for e in events)
    basic = base64.b64encode(f"{sid}:{token}".encode()).decode()
    for value in (sid, token, sender[1:], to[1:], basic):
        assert_no_part_of(value, text)


def test_channel_variables_in_transport_frames_are_scrubbed_by_name_outside_a_send(
    workspace, http_monitor, sentry_events, monkeypatch
):
    """Defence in depth: a transport called directly (no secrets registered) still sends no URL."""
    path = secret_path()
    ch = channel(
        workspace, AlertChannel.Kind.WEBHOOK, url="https://hooks.example.com" + path, signing_secret="k" * 12
    )

    async def broken(url, **kwargs):
        raise RuntimeError("connection pool broke")

    monkeypatch.setattr(net.http, "fetch", broken)
    with pytest.raises(RuntimeError):
        try:
            WebhookTransport(ch).notify(opened(ch, http_monitor))
        except RuntimeError:
            sentry_sdk.capture_exception()
            raise
    sentry_sdk.flush()
    (event,) = sentry_events.events()
    frames = event["exception"]["values"][0]["stacktrace"]["frames"]
    notify = next(f for f in frames if f["function"] == "notify")
    assert notify["vars"]["url"] == "[Filtered]" and notify["vars"]["creds"] == "[Filtered]"
    ours = [f for f in frames if str(f.get("module")).startswith("monitoring.")]
    assert {f["function"] for f in ours} == {"notify", "post"}
    assert_no_part_of(path, json.dumps(ours))


def test_an_alert_carries_no_sentry_trace_headers_to_the_receiver(workspace, http_monitor, sb, sentry_events):
    """Sentry's httpx integration would add ``sentry-trace`` and ``baggage`` (with the DSN's
    public key and the release) to every request made inside a Celery task's transaction;
    an alert sent to a third party carries neither."""
    sb.recorder.clear()
    ch = channel(
        workspace, AlertChannel.Kind.WEBHOOK, url="https://hooks.sandbox.test/hook", signing_secret="k" * 12
    )
    n = opened(ch, http_monitor)
    with sentry_sdk.start_transaction(name="send_notification", op="queue.task.celery"):
        assert outbox.send(n.pk)
    (request,) = sb.webhook_requests
    sent = {k.lower() for k in request.headers}
    assert not sent & {"sentry-trace", "baggage", "traceparent"}, sent


def test_outbound_request_urls_are_not_logged() -> None:
    # httpx logs "HTTP Request: POST <full URL>" at INFO: a Slack or webhook URL is a secret.
    for name in ("httpx", "httpcore"):
        assert not logging.getLogger(name).isEnabledFor(logging.INFO), name
        assert logging.getLogger(name).isEnabledFor(logging.WARNING), name
