"""The receiver never writes an inbound address (a secret) to the logs."""

import asyncio
import logging
from email.message import EmailMessage
from types import SimpleNamespace

import pytest
from aiosmtpd.smtp import Envelope

from audits.email_models import InboundAddress
from audits.inbound.receiver import InboundHandler
from launchready.models import Site


@pytest.mark.django_db(transaction=True)
def test_processing_failure_logs_the_address_uuid_not_the_address(workspace, caplog, monkeypatch) -> None:
    site = Site.objects.create(workspace=workspace, domain="shop.example")
    inbound = InboundAddress.for_site(site)
    handler = InboundHandler(lookup=object())

    async def broken(*args, **kwargs):
        raise RuntimeError("storage is down")

    monkeypatch.setattr(handler, "_test_message", broken)
    msg = EmailMessage()
    msg["From"] = "orders@shop.example"
    msg["To"] = inbound.address
    msg["Subject"] = "Order"
    msg["Message-ID"] = "<1@shop.example>"
    msg.set_content("Thanks")
    envelope = Envelope()
    envelope.original_content = msg.as_bytes()
    envelope.inbound = [inbound]
    session = SimpleNamespace(peer=("192.0.2.1", 25), host_name="mail.shop.example")

    with caplog.at_level(logging.INFO, logger="audits.inbound.receiver"):
        reply = asyncio.run(handler.handle_DATA(None, session, envelope))

    assert reply.startswith("451")
    assert str(inbound.uuid) in caplog.text
    assert inbound.token not in caplog.text


def test_smtp_command_lines_are_not_logged() -> None:
    # aiosmtpd logs "RCPT TO:<check-…@…>" at INFO on its "mail.log" logger.
    assert not logging.getLogger("mail.log").isEnabledFor(logging.INFO)
    assert logging.getLogger("mail.log").isEnabledFor(logging.WARNING)
