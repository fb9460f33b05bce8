"""The SMTP server down for ten minutes: alerts and weekly reports are retried with
backoff, none is lost and none is sent twice.

What is real: the SMTP server (aiosmtpd on a loopback port), started and then stopped,
so that for the whole window nothing listens on its port (checked at every tick); the
product's outbox and report delivery with their backoff, Django's SMTP backend and its
TCP connections: every retry dials the port and is refused by the kernel (each dial is
recorded by a pass-through spy on ``socket.create_connection``, which smtplib dials
with), and after the restart the same code delivers over SMTP.

What is travelled: the clock (time-machine, frozen between ticks) and the beat: the
outbox sweep and the report job are called directly every 30 s of travelled time, for
ten minutes down and half an hour up, in a few seconds of real time (ten real minutes
would not fit in the suite). Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import socket
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from monitoring.models import AlertChannel, Incident, Monitor, Notification
from monitoring.tasks import deliver_due_notifications
from reports.models import ReportDelivery, ReportSchedule
from reports.tasks import send_due_reports

from .procs import Smtp

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 4, 7, 6, 0, tzinfo=UTC)  # a Monday, 08:00 in Amsterdam: the report is due
DOWN_FOR = timedelta(minutes=10)
TICK = timedelta(seconds=30)  # the outbox sweep's beat interval


@pytest.fixture
def smtp(settings):
    server = Smtp()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.handler.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    yield server
    server.stop()


@dataclass
class Dials:
    """Each TCP connection this process opened to the mail server's port: when (travelled
    time) and how it ended ("connected" or the error's class)."""

    port: int
    made: list[tuple[datetime, str]] = field(default_factory=list)

    def at(self, moment: datetime) -> list[str]:
        return [outcome for when, outcome in self.made if when == moment]


@pytest.fixture
def dials(smtp, monkeypatch) -> Dials:
    """A pass-through spy on ``socket.create_connection``: the product's code and the real
    socket run unchanged; only dials to the mail server's port are noted."""
    real = socket.create_connection
    dials = Dials(smtp.handler.port)

    def create_connection(address, *args, **kwargs):
        if tuple(address)[1:] != (dials.port,):
            return real(address, *args, **kwargs)
        try:
            connection = real(address, *args, **kwargs)
        except OSError as exc:
            dials.made.append((timezone.now(), type(exc).__name__))
            raise
        dials.made.append((timezone.now(), "connected"))
        return connection

    monkeypatch.setattr(socket, "create_connection", create_connection)
    return dials


def _listening(port: int) -> bool:
    """Whether anything accepts connections on ``port`` (a raw connect, not a dial the spy counts)."""
    with socket.socket() as probe:
        probe.settimeout(2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _attempts(alert: Notification) -> int:
    """Send attempts so far: the alert's and the weekly report's."""
    alert.refresh_from_db()
    return alert.attempts + sum(ReportDelivery.objects.values_list("attempts", flat=True))


def _alert(workspace) -> Notification:
    """An incident's "opened" alert to an email channel, as the engine writes it."""
    channel = AlertChannel(
        workspace=workspace, kind=AlertChannel.Kind.EMAIL, name="Ops", label="ops@shop.test"
    )
    channel.credentials = {"address": "ops@shop.test"}
    channel.save()
    monitor = Monitor.objects.create(
        workspace=workspace, kind=Monitor.Kind.HTTP, name="Checkout", url="https://shop.example.com/checkout"
    )
    incident = Incident.objects.create(
        monitor=monitor, workspace=workspace, started_at=T0, cause="Status 502.", notified=True
    )
    return Notification.objects.create(
        workspace=workspace, incident=incident, channel=channel, event=Notification.Event.OPENED
    )


def test_alerts_and_weekly_reports_survive_ten_minutes_without_smtp(smtp, dials, workspace, site, owner):
    port = smtp.handler.port
    smtp.start()
    assert _listening(port)
    smtp.stop()  # the mail server goes down
    ReportSchedule.objects.create(workspace=workspace, next_send_at=T0)
    with time_machine.travel(T0, tick=False) as clock:
        alert = _alert(workspace)
        attempts_at: list[datetime] = []
        now = T0
        while now < T0 + DOWN_FOR:  # the server is down; the beat keeps trying
            assert not _listening(port), f"the mail server answered {now - T0} into its outage"
            before = _attempts(alert)
            assert deliver_due_notifications() == 0
            assert send_due_reports()["sent"] == 0
            tried = _attempts(alert) - before
            # Each attempt really dialled the server and was refused; between retries, no dial.
            assert Counter(dials.at(now)) == ({"ConnectionRefusedError": tried} if tried else {}), now - T0
            if tried:
                attempts_at.append(now)
            now += TICK
            clock.move_to(now)
        alert.refresh_from_db()
        report = ReportDelivery.objects.get(user=owner)
        assert alert.status == report.status == "pending"  # waiting, not lost and not given up
        assert "mail server" in alert.last_error and "mail server" in report.last_error
        assert alert.attempts >= 2 and report.attempts >= 2  # each retried, on its own backoff
        # Backoff: each wait longer than the one before, not a retry every tick.
        gaps = [b - a for a, b in zip(attempts_at, attempts_at[1:], strict=False)]
        assert gaps == sorted(gaps) and len(set(gaps)) == len(gaps) and len(attempts_at) >= 3
        assert {outcome for _, outcome in dials.made} == {"ConnectionRefusedError"}

        smtp.start()  # back on the same port
        while now < T0 + DOWN_FOR + timedelta(minutes=30):
            deliver_due_notifications()
            send_due_reports()
            now += TICK
            clock.move_to(now)
        assert timezone.now() >= T0 + timedelta(minutes=40)

    alert.refresh_from_db()
    report.refresh_from_db()
    assert alert.status == report.status == "sent"
    assert [m.rcpt_tos for m in smtp.handler.messages if "ops@shop.test" in m.rcpt_tos] == [["ops@shop.test"]]
    assert len(smtp.handler.to(owner.email)) == 1
    assert len(smtp.handler.messages) == 2  # one alert, one report: none lost, none twice
    assert "connected" in {outcome for when, outcome in dials.made if when >= T0 + DOWN_FOR}
