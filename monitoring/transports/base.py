"""The one base class for alert channels, and the one registry.

A transport implements ``notify(notification)``: send, or raise ``TransportError``
flagged permanent (wrong URL, revoked token, unknown number: retrying cannot help)
or transient (timeout, 5xx, rate limit). ``deliver()`` in the base does the rest:
marks the outbox row sent, or schedules a retry with exponential backoff, or on a
permanent failure gives up and disables the channel with its last error shown.
Subclasses register themselves by their ``kind``; nothing else lists them.

A channel's credentials (webhook URLs, Twilio SID and token, phone numbers) are
secrets in their own right, with no telling shape: ``secrets()`` names them, and
``deliver()`` sends inside ``observability.secrets_scope()`` so that no error
message, log line or Sentry event shows them (last_error is shown to every role).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any, ClassVar

from django.utils import timezone

from launchready import net
from launchready.observability import mask_secrets, secrets_scope

from ..messages import AlertMessage, build

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
BACKOFF_S = (30, 120, 600, 1800, 3600)  # after attempt 1, 2, 3…


class TransportError(Exception):
    def __init__(self, message: str, *, permanent: bool):
        super().__init__(message)
        self.message = message[:300]
        self.permanent = permanent


REGISTRY: dict[str, type[Transport]] = {}


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=BACKOFF_S[min(attempts, len(BACKOFF_S)) - 1])


class Transport:
    kind: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.kind:
            REGISTRY[cls.kind] = cls

    def __init__(self, channel) -> None:
        self.channel = channel

    def notify(self, notification) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def message(self, notification) -> AlertMessage:
        return build(notification)

    def secrets(self, notification) -> set[str]:
        """Values that must never be shown: every credential of the channel, the number texted."""
        values = set(_strings(self.channel.credentials)) if self.channel else set()
        if notification.contact_id and notification.contact.phone:
            values.add(notification.contact.phone)
        return values

    # -- HTTP helper for the transports that post somewhere -------------------------
    def post(self, url: str, *, timeout: float = 10.0, **request: Any) -> net.ApiResponse:
        """POST through the network layer's httpx client (SSRF guard included).

        ``request`` is what httpx's ``post`` takes (``json=``, ``data=``, ``content=``,
        ``headers=``, ``auth=``). Redirects are not followed; network trouble is transient.
        """
        try:
            with net.api_client(timeout=timeout) as client:
                return client.post(url, **request)
        except net.API_ERRORS as exc:
            error = net.api_error(exc)
            # The URL itself is the secret for Slack and webhooks: name its host only,
            # also when the network layer shortened it (the SSRF guard cuts at 120 characters).
            message = mask_secrets(error.message, {url})
            permanent = error.kind in (
                net.ErrorKind.BLOCKED,
                net.ErrorKind.INVALID_URL,
                net.ErrorKind.DNS_NXDOMAIN,
            )
            raise TransportError(message, permanent=permanent) from None

    @staticmethod
    def raise_for_status(response: net.ApiResponse, service: str) -> None:
        status = response.status_code
        if 200 <= status < 300:
            return
        detail = response.text[:120].strip()  # storable text (net.ApiResponse)
        message = f"{service} answered {status}" + (f": {detail}" if detail else "") + "."
        transient = status in (408, 425, 429) or status >= 500
        raise TransportError(message, permanent=not transient)


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list | tuple):
        return [text for item in value for text in _strings(item)]
    return []


def transport_for(notification) -> Transport:
    if notification.channel_id is None:
        # Escalation contacts are emailed.
        return REGISTRY["email"](None)
    channel = notification.channel
    try:
        return REGISTRY[channel.kind](channel)
    except KeyError:
        raise TransportError(f"No transport for channel kind {channel.kind!r}.", permanent=True) from None


def deliver(notification) -> bool:
    """Send one claimed notification and record the outcome. True when sent."""
    from ..models import AlertChannel, Notification

    now = timezone.now()
    notification.attempts += 1
    try:
        transport = transport_for(notification)
    except TransportError as exc:
        return _failed(notification, exc.message, exc.permanent, now)
    with secrets_scope(transport.secrets(notification)) as mask:
        try:
            transport.notify(notification)
        except TransportError as exc:
            # A service may echo a number or an account in its answer: mask them too.
            return _failed(notification, mask(exc.message)[:300], exc.permanent, now)
    notification.status = Notification.Status.SENT
    notification.sent_at = now
    notification.claimed_until = None
    notification.last_error = ""
    notification.save(update_fields=["attempts", "status", "sent_at", "claimed_until", "last_error"])
    if notification.channel_id and notification.event == Notification.Event.TEST:
        AlertChannel.objects.filter(pk=notification.channel_id).update(verified=True)
    return True


def _failed(notification, message: str, permanent: bool, now) -> bool:
    """Record a failed attempt: retry later, or give up (and disable a channel at fault)."""
    from ..models import AlertChannel, Notification

    notification.last_error = message
    if permanent or notification.attempts >= MAX_ATTEMPTS:
        notification.status = Notification.Status.FAILED
        # A wrong contact phone number is the contact's problem, not the channel's.
        channel_fault = notification.channel_id and not notification.contact_id
        if permanent and channel_fault and notification.event != Notification.Event.TEST:
            AlertChannel.objects.filter(pk=notification.channel_id, disabled_at__isnull=True).update(
                disabled_at=now, last_error=message, last_error_at=now
            )
        elif notification.channel_id:
            AlertChannel.objects.filter(pk=notification.channel_id).update(
                last_error=message, last_error_at=now
            )
        logger.warning("notification %s failed for good: %s", notification.uuid, message)
    else:
        notification.status = Notification.Status.PENDING
        notification.next_attempt_at = now + backoff(notification.attempts)
        logger.info("notification %s will be retried: %s", notification.uuid, message)
    notification.claimed_until = None
    # Saved after the channel's update: its save drops the workspace's kept pages
    # (launchready.fragments), so the overview shows the channel disabled at once.
    notification.save(update_fields=["attempts", "status", "next_attempt_at", "last_error", "claimed_until"])
    return False
