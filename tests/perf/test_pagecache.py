"""Whole pages from the cache (launchready.pagecache): a page is kept per user, path, the
versions of what it shows and the browser's CSRF secret; what cannot be replayed exactly
is never kept; the user's own changes, a monitor's change of state, role, time zone and
settings changes show at once; with the cache down every page is drawn."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.messages import constants
from django.contrib.messages.storage.base import Message
from django.contrib.messages.storage.session import SessionStorage
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from launchready import fragments, pagecache
from launchready.models import Membership, Role, Site, Workspace
from monitoring import engine, rollups
from monitoring.checks.specs import CheckOutcome
from monitoring.models import Incident, Monitor
from tests.core.test_cache_down import down_cache  # noqa: F401 - a fixture: Redis that is down

pytestmark = pytest.mark.django_db

SECRET = "a" * 16 + "B" * 16  # a CSRF secret as a browser keeps it in its cookie


def with_cookie(client: Client, secret: str = SECRET) -> Client:
    client.cookies["csrftoken"] = secret
    return client


def get(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        get(client, url)
    return len(ctx)


def main(page: str) -> str:
    """The page without its header (whose workspace switcher names every workspace)."""
    return page[page.index('<main id="main"') :]


def form_token(page: str) -> str:
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert found, "the page has no form"
    return found.group(1)


def site_url(workspace, site) -> str:
    return reverse("site_detail", kwargs={"workspace": workspace.uuid, "site": site.uuid})


def monitor_url(workspace, monitor) -> str:
    return reverse("monitoring:monitor_detail", kwargs={"workspace": workspace.uuid, "monitor": monitor.uuid})


@pytest.fixture
def home(site) -> Monitor:
    return Monitor.objects.get(site=site, auto_key="home")


def test_a_page_is_served_from_the_cache(client_as, owner, workspace, site):
    client = with_cookie(client_as(owner))
    url = site_url(workspace, site)
    drawn = queries(client, url)
    Site.objects.filter(pk=site.pk).update(name="Renamed without a signal")
    assert queries(client, url) < drawn
    assert "Renamed without a signal" not in get(client, url)  # the kept page


def test_one_users_page_is_never_served_to_another(client_as, owner, viewer, workspace, site):
    """Same URL, same browser cookie: the owner's page has the edit controls, the viewer's not."""
    edit = reverse("site_edit", kwargs={"workspace": workspace.uuid, "site": site.uuid})
    owner_client, viewer_client = with_cookie(client_as(owner)), with_cookie(client_as(viewer))
    assert edit in get(owner_client, site_url(workspace, site))
    assert edit not in get(viewer_client, site_url(workspace, site))
    assert edit in get(owner_client, site_url(workspace, site))


def test_the_query_string_is_part_of_the_key(client_as, owner, workspace):
    other = Workspace.objects.create(name="Zebra Shoes", timezone="UTC")
    Membership.objects.create(workspace=other, user=owner, role=Role.OWNER)
    client = with_cookie(client_as(owner))
    url = reverse("portfolio")

    def order(page: str) -> list[str]:
        return re.findall(r"Acme Store|Zebra Shoes", main(page))

    ascending = order(get(client, url + "?sort=name&dir=asc"))
    descending = order(get(client, url + "?sort=name&dir=desc"))
    assert ascending[0] == "Acme Store" and descending[0] == "Zebra Shoes"


def test_a_change_in_any_listed_workspace_shows(client_as, owner, workspace):
    other = Workspace.objects.create(name="Zebra Shoes", timezone="UTC")
    Membership.objects.create(workspace=other, user=owner, role=Role.OWNER)
    client = with_cookie(client_as(owner))
    url = reverse("workspace_list")
    get(client, url)
    Site.objects.create(workspace=other, domain="zebra.example")
    row = re.search(r"Zebra Shoes</a></th>.*?</tr>", main(get(client, url)), re.S)
    assert row and re.findall(r"<td>(.*?)</td>", row.group(0)) == ["Owner", "1", "1"]  # role, sites, members


def test_a_change_of_the_users_own_shows_on_every_page(client_as, owner, workspace, site):
    """Joining another workspace moves the user's version: the switcher lists it at once."""
    client = with_cookie(client_as(owner))
    url = site_url(workspace, site)
    get(client, url)
    other = Workspace.objects.create(name="Newly Joined Client", timezone="UTC")
    Membership.objects.bulk_create([Membership(workspace=other, user=owner, role=Role.ADMIN)])  # no signal
    fragments.bump_user(owner.pk)  # what the membership's own save does, without bumping a workspace
    assert "Newly Joined Client" in get(client, url)


def test_the_hourly_rollup_version_is_part_of_the_key(client_as, owner, workspace, site, home):
    client = with_cookie(client_as(owner))
    url = reverse("monitoring:overview", kwargs={"workspace": workspace.uuid})
    get(client, url)
    Monitor.objects.filter(pk=home.pk).update(name="Storefront after the rollup")
    rollups.bump_bars_version()
    assert "Storefront after the rollup" in get(client, url)


def test_forms_of_a_kept_page_carry_this_browsers_token(client_as, owner, workspace, home):
    """Two browsers of one user: each page's forms post with that browser's own cookie."""
    first = Client(enforce_csrf_checks=True)
    second = Client(enforce_csrf_checks=True)
    for client, secret in ((first, SECRET), (second, "c" * 32)):
        client.force_login(owner)  # saves the user (last login): both before the pages
        with_cookie(client, secret)
    get(first, monitor_url(workspace, home))
    page = get(second, monitor_url(workspace, home))
    pause = reverse("monitoring:monitor_pause", kwargs={"workspace": workspace.uuid, "monitor": home.uuid})
    assert second.post(pause, {"csrfmiddlewaretoken": form_token(page)}).status_code == 302


def test_a_browser_without_a_csrf_cookie_gets_a_page_drawn_for_its_new_one(client_as, owner, workspace, home):
    url = monitor_url(workspace, home)
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    get(with_cookie(client_as(owner)), url)  # another browser's page is kept
    for _ in range(2):
        client.cookies.pop("csrftoken", None)  # a browser that keeps no cookie between pages
        response = client.get(url)
        assert response.status_code == 200 and "csrftoken" in response.cookies
    pause = reverse("monitoring:monitor_pause", kwargs={"workspace": workspace.uuid, "monitor": home.uuid})
    assert (
        client.post(pause, {"csrfmiddlewaretoken": form_token(response.content.decode())}).status_code == 302
    )


def leave_message(client: Client, text: str) -> None:
    """A flash message waiting in the session, as a redirecting view leaves it."""
    request = HttpRequest()
    request.session = client.session
    SessionStorage(request)._store([Message(constants.SUCCESS, text)], None)
    request.session.save()


def test_a_waiting_flash_message_is_shown_once_and_never_kept(client_as, owner, workspace, site):
    client = with_cookie(client_as(owner))
    url = site_url(workspace, site)
    get(client, url)
    leave_message(client, "Routes saved.")
    assert "Routes saved." in get(client, url)
    assert "Routes saved." not in get(client, url)


def test_a_write_is_never_answered_from_the_cache(client_as, owner, workspace, site):
    client = with_cookie(client_as(owner))
    url = site_url(workspace, site)
    get(client, url)
    assert client.post(url).status_code == 405


def request_for(user, method: str = "GET") -> HttpRequest:
    request = HttpRequest()
    request.method = method
    request.path = "/w/page/"
    request.user = user
    request.session = SessionStore()
    request._messages = SessionStorage(request)
    request.META["CSRF_COOKIE"] = SECRET
    return request


@pytest.mark.parametrize(
    "answer",
    ["redirect", "not found", "sets a cookie", "changes the session", "adds a message", "200"],
)
def test_only_a_plain_200_is_kept(answer, owner, workspace):
    drawn = []

    def draw(request: HttpRequest) -> HttpResponse:
        drawn.append(answer)
        response = HttpResponse("page", status={"redirect": 302, "not found": 404}.get(answer, 200))
        if answer == "sets a cookie":
            response.set_cookie("theme", "dark")
        elif answer == "changes the session":
            request.session["seen"] = True
        elif answer == "adds a message":
            request._messages.add(constants.INFO, "Hello")
        return response

    for _ in range(2):
        request = request_for(owner)
        pagecache.serve(request, lambda request=request: draw(request), lambda: [workspace.pk])
    assert len(drawn) == (1 if answer == "200" else 2)


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_other_methods_are_never_kept(method, owner, workspace):
    drawn = []
    for _ in range(2):
        pagecache.serve(
            request_for(owner, method), lambda: drawn.append(1) or HttpResponse("ok"), lambda: [workspace.pk]
        )
    assert len(drawn) == 2


def test_the_users_own_update_shows_at_once(client_as, owner, workspace, home):
    """Pausing a monitor is a ``queryset.update()`` (no signal): the write request bumps the workspace."""
    client = with_cookie(client_as(owner))
    url = monitor_url(workspace, home)
    assert ">Pause</button>" in get(client, url)
    pause = reverse("monitoring:monitor_pause", kwargs={"workspace": workspace.uuid, "monitor": home.uuid})
    assert client.post(pause).status_code == 302
    assert "paused: no checks" in get(client, url)  # its flash message: this page is drawn
    page = get(client, url)  # and this one would be the page kept before the pause
    assert ">Resume</button>" in page and "status-paused" in page


def outcome(monitor: Monitor, ok: bool, at: datetime) -> CheckOutcome:
    return CheckOutcome(monitor.pk, ok, at, "ok" if ok else "Status 502 (expected 200-399).")


def test_a_monitor_coming_up_shows_at_once(client_as, owner, workspace, home):
    """Its first check: unknown to up in the check loop's bulk update, no incident saved."""
    client = with_cookie(client_as(owner))
    url = monitor_url(workspace, home)
    assert "status-unknown" in get(client, url)
    engine.apply_outcomes([outcome(home, True, timezone.now())])
    assert "status-up" in get(client, url)


def test_a_monitor_going_down_and_up_shows_at_once(client_as, owner, workspace, home):
    client = with_cookie(client_as(owner))
    url = reverse("workspace_overview", kwargs={"workspace": workspace.uuid})
    now = timezone.now()
    engine.apply_outcomes([outcome(home, True, now)])
    assert "0 down" in get(client, url)
    engine.apply_outcomes([outcome(home, False, now + timedelta(minutes=k)) for k in (1, 2)])
    assert "1 down" in get(client, url)
    engine.apply_outcomes([outcome(home, True, now + timedelta(minutes=3))])
    assert "0 down" in get(client, url)


def test_a_state_change_bumps_again_when_its_transaction_commits(
    workspace, home, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        engine.apply_outcomes([outcome(home, True, timezone.now())])
        during = fragments.version(workspace.pk)
    assert fragments.version(workspace.pk) != during


def test_the_last_check_time_shows_within_the_pages_lifetime(client_as, owner, workspace, home, monkeypatch):
    """The check loop's times change without an event: the page is kept ``fragments.TTL`` (1 s here)."""
    monkeypatch.setattr(fragments, "TTL", 1)
    at = timezone.now()
    engine.apply_outcomes([outcome(home, True, at)])
    client = with_cookie(client_as(owner))
    url = monitor_url(workspace, home)
    get(client, url)
    engine.apply_outcomes([outcome(home, True, at + timedelta(minutes=1))])  # still up: no bump
    assert "Status 502" not in get(client, url)
    Monitor.objects.filter(pk=home.pk).update(last_message="A message written later.")
    assert "A message written later." not in get(client, url)
    time.sleep(1.5)
    assert "A message written later." in get(client, url)


def test_a_role_change_shows_at_once(client_as, member, workspace, site):
    client = with_cookie(client_as(member))
    url = site_url(workspace, site)
    edit = reverse("site_edit", kwargs={"workspace": workspace.uuid, "site": site.uuid})
    assert edit in get(client, url)
    m = Membership.objects.get(user=member, workspace=workspace)
    m.role = Role.VIEWER
    m.save()
    assert edit not in get(client, url)


def test_a_time_zone_change_shows_at_once(client_as, owner, workspace, home):
    incident = Incident.objects.create(
        monitor=home, workspace=workspace, started_at=datetime(2026, 11, 28, 12, 30, tzinfo=UTC), cause="502"
    )
    client = with_cookie(client_as(owner))
    url = reverse("monitoring:incident", kwargs={"workspace": workspace.uuid, "incident": incident.uuid})
    assert "13:30 CET" in get(client, url)  # Europe/Amsterdam
    workspace.timezone = "America/New_York"
    workspace.save()
    assert "07:30 EST" in get(client, url)


def test_settings_saved_by_an_admin_show_to_every_member(client_as, owner, admin, workspace, site):
    owner_client = with_cookie(client_as(owner))
    url = reverse("workspace_overview", kwargs={"workspace": workspace.uuid})
    assert "Acme Store" in get(owner_client, url)
    settings_url = reverse("workspace_settings", kwargs={"workspace": workspace.uuid})
    response = client_as(admin).post(settings_url, {"name": "Acme Shoes", "timezone": "UTC"})
    assert response.status_code == 302
    assert "Acme Shoes" in get(owner_client, url)


def test_with_the_cache_down_every_page_is_drawn(down_cache, client_as, owner, workspace, site):  # noqa: F811
    client = with_cookie(client_as(owner))
    url = site_url(workspace, site)
    get(client, url)
    for name in ("Renamed once", "Renamed twice"):
        Site.objects.filter(pk=site.pk).update(name=name)
        assert name in get(client, url)


def test_an_invitation_shows_on_the_invitees_workspaces_page_at_once(client_as, owner, stranger, workspace):
    from launchready.models import Invitation

    client = with_cookie(client_as(stranger))
    url = reverse("workspace_list")
    assert "Acme Store" not in main(get(client, url))
    invitation = Invitation.objects.create(
        workspace=workspace, email="Stranger@example.com", invited_by=owner
    )
    accept = reverse("invitation_received_accept", kwargs={"invitation": invitation.uuid})
    assert accept in get(client, url)
    invitation.delete()
    assert accept not in get(client, url)


def test_a_query_parameter_the_page_does_not_read_is_drawn_not_kept(client_as, owner, workspace, site):
    client = with_cookie(client_as(owner))
    url = site_url(workspace, site)
    queries(client, url)
    kept = queries(client, url)
    for _ in range(2):
        assert queries(client, url + "?utm_source=ad") > kept
    overview = reverse("workspace_overview", kwargs={"workspace": workspace.uuid}) + "?page=1"
    assert queries(client, overview) > queries(client, overview)  # a parameter it reads: kept


def test_an_audit_failing_or_reaped_shows_at_once(client_as, owner, workspace, site, make_run):
    """The worker marks a run failed with a ``queryset.update()`` (no signal), as the reaper does."""
    from audits import tasks
    from audits.models import AuditRun

    client = with_cookie(client_as(owner))
    url = site_url(workspace, site)
    for finish in (
        lambda run: tasks._fail(run.pk, "The audit stopped because of an error on our side."),
        lambda run: tasks.reap_stuck(timezone.now() + tasks.RUNNING_STUCK_AFTER + timedelta(minutes=1)),
    ):
        run = make_run(site, status=AuditRun.Status.RUNNING)
        AuditRun.objects.filter(pk=run.pk).update(started_at=timezone.now())
        assert "Audit in progress" in get(client, url)
        finish(run)
        assert "Audit in progress" not in get(client, url)


def test_a_deploys_smoke_test_shows_on_the_site_page_as_it_goes(client_as, owner, workspace, site):
    """The smoke test's worker claims and finishes a deploy with ``queryset.update()``."""
    from handover import deploys
    from handover.models import Deploy

    client = with_cookie(client_as(owner))
    url = site_url(workspace, site)
    deploy = Deploy.objects.create(site=site, environment="production", version="v2")

    def smoke_test(page: str) -> str:
        return re.search(r'data-label="Smoke test">(.*?)</td>', page, re.S).group(1)

    assert ">Queued<" in smoke_test(get(client, url))
    claimed = deploys.claim_smoke(deploy.pk)
    assert ">Running<" in smoke_test(get(client, url))
    deploys.finish_smoke(claimed, [], error="Our worker stopped.")
    assert ">Failed<" in smoke_test(get(client, url))


def test_a_heartbeats_first_ping_shows_at_once(client, client_as, owner, workspace):
    """Its owner pings it by hand while setting it up and reloads its page: unknown to up, a
    change of state the check loop bumps."""
    heartbeat = Monitor.objects.create(
        workspace=workspace, kind="heartbeat", name="Nightly backup", period_s=3600
    )
    browser = with_cookie(client_as(owner))
    url = monitor_url(workspace, heartbeat)
    assert "<dt>Last ping</dt><dd>never</dd>" in get(browser, url)
    assert client.get(f"/ping/{heartbeat.uuid}").status_code == 200
    assert "<dt>Last ping</dt><dd>never</dd>" not in get(browser, url)


def test_the_membership_is_read_once_and_a_removal_is_a_404_at_once(client_as, member, workspace, site):
    client = with_cookie(client_as(member))
    url = site_url(workspace, site)

    def membership_queries() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
        return response.status_code, sum(
            'FROM "launchready_membership"' in q["sql"] for q in ctx.captured_queries
        )

    status, read = membership_queries()  # the access check, and the header's switcher
    assert status == 200 and read >= 1
    assert membership_queries() == (200, 0)
    Membership.objects.filter(user=member, workspace=workspace).delete()
    assert membership_queries()[0] == 404  # at once: the deletion moved the user's version
