"""The inbound SMTP receiver (aiosmtpd): live test messages and DMARC aggregate reports.

* RCPT: only known ``check-<token>`` / ``dmarc-<token>`` addresses at INBOUND_DOMAIN
  are accepted (550 otherwise); an address over its hourly limit gets a 452 (try later).
  A repeated recipient is processed once; more than MAX_RECIPIENTS get a 452.
* DATA: aiosmtpd refuses anything over INBOUND_MAX_MESSAGE_BYTES (552). A test
  message is authenticated (SPF for the connecting address, DKIM, DMARC alignment) and
  stored; a report message has its xml/gzip/zip attachments parsed and stored. Hostile
  or malformed input gets a permanent 5xx with the reason; nothing else is affected.

The SPF client address is the TCP peer. With ``INBOUND_TRUST_XCLIENT`` (tests only) a
client may name another address with ``XCLIENT ADDR=…`` (Postfix's command), because
the test sender always connects from 127.0.0.1 while SPF must judge the address the
scenario publishes.
"""

from __future__ import annotations

import asyncio
import email.policy
import ipaddress
import logging
from email.message import Message
from email.parser import BytesParser

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.cache import cache
from django.db import close_old_connections

from audits.email.dns import Lookup, net_lookup
from audits.email_models import InboundAddress

from . import store
from .auth import authenticate
from .reports import ReportError, parse_report, unpack

logger = logging.getLogger(__name__)

# Real senders name one test or report address; more distinct recipients than this in
# one transaction is abuse (each one costs an authentication run and a database write).
MAX_RECIPIENTS = 5

REPORT_TYPES = {"application/gzip", "application/x-gzip", "application/zip", "application/x-zip-compressed",
                "text/xml", "application/xml", "application/octet-stream"}  # fmt: skip


def _unknown_strikes(peer: str, add: int = 0) -> int:
    """Unknown recipients asked for by one client address in the last hour (shared cache)."""
    key = f"inbound:unknown-rcpt:{peer}"
    if add:
        try:
            return cache.incr(key, add)
        except ValueError:  # not there yet (or expired)
            cache.set(key, add, timeout=3600)
            return add
    return cache.get(key, 0)


class InboundSMTP(SMTP):
    """aiosmtpd's SMTP plus XCLIENT ADDR=/HELO= when INBOUND_TRUST_XCLIENT is on."""

    async def smtp_XCLIENT(self, arg: str) -> None:  # noqa: N802 - aiosmtpd dispatches on the verb
        if not settings.INBOUND_TRUST_XCLIENT:
            await self.push("550 5.7.0 XCLIENT is not allowed")
            return
        for item in (arg or "").split():
            key, _, value = item.partition("=")
            if key.upper() == "ADDR":
                try:
                    self.session.xclient_addr = str(ipaddress.ip_address(value))  # type: ignore[attr-defined]
                except ValueError:
                    await self.push("501 5.5.4 Bad ADDR")
                    return
            elif key.upper() == "HELO":
                self.session.host_name = value
        await self.push("220 XCLIENT accepted")


class InboundHandler:
    def __init__(self, lookup: Lookup | None = None) -> None:
        self._lookup = lookup

    @property
    def lookup(self) -> Lookup:
        return self._lookup or net_lookup()

    async def handle_RCPT(  # noqa: N802 - aiosmtpd hook name
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        peer = session.peer[0] if session.peer else "unknown"
        if await _db(_unknown_strikes, peer) >= settings.INBOUND_UNKNOWN_RECIPIENTS_PER_HOUR:
            # Someone guessing addresses: stop answering their questions for a while.
            return "450 4.7.1 Too many unknown recipients from your address; try again later"
        inbound = await _db(InboundAddress.lookup, address)
        if inbound is None:
            await _db(_unknown_strikes, peer, 1)
            return "550 5.1.1 No such mailbox here"
        targets = getattr(envelope, "inbound", [])
        if any(t.pk == inbound.pk for t in targets):
            # Accepted but processed once: the rate limit is checked here, before anything
            # is stored, so a repeated RCPT would otherwise multiply the message past it.
            return "250 2.1.5 OK (duplicate recipient)"
        if len(targets) >= MAX_RECIPIENTS:
            return "452 4.5.3 Too many recipients"
        if await _db(store.rate_limited, inbound):
            return "452 4.2.2 Too many messages for this address in the last hour; try again later"
        envelope.rcpt_tos.append(address)
        targets.append(inbound)
        envelope.inbound = targets  # type: ignore[attr-defined]
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        raw = envelope.original_content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", errors="surrogateescape")
        try:
            message = BytesParser(policy=email.policy.default).parsebytes(raw)
            problem = _malformed(message)
        except Exception as exc:  # the email package raises many types on broken input
            logger.info("unparseable inbound message: %r", exc)
            problem = "The message could not be parsed."
        if problem:
            return f"550 5.6.0 {problem}"
        peer_ip = getattr(session, "xclient_addr", None) or session.peer[0]
        replies = []
        for inbound in getattr(envelope, "inbound", []):
            try:
                if inbound.kind == InboundAddress.Kind.CHECK:
                    replies.append(
                        await self._test_message(inbound, raw, message, peer_ip, session, envelope)
                    )
                else:
                    replies.append(await self._report(inbound, message))
            except Exception:
                # The address itself is a secret (whoever knows it can post results): log its uuid.
                logger.exception("inbound processing failed for address %s", inbound.uuid)
                replies.append("451 4.3.0 Temporary failure while processing the message; try again later")
        return next(
            (r for r in replies if not r.startswith("250")),
            replies[0] if replies else "554 5.5.1 No valid recipients",
        )

    async def _test_message(
        self,
        inbound: InboundAddress,
        raw: bytes,
        message: Message,
        peer_ip: str,
        session: Session,
        envelope: Envelope,
    ) -> str:
        helo = session.host_name or ""
        mail_from = (envelope.mail_from or "").strip("<>")
        auth = await authenticate(
            raw, message, peer_ip, helo, mail_from, self.lookup, settings.INBOUND_DOMAIN
        )
        saved = await _db(
            store.save_test_message,
            inbound,
            message=message,
            size=len(raw),
            peer_ip=peer_ip,
            helo=helo,
            mail_from=mail_from,
            auth=auth,
        )
        logger.info(
            "test message %s for site %s: dmarc=%s",
            saved.uuid,
            inbound.site_id,
            auth.dmarc and auth.dmarc.result,
        )
        return "250 2.0.0 Test message received: see your site page"

    async def _report(self, inbound: InboundAddress, message: Message) -> str:
        attachments = report_attachments(message)
        if not attachments:
            return "550 5.6.0 No DMARC report (xml, gzip or zip) attached"
        stored = 0
        for name, data in attachments:
            try:
                xml = await asyncio.to_thread(unpack, data, settings.INBOUND_MAX_REPORT_BYTES, name)
                report = await asyncio.to_thread(parse_report, xml)
            except ReportError as exc:
                return f"550 5.6.0 {exc}"
            _, created = await _db(store.save_report, inbound.workspace, report)
            stored += int(created)
        return f"250 2.0.0 {stored} report(s) stored"


def report_attachments(message: Message) -> list[tuple[str, bytes]]:
    """(filename, bytes) of the parts that may hold a report."""
    found = []
    for part in message.walk():
        if part.is_multipart():
            continue
        name = part.get_filename() or ""
        if part.get_content_type() in REPORT_TYPES or name.lower().endswith((".xml", ".gz", ".zip")):
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes) and payload:
                found.append((name, payload))
    return found[:5]


def _malformed(message: Message) -> str:
    """A reason to refuse the message outright, or ""."""
    if not message.keys():
        return "The message has no headers."
    if len(message.get_all("From") or []) != 1:
        return "The message must have exactly one From header."
    for defect in message.defects:
        if type(defect).__name__ in ("MissingHeaderBodySeparatorDefect", "InvalidHeaderDefect"):
            return "The message headers are malformed."
    return ""


async def _db(func, *args, **kwargs):  # noqa: ANN001,ANN202 - a thin ORM bridge
    def run():  # noqa: ANN202
        close_old_connections()
        try:
            return func(*args, **kwargs)
        finally:
            close_old_connections()

    return await sync_to_async(run, thread_sensitive=False)()


def make_smtp(handler: InboundHandler, hostname: str | None = None) -> InboundSMTP:
    return InboundSMTP(
        handler,
        data_size_limit=settings.INBOUND_MAX_MESSAGE_BYTES,
        hostname=hostname or settings.INBOUND_DOMAIN,
        ident="Launch Ready inbound",
        decode_data=False,
    )


class InboundController(Controller):
    """Runs the receiver in a background thread (the management command and tests)."""

    def factory(self) -> InboundSMTP:
        return make_smtp(self.handler)


def start_receiver(host: str, port: int, lookup: Lookup | None = None) -> InboundController:
    controller = InboundController(InboundHandler(lookup), hostname=host, port=port)
    controller.start()
    return controller
