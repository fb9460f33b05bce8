"""Real SMTP sessions against the inbound receiver, with DNS from the sandbox.

The test sender DKIM-signs with a key published in the sandbox zone. It connects from
127.0.0.1, so it names the address SPF should judge with XCLIENT ADDR= (accepted only
because the tests turn INBOUND_TRUST_XCLIENT on).
"""

from __future__ import annotations

import email.policy
import smtplib
import socket
from email.message import EmailMessage

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.test import override_settings

import audits.rules  # noqa: F401 - registers the rules
from audits.email_models import InboundAddress, TestMessage
from audits.facts import SiteDeclaration
from audits.facts.email import EmailFacts
from audits.inbound import store
from audits.inbound.receiver import start_receiver
from audits.rules.base import RULES, RuleContext
from launchready.models import Site

from .test_rules import _Facts

INBOUND = "inbound.test"
GOOD_IP = "192.0.2.10"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PRIVATE_PEM = KEY.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
)
PUBLIC_B64 = (
    __import__("base64")
    .b64encode(
        KEY.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    .decode()
)

SCENARIO = {
    "name": "inbound",
    "zones": {
        "shop.test": {
            "records": [
                {"name": "@", "type": "TXT", "value": f"v=spf1 ip4:{GOOD_IP} -all"},
                {"name": "s1._domainkey", "type": "TXT", "value": f"v=DKIM1; k=rsa; p={PUBLIC_B64}"},
                {"name": "_dmarc", "type": "TXT", "value": "v=DMARC1; p=reject; rua=mailto:d@shop.test"},
            ]
        },
        "other.test": {"records": [{"name": "_dmarc", "type": "TXT", "value": "v=DMARC1; p=reject"}]},
    },
}

pytestmark = pytest.mark.django_db(transaction=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def sb(sandbox_scenario):
    return sandbox_scenario(SCENARIO)


@pytest.fixture
def receiver(sb):
    with override_settings(
        INBOUND_DOMAIN=INBOUND, INBOUND_TRUST_XCLIENT=True, INBOUND_MAX_MESSAGE_BYTES=200_000
    ):
        port = free_port()
        controller = start_receiver("127.0.0.1", port)
        yield port
        controller.stop()


@pytest.fixture
def check_address(workspace) -> InboundAddress:
    site = Site.objects.create(workspace=workspace, domain="shop.test", sending_service="other")
    return InboundAddress.for_site(site)


def order_email(sender: str = "orders@shop.test", to: str = "x@inbound.test", html: str = "") -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = f"Shop <{sender}>"
    msg["To"] = to
    msg["Subject"] = "Your order #1001"
    msg["Message-ID"] = "<1001@shop.test>"
    msg.set_content("Thanks for your order.")
    msg.add_alternative(
        html
        or '<p onclick="steal()">Thanks!</p><script>alert(1)</script><img src="https://tracker.test/p.gif">',
        subtype="html",
    )
    return msg


def signed(msg: EmailMessage, domain: bytes = b"shop.test") -> bytes:
    raw = msg.as_bytes(policy=email.policy.SMTP)
    signature = dkim.sign(raw, b"s1", domain, PRIVATE_PEM, include_headers=[b"from", b"to", b"subject"])
    return signature + raw


def send(
    port: int, rcpt: str, data: bytes, *, ip: str = GOOD_IP, mail_from: str = "bounce@shop.test"
) -> dict:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.ehlo("mail.shop.test")
        code, _ = client.docmd("XCLIENT", f"ADDR={ip}")
        assert code == 220
        client.ehlo("mail.shop.test")
        return client.sendmail(mail_from, [rcpt], data)


def latest(address: InboundAddress) -> TestMessage:
    return TestMessage.objects.filter(site=address.site).latest("received_at")


def test_passing_message_is_stored_with_results_and_safe_html(receiver, check_address) -> None:
    send(receiver, check_address.address, signed(order_email(to=check_address.address)))
    msg = latest(check_address)
    assert (msg.spf_result, msg.dkim_result, msg.dmarc_result) == ("pass", "pass", "pass"), (
        msg.spf_reason,
        msg.dkim_reason,
        msg.dmarc_reason,
    )
    assert msg.passed and msg.peer_ip == GOOD_IP and msg.header_from == "orders@shop.test"
    assert "spf=pass smtp.mailfrom=shop.test" in msg.authentication_results
    assert "dkim=pass header.d=shop.test header.s=s1" in msg.authentication_results
    assert "Thanks!" in msg.html
    assert "<script" not in msg.html and "onclick" not in msg.html and "tracker.test" not in msg.html
    assert msg.details["spf"]["mechanism"] == f"ip4:{GOOD_IP}"


def test_bad_signature(receiver, check_address) -> None:
    data = signed(order_email(to=check_address.address)).replace(
        b"Thanks for your order.", b"Thanks for your money."
    )
    send(receiver, check_address.address, data)
    msg = latest(check_address)
    assert msg.dkim_result == "fail" and "does not match" in msg.dkim_reason
    assert msg.spf_result == "pass" and msg.dmarc_result == "pass"  # SPF alone still aligns
    assert not msg.passed
    # The stored result becomes email.test_message_failed.
    facts = store.latest_test_message(check_address.site)
    finding = RULES["email.test_message_failed"](
        RuleContext(
            facts=_Facts(
                site=SiteDeclaration(domain="shop.test"),
                email=EmailFacts(domain="shop.test", test_message=facts),
            ),
            now=msg.received_at,
        )
    )
    assert len(finding) == 1 and "DKIM: fail" in finding[0].evidence


def test_wrong_spf_address(receiver, check_address) -> None:
    send(receiver, check_address.address, signed(order_email(to=check_address.address)), ip="203.0.113.5")
    msg = latest(check_address)
    assert msg.spf_result == "fail" and msg.dkim_result == "pass" and msg.dmarc_result == "pass"
    assert "-all" in msg.spf_reason


def test_misaligned_from(receiver, check_address) -> None:
    data = signed(order_email(sender="orders@other.test", to=check_address.address))
    send(receiver, check_address.address, data)
    msg = latest(check_address)
    assert msg.spf_result == "pass" and msg.dkim_result == "pass"
    assert msg.dmarc_result == "fail" and "not aligned" in msg.dmarc_reason


def test_unknown_recipient_refused_at_rcpt(receiver, check_address) -> None:
    with pytest.raises(smtplib.SMTPRecipientsRefused) as exc:
        send(receiver, f"check-nosuchtoken@{INBOUND}", signed(order_email()))
    assert exc.value.recipients[f"check-nosuchtoken@{INBOUND}"][0] == 550
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        send(receiver, f"{check_address.local_part}@elsewhere.test", signed(order_email()))
    assert not TestMessage.objects.exists()


def test_oversized_message_refused_and_receiver_keeps_working(receiver, check_address) -> None:
    big = order_email(to=check_address.address, html="<p>" + "x" * 300_000 + "</p>")
    with pytest.raises((smtplib.SMTPSenderRefused, smtplib.SMTPDataError)) as exc:
        send(receiver, check_address.address, big.as_bytes(policy=email.policy.SMTP))
    assert exc.value.smtp_code == 552
    assert not TestMessage.objects.exists()
    send(receiver, check_address.address, signed(order_email(to=check_address.address)))
    assert TestMessage.objects.count() == 1


def test_malformed_message_refused(receiver, check_address) -> None:
    with pytest.raises(smtplib.SMTPDataError) as exc:
        send(receiver, check_address.address, b"Subject: no sender\r\n\r\nhello\r\n")
    assert exc.value.smtp_code == 550 and b"From" in exc.value.smtp_error
    assert not TestMessage.objects.exists()


def test_rate_limit_per_address(receiver, check_address) -> None:
    with override_settings(INBOUND_RATE_LIMIT_PER_HOUR=1):
        send(receiver, check_address.address, signed(order_email(to=check_address.address)))
        with pytest.raises(smtplib.SMTPRecipientsRefused) as exc:
            send(receiver, check_address.address, signed(order_email(to=check_address.address)))
    assert exc.value.recipients[check_address.address][0] == 452
    assert TestMessage.objects.count() == 1


def test_xclient_refused_unless_enabled(receiver, check_address) -> None:
    with (
        override_settings(INBOUND_TRUST_XCLIENT=False),
        smtplib.SMTP("127.0.0.1", receiver, timeout=10) as client,
    ):
        client.ehlo("mail.shop.test")
        assert client.docmd("XCLIENT", f"ADDR={GOOD_IP}")[0] == 550


def test_repeated_recipient_is_processed_once_and_cannot_bypass_the_rate_limit(
    receiver, check_address
) -> None:
    # The hourly limit is checked at RCPT, before anything is stored: naming the same
    # address many times in one transaction must not store the message many times.
    with override_settings(INBOUND_RATE_LIMIT_PER_HOUR=1):
        with smtplib.SMTP("127.0.0.1", receiver, timeout=10) as client:
            client.ehlo("mail.shop.test")
            client.docmd("XCLIENT", f"ADDR={GOOD_IP}")
            client.ehlo("mail.shop.test")
            refused = client.sendmail(
                "bounce@shop.test",
                [check_address.address] * 10,
                signed(order_email(to=check_address.address)),
            )
        assert refused == {}
        assert TestMessage.objects.count() == 1


def test_too_many_recipients_in_one_transaction(receiver, workspace) -> None:
    sites = [Site.objects.create(workspace=workspace, domain=f"shop{i}.test") for i in range(7)]
    addresses = [InboundAddress.for_site(site).address for site in sites]
    with smtplib.SMTP("127.0.0.1", receiver, timeout=10) as client:
        client.ehlo("mail.shop.test")
        client.mail("bounce@shop.test")
        codes = [client.rcpt(address)[0] for address in addresses]
    assert codes[:5] == [250] * 5
    assert codes[5:] == [452, 452]


def test_a_client_guessing_addresses_is_turned_away(receiver, check_address) -> None:
    from django.core.cache import cache

    cache.clear()
    with override_settings(INBOUND_UNKNOWN_RECIPIENTS_PER_HOUR=2):
        for guess in ("check-aaaa", "check-bbbb"):
            with pytest.raises(smtplib.SMTPRecipientsRefused) as exc:
                send(receiver, f"{guess}@{INBOUND}", signed(order_email()))
            assert exc.value.recipients[f"{guess}@{INBOUND}"][0] == 550
        # Even a real address is refused for now, and nothing is stored.
        with pytest.raises(smtplib.SMTPRecipientsRefused) as exc:
            send(receiver, check_address.address, signed(order_email(to=check_address.address)))
        assert exc.value.recipients[check_address.address][0] == 450
    assert not TestMessage.objects.exists()
    cache.clear()
