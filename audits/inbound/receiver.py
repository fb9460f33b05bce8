"""The inbound SMTP receiver (aiosmtpd): live test messages and DMARC aggregate reports.

* RCPT: only known ``check-<token>`` / ``dmarc-<token>`` addresses at INBOUND_DOMAIN
  are accepted (550 otherwise); an address over its hourly limit gets a 452 (try later).
  A repeated recipient is processed once; more than MAX_RECIPIENTS get a 452.
* DATA: aiosmtpd refuses anything over INBOUND_MAX_MESSAGE_BYTES (552). A test
  message is authenticated (SPF for the connecting address, DKIM, DMARC alignment) and
  stored; a report message has its xml/gzip/zip attachments parsed and stored. Hostile
  or malformed input gets a permanent 5xx with the reason; nothing else is affected.
* Report messages are read in worker processes (``workers``), each within
  INBOUND_REPORT_CPU_SECONDS of CPU, never in the event loop or its threads: a report
  bomb costs a worker's CPU, not other clients' time. At most a few per worker wait;
  beyond that a report gets 451 (try later).
* A client (address, or IPv6 /64) that asked for too many unknown recipients, or whose
  reports were refused too often, in the last hour gets 450 at RCPT (shared cache).

The SPF client address is the TCP peer. With ``INBOUND_TRUST_XCLIENT`` (tests only) a
client may name another address with ``XCLIENT ADDR=…`` (Postfix's command), because
the test sender always connects from 127.0.0.1 while SPF must judge the address the
scenario publishes.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Coroutine
from email.message import Message
from typing import Any

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
from .mime import MessageRefused, read_message
from .reports import ReportBatch, read_report_message
from .workers import CpuLimitExceeded, CpuPool, WorkerLost

logger = logging.getLogger(__name__)

# Real senders name one test or report address; more distinct recipients than this in
# one transaction is abuse (each one costs an authentication run and a database write).
MAX_RECIPIENTS = 5
# Report messages waiting for or in a worker, per worker; more get 451 rather than a
# queue that grows with a flood (and the latency of real reports with it).
MAX_QUEUED_PER_WORKER = 8

UNKNOWN_RECIPIENT = "unknown-rcpt"
REFUSED_REPORT = "refused-report"
TURNED_AWAY = {
    UNKNOWN_RECIPIENT: "450 4.7.1 Too many unknown recipients from your address; try again later",
    REFUSED_REPORT: "450 4.7.1 Too many refused reports from your address; try again later",
}


def client_network(peer: str) -> str:
    """What per-client limits count: the address, or its /64 for IPv6 (one subscriber's
    allocation, so hopping between its addresses does not reset the count)."""
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return peer
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def _strikes(kind: str, peer: str, add: int = 0) -> int:
    """Strikes of one kind against a client in the last hour (shared cache)."""
    key = f"inbound:{kind}:{client_network(peer)}"
    if add:
        try:
            return cache.incr(key, add)
        except ValueError:  # not there yet (or expired)
            cache.set(key, add, timeout=3600)
            return add
    return cache.get(key, 0)


def _strike_limit(kind: str) -> int:
    if kind == UNKNOWN_RECIPIENT:
        return settings.INBOUND_UNKNOWN_RECIPIENTS_PER_HOUR
    return settings.INBOUND_REFUSED_REPORTS_PER_HOUR


def _turned_away(peer: str, kinds: tuple[str, ...] = tuple(TURNED_AWAY)) -> str:
    """The 450 reply for a client over one of its hourly limits, or ""."""
    return next((TURNED_AWAY[k] for k in kinds if _strikes(k, peer) >= _strike_limit(k)), "")


class InboundSMTP(SMTP):
    """aiosmtpd's SMTP plus XCLIENT ADDR=/HELO= when INBOUND_TRUST_XCLIENT is on."""

    async def smtp_XCLIENT(self, arg: str) -> None:  # aiosmtpd dispatches on the verb
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
        self._workers: CpuPool | None = None
        self._queued_reports = 0  # only touched from the event loop

    @property
    def lookup(self) -> Lookup:
        return self._lookup or net_lookup()

    async def handle_RCPT(  # aiosmtpd hook name
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        peer = _peer(session)
        # Someone guessing addresses or sending bombs: stop answering them for a while.
        if turned_away := await _db(_turned_away, peer):
            return turned_away
        inbound = await _db(InboundAddress.lookup, address)
        if inbound is None:
            await _db(_strikes, UNKNOWN_RECIPIENT, peer, 1)
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

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", errors="surrogateescape")
        targets = getattr(envelope, "inbound", [])
        checks = [t for t in targets if t.kind == InboundAddress.Kind.CHECK]
        reports = [t for t in targets if t.kind != InboundAddress.Kind.CHECK]
        replies = []
        if reports:  # read in a worker process, parsed there from the raw bytes
            replies.append(await self._reports(reports, raw, _peer(session)))
        if checks:
            try:
                message = read_message(raw)
            except MessageRefused as exc:
                return f"550 5.6.0 {exc}"
            peer_ip = getattr(session, "xclient_addr", None) or session.peer[0]
            for inbound in checks:
                replies.append(
                    await _reply_for(
                        inbound, self._test_message(inbound, raw, message, peer_ip, session, envelope)
                    )
                )
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

    async def _reports(self, targets: list[InboundAddress], raw: bytes, peer: str) -> str:
        """Read the reports of a message once, store them for each report address."""
        if turned_away := await _db(_turned_away, peer, (REFUSED_REPORT,)):
            return turned_away  # it may have been refused while this message was arriving
        if self._workers is None:
            self._workers = CpuPool(settings.INBOUND_REPORT_WORKERS)
        if self._queued_reports >= self._workers.workers * MAX_QUEUED_PER_WORKER:
            return "451 4.3.2 Too many reports are being read; try again later"
        try:
            batch = await self._read_reports(self._workers, raw)
        except WorkerLost:
            return "451 4.3.0 Temporary failure while reading the report; try again later"
        replies = []
        for inbound in targets:
            replies.append(await _reply_for(inbound, self._store_reports(inbound, batch)))
        if batch.refusal:
            await _db(_strikes, REFUSED_REPORT, peer, 1)
            return f"550 5.6.0 {batch.refusal}"
        return next((r for r in replies if not r.startswith("250")), replies[0])

    async def _read_reports(self, workers: CpuPool, raw: bytes) -> ReportBatch:
        """The reports in the message, read by a worker process within the CPU allowance."""
        seconds = settings.INBOUND_REPORT_CPU_SECONDS
        self._queued_reports += 1
        try:
            return await workers.run(seconds, read_report_message, raw, settings.INBOUND_MAX_REPORT_BYTES)
        except CpuLimitExceeded:
            return ReportBatch(refusal=f"The report took more than {seconds:g} s of processing; refused.")
        finally:
            self._queued_reports -= 1

    async def _store_reports(self, inbound: InboundAddress, batch: ReportBatch) -> str:
        stored = 0
        for report in batch.reports:
            _, created = await _db(store.save_report, inbound.workspace, report)
            stored += int(created)
        return f"250 2.0.0 {stored} report(s) stored"

    def close(self) -> None:
        if self._workers is not None:
            self._workers.close()


async def _reply_for(inbound: InboundAddress, processing: Coroutine[Any, Any, str]) -> str:
    """The reply of one recipient's processing; 451 (and a log line) if it failed."""
    try:
        return await processing
    except Exception:
        # The address itself is a secret (whoever knows it can post results): log its uuid.
        logger.exception("inbound processing failed for address %s", inbound.uuid)
        return "451 4.3.0 Temporary failure while processing the message; try again later"


def _peer(session: Session) -> str:
    """The connecting address (not an XCLIENT one: limits are about who connects)."""
    return session.peer[0] if session.peer else "unknown"


async def _db(func, *args, **kwargs):  # a thin ORM bridge
    def run():
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

    def stop(self, no_assert: bool = False) -> None:
        super().stop(no_assert)
        self.handler.close()


def start_receiver(host: str, port: int, lookup: Lookup | None = None) -> InboundController:
    controller = InboundController(InboundHandler(lookup), hostname=host, port=port)
    controller.start()
    return controller
