"""The weekly report and the portfolio digest as email: subject, plain text and HTML.

The HTML is for mail clients, not browsers: one table layout, inline styles, no
script, no SVG, no remote images; bars are two-cell tables. Every text from users or
stores is escaped by the templates. Each recipient gets their own unsubscribe link,
also in the ``List-Unsubscribe`` headers (RFC 2369) with one-click POST (RFC 8058).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from .content import WeeklyContent

UNSUBSCRIBE_SALT = "reports.unsubscribe"
MAX_SUBJECT = 180


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def unsubscribe_token(kind: str, public_id) -> str:
    """``kind`` is "weekly" (a membership's uuid) or "digest" (a digest subscription's uuid)."""
    return signing.dumps([kind, str(public_id)], salt=UNSUBSCRIBE_SALT, compress=True)


def read_unsubscribe_token(token: str) -> tuple[str, str]:
    """(kind, uuid) from a token, or ``signing.BadSignature`` for anything forged or mangled."""
    value = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    if not (isinstance(value, list) and len(value) == 2 and value[0] in ("weekly", "digest")):
        raise signing.BadSignature("not an unsubscribe token")
    return value[0], value[1]


def unsubscribe_url(kind: str, public_id) -> str:
    return settings.SITE_URL + reverse(
        "reports_unsubscribe", kwargs={"token": unsubscribe_token(kind, public_id)}
    )


def one_line(text: str, limit: int = 60) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def weekly(content: WeeklyContent, *, unsubscribe: str, preview: bool = False) -> Rendered:
    context = {
        "c": content,
        "unsubscribe_url": unsubscribe,
        "preview": preview,
    }
    subject = f"{content.subject} — {one_line(content.workspace_name)}"
    if preview:
        subject = f"Preview: {subject}"
    return Rendered(
        subject=subject[:MAX_SUBJECT],
        text=render_to_string("reports/email/weekly.txt", context),
        html=render_to_string("reports/email/weekly.html", context),
    )


def message(rendered: Rendered, to: str, unsubscribe: str, connection=None) -> EmailMultiAlternatives:
    email = EmailMultiAlternatives(
        subject=rendered.subject,
        body=rendered.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
        },
        connection=connection,
    )
    email.attach_alternative(rendered.html, "text/html")
    return email
