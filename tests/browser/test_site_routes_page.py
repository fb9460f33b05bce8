"""The routes panel with routes an audit found, in a real browser at 1280 and 390 px: the
site page's folded section fetches it when opened; on its own page (the fold's link without
JavaScript) no WCAG 2.1 A/AA violation that axe-core finds, nothing scrolls sideways on a
phone, and "Confirm all found routes" works as a plain form. Screenshot: /tmp/site-routes-390.png."""

from __future__ import annotations

from audits.models import AuditRun
from launchready.models import Site
from launchready.site_routes import add_starting_routes
from tests.browser.test_audit_report_page import AXE, RUN_AXE, SIZE
from tests.browser.test_journey import _console_problems, browser, pytestmark  # noqa: F401 - same browser
from tests.fixtures_core import PASSWORD

FOUND = [
    {"name": "product", "path": "/products/stoneware-mug-with-a-long-handle", "source": "sitemap"},
    {"name": "login", "path": "/login", "source": "homepage"},
    {"name": "checkout", "path": "/checkout", "source": "platform"},
]


def test_found_routes_are_shown_and_confirmed(browser, live_server, transactional_db, owner, workspace):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    site = Site.objects.create(workspace=workspace, domain="good-store.test")
    add_starting_routes(site)
    AuditRun.objects.create(
        site=site,
        status=AuditRun.Status.DONE,
        verdict="ready",
        facts={"discovered_routes": {"routes": FOUND}},
    )
    browser.get(f"{live_server.url}/accounts/login/")
    browser.find_element(By.NAME, "login").send_keys(owner.email)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    WebDriverWait(browser, 10).until(expected_conditions.url_contains("/w/"))

    # The site page's folded "What the audit checks" is fetched when opened (htmx).
    browser.get(f"{live_server.url}/w/{workspace.uuid}/sites/{site.uuid}/")
    assert "3 found routes to confirm" in browser.find_element(By.ID, "audit-inputs").text
    browser.find_element(By.CSS_SELECTOR, "#audit-inputs > summary").click()
    WebDriverWait(browser, 10).until(
        lambda b: "Confirm all found routes" in b.find_element(By.ID, "audit-inputs").text
    )
    # Without JavaScript its link opens the same sections as a page: measured here.
    for width in (1280, 390):
        browser.set_window_size(width, 900)
        browser.get(f"{live_server.url}/w/{workspace.uuid}/sites/{site.uuid}/inputs/#routes")
        WebDriverWait(browser, 10).until(
            lambda b: b.execute_script("return document.readyState") == "complete"
        )
        height, scroll_width, inner_width = browser.execute_script(SIZE)
        assert scroll_width <= inner_width, (width, scroll_width, inner_width)
        routes = browser.find_element(By.ID, "routes")
        assert "Not confirmed yet" in routes.text and "Confirm all found routes" in routes.text
        browser.execute_script("arguments[0].scrollIntoView()", routes)
        browser.set_window_size(width, min(height + 100, 16000))
        routes.screenshot(f"/tmp/site-routes-{width}.png")
    browser.execute_script(AXE)
    browser.set_script_timeout(30)
    assert browser.execute_async_script(RUN_AXE) == []

    browser.execute_script("document.body.removeAttribute('hx-boost')")
    browser.find_element(By.XPATH, "//button[normalize-space()='Confirm all found routes']").click()
    WebDriverWait(browser, 10).until(
        lambda b: "Confirm all found routes" not in b.find_element(By.ID, "routes").text
    )
    assert not site.routes.filter(confirmed=False).exists()
    assert _console_problems(browser) == []
