"""The alert storm of issue 14, against the sandbox's broken demo store: two incidents, one alert each.

The store's own monitors (homepage, cart, checkout, login and order routes, its certificate and
its domain) run as the scheduler runs them. Its certificate has expired and its domain expires in
five days: once, seven incidents and seven escalation emails; now one incident per cause.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from launchready.models import CriticalRoute, Site
from monitoring import outbox, runner
from monitoring.models import AlertChannel, EscalationContact, Incident, Monitor, Notification
from monitoring.scheduler import Claim
from monitoring.sites import sync_site_monitors

pytestmark = [pytest.mark.sandbox, pytest.mark.django_db]


@pytest.fixture(scope="module")
def broken(sandbox_scenario):
    return sandbox_scenario("demo_broken")


def test_the_broken_demo_store_is_two_incidents_and_one_alert_each(workspace, broken, settings):
    settings.MONITORING_ESCALATE_AFTER_MINUTES = 15
    site = Site.objects.create(workspace=workspace, domain="broken-store.test")
    for name, path in (
        ("cart", "/cart"),
        ("checkout", "/checkout"),
        ("login", "/login"),
        ("order", "/api/orders"),
    ):
        CriticalRoute.objects.create(site=site, name=name, path=path)
    sync_site_monitors(site)  # as saving the site's routes does
    monitors = list(Monitor.objects.filter(site=site))
    assert len(monitors) == 7
    ch = AlertChannel(
        workspace=workspace, kind=AlertChannel.Kind.EMAIL, name="Founder", label="me@example.com"
    )
    ch.credentials = {"address": "me@example.com"}
    ch.save()
    EscalationContact.objects.create(workspace=workspace, name="Cofounder", email="co@example.com")

    now = timezone.now()
    runner.run_batch([Claim(m.pk, now) for m in monitors])

    assert set(Monitor.objects.values_list("state", flat=True)) == {Monitor.State.DOWN}
    primaries = {i.monitor.auto_key: i for i in Incident.objects.filter(primary__isnull=True)}
    assert len(primaries) == 2 and "domain" in primaries  # whichever monitor failed first leads
    certificate = next(i for key, i in primaries.items() if key != "domain")
    assert certificate.cause_key == "tls-expired:www.broken-store.test"
    assert certificate.parts.count() == 5  # the other pages and the certificate monitor
    assert certificate.cause.startswith("Certificate of www.broken-store.test expired: ")
    assert certificate.severity == "critical"
    assert primaries["domain"].parts.count() == 0
    assert sorted(Notification.objects.values_list("incident__monitor__auto_key", "event")) == sorted(
        [(certificate.monitor.auto_key, "opened"), ("domain", "opened")]
    )

    for pk in Notification.objects.values_list("pk", flat=True):
        assert outbox.send(pk)
    assert len(mail.outbox) == 2
    later = max(Notification.objects.values_list("sent_at", flat=True)) + timedelta(minutes=16)
    escalated = outbox.escalate(now=later)
    for pk in escalated:
        assert outbox.send(pk)
    unacknowledged = [e.subject for e in mail.outbox if "UNACKNOWLEDGED" in e.subject]
    assert len(unacknowledged) == 2  # not seven within three seconds
