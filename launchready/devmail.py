"""Development email: each message printed as one short, framed block.

Django's console backend prints the raw MIME message (headers, both parts, encoded
lines), in which the verification link of a sign-up is hard to find among the log
lines of ``make run``. This backend prints who it is for, the subject, and the plain
text, so links stand on their own lines. Development only (``DEBUG=true`` with the
default ``EMAIL_URL``).
"""

from __future__ import annotations

from django.core.mail import EmailMessage
from django.core.mail.backends.console import EmailBackend as ConsoleBackend

WIDTH = 72


def plain_text(message: EmailMessage) -> str:
    """The text part of a message (its body, or its text/plain alternative)."""
    if message.content_subtype == "plain":
        return str(message.body)
    for content, mimetype in getattr(message, "alternatives", []):
        if mimetype == "text/plain":
            return str(content)
    return str(message.body)


class ReadableConsoleBackend(ConsoleBackend):
    def write_message(self, message: EmailMessage) -> None:
        rule = "=" * WIDTH
        block = [
            "",
            rule,
            f"  EMAIL to {', '.join(message.to)}",
            f"  Subject: {message.subject}",
            "-" * WIDTH,
            plain_text(message).strip(),
            rule,
            "",
        ]
        self.stream.write("\n".join(block) + "\n")
