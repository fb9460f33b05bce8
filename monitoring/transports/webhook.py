"""Generic webhooks: JSON POST signed with HMAC-SHA256.

Receivers verify ``X-LaunchReady-Signature: sha256=<hex>`` computed over
``<X-LaunchReady-Timestamp>.<raw body>`` with the channel's signing secret, and
reject old timestamps to stop replays.

``X-LaunchReady-Event`` is ``opened``, ``resolved``, ``escalated`` (flapping),
``settled`` (a flapping incident's final recovery), ``audit``, ``deploy`` (a failed
post-deploy smoke test) or ``test``; the JSON
body is ``messages.AlertMessage.as_payload()``, including ``impact`` (why it costs
money) and ``action`` (what to do) in plain words.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time

from .base import Transport, TransportError


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


class WebhookTransport(Transport):
    kind = "webhook"

    def notify(self, notification) -> None:
        creds = self.channel.credentials
        url, secret = creds.get("url", ""), creds.get("signing_secret", "")
        if not url or not secret:
            raise TransportError("The webhook URL or signing secret is missing.", permanent=True)
        body = json.dumps(self.message(notification).as_payload(), separators=(",", ":")).encode()
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "X-LaunchReady-Event": notification.event,
            "X-LaunchReady-Delivery": str(notification.uuid),
            "X-LaunchReady-Timestamp": timestamp,
            "X-LaunchReady-Signature": sign(secret, timestamp, body),
        }
        # The signature covers these exact bytes, so the body is sent as built here.
        self.raise_for_status(self.post(url, content=body, headers=headers), "The webhook")
