"""The workspace overview's site cards and the header's workspace switcher come from the
cache (launchready.fragments): a cached page skips their queries, and the events that
change them (a new audit, a renamed workspace, a membership) show at once."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from launchready import fragments
from launchready.models import Membership, Role, Site, Workspace
from launchready.selectors import SITES_PER_PAGE
from tests.fixtures_audits import finding

pytestmark = pytest.mark.django_db


def overview_url(workspace) -> str:
    return reverse("workspace_overview", kwargs={"workspace": workspace.uuid})


def get(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def switcher(page: str) -> str:
    found = re.search(r'<details class="menu switcher">.*?</details>', page, re.S)
    assert found, "the page has no workspace switcher"
    return found.group(0)


def cards(page: str) -> str:
    found = re.search(r'<ul class="cards">.*?</ul>', page, re.S)
    assert found, "the page has no site cards"
    return found.group(0)


def audit_queries(client, url: str) -> tuple[str, int]:
    with CaptureQueriesContext(connection) as ctx:
        page = get(client, url)
    return page, sum("audits_auditrun" in q["sql"] for q in ctx.captured_queries)


def test_cached_site_cards_read_no_audit_runs(client_as, owner, workspace, site, make_run):
    """The panels below the cards read the runs on every request; the cards' statuses only when drawn."""
    make_run(site)
    client = client_as(owner)
    url = overview_url(workspace)
    page, drawn = audit_queries(client, url)
    assert "Not ready" in cards(page)
    page, cached = audit_queries(client, url)
    assert "Not ready" in cards(page)
    assert cached < drawn
    fragments.bump(workspace.pk)
    assert audit_queries(client, url)[1] == drawn


def test_a_new_audit_changes_the_card(client_as, owner, workspace, site, make_run):
    client = client_as(owner)
    url = overview_url(workspace)
    assert "No audit yet." in cards(get(client, url))
    make_run(site, [finding("http.hsts_missing", "high", "edge")])
    card = cards(get(client, url))
    assert "No audit yet." not in card and "Ready, with risks" in card
    make_run(site, [])
    card = cards(get(client, url))
    assert "Ready, with risks" not in card and "Audited" in card


def test_a_new_site_gets_a_card(client_as, owner, workspace, site):
    client = client_as(owner)
    url = overview_url(workspace)
    get(client, url)
    Site.objects.create(workspace=workspace, domain="second-store.example.com")
    assert "second-store.example.com" in cards(get(client, url))


def test_site_cards_are_paged_worst_first(client_as, owner, workspace, make_run):
    total = SITES_PER_PAGE + 3
    for i in range(total):
        Site.objects.create(workspace=workspace, domain=f"store{i:02d}.example.com")
    worst = Site.objects.create(workspace=workspace, domain="zz-last-by-name.example.com")
    ready = Site.objects.create(workspace=workspace, domain="aa-first-by-name.example.com")
    make_run(worst)  # a blocker: not ready
    make_run(ready, [])
    client = client_as(owner)
    first = get(client, overview_url(workspace))
    first_cards = cards(first)
    assert first_cards.index("zz-last-by-name.example.com") < first_cards.index("store00.example.com")
    assert "aa-first-by-name.example.com" not in first_cards  # ready: last of all
    assert f"{total + 2} sites on 2 pages" in first and 'href="?page=2"' in first
    second = get(client, overview_url(workspace) + "?page=2")
    assert "aa-first-by-name.example.com" in cards(second) and 'href="?page=1"' in second
    assert "zz-last-by-name.example.com" not in cards(second)
    # Anything that is not a page number is the first page; past the last, the last.
    assert cards(get(client, overview_url(workspace) + "?page=x")) == first_cards
    assert cards(get(client, overview_url(workspace) + "?page=99")) == cards(second)


def test_a_strangers_overview_page_is_404(client_as, stranger, workspace, site):
    assert client_as(stranger).get(overview_url(workspace) + "?page=2").status_code == 404


def test_a_cached_switcher_reads_no_membership_list(client_as, owner, workspace, make_user):
    for i in range(5):
        other = Workspace.objects.create(name=f"Client {i}", timezone="UTC")
        Membership.objects.create(workspace=other, user=owner, role=Role.ADMIN)
    client = client_as(owner)
    url = reverse("portfolio")
    assert "Client 4" in switcher(get(client, url))
    with CaptureQueriesContext(connection) as ctx:
        page = get(client, url)
    assert "Client 4" in switcher(page)
    # The switcher's list: every membership with its role and workspace, by workspace name.
    listing = [
        q["sql"]
        for q in ctx.captured_queries
        if q["sql"].startswith('SELECT "launchready_membership"."id"')
        and 'ORDER BY "launchready_workspace"."name"' in q["sql"]
    ]
    assert listing == []


def test_a_renamed_workspace_shows_its_new_name_in_the_switcher(client_as, owner, workspace, site):
    other = Workspace.objects.create(name="Old Client Name", timezone="UTC")
    Membership.objects.create(workspace=other, user=owner, role=Role.VIEWER)
    client = client_as(owner)
    url = overview_url(workspace)
    assert "Old Client Name" in switcher(get(client, url))
    other.name = "New Client Name"
    other.save()
    menu = switcher(get(client, url))
    assert "New Client Name" in menu and "Old Client Name" not in menu


def test_the_switcher_follows_memberships(client_as, owner, workspace, site):
    joined = Workspace.objects.create(name="Joined Later", timezone="UTC")
    client = client_as(owner)
    url = overview_url(workspace)
    assert "Joined Later" not in switcher(get(client, url))
    m = Membership.objects.create(workspace=joined, user=owner, role=Role.VIEWER)
    assert "Joined Later" in switcher(get(client, url))
    m.role = Role.ADMIN
    m.save()
    assert 'Joined Later <span class="muted">Admin</span>' in switcher(get(client, url))
    m.delete()
    assert "Joined Later" not in switcher(get(client, url))


def test_the_switcher_marks_the_current_workspace(client_as, owner, workspace, site):
    other = Workspace.objects.create(name="Second Client", timezone="UTC")
    Membership.objects.create(workspace=other, user=owner, role=Role.OWNER)
    client = client_as(owner)
    here = switcher(get(client, overview_url(workspace)))
    there = switcher(get(client, overview_url(other)))
    assert "Current workspace: </span>Acme Store" in here
    assert "Current workspace: </span>Second Client" in there
    assert (
        f'{other.uuid}/" aria-current="true"' in there and f'{workspace.uuid}/" aria-current="true"' in here
    )


def test_one_users_switcher_is_not_anothers(client_as, owner, stranger, workspace, site):
    assert "Acme Store" in switcher(get(client_as(owner), reverse("portfolio")))
    assert "Acme Store" not in switcher(get(client_as(stranger), reverse("portfolio")))
