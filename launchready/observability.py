"""Our own observability: request ids in every log line, and Sentry with scrubbing.

Sentry is initialised only when ``SENTRY_DSN`` is set. Nothing secret leaves: the
SDK's EventScrubber runs recursively with our own keys added, and ``before_send``
also redacts tokens inside messages and URLs, which the scrubber does not touch.
"""

from __future__ import annotations

import contextvars
import logging
import re
import time
import uuid
from typing import Any

access_logger = logging.getLogger("launchready.access")
request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

SCRUB_KEYS = [
    "webhook_url",
    "dsn",
    "api_token",
    "token",
    "auth_token",
    "secret",
    "secret_key",
    "password",
    "password1",
    "password2",
    "passwd",
    "api_key",
    "apikey",
    "authorization",
    "signing_secret",
    "encryption_keys",
    "fernet_keys",
    "key",
    "private_key",
    "session",
    "sessionid",
    "csrftoken",
    "cookie",
    "set-cookie",
    "x-api-key",
]

# key=value or key: value pairs in free text, URL query strings, and bearer tokens.
_SECRET_PAIR = re.compile(
    r"(?i)\b(token|key|secret|password|passwd|signature|sig|auth|dsn|api_key|apikey|code)"
    r"(\s*[=:]\s*)([^\s&\"',;]+)"
)
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}")
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s:@]+:[^/\s@]+@")
_SLACK_HOOK = re.compile(r"https://hooks\.slack\.com/services/[A-Za-z0-9/]+")
# Secrets that travel in the URL path (share links, invitation links, acknowledge links)
# and the inbound check/report addresses: Django logs "Forbidden: /invitations/<token>/".
_SECRET_PATH = re.compile(
    r"(/(?:share|invitations|ack|ping|accounts/confirm-email|accounts/password/reset/key)/)"
    r"(?!received/)[^/\s?#\"']+"
)
_INBOUND_ADDRESS = re.compile(r"(?i)\b((?:check|dmarc)-)[0-9a-f]{6,32}@")
REDACTED = "[Filtered]"


def redact_text(text: str) -> str:
    """Redact secrets that appear inside free text (messages, URLs, breadcrumbs)."""
    text = _SLACK_HOOK.sub("https://hooks.slack.com/services/" + REDACTED, text)
    text = _SECRET_PATH.sub(lambda m: m.group(1) + REDACTED, text)
    text = _INBOUND_ADDRESS.sub(lambda m: m.group(1) + REDACTED + "@", text)
    text = _URL_USERINFO.sub(lambda m: m.group(1) + REDACTED + "@", text)
    text = _BEARER.sub(lambda m: m.group(1) + " " + REDACTED, text)
    return _SECRET_PAIR.sub(lambda m: m.group(1) + m.group(2) + REDACTED, text)


def _redact_strings(value: Any, depth: int = 0) -> Any:
    if depth > 20:
        return value
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {k: _redact_strings(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_strings(v, depth + 1) for v in value]
    return value


def before_send(event: dict, hint: dict | None = None) -> dict:
    """Redact tokens in the parts of an event that the key-based scrubber skips."""
    for key in ("message", "logentry", "request", "breadcrumbs", "exception", "extra", "tags"):
        if key in event:
            event[key] = _redact_strings(event[key])
    return event


def init_sentry(dsn: str, *, environment: str, release: str | None = None, transport=None) -> None:
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration
    from sentry_sdk.scrubber import DEFAULT_DENYLIST, DEFAULT_PII_DENYLIST, EventScrubber

    denylist = sorted(set(DEFAULT_DENYLIST + DEFAULT_PII_DENYLIST + SCRUB_KEYS))
    options: dict[str, Any] = {
        "dsn": dsn,
        "environment": environment,
        "release": release,
        "send_default_pii": False,
        "integrations": [DjangoIntegration(), CeleryIntegration()],
        "event_scrubber": EventScrubber(denylist=denylist, recursive=True),
        "before_send": before_send,
        "before_breadcrumb": lambda crumb, hint: _redact_strings(crumb),
        "traces_sample_rate": 0.0,
    }
    if transport is not None:
        options["transport"] = transport
    sentry_sdk.init(**options)


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every record and redacts secrets from the message."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        if isinstance(record.msg, str) and not record.args:
            record.msg = redact_text(record.msg)
        elif record.args:
            # Django's own lines ("Forbidden: %s") put the secret in the arguments.
            try:
                message = record.getMessage()
            except (TypeError, ValueError):
                return True
            redacted = redact_text(message)
            if redacted != message:
                record.msg, record.args = redacted, None
        return True


class RequestIdMiddleware:
    """Gives every request an id (or keeps a sane incoming X-Request-ID) for the logs."""

    _valid = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        rid = incoming if self._valid.match(incoming) else uuid.uuid4().hex[:16]
        token = request_id_var.set(rid)
        request.request_id = rid
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            # Our access log (gunicorn's is off: it would print tokens in URL paths).
            # The message has arguments, so RequestIdFilter redacts tokens in the path.
            access_logger.info(
                "%s %s %s %.0fms",
                request.method,
                request.path,
                response.status_code,
                (time.perf_counter() - started) * 1000,
            )
        finally:
            request_id_var.reset(token)
        response["X-Request-ID"] = rid
        return response
