"""The workspace overview with more sites than one page, as a browser shows it: its cards
(worst first) and page links are free of axe-core's WCAG 2.1 AA violations and fit a
390 px phone (screenshots /tmp/overview-paged-<width>.png)."""

from __future__ import annotations

from launchready.models import Membership, Role, Site, Workspace
from launchready.selectors import SITES_PER_PAGE
from tests.browser.pages import axe_violations, fits_and_shoot, log_in
from tests.browser.test_journey import browser, pytestmark  # noqa: F401 - the same browser and skip rule


def test_a_paged_overview_is_accessible_and_fits_a_phone(browser, live_server, owner, workspace, make_run):  # noqa: F811
    for i in range(SITES_PER_PAGE + 2):
        Site.objects.create(workspace=workspace, domain=f"a-rather-long-store-name-{i:02d}.example.com")
    make_run(Site.objects.create(workspace=workspace, domain="zz-not-ready.example.com"))
    for i in range(3):  # a consultant: the header's switcher lists several workspaces
        other = Workspace.objects.create(name=f"Client workspace with a long name {i}", timezone="UTC")
        Membership.objects.create(workspace=other, user=owner, role=Role.ADMIN)
    log_in(browser, live_server, owner)
    for page in (1, 2):
        browser.get(f"{live_server.url}/w/{workspace.uuid}/?page={page}")
        assert ("Next sites" if page == 1 else "Previous sites") in browser.page_source
        assert axe_violations(browser) == []
        fits_and_shoot(browser, f"overview-paged-{page}")
