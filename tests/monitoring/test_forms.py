"""Forms that fit what you picked: only the chosen kind's fields, human units, nothing pre-filled
with ``null`` or ``[]``, and the same with or without JavaScript; the heartbeat page's ping URL."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.urls import reverse

from monitoring.models import AlertChannel, Monitor

from .test_views import monitor_data

pytestmark = pytest.mark.django_db


def _names(html: str) -> set[str]:
    """The names of the inputs a form in this page would post."""
    return set(re.findall(r'<(?:input|select|textarea)[^>]*\bname="([^"]+)"', html)) - {"csrfmiddlewaretoken"}


@pytest.fixture
def new_monitor(client_as, member, workspace):
    return client_as(member), reverse("monitoring:monitor_create", kwargs={"workspace": workspace.uuid})


@pytest.mark.parametrize(
    ("kind", "shown", "hidden"),
    [
        (
            "http",
            {"url", "method", "timeout_s", "headers", "interval_s"},
            {"hostname", "period_s", "cron", "tz"},
        ),
        ("tls_expiry", {"hostname"}, {"url", "interval_s", "period_s", "expected_values", "headers"}),
        ("domain_expiry", {"hostname"}, {"url", "record_type", "period_s"}),
        ("dns", {"hostname", "record_type", "expected_values", "interval_s"}, {"url", "period_s", "headers"}),
        ("heartbeat", {"schedule", "period_s", "grace_s", "cron", "tz"}, {"url", "hostname", "interval_s"}),
    ],
)
def test_add_monitor_shows_only_the_fields_of_the_chosen_kind(new_monitor, kind, shown, hidden):
    client, url = new_monitor
    names = _names(client.get(url, {"kind": kind}).content.decode())
    assert {"kind", "name", "site", "severity"} <= names
    assert shown <= names
    assert not hidden & names


def test_without_javascript_the_show_fields_button_re_renders_for_the_kind(new_monitor):
    client, url = new_monitor
    first = client.get(url).content.decode()
    assert 'name="show_kind"' in first and "url" in _names(first)  # HTTP first
    response = client.post(url, {"kind": "heartbeat", "name": "Nightly backup", "show_kind": "1"})
    page = response.content.decode()
    assert response.status_code == 200 and not Monitor.objects.exists()
    assert "period_s" in _names(page) and "url" not in _names(page)
    assert 'value="Nightly backup"' in page  # what was typed is kept
    assert "This field is required" not in page  # a new form, not a failed one


def test_htmx_request_gets_the_form_for_the_kind(new_monitor):
    client, url = new_monitor
    page = client.get(url, {"kind": "dns", "name": "MX"}, HTTP_HX_REQUEST="true").content.decode()
    assert 'id="monitor-form"' in page and 'hx-get="' in page
    assert "record_type" in _names(page) and 'value="MX"' in page


def test_units_are_human_and_nothing_is_pre_filled_with_json(new_monitor):
    client, url = new_monitor
    http = client.get(url).content.decode()
    assert ">Every 1 minute</option>" in http and ">Give up after 10 seconds</option>" in http
    assert re.search(r'<option value="60" selected>Every 1 minute</option>', http)
    assert re.search(r'<option value="10" selected>Give up after 10 seconds</option>', http)
    assert ">After 2 failed checks in a row</option>" in http
    textareas = re.findall(r"<textarea[^>]*>(.*?)</textarea>", http, re.S)
    assert textareas and all(t.strip() == "" for t in textareas)
    assert ">null<" not in http and ">[]<" not in http and ">{}<" not in http
    dns = client.get(url, {"kind": "dns"}).content.decode()
    assert ">[]<" not in dns and "One a line" in dns
    heartbeat = client.get(url, {"kind": "heartbeat"}).content.decode()
    assert '<select name="tz"' in heartbeat
    assert ">The workspace&#x27;s time zone (Europe/Amsterdam)</option>" in heartbeat
    assert '<option value="Europe/Lisbon">Europe/Lisbon</option>' in heartbeat
    assert ">Every 1 hour</option>" in heartbeat and ">5 minutes late</option>" in heartbeat


def test_one_value_a_line_and_name_colon_value_headers_are_saved(new_monitor, workspace):
    client, url = new_monitor
    dns = monitor_data(kind="dns", name="Mail", hostname="shop.example.com", record_type="MX")
    dns["expected_values"] = "10 mx1.example.net.\r\n\r\n20 mx2.example.net.\r\n"
    assert client.post(url, dns).status_code == 302
    assert Monitor.objects.get(name="Mail").expected_values == ["10 mx1.example.net.", "20 mx2.example.net."]
    http = monitor_data(name="API", headers="Authorization: Bearer abc\nX-Shop: 1")
    assert client.post(url, http).status_code == 302
    assert Monitor.objects.get(name="API").headers == {"Authorization": "Bearer abc", "X-Shop": "1"}
    bad = client.post(url, monitor_data(name="Bad", headers="no colon here")).content.decode()
    assert "One header a line" in bad and not Monitor.objects.filter(name="Bad").exists()


def test_editing_shows_stored_values_in_units_and_keeps_an_unlisted_interval(client_as, member, workspace):
    mon = Monitor.objects.create(
        workspace=workspace,
        kind="dns",
        name="A record",
        hostname="shop.example.com",
        expected_values=["192.0.2.10", "192.0.2.11"],
        interval_s=90,
    )
    url = reverse("monitoring:monitor_edit", kwargs={"workspace": workspace.uuid, "monitor": mon.uuid})
    page = client_as(member).get(url).content.decode()
    assert '<option value="90" selected>Every 90 seconds</option>' in page
    assert re.search(r"<textarea[^>]*>\s*192\.0\.2\.10\n192\.0\.2\.11</textarea>", page)
    assert "url" not in _names(page)


@pytest.fixture
def channel_page(client_as, admin, workspace):
    return client_as(admin), reverse("monitoring:channels", kwargs={"workspace": workspace.uuid})


@pytest.mark.parametrize(
    ("kind", "fields"),
    [
        ("email", {"address"}),
        ("slack", {"webhook_url"}),
        ("sms", {"account_sid", "auth_token", "from_number", "to_number"}),
        ("webhook", {"url", "signing_secret"}),
    ],
)
def test_channel_form_shows_only_the_fields_of_the_chosen_kind(channel_page, kind, fields):
    client, url = channel_page
    every = {"address", "webhook_url", "account_sid", "auth_token", "from_number", "to_number", "url"}
    every |= {"signing_secret"}
    names = _names(client.get(url, {"kind": kind}).content.decode()) - {"email", "phone", "position"}
    assert names & every == fields
    assert {"kind", "name"} <= names


def test_channel_kind_without_javascript_then_saved(channel_page, workspace):
    client, url = channel_page
    page = client.post(url, {"kind": "slack", "name": "Team", "show_kind": "1"}).content.decode()
    assert "webhook_url" in _names(page) and "address" not in _names(page)
    assert 'value="Team"' in page and not AlertChannel.objects.exists()
    missing = client.post(url, {"kind": "slack", "name": "Team"}).content.decode()
    assert "This field is required" in missing and not AlertChannel.objects.exists()
    saved = client.post(
        url, {"kind": "slack", "name": "Team", "webhook_url": "https://hooks.slack.com/services/T/B/x"}
    )
    assert saved.status_code == 302
    assert AlertChannel.objects.get(workspace=workspace).kind == "slack"


def test_heartbeat_page_shows_the_full_ping_url_and_examples(client_as, member, workspace):
    mon = Monitor.objects.create(workspace=workspace, kind="heartbeat", name="Backup", period_s=86400)
    url = reverse("monitoring:monitor_detail", kwargs={"workspace": workspace.uuid, "monitor": mon.uuid})
    page = client_as(member).get(url).content.decode()
    ping = settings.SITE_URL + reverse("monitoring_ping", kwargs={"uuid": mon.uuid})
    assert ping.startswith("http")
    assert f'<code id="ping-url" class="wrap">{ping}</code>' in page
    assert f"{ping}/fail" in page
    assert f"curl -fsS -m 10 --retry 3 -o /dev/null {ping}" in page  # the cron line
    assert "urllib.request.urlopen(PING_URL" in page and "def payment_webhook" in page
    assert 'data-copy="ping-url"' in page and "every 1 day" in page
