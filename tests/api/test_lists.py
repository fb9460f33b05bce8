"""List answers (launchready.api.lists): pages on request with a ``Link`` header, as an
extension that leaves a client that does not ask for them where it was; the serialised answer
kept per workspace version and query; a write with a token drops its workspace's pages."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from launchready import fragments, pagecache
from launchready.models import Site, Workspace
from monitoring.models import ApiToken, Incident, Monitor

pytestmark = pytest.mark.django_db


@pytest.fixture
def token(workspace) -> str:
    return ApiToken.issue(workspace, "CI", read_only=True)[1]


def get(client, url: str, token: str, expect: int = 200):
    response = client.get(url, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == expect, response.content
    return response


def next_url(response) -> str | None:
    found = re.fullmatch(r'<([^>]+)>; rel="next"', response.get("Link", ""))
    return found.group(1) if found else None


@pytest.fixture
def monitors(workspace) -> list[Monitor]:
    """Seven monitors, two of them with the same name (the id orders them)."""
    names = ["Checkout", "Login", "Cart", "Search", "Homepage", "Login", "Account"]
    return [
        Monitor.objects.create(workspace=workspace, name=name, url=f"https://shop.example.com/{i}")
        for i, name in enumerate(names)
    ]


def test_monitors_without_a_limit_are_all_of_them_each_as_its_own_answer_says(client, token, monitors):
    response = get(client, "/api/v1/monitors", token)
    listed = response.json()
    assert "Link" not in response and len(listed) == 7
    assert [m["name"] for m in listed] == sorted(m.name for m in monitors)
    for item in listed:
        assert item == get(client, f"/api/v1/monitors/{item['id']}", token).json()


def test_monitors_in_pages_follow_the_link_to_the_end(client, token, workspace, monitors):
    everything = [m["id"] for m in get(client, "/api/v1/monitors", token).json()]
    seen, url, pages = [], "/api/v1/monitors?limit=3", 0
    while url:
        response = get(client, url, token)
        page = [m["id"] for m in response.json()]
        assert len(page) <= 3
        seen += page
        pages += 1
        url = next_url(response)
        if pages == 1:  # a monitor added meanwhile, before the page's end: no repeat, no gap
            Monitor.objects.create(workspace=workspace, name="Aaa first", url="https://shop.example.com/a")
    assert pages == 3 and seen == everything


def test_a_cursor_that_was_not_given_is_a_400(client, token, monitors):
    response = get(client, "/api/v1/monitors?limit=2", token)
    cursor = re.search(r"cursor=([^&>]+)", response["Link"]).group(1)
    for bad in ("nonsense", cursor[:-3] + "abc", "W10:1abc:def"):
        body = get(client, f"/api/v1/monitors?limit=2&cursor={bad}", token, expect=400).json()
        assert body == {"error": "This cursor is not one this list gave: start again without it."}


def test_a_cursor_of_another_list_is_a_400(client, token, workspace, http_monitor, monitors):
    now = timezone.now()
    for i in range(3):
        started = now - timedelta(hours=i + 1)
        Incident.objects.create(
            monitor=http_monitor, workspace=workspace, started_at=started, ended_at=started, cause="x"
        )
    cursor = re.search(r"cursor=([^&>]+)", get(client, "/api/v1/monitors?limit=2", token)["Link"]).group(1)
    get(client, f"/api/v1/incidents?limit=1&cursor={cursor}", token, expect=400)


def test_incidents_keep_their_default_page_and_say_when_more_follow(client, token, workspace, http_monitor):
    now = timezone.now()
    login = Monitor.objects.create(workspace=workspace, name="Login", url="https://shop.example.com/login")
    for i in range(53):
        Incident.objects.create(
            monitor=login if i == 40 else http_monitor,  # one open incident per monitor
            workspace=workspace,
            started_at=now - timedelta(hours=i),
            ended_at=None if i in (7, 40) else now - timedelta(hours=i) + timedelta(minutes=5),
            cause=f"Cause {i}",
        )
    first = get(client, "/api/v1/incidents", token)
    assert len(first.json()) == 50  # as before: 50 unless ?limit= says otherwise
    rest = get(client, next_url(first), token)
    assert next_url(rest) is None
    causes = [i["cause"] for i in first.json() + rest.json()]
    assert causes[:2] == ["Cause 7", "Cause 40"]  # open first, then the most recent
    assert causes[2:] == [f"Cause {i}" for i in range(53) if i not in (7, 40)]


def test_the_answer_is_kept_per_workspace_version(client, token, workspace, monitors):
    def monitor_queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            get(client, "/api/v1/monitors", token)
        return sum('FROM "monitoring_monitor"' in q["sql"] for q in ctx.captured_queries)

    assert monitor_queries() == 1
    assert monitor_queries() == 0  # kept
    Monitor.objects.filter(pk=monitors[0].pk).update(name="Renamed without a signal")
    assert "Renamed without a signal" not in get(client, "/api/v1/monitors", token).content.decode()
    monitors[1].name = "Renamed and saved"
    monitors[1].save()
    assert "Renamed and saved" in get(client, "/api/v1/monitors", token).content.decode()


def test_a_site_token_never_gets_the_workspaces_answer(client, token, workspace, site, monitors):
    assert len(get(client, "/api/v1/monitors", token).json()) == 7 + site.monitors.count()
    _, site_token = ApiToken.issue(workspace, "Shop CI", site=site, read_only=True)
    listed = get(client, "/api/v1/monitors", site_token).json()
    assert listed and {m["site"] for m in listed} == {str(site.uuid)}


def test_another_workspaces_token_never_gets_this_ones_answer(client, token, monitors):
    get(client, "/api/v1/monitors", token)
    other = Workspace.objects.create(name="Other shop", timezone="UTC")
    Site.objects.create(workspace=other, domain="other-shop.example")
    listed = get(client, "/api/v1/monitors", ApiToken.issue(other, "CI")[1]).json()
    assert listed and not {m["name"] for m in listed} & {m.name for m in monitors}


@pytest.mark.parametrize(
    ("method", "status", "bumps"), [("POST", 201, True), ("POST", 400, False), ("GET", 200, False)]
)
def test_a_write_with_a_token_drops_its_workspaces_pages(method, status, bumps, workspace):
    """Also when the endpoint's change sends no signal (a ``queryset.update()``)."""
    request = HttpRequest()
    request.method = method
    request.auth = ApiToken.issue(workspace, "CI")[0]
    before = fragments.version(workspace.pk)
    pagecache.WritesShowMiddleware(lambda r: HttpResponse(status=status))(request)
    assert (fragments.version(workspace.pk) != before) is bumps


@pytest.mark.parametrize(
    ("url", "table"),
    [
        ("/api/v1/sites", "launchready_site"),
        ("/api/v1/sites/{site}/audits", "audits_auditrun"),
        ("/api/v1/monitors", "monitoring_monitor"),
        ("/api/v1/incidents", "monitoring_incident"),
        ("/api/v1/heartbeats", "monitoring_monitor"),
        ("/api/v1/maintenance-windows", "monitoring_maintenancewindow"),
    ],
)
def test_every_list_is_kept_until_its_workspace_changes(url, table, client, token, workspace, site):
    url = url.format(site=site.uuid)

    def reads() -> tuple[str, int]:
        with CaptureQueriesContext(connection) as ctx:
            body = get(client, url, token).content.decode()
        return body, sum(f'FROM "{table}"' in q["sql"] for q in ctx.captured_queries)

    first, read = reads()
    assert read >= 1
    assert reads() == (first, 0)
    site.name = "Renamed store"
    site.save()  # any save in the workspace
    assert reads()[1] >= 1
