"""Development email: each message printed as one short, framed block, and kept for
the development mailbox page (``/dev/mail/``) so a newcomer confirms a sign-up
without leaving the browser.

Django's console backend prints the raw MIME message (headers, both parts, encoded
lines), in which the verification link of a sign-up is hard to find among the log
lines of ``make run``. This backend prints who it is for, the subject, and the plain
text, so links stand on their own lines. Development only: settings select it when
``DEBUG=true`` with the default ``EMAIL_URL``, and the mailbox page answers 404 unless
both hold.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.backends.console import EmailBackend as ConsoleBackend
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

WIDTH = 72
KEEP = 50  # messages the mailbox keeps (oldest removed first)
BACKEND = "launchready.devmail.ReadableConsoleBackend"


def plain_text(message: EmailMessage) -> str:
    """The text part of a message (its body, or its text/plain alternative)."""
    if message.content_subtype == "plain":
        return str(message.body)
    for content, mimetype in getattr(message, "alternatives", []):
        if mimetype == "text/plain":
            return str(content)
    return str(message.body)


def mailbox_dir() -> Path:
    return Path(settings.VAR_DIR) / "devmail"


def enabled() -> bool:
    return bool(settings.DEBUG) and settings.EMAIL_BACKEND == BACKEND


@dataclass(frozen=True)
class Kept:
    to: str
    subject: str
    text: str
    sent_at: float


def kept_messages() -> list[Kept]:
    """The mailbox, newest first."""
    folder = mailbox_dir()
    messages = []
    for path in sorted(folder.glob("*.json"), reverse=True) if folder.exists() else []:
        try:
            messages.append(Kept(**json.loads(path.read_text(encoding="utf-8"))))
        except (OSError, ValueError, TypeError):
            continue  # a half-written or foreign file is not a message
    return messages


def keep(message: EmailMessage) -> None:
    folder = mailbox_dir()
    folder.mkdir(parents=True, exist_ok=True)
    now = time.time()
    record = {
        "to": ", ".join(message.to),
        "subject": str(message.subject),
        "text": plain_text(message),
        "sent_at": now,
    }
    name = f"{now:017.6f}-{uuid.uuid4().hex[:8]}.json"
    partial = folder / f".{name}"
    partial.write_text(json.dumps(record), encoding="utf-8")
    os.replace(partial, folder / name)  # readers never see half a message
    for old in sorted(folder.glob("*.json"))[:-KEEP]:
        old.unlink(missing_ok=True)


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
        try:
            keep(message)
        except OSError:
            self.stream.write("  (not kept for the development mailbox: its folder is not writable)\n")


def mailbox(request: HttpRequest) -> HttpResponse:
    """``/dev/mail/``: the emails the product sent, newest first (development only)."""
    if not enabled():
        raise Http404("The development mailbox exists only with DEBUG=true and the console email backend.")
    return render(request, "dev/mailbox.html", {"messages_kept": kept_messages()})


def context(request: HttpRequest) -> dict:
    """``dev_mailbox``: pages that send email point to the mailbox in development."""
    return {"dev_mailbox": enabled()}
