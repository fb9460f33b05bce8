"""Our own observability: request ids in every log line, and Sentry with scrubbing.

Sentry is initialised only when ``SENTRY_DSN`` is set. Nothing secret leaves: the
SDK's EventScrubber runs recursively with our own keys added, and ``before_send``
also redacts tokens inside messages and URLs, which the scrubber does not touch.

Some secrets have no telling key or shape: a generic webhook URL, a Twilio account
SID, a phone number. They are known while an alert is sent, so the sender registers
them with ``secrets_scope()``; every log line, breadcrumb and Sentry event made in
that scope (or from an exception that leaves it) has them masked by value, however
they were cut or encoded.
"""

from __future__ import annotations

import contextvars
import logging
import re
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote, quote_plus, urlsplit

from celery import signals as celery_signals

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
    # Alert channels (monitoring.transports): Twilio's account and the numbers texted.
    "account_sid",
    "from_number",
    "to_number",
    "phone",
    "x-launchready-signature",
]

# In the frames of the alert transports these local names hold a channel's credentials.
# Scrubbed there only: a "url" or "to" anywhere else (an audited page) is worth keeping.
CHANNEL_MODULES = ("monitoring.transports", "monitoring.crypto")
CHANNEL_FRAME_VARS = frozenset(
    {"url", "to", "sender", "sid", "token", "auth", "secret", "creds", "credentials", "address"}
)

# Form fields posted with a channel's webhook URL or a monitor's custom request headers:
# scrubbed in request bodies only ("url" in a frame or a breadcrumb is worth keeping).
REQUEST_DATA_KEYS = frozenset({"url", "headers"})

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


# -- secrets known by value ------------------------------------------------------------

MIN_SECRET_CHARS = 6  # shorter values ("+1", a test token "t") would mask ordinary words
CUT_SECRET_CHARS = 8  # a secret cut short (…, ..., end of text) is masked once this much shows
_CUT_MARKS = ("…", ".")
_PHONE = re.compile(r"^\+[0-9 ().-]{6,}$")
_secret_values: contextvars.ContextVar[frozenset[str]] = contextvars.ContextVar(
    "secret_values", default=frozenset()
)
_CARRIED = "_launchready_secret_values"  # set on an exception leaving a secrets_scope()


class _Masker:
    """Replaces known secret values, and any cut-off start of them, by ``[Filtered]``.

    A URL keeps its scheme and host (they say where it went, and are not the secret):
    whatever follows them is masked, however the URL was cut, so a message from the
    SSRF guard, which shortens URLs to 120 characters, still says which host it was.
    """

    def __init__(self, values: Iterable[str]):
        plain: set[str] = set()
        self.urls: list[re.Pattern[str]] = []
        for value in values:
            if not isinstance(value, str) or len(value) < MIN_SECRET_CHARS:
                continue
            plain |= _variants(value)
            origin = _origin_pattern(value)
            if origin:
                self.urls.append(re.compile(rf"(?i)(?P<origin>{origin})[/?#][^\s'\"<>]*"))
        # Longest first, so a value is masked whole before a shorter one inside it.
        self.plain = sorted((v for v in plain if len(v) >= MIN_SECRET_CHARS), key=len, reverse=True)

    def __bool__(self) -> bool:
        return bool(self.plain or self.urls)

    def __call__(self, text: str) -> str:
        for pattern in self.urls:
            text = pattern.sub(lambda m: m.group("origin") + "/" + REDACTED, text)
        for value in self.plain:
            text = _mask_value(text, value)
        return text


def _variants(value: str) -> set[str]:
    """The forms a secret takes in messages: as is, percent- or form-encoded.

    Of a URL only what follows the host is secret (and masking its start would hide
    the host), so its variants are those of the path and query, also as sent on the wire.
    """
    try:
        parts = urlsplit(value)
    except ValueError:
        parts = None
    if parts and parts.scheme and parts.netloc:
        value = value.split(parts.netloc, 1)[1]  # path, query and fragment, as written
        found = {value, quote(value, safe="/%:@!$&'()*+,;=-._~[]?")}
    else:
        found = {value}
    found |= {quote(value, safe=""), quote_plus(value)}
    if _PHONE.match(value):
        found |= {value[1:], re.sub(r"\D", "", value)}  # "%2B31…" in form bodies, digits only
    return found


def _origin_pattern(value: str) -> str | None:
    try:
        parts = urlsplit(value)
        host, scheme = parts.hostname, parts.scheme
    except ValueError:
        return None
    if not (scheme and host):
        return None
    shown = rf"\[{re.escape(host)}\]" if ":" in host else re.escape(host)
    return rf"{re.escape(scheme)}://(?:[^/\s@]*@)?{shown}(?::\d+)?"


def _mask_value(text: str, secret: str) -> str:
    if len(secret) <= CUT_SECRET_CHARS:
        return text.replace(secret, REDACTED)
    anchor = secret[:CUT_SECRET_CHARS]
    out, start, search = [], 0, 0
    while (found := text.find(anchor, search)) != -1:
        end = found + CUT_SECRET_CHARS
        while end - found < len(secret) and end < len(text) and text[end] == secret[end - found]:
            end += 1
        # All of the secret, or its start where the text was cut ("…", "...", the end):
        # text that merely starts alike ("/services/" of a Slack URL) is left alone.
        if end - found == len(secret) or end == len(text) or text[end] in _CUT_MARKS:
            out += [text[start:found], REDACTED]
            start = search = end
        else:
            search = found + 1
    return "".join(out) + text[start:] if out else text


def mask_secrets(text: str, values: Iterable[str]) -> str:
    """``text`` with every one of ``values`` (whole, cut short or encoded) masked."""
    return _Masker(values)(text)


@contextmanager
def secrets_scope(values: Iterable[str]) -> Iterator[Callable[[str], str]]:
    """Mask ``values`` in every log line and Sentry event made inside the block.

    Yields the masking function (for messages the block builds itself). An exception
    that leaves the block carries the values, so the log line and the Sentry event made
    from it further up (the Celery worker's), after the block ended, are masked too.
    """
    current = _secret_values.get() | frozenset(v for v in values if isinstance(v, str) and v)
    token = _secret_values.set(current)
    try:
        yield _Masker(current)
    except BaseException as exc:
        try:
            setattr(exc, _CARRIED, getattr(exc, _CARRIED, frozenset()) | current)
        except AttributeError:  # an exception type with __slots__: the values go unmasked
            pass
        raise
    finally:
        _secret_values.reset(token)


def _masker_for(exc: BaseException | None = None) -> _Masker:
    values = set(_secret_values.get())
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:  # the whole chain: raised from, during handling of
        seen.add(id(exc))
        values |= getattr(exc, _CARRIED, frozenset())
        exc = exc.__cause__ or exc.__context__
    return _Masker(values)


def _redact(text: str, masker: _Masker | None) -> str:
    return redact_text(masker(text) if masker else text)


def _redact_strings(value: Any, masker: _Masker | None = None, depth: int = 0) -> Any:
    if depth > 20:
        return value
    if isinstance(value, str):
        return _redact(value, masker)
    if isinstance(value, dict):
        return {
            (masker(k) if masker and isinstance(k, str) else k): _redact_strings(v, masker, depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_redact_strings(v, masker, depth + 1) for v in value]
    return value


def _scrub_by_name(event: dict) -> None:
    """Channel credentials under names too common to add to the scrubber's global denylist."""
    data = (event.get("request") or {}).get("data")
    if isinstance(data, dict):
        for name in REQUEST_DATA_KEYS & data.keys():
            data[name] = REDACTED
    for kind in ("exception", "threads"):
        for value in (event.get(kind) or {}).get("values") or []:
            for frame in (value.get("stacktrace") or {}).get("frames") or []:
                variables = frame.get("vars")
                if str(frame.get("module") or "").startswith(CHANNEL_MODULES) and isinstance(variables, dict):
                    for name in CHANNEL_FRAME_VARS & variables.keys():
                        variables[name] = REDACTED


def before_send(event: dict, hint: dict | None = None) -> dict:
    """Redact what the key-based scrubber misses: tokens in text, channel secrets by value."""
    exc_info = (hint or {}).get("exc_info")
    masker = _masker_for(exc_info[1] if exc_info else None)
    _scrub_by_name(event)
    return _redact_strings(event, masker)


def before_breadcrumb(crumb: dict, hint: dict | None = None) -> dict:
    return _redact_strings(crumb, _masker_for())


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
        "before_breadcrumb": before_breadcrumb,
        "traces_sample_rate": 0.0,
    }
    if transport is not None:
        options["transport"] = transport
    sentry_sdk.init(**options)


_traceback_formatter = logging.Formatter()


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every record and redacts secrets from the message and traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        masker = _masker_for(record.exc_info[1] if record.exc_info else None)
        if record.exc_info and not record.exc_text:
            # Formatters reuse exc_text when set, so the traceback printed is the redacted one.
            record.exc_text = _traceback_formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = _redact(record.exc_text, masker)
        if record.stack_info:
            record.stack_info = _redact(record.stack_info, masker)
        if isinstance(record.msg, str) and not record.args:
            record.msg = _redact(record.msg, masker)
        elif record.args:
            # Django's own lines ("Forbidden: %s") put the secret in the arguments.
            try:
                message = record.getMessage()
            except (TypeError, ValueError):
                return True
            redacted = _redact(message, masker)
            if redacted != message:
                record.msg, record.args = redacted, None
        return True


def _filter_celery_handlers(logger: logging.Logger, **kwargs: Any) -> None:
    """Celery's worker swaps the root logger's handlers for its own: they redact too."""
    for handler in logger.handlers:
        if not any(isinstance(f, RequestIdFilter) for f in handler.filters):
            handler.addFilter(RequestIdFilter())


# Connected when the LOGGING setting imports this module, which django.setup() does
# before the worker sets up its logging.
celery_signals.after_setup_logger.connect(_filter_celery_handlers, weak=False)
celery_signals.after_setup_task_logger.connect(_filter_celery_handlers, weak=False)


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
