"""The workspace's monitoring page: monitors grouped by site, worst site first, a page of
sites at a time; each monitor's 90-day bar drawn once a day and stored (monitoring.rollups)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from launchready.models import Site
from monitoring import rollups, selectors
from monitoring.models import CheckResult, DailyRollup, Incident, Monitor, UptimeBar

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 28, 12, 30, tzinfo=UTC)


def url(workspace, page: int | None = None) -> str:
    base = reverse("monitoring:overview", kwargs={"workspace": workspace.uuid})
    return f"{base}?page={page}" if page else base


def add_site(workspace, domain: str, *, down: int = 0) -> Site:
    site = Site.objects.create(workspace=workspace, domain=domain)
    monitors = list(Monitor.objects.filter(site=site).exclude(kind=Monitor.Kind.HEARTBEAT).order_by("pk"))
    assert monitors, "a new site gets its automatic monitors"
    Monitor.objects.filter(site=site).update(state=Monitor.State.UP)
    for m in monitors[:down]:
        Monitor.objects.filter(pk=m.pk).update(state=Monitor.State.DOWN)
    return site


def group_names(body: str) -> list[str]:
    return re.findall(r'<h3 id="g-\d+">(?:<a href="[^"]*">)?([^<]+)', body)


def test_sites_with_a_monitor_down_come_first(client_as, owner, workspace):
    add_site(workspace, "alpha.example")
    add_site(workspace, "beta.example")
    add_site(workspace, "zulu.example", down=2)
    add_site(workspace, "mike.example", down=1)
    body = client_as(owner).get(url(workspace)).content.decode()
    assert group_names(body) == ["zulu.example", "mike.example", "alpha.example", "beta.example"]
    assert "<strong>2 down</strong>" in body
    zulu = body[body.index("zulu.example") : body.index("mike.example")]
    # Inside a site, its down monitors are listed first.
    assert zulu.index("status-down") < zulu.index("status-up")


def test_pages_of_sites_without_javascript(client_as, owner, workspace):
    for i in range(selectors.SITES_PER_PAGE + 2):
        add_site(workspace, f"store{i:02d}.example", down=1 if i == 11 else 0)
    client = client_as(owner)
    first = client.get(url(workspace)).content.decode()
    assert len(group_names(first)) == selectors.SITES_PER_PAGE
    assert group_names(first)[0] == "store11.example"  # worst first, across pages
    nav = first[first.index('<nav class="pagination"') :]
    nav = nav[: nav.index("</nav>")]
    assert 'href="?page=2"' in nav and "Page 1 of 2" in nav and "hx-" not in nav  # plain links
    second = client.get(url(workspace, 2)).content.decode()
    assert group_names(first)[1:] == [f"store{i:02d}.example" for i in range(9)]
    assert group_names(second) == ["store09.example", "store10.example"]
    assert 'href="?page=1"' in second
    # A page number out of range or not a number shows a page, never an error.
    assert client.get(url(workspace, 99)).status_code == 200
    assert (
        client.get(
            reverse("monitoring:overview", kwargs={"workspace": workspace.uuid}) + "?page=x"
        ).status_code
        == 200
    )


def test_another_workspaces_sites_never_show_and_strangers_get_404(client_as, owner, stranger, workspace):
    add_site(workspace, "mine.example")
    other = stranger.memberships.first().workspace
    add_site(other, "theirs.example", down=3)
    body = client_as(owner).get(url(workspace)).content.decode()
    assert group_names(body) == ["mine.example"] and "theirs.example" not in body
    assert client_as(stranger).get(url(workspace)).status_code == 404


def test_monitors_without_a_site_have_their_own_group(client_as, owner, workspace):
    add_site(workspace, "shop.example")
    Monitor.objects.create(
        workspace=workspace, name="Payment provider", url="https://pay.example/", state=Monitor.State.UP
    )
    body = client_as(owner).get(url(workspace)).content.decode()
    assert group_names(body) == ["shop.example", "Other monitors"]
    assert "Payment provider" in body


def _daily(monitor, days_ago: int, checks: int, failures: int) -> DailyRollup:
    return DailyRollup(
        monitor=monitor, day=(NOW - timedelta(days=days_ago)).date(), checks=checks, failures=failures
    )


@time_machine.travel(NOW, tick=False)
def test_the_bar_is_drawn_once_a_day_and_read_from_storage(client_as, owner, workspace):
    m = Monitor.objects.create(workspace=workspace, name="Home", url="https://shop.example/")
    DailyRollup.objects.bulk_create([_daily(m, d, 1440, 720 if d == 3 else 0) for d in range(1, 90)])
    assert rollups.refresh_bars() == 1
    bar = UptimeBar.objects.get(monitor=m)
    assert bar.through == (NOW - timedelta(days=1)).date()
    assert "25 Nov: 50.00% up" in bar.svg
    # The finished days' rectangles are merged runs, not 89 of them.
    assert bar.svg.count("<rect ") == 3
    assert rollups.refresh_bars() == 0  # already drawn through yesterday
    # The page draws from the stored bar: with the rollups of past days gone, it still shows them.
    DailyRollup.objects.filter(monitor=m).delete()
    DailyRollup.objects.create(monitor=m, day=NOW.date(), checks=100, failures=10)
    body = client_as(owner).get(url(workspace)).content.decode()
    assert "25 Nov: 50.00% up" in body
    assert "28 Nov (today): 90.00% up" in body
    expected = 100 * (89 * 1440 + 100 - 720 - 10) / (89 * 1440 + 100)
    assert f"Uptime over the last 90 days: {expected:.2f}%" in body


@time_machine.travel(NOW, tick=False)
def test_a_bar_not_yet_drawn_is_drawn_from_rollups_without_storing_it(client_as, owner, workspace):
    m = Monitor.objects.create(workspace=workspace, name="Home", url="https://shop.example/")
    DailyRollup.objects.bulk_create([_daily(m, 2, 1440, 1440), _daily(m, 0, 10, 0)])
    body = client_as(owner).get(url(workspace)).content.decode()
    assert "26 Nov: 0.00% up" in body and "28 Nov (today): 100.00% up" in body
    assert not UptimeBar.objects.exists()  # reads never write


def test_a_finished_day_whose_rollup_changes_redraws_the_bar(workspace):
    """Late results for yesterday (the hourly job recomputes it): the stored bar is
    deleted and the same job draws it again with the new figures."""
    m = Monitor.objects.create(workspace=workspace, name="Home", url="https://shop.example/")
    yesterday_noon = NOW - timedelta(days=1)
    with time_machine.travel(NOW, tick=False):
        CheckResult.objects.create(monitor=m, checked_at=yesterday_noon, ok=True, latency_ms=100)
        rollups.rollup_and_prune()
        assert 'class="bar-up"' in UptimeBar.objects.get(monitor=m).svg
        version = rollups.bars_version()
        # Recomputing the same figures keeps the stored bar.
        rollups.rollup_and_prune()
        assert UptimeBar.objects.filter(monitor=m).exists()
        CheckResult.objects.create(monitor=m, checked_at=yesterday_noon + timedelta(minutes=1), ok=False)
        rollups.rollup_days(yesterday_noon.date(), NOW.date())
        assert not UptimeBar.objects.filter(monitor=m).exists()
        rollups.rollup_and_prune()
        assert "27 Nov: 50.00% up" in UptimeBar.objects.get(monitor=m).svg
        assert rollups.bars_version() != version


@time_machine.travel(NOW, tick=False)
def test_a_new_day_redraws_yesterdays_bar(workspace):
    m = Monitor.objects.create(workspace=workspace, name="Home", url="https://shop.example/")
    rollups.refresh_bars()
    assert UptimeBar.objects.get(monitor=m).through == (NOW - timedelta(days=1)).date()
    with time_machine.travel(NOW + timedelta(days=1), tick=False):
        assert rollups.refresh_bars() == 1
        assert UptimeBar.objects.get(monitor=m).through == NOW.date()


def test_an_open_incident_shows_on_its_monitors_row(client_as, owner, workspace):
    site = add_site(workspace, "shop.example", down=1)
    down = Monitor.objects.get(site=site, state=Monitor.State.DOWN)
    incident = Incident.objects.create(
        monitor=down, workspace=workspace, started_at=timezone.now(), cause="Status 502."
    )
    body = client_as(owner).get(url(workspace)).content.decode()
    assert (
        reverse("monitoring:incident", kwargs={"workspace": workspace.uuid, "incident": incident.uuid})
        in body
    )


def test_the_page_lists_the_latest_incidents_only(client_as, owner, workspace):
    m = Monitor.objects.create(
        workspace=workspace, name="Home", url="https://shop.example/", state=Monitor.State.UP
    )
    now = timezone.now()
    for i in range(selectors.RECENT_INCIDENTS + 5):
        Incident.objects.create(
            monitor=m,
            workspace=workspace,
            started_at=now - timedelta(hours=2 * i + 2),
            ended_at=now - timedelta(hours=2 * i + 1),
            cause=f"Status 502 number {i:02d}.",
        )
    body = client_as(owner).get(url(workspace)).content.decode()
    timeline = body[body.index('id="inc-h"') :]
    timeline = timeline[: timeline.index("</section>")]
    assert timeline.count("Status 502 number") == selectors.RECENT_INCIDENTS
    assert "number 00." in timeline and f"number {selectors.RECENT_INCIDENTS:02d}." not in timeline
