"""A flood of hostile DMARC reports over real SMTP: each costs the receiver little, a
client whose reports keep being refused is turned away, and a real test message sent
while the reports are being processed is handled at once.

The bombs connect from 127.0.0.1 and the real message from 127.0.0.2 (both loopback),
because the per-client limits must not be what lets the real message through.

The one timed assertion here (the real message is handled within 2 s) is asked for by
the security issue. The real message never waits for report processing (reports are
parsed in worker processes), so it normally takes a small fraction of that bound; the
second test shows this with reports that each burn their whole CPU allowance.
"""

from __future__ import annotations

import functools
import gzip
import re
import select
import smtplib
import time

import pytest
from django.core.cache import cache
from django.test import override_settings

from audits.email_models import DmarcReport, InboundAddress, TestMessage
from audits.inbound.receiver import client_network, start_receiver
from launchready.models import Site

from .test_receiver import GOOD_IP, INBOUND, SCENARIO, free_port, order_email, signed
from .test_reports import report_mail, report_xml

pytestmark = pytest.mark.django_db(transaction=True)

BOMBER = "127.0.0.1"
SENDER = "127.0.0.2"


@functools.cache
def empty_element_bomb() -> bytes:
    """The issue's bomb: ~8 KB of gzip that inflates to 2.1 million empty elements."""
    return gzip.compress(b"<feedback>" + b"<a/>" * 2_100_000 + b"</feedback>", 9)


@functools.cache
def heavy_report(records: int = 40_000) -> bytes:
    """A plausible report, sequential source addresses, that takes seconds of CPU to read."""
    rows = "".join(
        f"<record><row><source_ip>10.{i // 65536}.{i // 256 % 256}.{i % 256}</source_ip><count>1</count>"
        "<policy_evaluated><disposition>none</disposition><dkim>fail</dkim><spf>fail</spf>"
        "</policy_evaluated></row><identifiers><header_from>shop.test</header_from></identifiers>"
        "<auth_results><spf><domain>shop.test</domain><result>none</result></spf></auth_results></record>"
        for i in range(records)
    )
    return gzip.compress(
        report_xml(f"heavy-{records}").replace(b"</feedback>", rows.encode() + b"</feedback>")
    )


@pytest.fixture(scope="module")
def sb(sandbox_scenario):
    return sandbox_scenario(SCENARIO)


@pytest.fixture
def receiver(sb):
    cache.clear()  # per-client strikes live in the shared cache
    with override_settings(INBOUND_DOMAIN=INBOUND, INBOUND_TRUST_XCLIENT=True):
        port = free_port()
        controller = start_receiver("127.0.0.1", port)
        yield port
        controller.stop()
    cache.clear()


@pytest.fixture
def addresses(workspace) -> tuple[InboundAddress, InboundAddress]:
    site = Site.objects.create(workspace=workspace, domain="shop.test", sending_service="other")
    return InboundAddress.for_site(site), InboundAddress.for_workspace(workspace)


def begin(port: int, rcpt: str, data: bytes, source: str = BOMBER) -> smtplib.SMTP:
    """Send a whole transaction up to the final dot without reading the reply to it."""
    client = smtplib.SMTP("127.0.0.1", port, timeout=60, source_address=(source, 0))
    client.ehlo("reports.example")
    client.mail("noreply-dmarc-support@google.test")
    code, reply = client.rcpt(rcpt)
    assert code == 250, reply
    code, reply = client.docmd("DATA")
    assert code == 354, reply
    client.send(re.sub(rb"(?m)^\.", b"..", data) + b".\r\n")  # data ends with CRLF
    return client


def finish(client: smtplib.SMTP) -> tuple[int, bytes]:
    reply = client.getreply()
    client.close()
    return reply


def send_test_message(port: int, address: InboundAddress) -> float:
    """Seconds from connecting to the receiver's 250 (it stores the message before replying)."""
    started = time.monotonic()
    with smtplib.SMTP("127.0.0.1", port, timeout=10, source_address=(SENDER, 0)) as client:
        client.ehlo("mail.shop.test")
        assert client.docmd("XCLIENT", f"ADDR={GOOD_IP}")[0] == 220
        client.ehlo("mail.shop.test")
        assert (
            client.sendmail("bounce@shop.test", [address.address], signed(order_email(to=address.address)))
            == {}
        )
    return time.monotonic() - started


def test_six_bombs_and_a_real_test_message(receiver, addresses) -> None:
    check, dmarc = addresses
    bomb = report_mail(empty_element_bomb(), "bomb.xml.gz")
    assert len(empty_element_bomb()) < 9_000
    bombs = [begin(receiver, dmarc.address, bomb) for _ in range(6)]

    elapsed = send_test_message(receiver, check)

    assert elapsed < 2.0
    assert TestMessage.objects.filter(site=check.site).count() == 1
    replies = [finish(client) for client in bombs]
    assert [code for code, _ in replies] == [550] * 6, replies
    assert all(b"not part of a DMARC report" in text for _, text in replies), replies
    assert not DmarcReport.objects.exists()


def test_real_message_does_not_wait_for_reports_that_use_their_whole_cpu_allowance(
    receiver, addresses
) -> None:
    check, dmarc = addresses
    heavy = report_mail(heavy_report(), "heavy.xml.gz")
    with override_settings(INBOUND_REPORT_CPU_SECONDS=0.5, INBOUND_REPORT_WORKERS=1):
        bombs = [begin(receiver, dmarc.address, heavy) for _ in range(6)]

        elapsed = send_test_message(receiver, check)
        # One worker, half a second of CPU per report (each needs ~2 s): most are still
        # waiting or being read now, so the real message was handled while they were in flight.
        answered, _, _ = select.select([client.sock for client in bombs], [], [], 0)

        replies = [finish(client) for client in bombs]
    assert elapsed < 2.0
    assert len(answered) < len(bombs)
    assert TestMessage.objects.filter(site=check.site).count() == 1
    assert [code for code, _ in replies] == [550] * 6, replies
    assert all(b"more than 0.5 s of processing" in text for _, text in replies), replies
    assert not DmarcReport.objects.exists()


def test_reports_beyond_what_the_workers_can_queue_are_deferred(receiver, addresses, monkeypatch) -> None:
    _, dmarc = addresses
    monkeypatch.setattr("audits.inbound.receiver.MAX_QUEUED_PER_WORKER", 1)
    heavy = report_mail(heavy_report(), "heavy.xml.gz")
    with override_settings(INBOUND_REPORT_CPU_SECONDS=0.5, INBOUND_REPORT_WORKERS=1):
        # The three arrive within milliseconds; the first to reach the worker needs ~2 s.
        clients = [begin(receiver, dmarc.address, heavy) for _ in range(3)]
        replies = sorted(finish(client) for client in clients)
    assert [code for code, _ in replies] == [451, 451, 550], replies
    assert replies[0][1] == b"4.3.2 Too many reports are being read; try again later"


def test_a_client_whose_reports_keep_being_refused_is_turned_away(receiver, addresses) -> None:
    check, dmarc = addresses
    bomb = report_mail(empty_element_bomb(), "bomb.xml.gz")
    good = report_mail(gzip.compress(report_xml("r-1")))
    with override_settings(INBOUND_REFUSED_REPORTS_PER_HOUR=2):
        for _ in range(2):
            assert finish(begin(receiver, dmarc.address, bomb))[0] == 550
        with smtplib.SMTP("127.0.0.1", receiver, timeout=10, source_address=(BOMBER, 0)) as client:
            client.ehlo("reports.example")
            client.mail("noreply-dmarc-support@google.test")
            code, text = client.rcpt(dmarc.address)
            assert (code, b"refused reports" in text) == (450, True)
            assert client.rcpt(check.address)[0] == 450  # turned away for everything
        assert not DmarcReport.objects.exists()
        # Another client is not affected.
        assert finish(begin(receiver, dmarc.address, good, source=SENDER))[0] == 250
    assert list(DmarcReport.objects.values_list("report_id", flat=True)) == ["r-1"]


@pytest.mark.parametrize("recipient", ["check", "dmarc"])
def test_a_message_of_thousands_of_mime_parts_is_refused(receiver, addresses, recipient) -> None:
    # 10,000 empty parts take the standard library's parser ~2.4 s (100,000: 23 s).
    check, dmarc = addresses
    address = check if recipient == "check" else dmarc
    parts = b"".join(b"--B\r\nContent-Type: text/plain\r\n\r\nx\r\n" for _ in range(10_000))
    data = (
        b"From: orders@shop.test\r\nTo: x@inbound.test\r\nSubject: parts\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: multipart/mixed; boundary=B\r\n\r\n" + parts + b"--B--\r\n"
    )
    code, text = finish(begin(receiver, address.address, data, source=SENDER))
    assert code == 550 and b"MIME parts" in text
    assert not TestMessage.objects.exists() and not DmarcReport.objects.exists()


@pytest.mark.parametrize(
    ("peer", "key"),
    [
        ("192.0.2.7", "192.0.2.7"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:bbbb::9", "2001:db8:1:2::/64"),
        ("unknown", "unknown"),
    ],
)
def test_clients_are_counted_per_address_and_per_ipv6_64(peer: str, key: str) -> None:
    assert client_network(peer) == key
