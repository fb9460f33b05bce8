"""Sentry scrubbing and log redaction: secrets never leave the process."""

import logging
import uuid

import pytest
import sentry_sdk
from sentry_sdk.transport import Transport

from launchready.observability import RequestIdFilter, init_sentry, redact_text


class CapturingTransport(Transport):
    def __init__(self, options=None):
        super().__init__(options)
        self.envelopes = []

    def capture_envelope(self, envelope):
        self.envelopes.append(envelope)

    def events(self):
        return [item.payload.json for env in self.envelopes for item in env.items if item.type == "event"]


@pytest.fixture
def captured():
    transport = CapturingTransport()
    init_sentry("https://public@sentry.example/1", environment="test", transport=transport)
    yield transport
    sentry_sdk.get_client().close()
    sentry_sdk.init()  # back to a disabled client


def _explode(password: str, webhook_url: str, payload: dict):
    raise RuntimeError(f"failed posting to {webhook_url}?token=abcd1234secret")


def test_exception_locals_and_message_are_scrubbed(captured):
    # Secrets are built at run time so that they never appear in the source
    # context lines that Sentry attaches to frames.
    secret = {name: f"{name}-{uuid.uuid4().hex}" for name in ("pw", "hook", "tok")}
    try:
        _explode(
            password=secret["pw"],
            webhook_url="https://hooks.slack.com/services/T000/B000/" + secret["hook"],
            payload={"nested": {"api_token": secret["tok"]}},
        )
    except RuntimeError:
        sentry_sdk.capture_exception()
    sentry_sdk.flush()
    events = captured.events()
    assert len(events) == 1
    text = repr(events[0])
    for value in secret.values():
        assert value not in text
    assert "abcd1234secret" not in text
    # The event is still useful: the exception type and the frame are there.
    assert "RuntimeError" in text and "_explode" in text


def test_send_default_pii_is_off(captured):
    assert sentry_sdk.get_client().options["send_default_pii"] is False


@pytest.mark.parametrize(
    "raw, secret",
    [
        ("GET /ping?token=s3cr3tvalue HTTP/1.1", "s3cr3tvalue"),
        ("Authorization: Bearer abcdefghijklmnop", "abcdefghijklmnop"),
        ("redis://user:pa55word@cache:6379/0", "pa55word"),
        ("posting to https://hooks.slack.com/services/T1/B2/ZZZZ", "ZZZZ"),
        ("api_key=AKIAEXAMPLE123", "AKIAEXAMPLE123"),
        ("GET /accounts/confirm-email/MQ:1xXJOP:DHJrGUiOEQtZ/ 200", "MQ:1xXJOP:DHJrGUiOEQtZ"),
        ("GET /accounts/password/reset/key/3-ab12cd-34ef/ 200", "3-ab12cd-34ef"),
        ("Forbidden: /invitations/Qm9vX2xpbmtfdG9rZW4/", "Qm9vX2xpbmtfdG9rZW4"),
        ("GET https://app.test/share/c2hhcmVfdG9rZW4x/ 410", "c2hhcmVfdG9rZW4x"),
        ("refused mail for check-0a1b2c3d4e5f@inbound.test", "0a1b2c3d4e5f"),
    ],
)
def test_redact_text(raw, secret):
    assert secret not in redact_text(raw)


def test_log_lines_carry_request_id_and_no_secret():
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "calling https://x.test/?token=abc123456", None, None
    )
    assert RequestIdFilter().filter(record)
    assert record.request_id == "-"
    assert "abc123456" not in record.getMessage()


def test_request_id_is_echoed_when_sane_and_replaced_when_not(client):
    assert client.get("/healthz", HTTP_X_REQUEST_ID="abc-12345678")["X-Request-ID"] == "abc-12345678"
    assert client.get("/healthz", HTTP_X_REQUEST_ID="bad id\n")["X-Request-ID"] != "bad id\n"


def test_django_request_lines_with_arguments_are_redacted():
    record = logging.LogRecord(
        "django.request", logging.WARNING, __file__, 1, "Forbidden: %s", ("/invitations/liveToken123/",), None
    )
    assert RequestIdFilter().filter(record)
    assert "liveToken123" not in record.getMessage() and "Forbidden: /invitations/" in record.getMessage()


def test_a_forbidden_invitation_page_logs_no_token(client_as, owner, workspace, stranger, caplog):
    from django.urls import reverse

    from launchready.models import Invitation

    invitation = Invitation.objects.create(workspace=workspace, email="someone@example.com", invited_by=owner)
    url = reverse("invitation_detail", kwargs={"token": invitation.token})
    # The stdout handler the LOGGING setting installs, with its filter.
    handler = next(
        h for h in logging.getLogger().handlers if any(isinstance(f, RequestIdFilter) for f in h.filters)
    )
    with caplog.at_level(logging.WARNING, logger="django.request"):
        assert client_as(stranger).get(url).status_code == 403
    lines = [handler.format(r) for r in caplog.records if handler.filter(r)]
    assert lines and not any(invitation.token in line for line in lines)


@pytest.mark.django_db
def test_access_log_line_has_request_id_and_no_token(client, caplog):
    with caplog.at_level(logging.INFO, logger="launchready.access"):
        client.get("/share/SeCrEtToKeN123456/", HTTP_X_REQUEST_ID="req-12345678")
    records = [r for r in caplog.records if r.name == "launchready.access"]
    assert len(records) == 1
    assert getattr(records[0], "request_id", None) == "req-12345678"  # set by the stdout handler's filter
    handler_filter = RequestIdFilter()
    handler_filter.filter(records[0])
    line = records[0].getMessage()
    assert line.startswith("GET /share/") and "SeCrEtToKeN123456" not in line
    assert " 404 " in line or " 410 " in line
