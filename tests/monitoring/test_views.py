"""Monitoring pages: overview queries, channels, the ack link, the maintenance API, site monitors."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from launchready.models import CriticalRoute, Site
from launchready.views_sites import add_standard_routes
from monitoring.messages import ack_token
from monitoring.models import (
    AlertChannel,
    ApiToken,
    DailyRollup,
    HourlyRollup,
    Incident,
    MaintenanceWindow,
    Monitor,
    Notification,
)

pytestmark = pytest.mark.django_db


def seed(workspace, n: int) -> None:
    now = timezone.now()
    for i in range(n):
        m = Monitor.objects.create(workspace=workspace, name=f"Page {i}", url=f"https://shop.example.com/{i}")
        DailyRollup.objects.bulk_create(
            [
                DailyRollup(monitor=m, day=(now - timedelta(days=d)).date(), checks=1440, failures=d % 3)
                for d in range(90)
            ]
        )
        HourlyRollup.objects.bulk_create(
            [
                HourlyRollup(monitor=m, hour=now - timedelta(hours=h), checks=60, p50_ms=100 + h, p95_ms=300)
                for h in range(24)
            ]
        )
        Incident.objects.create(monitor=m, workspace=workspace, started_at=now, cause="Status 502.")
    Monitor.objects.create(workspace=workspace, kind="heartbeat", name=f"Job {n}")


def overview_queries(client, workspace) -> int:
    url = reverse("monitoring:overview", kwargs={"workspace": workspace.uuid})
    cache.clear()  # counted as drawn, not as read from the cache (tests/perf counts both)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_overview_queries_do_not_grow_with_monitors(client_as, owner, workspace, django_assert_num_queries):
    client = client_as(owner)
    seed(workspace, 2)
    overview_queries(client, workspace)  # the first visit also remembers the workspace in the session
    baseline = overview_queries(client, workspace)
    assert baseline <= 12
    seed(workspace, 6)
    url = reverse("monitoring:overview", kwargs={"workspace": workspace.uuid})
    cache.clear()
    with django_assert_num_queries(baseline):
        response = client.get(url)
    body = response.content.decode()
    assert body.count('class="monitor-row"') == 8
    # One stored 90-day bar per monitor; the 24-hour latency charts are on each site's page.
    assert body.count('class="uptime-bar"') == 8
    assert "Job 6" in body


def test_overview_svg_has_no_inline_style(client_as, owner, workspace):
    seed(workspace, 1)
    body = (
        client_as(owner)
        .get(reverse("monitoring:overview", kwargs={"workspace": workspace.uuid}))
        .content.decode()
    )
    assert "style=" not in body and "<script>" not in body
    assert "monitoring/monitoring.css" in body


def test_site_overview_shows_only_that_sites_monitors(client_as, owner, workspace, site):
    other = Monitor.objects.create(workspace=workspace, name="Elsewhere", url="https://other.example/")
    body = (
        client_as(owner)
        .get(reverse("monitoring:site_overview", kwargs={"workspace": workspace.uuid, "site": site.uuid}))
        .content.decode()
    )
    assert "Homepage (www.shop.example.com)" in body and other.name not in body


def test_adding_a_site_creates_sensible_monitors(workspace, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        site = Site.objects.create(workspace=workspace, domain="store.example", canonical="www")
        add_standard_routes(site)
        # The routes its owner confirmed (found by the first audit); only these get monitors.
        for name, path in (("login", "/login"), ("cart", "/cart"), ("checkout", "/checkout")):
            CriticalRoute.objects.create(site=site, name=name, path=path)
        CriticalRoute.objects.create(
            site=site, name="order", path="/api/orders", kind="api", accept_client_errors=True
        )
        CriticalRoute.objects.create(site=site, name="product", path="/products/mug", confirmed=False)
    monitors = {m.auto_key: m for m in Monitor.objects.filter(site=site)}
    assert set(monitors) == {
        "home",
        "cert",
        "domain",
        "route:login",
        "route:cart",
        "route:checkout",
        "route:order",
    }
    assert monitors["home"].url == "https://www.store.example/" and monitors["home"].severity == "critical"
    assert monitors["route:checkout"].severity == "critical"
    assert monitors["route:order"].expected_statuses == "200-499"  # its owner said a 405 to GET is normal
    assert monitors["route:login"].expected_statuses == "200-399"  # any 4xx is down
    assert monitors["cert"].hostname == "www.store.example" and monitors["domain"].hostname == "store.example"
    sub = Site.objects.create(workspace=workspace, domain="shop.brand.co.uk", canonical="apex")
    assert Monitor.objects.get(site=sub, auto_key="domain").hostname == "brand.co.uk"
    site.canonical = "apex"
    site.save()
    assert Monitor.objects.get(site=site, auto_key="home").url == "https://store.example/"
    assert Monitor.objects.filter(site=site).count() == 7


def test_channel_credentials_are_encrypted_and_never_shown(client_as, owner, workspace):
    client = client_as(owner)
    url = reverse("monitoring:channels", kwargs={"workspace": workspace.uuid})
    hook = "https://hooks.slack.com/services/T0/B0/very-secret-token"
    response = client.post(url, {"kind": "slack", "name": "Team", "webhook_url": hook})
    assert response.status_code == 302
    channel = AlertChannel.objects.get()
    assert "very-secret-token" not in channel.secret and channel.credentials["webhook_url"] == hook
    page = client.get(url).content.decode()
    assert "very-secret-token" not in page and "hooks.slack.com/…" in page


def test_send_test_queues_a_test_notification(
    client_as, member, workspace, email_channel, django_capture_on_commit_callbacks
):
    url = reverse(
        "monitoring:channel_test", kwargs={"workspace": workspace.uuid, "channel": email_channel.uuid}
    )
    with django_capture_on_commit_callbacks(execute=False):
        assert client_as(member).post(url).status_code == 302
    assert Notification.objects.get(channel=email_channel).event == "test"


def test_signed_ack_link_acknowledges_and_expires(client, settings, url_kwarg_incident):
    incident = url_kwarg_incident
    url = reverse("monitoring_ack", kwargs={"token": ack_token(incident.uuid)})
    assert client.get(url).status_code == 200
    incident.refresh_from_db()
    assert incident.acknowledged_at is None  # a GET (mail scanners) changes nothing
    assert client.post(url).status_code == 200
    incident.refresh_from_db()
    assert incident.acknowledged_at is not None
    assert client.get(url[:-3] + "xx/").status_code == 404
    settings.MONITORING_ACK_LINK_MAX_AGE_HOURS = 0
    assert client.get(url).status_code == 410


def test_maintenance_api_needs_a_token_and_opens_a_window(client, workspace):
    url = reverse("monitoring_api_maintenance")
    assert client.post(url, {}, content_type="application/json").status_code == 401
    _, plain = ApiToken.issue(workspace, "Deploy")
    assert ApiToken.objects.get().token_hash != plain
    response = client.post(
        url,
        {"minutes": 20, "reason": "deploy v42"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {plain}",
    )
    assert response.status_code == 201
    window = MaintenanceWindow.objects.get()
    assert window.workspace == workspace and window.reason == "deploy v42"
    assert timedelta(minutes=19) < window.ends_at - window.starts_at <= timedelta(minutes=20)
    bad = client.post(
        url, {"minutes": 9999}, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {plain}"
    )
    assert bad.status_code == 400


def monitor_data(**changes) -> dict:
    """What the monitor form posts for an HTTP monitor."""
    return {
        "kind": "http",
        "name": "Cart",
        "url": "https://shop.example.com/cart",
        "method": "GET",
        "expected_statuses": "200-299",
        "keyword_mode": "present",
        "headers": "{}",
        "follow_redirects": "on",
        "timeout_s": 10,
        "record_type": "A",
        "expected_values": "[]",
        "schedule": "period",
        "period_s": 3600,
        "grace_s": 300,
        "interval_s": 60,
        "confirm_failures": 2,
        "recover_successes": 1,
        "severity": "warning",
        **changes,
    }


def test_viewer_cannot_add_a_monitor_but_member_can(client_as, viewer, member, workspace):
    url = reverse("monitoring:monitor_create", kwargs={"workspace": workspace.uuid})
    data = monitor_data()
    assert client_as(viewer).post(url, data).status_code == 403
    response = client_as(member).post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Monitor.objects.get(name="Cart").workspace == workspace
    data["interval_s"] = 5
    assert "from 30 seconds to 1 hour" in client_as(member).post(url, data).content.decode()


def test_monitor_form_sections_show_every_field(workspace):
    from monitoring.forms import MonitorForm

    form = MonitorForm(workspace=workspace)
    shown = [f.name for _, fields in form.groups() for f in fields]
    assert sorted(shown) == sorted(form.fields) and len(shown) == len(set(shown))


def test_public_status_page_is_off_until_published_and_hides_internals(
    client_as, client, member, workspace, site
):
    home = Monitor.objects.get(site=site, auto_key="home")
    Monitor.objects.filter(pk=home.pk).update(state="down")
    Incident.objects.create(
        monitor=home,
        workspace=workspace,
        started_at=timezone.now(),
        cause="Status 502.",
        snippet="secret stack trace",
    )
    toggle = reverse("monitoring:status_page_toggle", kwargs={"workspace": workspace.uuid, "site": site.uuid})
    assert client_as(member).post(toggle).status_code == 302
    from monitoring.models import StatusPage

    page = StatusPage.objects.get(site=site)
    body = client.get(reverse("monitoring_status_page", kwargs={"uuid": page.uuid})).content.decode()
    assert "Some services are having problems." in body and home.name in body
    assert "secret stack trace" not in body and "Status 502" not in body
    client_as(member).post(toggle)
    assert client.get(reverse("monitoring_status_page", kwargs={"uuid": page.uuid})).status_code == 404


def test_site_page_and_workspace_overview_show_the_monitoring_panel(client_as, owner, workspace, site):
    home = Monitor.objects.get(site=site, auto_key="home")
    Monitor.objects.filter(pk=home.pk).update(state="down")
    Incident.objects.create(monitor=home, workspace=workspace, started_at=timezone.now(), cause="Status 502.")
    client = client_as(owner)
    page = client.get(
        reverse("site_detail", kwargs={"workspace": workspace.uuid, "site": site.uuid})
    ).content.decode()
    assert 'id="monitoring-h"' in page and "0 up · 1 down" in page and "Status 502." in page
    overview = client.get(
        reverse("workspace_overview", kwargs={"workspace": workspace.uuid})
    ).content.decode()
    assert 'id="monitoring-h"' in overview and "Status 502." in overview


@pytest.mark.parametrize(
    "body",
    [
        "[]",
        '"deploy"',
        '{"minutes": 99999999999}',
        '{"minutes": 15.5}',
        '{"starts_at": "2026-13-40T10:00:00Z", "minutes": 15}',
        '{"starts_at": 5, "ends_at": 6}',
        '{"minutes": 15, "reason": ["x"]}',
    ],
)
def test_maintenance_api_answers_bad_input_with_a_sentence(client, workspace, body):
    _, plain = ApiToken.issue(workspace, "Deploy")
    response = client.post(
        reverse("monitoring_api_maintenance"),
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {plain}",
    )
    assert response.status_code == 400
    assert response.json()["error"]
    assert not MaintenanceWindow.objects.exists()


def test_contact_with_a_bad_phone_keeps_what_was_typed_and_says_why(client_as, owner, workspace):
    from monitoring.models import EscalationContact

    url = reverse("monitoring:contact_add", kwargs={"workspace": workspace.uuid})
    data = {"name": "Dana Night-Shift", "email": "dana@example.com", "phone": "06 1234", "position": 0}
    response = client_as(owner).post(url, data)
    assert response.status_code == 400
    body = response.content.decode()
    assert "international format" in body and "Dana Night-Shift" in body
    assert not EscalationContact.objects.exists()
    data["phone"] = "+31 6 1234 5678"
    assert client_as(owner).post(url, data).status_code == 302
    assert EscalationContact.objects.get().phone == "+31612345678"


def test_sms_channel_numbers_must_be_international(client_as, owner, workspace):
    url = reverse("monitoring:channels", kwargs={"workspace": workspace.uuid})
    data = {
        "kind": "sms",
        "name": "On call",
        "account_sid": "AC123",
        "auth_token": "tok",
        "from_number": "+1 555 0100 000",
        "to_number": "0612345678",
    }
    response = client_as(owner).post(url, data)
    assert response.status_code == 200 and "international format" in response.content.decode()
    assert not AlertChannel.objects.exists()


def test_an_incident_open_for_weeks_still_shows_on_its_monitor(client_as, owner, workspace, http_monitor):
    Incident.objects.create(
        monitor=http_monitor,
        workspace=workspace,
        started_at=timezone.now() - timedelta(days=40),
        cause="Status 502.",
    )
    body = (
        client_as(owner)
        .get(reverse("monitoring:overview", kwargs={"workspace": workspace.uuid}))
        .content.decode()
    )
    assert "Open incident since" in body


def test_editing_a_monitor_checks_it_again_at_once(client_as, member, workspace):
    later = timezone.now() + timedelta(minutes=50)
    m = Monitor.objects.create(
        workspace=workspace,
        name="Cart",
        url="https://shop.example.com/crat",
        interval_s=3600,
        next_check_at=later,
    )
    url = reverse("monitoring:monitor_edit", kwargs={"workspace": workspace.uuid, "monitor": m.uuid})
    response = client_as(member).post(url, monitor_data(url="https://shop.example.com/cart"))
    assert response.status_code == 302
    m.refresh_from_db()
    assert m.url == "https://shop.example.com/cart" and m.interval_s == 60
    assert m.next_check_at <= timezone.now()


def test_a_viewer_cannot_open_the_monitor_form_that_shows_its_headers(client_as, viewer, member, workspace):
    m = Monitor.objects.create(
        workspace=workspace,
        name="Admin API",
        url="https://shop.example.com/api/health",
        headers={"Authorization": "Bearer sk_live_secret"},
    )
    edit = reverse("monitoring:monitor_edit", kwargs={"workspace": workspace.uuid, "monitor": m.uuid})
    response = client_as(viewer).get(edit)
    assert response.status_code == 403 and "sk_live_secret" not in response.content.decode()
    assert (
        client_as(viewer)
        .get(reverse("monitoring:monitor_create", kwargs={"workspace": workspace.uuid}))
        .status_code
        == 403
    )
    page = client_as(member).get(edit)
    assert page.status_code == 200
    # Write-only: a member sees which headers are stored, never their values.
    assert "Authorization" in page.content.decode() and "sk_live_secret" not in page.content.decode()
    assert "sk_live_secret" not in m.headers_secret


def test_monitor_headers_are_kept_replaced_or_cleared_from_the_form(client_as, member, workspace):
    m = Monitor.objects.create(
        workspace=workspace, name="API", url="https://shop.example.com/api", headers={"X-Api-Key": "old"}
    )
    edit = reverse("monitoring:monitor_edit", kwargs={"workspace": workspace.uuid, "monitor": m.uuid})
    c = client_as(member)
    assert c.post(edit, monitor_data(url="https://shop.example.com/api")).status_code == 302
    m.refresh_from_db()
    assert m.headers == {"X-Api-Key": "old"}  # left empty: kept
    c.post(edit, monitor_data(url="https://shop.example.com/api", headers='{"X-Api-Key": "new"}'))
    m.refresh_from_db()
    assert m.headers == {"X-Api-Key": "new"}
    c.post(edit, monitor_data(url="https://shop.example.com/api", clear_headers="on"))
    m.refresh_from_db()
    assert m.headers == {} and m.headers_secret == ""
    bad = c.post(edit, monitor_data(url="https://shop.example.com/api", headers='{"X": "a\\nb"}'))
    assert bad.status_code == 200 and "line break" in bad.content.decode()


def test_dns_monitor_needs_a_record_type_it_can_ask_for(workspace):
    from monitoring.forms import MonitorForm

    data = monitor_data(kind="dns", name="MX", url="", hostname="shop.example.com", record_type="XYZ")
    form = MonitorForm(data, workspace=workspace)
    assert not form.is_valid()
    assert "Choose one of A, AAAA" in form.errors["record_type"][0]
    form = MonitorForm({**data, "record_type": "mx"}, workspace=workspace)
    assert form.is_valid(), form.errors
    assert form.save().record_type == "MX"


def test_maintenance_window_times_are_in_the_workspace_time_zone(client_as, owner, workspace):
    import datetime as dt
    import zoneinfo

    from monitoring.models import MaintenanceWindow

    workspace.timezone = "Europe/Amsterdam"
    workspace.save()
    url = reverse("monitoring:maintenance", kwargs={"workspace": workspace.uuid})
    response = client_as(owner).post(
        url, {"starts_at": "2026-12-01T22:00", "ends_at": "2026-12-01T23:30", "reason": "Deploy"}
    )
    assert response.status_code in (302, 303), response.content.decode()[:500]
    window = MaintenanceWindow.objects.get(workspace=workspace)
    amsterdam = zoneinfo.ZoneInfo("Europe/Amsterdam")
    assert window.starts_at == dt.datetime(2026, 12, 1, 22, 0, tzinfo=amsterdam)
    assert window.starts_at.astimezone(dt.UTC).hour == 21  # CET is UTC+1 in December


def test_a_new_api_token_is_shown_once_and_never_travels_in_a_cookie(client_as, admin, workspace):
    c = client_as(admin)
    url = reverse("monitoring:token_create", kwargs={"workspace": workspace.uuid})
    response = c.post(url, {"name": "Deploy"})
    assert "messages" not in response.cookies  # flash messages stay in the server-side session
    page = c.get(response["Location"]).content.decode()
    assert "Copy it now" in page and "lr_" in page
    assert "Copy it now" not in c.get(response["Location"]).content.decode()  # shown once


@pytest.mark.parametrize(
    "kind, label",
    [
        ("domain_expiry", "Expires soon"),
        ("tls_expiry", "Certificate problem"),
        ("heartbeat", "Late"),
        ("http", "Down"),
    ],
)
def test_a_down_monitor_is_labelled_in_plain_words(client_as, owner, workspace, kind, label):
    m = Monitor.objects.create(
        workspace=workspace,
        kind=kind,
        name=f"{kind} monitor",
        url="https://shop.example.com/",
        hostname="shop.example.com",
        state=Monitor.State.DOWN,
    )
    assert m.state_label == label
    page = client_as(owner).get(reverse("monitoring:overview", kwargs={"workspace": workspace.uuid}))
    assert label in page.content.decode()
