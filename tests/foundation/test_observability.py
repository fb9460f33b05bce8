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


# -- scrubbing by value: a channel's secrets, known while it sends --------------------


def test_a_url_cut_by_the_ssrf_guard_is_masked_down_to_its_host():
    from launchready.net import NetConfig, vet_url
    from launchready.observability import mask_secrets

    path = "/" + "/".join(uuid.uuid4().hex for _ in range(6))
    url = "https://hooks.corp.internal" + path
    message = vet_url(url, NetConfig.from_settings()).message
    assert path[:60] in message and path not in message  # the guard cut it at 120 characters
    masked = mask_secrets(message, {url})
    assert masked.startswith("https://hooks.corp.internal/[Filtered] was not fetched: ")
    assert path[1:9] not in masked


# Built at run time, so that they are not in the source lines Sentry attaches.
TOKEN = uuid.uuid4().hex
NUMBER = "+3161" + str(uuid.uuid4().int)[:7]
HOOK = f"https://hooks.example.com/in/{TOKEN}"


@pytest.mark.parametrize(
    "secret, text",
    [
        (f"AC{TOKEN}", f"account AC{TOKEN} is suspended"),
        (f"AC{TOKEN}", f"Twilio answered 400: account AC{TOKEN[:18]}"),  # cut at the end
        (HOOK, HOOK[:40] + "… was not fetched"),  # cut with an ellipsis
        (HOOK, f"'{HOOK[:40]}..."),  # Sentry cuts long values like this
        (NUMBER, f"b'To=%2B{NUMBER[1:]}&Body=down'"),  # form-encoded
        (HOOK, f"POST /in/{TOKEN} HTTP/1.1"),  # the path without the host
        (HOOK, f"HTTPS://Hooks.Example.COM/in/{TOKEN}"),  # the host spelled differently
    ],
    ids=["as is", "cut", "cut with …", "cut with ...", "form-encoded", "path only", "host case"],
)
def test_mask_secrets_finds_a_value_however_it_is_written(secret, text):
    from launchready.observability import mask_secrets

    masked = mask_secrets(text, {secret})
    assert "[Filtered]" in masked
    assert TOKEN[:8] not in masked and NUMBER[4:] not in masked


def test_mask_secrets_leaves_text_that_only_starts_like_a_secret():
    from launchready.observability import mask_secrets

    hook = "https://hooks.slack.com/services/T1/B2/" + TOKEN
    neighbour = NUMBER[:-1] + ("1" if NUMBER.endswith("0") else "0")
    text = f"Slack lists them under /services/ in its settings; {neighbour} is another number."
    assert mask_secrets(text, {hook, NUMBER}) == text


def test_mask_secrets_ignores_values_too_short_to_be_secrets():
    from launchready.observability import mask_secrets

    assert mask_secrets("Twilio answered 400 for +1.", {"+1", "t", ""}) == "Twilio answered 400 for +1."


def test_log_lines_and_tracebacks_in_a_secret_scope_are_masked_by_value(capsys):
    from launchready.observability import secrets_scope

    number = "+3161" + str(uuid.uuid4().int)[:7]
    with secrets_scope({number}):
        try:
            raise ValueError(f"no route to {number}")
        except ValueError as exc:
            record = logging.LogRecord("x", logging.ERROR, __file__, 1, "texting %s failed", (number,), None)
            record.exc_info = (type(exc), exc, exc.__traceback__)
            assert RequestIdFilter().filter(record)
    line = logging.Formatter().format(record)
    assert "texting" in line and "ValueError: no route to" in line
    assert number[1:] not in line


def test_an_exception_leaving_a_secret_scope_carries_the_values_to_the_log_and_sentry(captured):
    from launchready.observability import secrets_scope

    sid = "AC" + uuid.uuid4().hex
    try:
        with secrets_scope({sid}):
            raise RuntimeError(f"Twilio account {sid} misbehaved")
    except RuntimeError as exc:
        # Outside the scope now, as in the Celery worker that logs and reports the task's failure.
        record = logging.LogRecord("celery", logging.ERROR, __file__, 1, "Task failed: %r", (exc,), None)
        record.exc_info = (type(exc), exc, exc.__traceback__)
        assert RequestIdFilter().filter(record)
        sentry_sdk.capture_exception()
    sentry_sdk.flush()
    line = logging.Formatter().format(record)
    assert "misbehaved" in line and sid not in line
    (event,) = captured.events()
    assert "misbehaved" in repr(event) and sid not in repr(event)


def test_breadcrumbs_recorded_in_a_secret_scope_are_masked(captured):
    from launchready.observability import secrets_scope

    url = "https://hooks.example.com/in/" + uuid.uuid4().hex
    with secrets_scope({url}):
        logging.getLogger("launchready.net").info("posting to %s", url)
    sentry_sdk.capture_message("later")
    sentry_sdk.flush()
    (event,) = captured.events()
    crumbs = repr(event["breadcrumbs"])
    assert "hooks.example.com" in crumbs and url not in crumbs and url[-12:] not in crumbs


@pytest.mark.parametrize("key", ["account_sid", "from_number", "to_number", "phone"])
def test_channel_credential_keys_are_scrubbed_anywhere(captured, key):
    value = uuid.uuid4().hex
    with sentry_sdk.new_scope() as scope:
        scope.set_extra("channel", {key: value})
        sentry_sdk.capture_message("saving a channel failed")
    sentry_sdk.flush()
    (event,) = captured.events()
    assert value not in repr(event)


CELERY_WORKER_LOGGING = """
import logging
import django
django.setup()
from launchready.celery import app
app.log.setup_logging_subsystem(loglevel="INFO")  # what the worker does: its own root handler
from launchready.observability import secrets_scope
url = "https://hooks.example.com/in/" + "{secret}"
with secrets_scope({{url}}):
    logging.getLogger("monitoring.transports.base").warning("posting to %s failed", url)
logging.getLogger("launchready.access").info("GET /share/{secret}/ 404")
"""


def test_the_celery_workers_own_log_handler_redacts_too():
    import os
    import subprocess
    import sys
    from pathlib import Path

    secret = uuid.uuid4().hex
    result = subprocess.run(
        [sys.executable, "-c", CELERY_WORKER_LOGGING.format(secret=secret)],
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "launchready.settings_test"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert "posting to https://hooks.example.com/" in output and "GET /share/" in output, output
    assert secret not in output


def test_posted_channel_urls_and_monitor_headers_are_scrubbed_from_request_data(captured):
    hook, header = "https://hooks.example.com/in/" + uuid.uuid4().hex, uuid.uuid4().hex
    sentry_sdk.capture_event(
        {
            "message": "adding a channel failed",
            "request": {
                "method": "POST",
                "url": "https://app.test/w/x/monitoring/channels/",
                "data": {"kind": "webhook", "url": hook, "headers": f'{{"X-Shop-Token": "{header}"}}'},
            },
        }
    )
    sentry_sdk.flush()
    (event,) = captured.events()
    assert event["request"]["data"]["kind"] == "webhook"
    assert hook[-12:] not in repr(event) and header not in repr(event)
