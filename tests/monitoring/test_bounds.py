"""Bad input gets a sentence, never a 500: monitor fields, maintenance windows, the API, test alerts."""

from __future__ import annotations

import pytest
from django.urls import reverse

from monitoring.models import ApiToken, MaintenanceWindow, Monitor, Notification

from .test_views import monitor_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def post_monitor(client_as, member, workspace):
    url = reverse("monitoring:monitor_create", kwargs={"workspace": workspace.uuid})
    client = client_as(member)

    def post(**changes):
        return client.post(url, monitor_data(**changes))

    return post


@pytest.mark.parametrize(
    ("changes", "sentence"),
    [
        ({"kind": "heartbeat", "period_s": 1_000_000_000_000}, "Ensure this value is less than or equal to"),
        (
            {"kind": "heartbeat", "period_s": 40_000_000},
            "Ensure this value is less than or equal to 31622400",
        ),
        (
            {"kind": "heartbeat", "grace_s": 1_000_000_000},
            "Ensure this value is less than or equal to 2592000",
        ),
        ({"kind": "heartbeat", "schedule": "cron", "cron": "0 0 30 2 *"}, "never fires"),
        ({"kind": "heartbeat", "schedule": "cron", "cron": "0 0 29 2 *"}, "does not fire within a year"),
        ({"kind": "heartbeat", "schedule": "cron", "cron": "*/0 * * * *"}, "five fields"),
        ({"confirm_failures": 1000}, "less than or equal to 10"),
        ({"recover_successes": 0}, "greater than or equal to 1"),
        ({"timeout_s": 3600}, "less than or equal to 30"),
        ({"max_response_ms": 10**12}, "less than or equal to"),
        ({"headers": '{"X-Token": "a\\u0000b"}'}, "control characters"),
        ({"headers": "[" * 50_000 + "]" * 50_000}, "nested too deeply"),
        ({"kind": "dns", "hostname": "shop.example.com", "expected_values": '["1.2.3.4\\u0000"]'}, "control"),
        ({"kind": "dns", "hostname": "shop.example.com", "expected_values": '["\\ud800"]'}, "control"),
        (
            {"kind": "dns", "hostname": "shop.example.com", "expected_values": "[" * 50_000},
            "nested too deeply",
        ),
        ({"kind": "dns", "hostname": "localhost"}, "a local or internal name"),
        ({"kind": "dns", "hostname": "db.internal"}, "a local or internal name"),
        ({"kind": "dns", "hostname": "printer.local"}, "a local or internal name"),
        ({"kind": "dns", "hostname": "shop.example.com:53"}, "without a port"),
        ({"kind": "dns", "hostname": "bad host.example"}, "not a valid host name"),
        ({"kind": "tls_expiry", "hostname": "[::1]:443"}, "loopback"),
        ({"kind": "tls_expiry", "hostname": "[::1"}, "not a host name or [IPv6 address]"),
        ({"kind": "tls_expiry", "hostname": "shop.example.com:99999"}, "not a port number"),
        ({"kind": "domain_expiry", "hostname": "10.0.0.1"}, "not an IP address"),
    ],
)
def test_out_of_range_monitor_fields_are_refused_with_a_sentence(post_monitor, changes, sentence):
    response = post_monitor(**changes)
    assert response.status_code == 200
    assert sentence in response.content.decode()
    assert not Monitor.objects.exists()


@pytest.mark.parametrize(
    "changes",
    [
        {"kind": "heartbeat", "schedule": "cron", "cron": "0 2 * * 1"},
        {"kind": "heartbeat", "period_s": 366 * 86400, "grace_s": 30 * 86400},
        {"kind": "dns", "hostname": "_dmarc.shop.example.com", "record_type": "TXT"},
        {"kind": "tls_expiry", "hostname": "shop.example.com:8443"},
        {"kind": "tls_expiry", "hostname": "[2606:4700::1111]:443"},
    ],
)
def test_values_at_the_bounds_are_accepted(post_monitor, changes):
    response = post_monitor(**changes)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert Monitor.objects.count() == 1


@pytest.fixture
def api(client, workspace):
    _, plain = ApiToken.issue(workspace, "Deploy")

    def post(body: str):
        return client.post(
            reverse("monitoring_api_maintenance"),
            body,
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {plain}",
        )

    return post


@pytest.mark.parametrize(
    ("body", "sentence"),
    [
        ('{"starts_at": "9999-12-31T23:00:00Z", "minutes": 120}', "between 12 hours ago and one year"),
        ('{"starts_at": "9999-12-31T23:00:00Z", "ends_at": "9999-12-31T23:59:00Z"}', "between 12 hours"),
        ('{"starts_at": "0001-01-01T00:00:00+14:00", "minutes": 15}', "ISO 8601 with a time zone"),
        ('{"minutes": 15, "ends_at": "0001-01-01T00:00:00+14:00"}', "ISO 8601 with a time zone"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ('{"minutes": 15, "reason": "deploy\\u0000"}', "without control characters"),
        ('{"minutes": 15, "reason": "deploy\\ud800"}', "without control characters"),
    ],
)
def test_maintenance_api_turns_hostile_input_into_a_400(api, body, sentence):
    response = api(body)
    assert response.status_code == 400
    assert sentence in response.json()["error"]
    assert not MaintenanceWindow.objects.exists()


@pytest.mark.parametrize(
    ("starts", "ends"),
    [("9999-12-31T22:00", "9999-12-31T23:00"), ("0001-01-01T00:00", "0001-01-01T01:00")],
)
def test_maintenance_form_refuses_dates_out_of_range(client_as, member, workspace, starts, ends):
    workspace.timezone = "Pacific/Kiritimati"  # +14:00: year 1 local is before year 1 in UTC
    workspace.save()
    url = reverse("monitoring:maintenance", kwargs={"workspace": workspace.uuid})
    response = client_as(member).post(url, {"starts_at": starts, "ends_at": ends, "reason": "deploy"})
    assert response.status_code == 200
    assert "between a week ago and one year from now" in response.content.decode()
    assert not MaintenanceWindow.objects.exists()


def test_test_alerts_are_limited_per_workspace(
    client_as, member, workspace, email_channel, settings, django_capture_on_commit_callbacks
):
    settings.MONITORING_TEST_ALERTS_PER_HOUR = 3
    url = reverse(
        "monitoring:channel_test", kwargs={"workspace": workspace.uuid, "channel": email_channel.uuid}
    )
    client = client_as(member)
    with django_capture_on_commit_callbacks(execute=False):
        for _ in range(5):
            response = client.post(url, follow=True)
    assert Notification.objects.filter(channel=email_channel, event="test").count() == 3
    assert "No test alert sent: this workspace has sent its 3 test alerts for this hour" in (
        response.content.decode()
    )
