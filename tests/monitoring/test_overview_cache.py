"""The monitoring page's sites are drawn once and cached; the events that change them
(an incident opening or closing, a monitor saved, the hourly rollup, a new day) show at
once, and a change without an event (the check loop's bulk state updates) within a minute."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from launchready import fragments
from launchready.models import Site
from monitoring import rollups
from monitoring.models import CheckResult, Incident, Monitor

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 28, 12, 30, tzinfo=UTC)


@pytest.fixture
def home(workspace) -> Monitor:
    site = Site.objects.create(workspace=workspace, domain="shop.example")
    Monitor.objects.filter(site=site).update(state=Monitor.State.UP)
    return Monitor.objects.get(site=site, auto_key="home")


def page(client, workspace) -> str:
    response = client.get(reverse("monitoring:overview", kwargs={"workspace": workspace.uuid}))
    assert response.status_code == 200
    return response.content.decode()


def home_row(body: str, home: Monitor) -> str:
    start = body.index(f"/monitors/{home.uuid}/")
    return body[start : body.index("</li>", start)]


def test_a_cached_page_does_not_read_the_monitors_again(client_as, owner, workspace, home):
    client = client_as(owner)
    first = page(client, workspace)
    with CaptureQueriesContext(connection) as ctx:
        again = page(client, workspace)

    def sites(body: str) -> str:
        return body[body.index('id="mon-h"') : body.index('id="hb-h"')]

    assert sites(again) == sites(first) and "shop.example" in sites(again)
    sql = " ".join(q["sql"] for q in ctx.captured_queries)
    assert "monitoring_uptimebar" not in sql and "monitoring_dailyrollup" not in sql


def test_an_incident_opening_and_closing_shows_at_once(client_as, owner, workspace, home):
    client = client_as(owner)
    assert "Open incident since" not in page(client, workspace)
    # As the check loop does: the state in bulk (no signal), the incident saved.
    Monitor.objects.filter(pk=home.pk).update(state=Monitor.State.DOWN)
    incident = Incident.objects.create(monitor=home, workspace=workspace, started_at=NOW, cause="Status 502.")
    body = page(client, workspace)
    assert "Open incident since" in body and "status-down" in home_row(body, home)
    Monitor.objects.filter(pk=home.pk).update(state=Monitor.State.UP)
    incident.ended_at = NOW + timedelta(minutes=5)
    incident.save(update_fields=["ended_at"])
    body = page(client, workspace)
    assert "Open incident since" not in body and "status-up" in home_row(body, home)


def test_a_renamed_monitor_shows_at_once(client_as, owner, workspace, home):
    client = client_as(owner)
    page(client, workspace)
    home.name = "Storefront"
    home.save()
    assert "Storefront" in page(client, workspace)


def test_the_hourly_rollup_redraws_todays_bar(client_as, owner, workspace, home):
    client = client_as(owner)
    with time_machine.travel(NOW, tick=False):
        assert "28 Nov (today): no data yet" in home_row(page(client, workspace), home)
        CheckResult.objects.create(
            monitor=home, checked_at=NOW - timedelta(minutes=10), ok=True, latency_ms=90
        )
        rollups.rollup_and_prune()
        assert "28 Nov (today): 100.00% up" in home_row(page(client, workspace), home)


def test_a_change_without_an_event_shows_within_the_fragments_lifetime(
    client_as, owner, workspace, home, monkeypatch
):
    """The cache (Redis in production) expires a fragment after ``fragments.TTL`` (60 s); 1 s here."""
    monkeypatch.setattr(fragments, "TTL", 1)
    client = client_as(owner)
    page(client, workspace)
    Monitor.objects.filter(pk=home.pk).update(state=Monitor.State.DOWN)  # no signal
    assert "status-up" in home_row(page(client, workspace), home)  # still the cached page
    time.sleep(1.5)
    assert "status-down" in home_row(page(client, workspace), home)


def test_a_new_day_draws_a_new_page(client_as, owner, workspace, home):
    client = client_as(owner)
    with time_machine.travel(NOW, tick=False) as clock:
        assert "28 Nov (today)" in page(client, workspace)
        clock.move_to(NOW + timedelta(days=1))
        assert "29 Nov (today)" in page(client, workspace)


def test_another_workspaces_events_keep_this_ones_page(client_as, owner, stranger, workspace, home):
    client = client_as(owner)
    page(client, workspace)
    mine = fragments.version(workspace.pk)
    other = stranger.memberships.first().workspace
    Site.objects.create(workspace=other, domain="theirs.example")
    assert fragments.version(workspace.pk) == mine
