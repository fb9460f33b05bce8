"""``manage.py smtpreceiver``: run the inbound SMTP receiver in the foreground (Procfile ``smtp``)."""

from __future__ import annotations

import logging
import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand

from audits.inbound.receiver import start_receiver

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Receive live test messages and DMARC aggregate reports for INBOUND_DOMAIN over SMTP."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default=settings.INBOUND_SMTP_HOST)
        parser.add_argument("--port", type=int, default=settings.INBOUND_SMTP_PORT)

    def handle(self, *args, host: str, port: int, **options) -> None:
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        controller = start_receiver(host, port)
        self.stdout.write(f"Receiving mail for @{settings.INBOUND_DOMAIN} on {host}:{port}")
        try:
            stop.wait()
        finally:
            controller.stop()
