"""Certificate and domain expiry monitors in the engine: thresholds, unreadable dates, maintenance."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from monitoring import engine
from monitoring.checks.specs import CheckOutcome
from monitoring.models import Incident, MaintenanceWindow, Monitor, Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def cert_monitor(workspace) -> Monitor:
    return Monitor.objects.create(
        workspace=workspace, kind=Monitor.Kind.TLS_EXPIRY, name="Certificate", hostname="shop.example.com"
    )


def unreadable(m, at):
    return CheckOutcome(m.pk, False, at, "The TLS handshake failed: connection refused.")


def readable(m, at, days):
    return CheckOutcome(
        m.pk, True, at, f"The certificate expires in {days} days.", expires_at=at + timedelta(days=days)
    )


def test_unreadable_certificate_incident_resolves_once_readable_again(cert_monitor, email_channel):
    t0 = timezone.now()
    engine.apply_outcomes([unreadable(cert_monitor, t0)], now=t0)
    incident = Incident.objects.get()
    assert incident.is_open
    t1 = t0 + timedelta(days=1)
    engine.apply_outcomes([readable(cert_monitor, t1, 200)], now=t1)
    incident.refresh_from_db()
    assert incident.ended_at == t1
    events = sorted(Notification.objects.filter(channel=email_channel).values_list("event", flat=True))
    assert events == ["opened", "resolved"]


def test_unreadable_certificate_inside_maintenance_alerts_nobody(cert_monitor, email_channel, workspace):
    t0 = timezone.now()
    MaintenanceWindow.objects.create(
        workspace=workspace, starts_at=t0 - timedelta(minutes=5), ends_at=t0 + timedelta(minutes=30)
    )
    engine.apply_outcomes([unreadable(cert_monitor, t0)], now=t0)
    assert Incident.objects.get().notified is False
    assert not Notification.objects.exists()


def test_a_domain_whose_registry_gives_no_date_is_shown_not_alerted(workspace, email_channel):
    m = Monitor.objects.create(
        workspace=workspace, kind=Monitor.Kind.DOMAIN_EXPIRY, name="Domain", hostname="shop.example.de"
    )
    t0 = timezone.now()
    engine.apply_outcomes(
        [CheckOutcome(m.pk, False, t0, "The registry's RDAP service answered 404.")], now=t0
    )
    m.refresh_from_db()
    assert m.state == Monitor.State.UNKNOWN
    assert m.last_message == "The registry's RDAP service answered 404."
    assert not Incident.objects.exists() and not Notification.objects.exists()
