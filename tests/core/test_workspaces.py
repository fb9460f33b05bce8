"""Workspaces page, create, settings, switcher, last-used workspace, and query counts."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from launchready import fragments
from launchready.models import Membership, Role, Site, Workspace
from launchready.views_sites import add_standard_routes


def _overview(ws):
    return reverse("workspace_overview", kwargs={"workspace": ws.uuid})


def test_workspaces_page_lists_role_and_site_count(client_as, owner, workspace, site, stranger):
    Membership.objects.create(workspace=stranger.memberships.get().workspace, user=owner, role=Role.VIEWER)
    page = client_as(owner).get(reverse("workspace_list")).content.decode()
    assert "Acme Store" in page and "Stranger&#x27;s workspace" in page
    assert "<td>Owner</td>" in page and "<td>Viewer</td>" in page
    assert "<td>1</td>" in page  # Acme Store's one site


def test_create_workspace_makes_me_owner_and_opens_it(client_as, member):
    c = client_as(member)
    response = c.post(reverse("workspace_create"), {"name": "Client B", "timezone": "Europe/Paris"})
    ws = Workspace.objects.get(name="Client B")
    assert response["Location"] == _overview(ws)
    assert Membership.objects.get(workspace=ws, user=member).role == Role.OWNER
    bad = c.post(reverse("workspace_create"), {"name": "", "timezone": "Mars/Olympus"})
    assert (
        "This field is required" in bad.content.decode() and "Select a valid choice" in bad.content.decode()
    )


def test_settings_rename_and_timezone(client_as, admin, member, workspace):
    url = reverse("workspace_settings", kwargs={"workspace": workspace.uuid})
    client_as(admin).post(url, {"name": "Acme Ltd", "timezone": "Asia/Tokyo"})
    workspace.refresh_from_db()
    assert (workspace.name, workspace.timezone) == ("Acme Ltd", "Asia/Tokyo")
    assert client_as(member).post(url, {"name": "Hijack", "timezone": "UTC"}).status_code == 403
    page = client_as(member).get(url).content.decode()
    assert "Only admins and owners can change these" in page
    workspace.refresh_from_db()
    assert workspace.name == "Acme Ltd"


def test_home_opens_the_last_used_workspace(client_as, owner, workspace, stranger):
    other = stranger.memberships.get().workspace
    Membership.objects.create(workspace=other, user=owner, role=Role.MEMBER)
    c = client_as(owner)
    c.get(_overview(other))
    assert c.get("/")["Location"] == _overview(other)
    c.get(_overview(workspace))
    assert c.get("/")["Location"] == _overview(workspace)
    # Remembered on the membership too, so a new session opens the same one.
    c.get(_overview(other))
    assert client_as(owner).get("/")["Location"] == _overview(other)


def test_header_switcher_lists_my_workspaces_and_nav(client_as, owner, workspace, stranger):
    other = stranger.memberships.get().workspace
    Membership.objects.create(workspace=other, user=owner, role=Role.MEMBER)
    page = client_as(owner).get(_overview(workspace)).content.decode()
    assert _overview(other) in page and _overview(workspace) in page
    for label in ("Overview", "Sites", "Monitoring", "Handover", "Settings"):
        assert f">{label}</a>" in page
    assert 'aria-current="page">Overview' in page
    assert 'class="skip-link" href="#main"' in page


def test_monitoring_and_handover_nav_targets_render(client_as, viewer, workspace):
    # The monitoring and handover apps may take these paths over; the nav names must keep working.
    c = client_as(viewer)
    assert c.get(reverse("monitoring:overview", kwargs={"workspace": workspace.uuid})).status_code == 200
    assert c.get(reverse("workspace_handover", kwargs={"workspace": workspace.uuid})).status_code == 200


def _count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx)


def test_workspace_list_queries_do_not_grow_with_workspaces(
    client_as, owner, workspace, site, django_assert_num_queries
):
    c = client_as(owner)
    url = reverse("workspace_list")
    c.get(url)  # the browser's first page gets its CSRF cookie: pages are cached from the next one
    fragments.bump_user(owner.pk)  # drawn again with its switcher, as after the memberships below
    baseline = _count_queries(c, url)
    for i in range(6):
        ws = Workspace.objects.create(name=f"Client {i}")
        Membership.objects.create(workspace=ws, user=owner, role=Role.ADMIN)
        Site.objects.create(workspace=ws, domain=f"client{i}.example.com")
    with django_assert_num_queries(baseline):
        response = c.get(url)
    assert response.content.decode().count("Client ") >= 6


def test_site_list_queries_do_not_grow_with_sites(
    client_as, owner, workspace, site, django_assert_num_queries
):
    c = client_as(owner)
    url = reverse("site_list", kwargs={"workspace": workspace.uuid})
    c.get(url)  # first visit records the current workspace (one extra write)
    baseline = _count_queries(c, url)
    for i in range(8):
        add_standard_routes(Site.objects.create(workspace=workspace, domain=f"store{i}.example.com"))
    with django_assert_num_queries(baseline):
        response = c.get(url)
    assert response.content.decode().count("store") >= 8


def test_overview_queries_do_not_grow_with_sites(
    client_as, owner, workspace, site, django_assert_num_queries
):
    """Drawn (the site cards not cached yet) and from the cache alike."""
    c = client_as(owner)
    url = _overview(workspace)
    c.get(url)  # the session's first page and the header's switcher
    fragments.bump(workspace.pk)
    drawn = _count_queries(c, url)
    cached = _count_queries(c, url)
    assert cached < drawn
    for i in range(5):
        Site.objects.create(workspace=workspace, domain=f"more{i}.example.com")
    with django_assert_num_queries(drawn):
        c.get(url)
    with django_assert_num_queries(cached):
        c.get(url)


def test_workspaces_page_shows_my_open_invitations(client_as, owner, workspace, stranger):
    from launchready.models import Invitation

    inv = Invitation.objects.create(workspace=workspace, email="STRANGER@example.com", invited_by=owner)
    Invitation.objects.create(workspace=workspace, email="someone.else@example.com", invited_by=owner)
    page = client_as(stranger).get(reverse("workspace_list")).content.decode()
    assert reverse("invitation_received_accept", kwargs={"invitation": inv.uuid}) in page
    assert reverse("invitation_received_decline", kwargs={"invitation": inv.uuid}) in page
    assert "Invitations for you" in page
    assert page.count("/invitations/") == 2
    assert inv.token not in page  # the secret link is not needed here


def test_viewer_gets_403_on_write_only_pages(client_as, viewer, workspace, site):
    c = client_as(viewer)
    assert c.get(reverse("site_create", kwargs={"workspace": workspace.uuid})).status_code == 403
    response = c.get(reverse("site_edit", kwargs={"workspace": workspace.uuid, "site": site.uuid}))
    assert response.status_code == 403 and b"you can only look" in response.content
