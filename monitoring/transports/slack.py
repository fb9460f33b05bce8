"""Slack incoming webhooks: POST a JSON ``text`` to the channel's secret URL."""

from __future__ import annotations

from .base import Transport, TransportError


class SlackTransport(Transport):
    kind = "slack"

    def notify(self, notification) -> None:
        msg = self.message(notification)
        url = self.channel.credentials.get("webhook_url", "")
        if not url:
            raise TransportError("The Slack webhook URL is missing.", permanent=True)
        link = f"\n<{msg.ack_url}|Acknowledge>" if msg.ack_url else ""
        explained = "".join(
            f"\n{label}: {line}"
            for label, line in (("Why it matters", msg.impact), ("What to do", msg.action))
            if line
        )
        payload = {
            "text": f"*{msg.title}*{explained}\n{msg.target}{link}"
            + (f"\n<{msg.url}|Details>" if msg.url else "")
        }
        self.raise_for_status(self.post(url, json=payload), "Slack")
