"""Email alerts through Django's mail backend (SMTP in production)."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from .base import Transport, TransportError


class EmailTransport(Transport):
    kind = "email"

    def recipients(self, notification) -> list[str]:
        if notification.contact_id:
            return [notification.contact.email]
        address = self.channel.credentials.get("address") or self.channel.label
        return [address]

    def notify(self, notification) -> None:
        msg = self.message(notification)
        context = {"m": msg}
        email = EmailMultiAlternatives(
            subject=f"[Launch Ready] {msg.title}"[:200],
            body=render_to_string("monitoring/email/alert.txt", context),
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=self.recipients(notification),
        )
        email.attach_alternative(render_to_string("monitoring/email/alert.html", context), "text/html")
        try:
            email.send()
        except (OSError, TimeoutError) as exc:
            # smtplib's SMTPRecipientsRefused (an OSError; smtplib stays out of this
            # module, only Django's mail backend talks SMTP) carries the codes: a 5xx
            # refusal is about the address itself, so retrying cannot help; a 4xx
            # (greylisting, mailbox full for now) is worth another try.
            refused = getattr(exc, "recipients", None)
            if isinstance(refused, dict) and refused:
                permanent = all(code >= 500 for code, _ in refused.values())
                raise TransportError(
                    "The mail server refused the recipient address"
                    + ("." if permanent else " for now; it will be tried again."),
                    permanent=permanent,
                ) from None
            # Otherwise the mail server is down or unreachable: try again later.
            raise TransportError(
                f"The mail server did not accept the message ({type(exc).__name__}).", permanent=False
            ) from None
