"""The broken demo store's site page in a real browser: plan first, one card per problem,
the rest collapsed, so the page fits in a few screens at 1280 px and at 390 px; no
WCAG 2.1 A/AA violation that axe-core finds; nothing scrolls sideways on a phone.

The audit is the real one (the sandbox's demo_broken, the audit task, saved findings).
The document height is a size bound, not a time. Screenshots:
/tmp/audit-report-1280.png and /tmp/audit-report-390.png.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from audits.models import AuditRun
from audits.tasks import run_audit_task
from launchready.models import Site
from tests.browser.test_journey import _console_problems, browser, pytestmark  # noqa: F401 - same browser
from tests.fixtures_core import PASSWORD

AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text()
RUN_AXE = """
const done = arguments[arguments.length - 1];
axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})
  .then(r => done(r.violations.map(v => v.id + ': ' + v.help + ' ' + v.nodes.map(n => n.target.join(' ')).join(', '))))
  .catch(e => done(['axe failed: ' + e]));
"""
PANELS = """return [...document.querySelectorAll('main > section, main > div, #audit > section, #audit > div')]
  .map(el => (el.id || el.className) + ' ' + Math.round(el.getBoundingClientRect().height)).join(', ')"""
SIZE = (
    "return [document.documentElement.scrollHeight, document.documentElement.scrollWidth, window.innerWidth]"
)
# Today's page is 16,647 px tall at 1280 px; a few screens is well below that.
MAX_HEIGHT = {1280: 5000, 390: 10000}


@pytest.fixture(scope="module")
def broken(sandbox_scenario):
    return sandbox_scenario("demo_broken")


def test_broken_demo_site_page_fits_in_a_few_screens(
    browser,  # noqa: F811
    live_server,
    transactional_db,
    broken,
    owner,
    workspace,
):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    site = Site.objects.create(workspace=workspace, domain="broken-store.test")
    run = AuditRun.objects.create(site=site, progress={})
    assert run_audit_task(run.pk) == "done"
    run.refresh_from_db()
    assert run.verdict == "not_ready"

    browser.get(f"{live_server.url}/accounts/login/")
    browser.find_element(By.NAME, "login").send_keys(owner.email)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    WebDriverWait(browser, 10).until(expected_conditions.url_contains("/w/"))

    heights = {}
    for width in (1280, 390):
        browser.set_window_size(width, 900)
        browser.get(f"{live_server.url}/w/{workspace.uuid}/sites/{site.uuid}/")
        WebDriverWait(browser, 10).until(
            lambda b: b.execute_script("return document.readyState") == "complete"
        )
        height, scroll_width, inner_width = browser.execute_script(SIZE)
        heights[width] = height
        print(f"site page of the broken demo at {width} px: {height} px tall")
        print(browser.execute_script(PANELS))
        assert scroll_width <= inner_width, (width, scroll_width, inner_width)
        browser.set_window_size(width, min(height + 100, 16000))
        browser.save_screenshot(f"/tmp/audit-report-{width}.png")
    assert heights[1280] < MAX_HEIGHT[1280] and heights[390] < MAX_HEIGHT[390], heights

    # The plan comes first on the page, before the stages and the deferred list.
    page = browser.page_source
    assert (
        page.index("The 48-hour plan")
        < page.index("By roadmap stage")
        < page.index("Deferred (fix after launch)")
    )
    browser.execute_script(AXE)
    browser.set_script_timeout(30)
    assert browser.execute_async_script(RUN_AXE) == []
    assert _console_problems(browser) == []
