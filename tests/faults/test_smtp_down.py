"""The SMTP server down for ten minutes: alerts and weekly reports are retried with
backoff, none is lost and none is sent twice.

A real SMTP server (aiosmtpd) is stopped, and the beat's jobs run every 30 seconds of
travelled time (time-machine) for ten minutes; then the server comes back on the same
port and the jobs go on for another half hour. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

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


def test_alerts_and_weekly_reports_survive_ten_minutes_without_smtp(smtp, workspace, site, owner):
    ReportSchedule.objects.create(workspace=workspace, next_send_at=T0)
    with time_machine.travel(T0, tick=False) as clock:
        alert = _alert(workspace)
        attempts_at: list[datetime] = []
        now = T0
        while now < T0 + DOWN_FOR:  # the server is down; the beat keeps trying
            before = Notification.objects.get(pk=alert.pk).attempts
            assert deliver_due_notifications() == 0
            assert send_due_reports()["sent"] == 0
            if Notification.objects.get(pk=alert.pk).attempts > before:
                attempts_at.append(now)
            now += TICK
            clock.move_to(now)
        alert.refresh_from_db()
        report = ReportDelivery.objects.get(user=owner)
        assert alert.status == report.status == "pending"  # waiting, not lost and not given up
        assert "mail server" in alert.last_error and "mail server" in report.last_error
        # Backoff: each wait longer than the one before, not a retry every tick.
        gaps = [b - a for a, b in zip(attempts_at, attempts_at[1:], strict=False)]
        assert gaps == sorted(gaps) and len(set(gaps)) == len(gaps) and len(attempts_at) >= 3

        smtp.start()
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
