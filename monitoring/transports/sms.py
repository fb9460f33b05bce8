"""SMS through Twilio's REST API (a form POST with basic auth, built by httpx).

The API base URL is the setting ``LAUNCHREADY_TWILIO_BASE_URL`` so tests point it
at the sandbox's recording receiver.
"""

from __future__ import annotations

import base64
from urllib.parse import quote

from django.conf import settings

from .base import Transport, TransportError

SMS_CHARS = 320


def basic_auth(sid: str, token: str) -> str:
    return base64.b64encode(f"{sid}:{token}".encode()).decode()


class SmsTransport(Transport):
    kind = "sms"

    def secrets(self, notification) -> set[str]:
        # The Authorization header is scrubbed by name, the encoded pair in a variable is not.
        creds = self.channel.credentials
        return super().secrets(notification) | {
            basic_auth(creds.get("account_sid", ""), creds.get("auth_token", ""))
        }

    def notify(self, notification) -> None:
        msg = self.message(notification)
        creds = self.channel.credentials
        sid, token = creds.get("account_sid", ""), creds.get("auth_token", "")
        sender, to = creds.get("from_number", ""), creds.get("to_number", "")
        if notification.contact_id:  # an escalation: text the contact, from the channel's number
            to = notification.contact.phone
        if not (sid and token and sender and to):
            raise TransportError(
                "The Twilio account SID, token or phone numbers are missing.", permanent=True
            )
        ack = f" Ack: {msg.ack_url}" if msg.ack_url else ""
        # Shorten the title, never the link: a cut link acknowledges nothing.
        room = SMS_CHARS - len(ack)
        title = msg.title if len(msg.title) <= room else msg.title[: room - 1] + "…"
        url = (
            f"{settings.LAUNCHREADY_TWILIO_BASE_URL}/2010-04-01/Accounts/{quote(sid, safe='')}/Messages.json"
        )
        form = {"From": sender, "To": to, "Body": title + ack}
        self.raise_for_status(self.post(url, data=form, auth=(sid, token)), "Twilio")
