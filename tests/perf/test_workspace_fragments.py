"""Panels drawn once per workspace version and role (``{% workspace_fragment %}``): the site
page's panels, the workspace overview's panels and the handover page's sites. Another
browser or member with the same role reads them from the cache; their forms carry each
reader's own CSRF token; a change in the workspace draws them again."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from handover.models import ChecklistItem
from launchready.models import Membership, Role

pytestmark = pytest.mark.django_db


def browser(user, secret: str) -> Client:
    """A browser of ``user`` with a CSRF cookie of its own (each has its own cached pages)."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.cookies["csrftoken"] = secret
    return client


def read(client: Client, url: str) -> tuple[str, str]:
    """(the page, the SQL it ran)."""
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode(), " ".join(q["sql"] for q in ctx.captured_queries)


def site_url(workspace, site) -> str:
    return reverse("site_detail", kwargs={"workspace": workspace.uuid, "site": site.uuid})


def test_the_site_pages_panels_are_drawn_once_for_every_browser(owner, workspace, site, make_run):
    make_run(site)
    first, second = browser(owner, "a" * 32), browser(owner, "b" * 32)
    page, sql = read(first, site_url(workspace, site))
    assert "audits_auditrun" in sql and "Run audit now" in page
    page, sql = read(second, site_url(workspace, site))
    assert "audits_auditrun" not in sql and "Run audit now" in page
    # Its form carries the second browser's token, not the first's.
    form = r'action="([^"]+/audits/run/)" class="inline-form"><input type="hidden" name="csrfmiddlewaretoken" value="([^"]+)"'
    token = re.search(form, page)
    assert token, "the panel has no audit form"
    assert second.post(token.group(1), {"csrfmiddlewaretoken": token.group(2)}).status_code == 302
    assert first.post(token.group(1), {"csrfmiddlewaretoken": token.group(2)}).status_code == 403


def test_panels_are_drawn_per_role(owner, viewer, workspace, site, make_run):
    make_run(site)
    assert "Run audit now" in read(browser(owner, "a" * 32), site_url(workspace, site))[0]
    assert "Run audit now" not in read(browser(viewer, "b" * 32), site_url(workspace, site))[0]


def test_a_change_in_the_workspace_draws_the_panels_again(owner, workspace, site, make_run):
    first, second = browser(owner, "a" * 32), browser(owner, "b" * 32)
    assert "Run your first audit" in read(first, site_url(workspace, site))[0]
    make_run(site)  # saves a run: the workspace's version moves
    page, sql = read(second, site_url(workspace, site))
    assert "audits_auditrun" in sql and "Run your first audit" not in page


def test_the_overview_panels_are_drawn_once_for_every_browser(owner, workspace, site):
    url = reverse("workspace_overview", kwargs={"workspace": workspace.uuid})
    page, sql = read(browser(owner, "a" * 32), url)
    assert "monitoring_monitor" in sql and 'id="monitoring-h"' in page and 'id="readiness-h"' in page
    page, sql = read(browser(owner, "b" * 32), url)
    assert "monitoring_monitor" not in sql and 'id="monitoring-h"' in page and 'id="readiness-h"' in page


def test_the_handover_sites_are_drawn_once_for_every_member(owner, admin, workspace, site):
    url = reverse("workspace_handover", kwargs={"workspace": workspace.uuid})

    def checklist(page: str) -> str:
        return re.search(r"Checklist \d+ of \d+", page).group(0)

    page, sql = read(browser(owner, "a" * 32), url)
    assert "handover_checklistitem" in sql
    before = checklist(page)
    Membership.objects.filter(user=admin, workspace=workspace).update(role=Role.OWNER)  # same role
    page, sql = read(browser(admin, "b" * 32), url)
    assert "handover_checklistitem" not in sql and checklist(page) == before
    ChecklistItem.objects.create(site=site, standard="access", label="Access", done_at="2026-11-01T00:00Z")
    assert checklist(read(browser(owner, "c" * 32), url)[0]) != before


def test_uuid_url_is_url_reversed_once(workspace, site):
    from launchready.templatetags.launchready import uuid_url

    for name in ("handover_document", "handover_pdf", "site_detail"):
        kwargs = {"workspace": workspace.uuid, "site": site.uuid}
        assert uuid_url(name, **kwargs) == reverse(name, kwargs=kwargs)
    assert uuid_url("workspace_overview", workspace=workspace.uuid) == reverse(
        "workspace_overview", kwargs={"workspace": workspace.uuid}
    )


def test_a_change_in_one_workspace_draws_only_its_portfolio_row(owner, workspace):
    from launchready.models import Site, Workspace

    others = [Workspace.objects.create(name=f"Client {i}", timezone="UTC") for i in range(3)]
    for ws in others:
        Membership.objects.create(workspace=ws, user=owner, role=Role.OWNER)
    url = reverse("portfolio")

    def row(page: str) -> str:
        return re.search(r"Client 1</a>.*?</tr>", page, re.S).group(0)

    assert "No sites yet" in row(read(browser(owner, "a" * 32), url)[0])
    Site.objects.create(workspace=others[1], domain="new-client-store.example")
    page, sql = read(browser(owner, "b" * 32), url)
    assert "Not audited yet" in row(page)
    drawn = re.search(r'FROM "launchready_site" WHERE "launchready_site"."workspace_id" IN \(([^)]*)\)', sql)
    assert drawn and drawn.group(1).split(", ") == [str(others[1].pk)]
