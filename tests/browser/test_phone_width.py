"""At phone width (390 px) the pages a user opens daily fit the screen: nothing scrolls sideways."""

from __future__ import annotations

from launchready.models import Subdomain
from tests.browser.test_journey import browser, pytestmark  # noqa: F401 - the same browser and skip rule
from tests.fixtures_core import PASSWORD

WIDE = """
const width = document.documentElement.clientWidth;
const wide = [...document.querySelectorAll('body *')]
  .filter(el => el.getBoundingClientRect().right > width + 1 && el.offsetParent !== null)
  .map(el => el.tagName + '.' + el.className);
return [document.documentElement.scrollWidth, window.innerWidth, wide.slice(-5)];
"""


def test_daily_pages_fit_a_phone(browser, live_server, owner, workspace, site, url_kwarg_run):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    # A table row with a long unbroken word and a visually hidden label in its button.
    Subdomain.objects.create(
        site=site, name="admin", purpose="Back-office-for-warehouse-and-returns", owner="Dana"
    )
    browser.set_window_size(390, 900)
    browser.get(f"{live_server.url}/accounts/login/")
    browser.find_element(By.NAME, "login").send_keys(owner.email)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    WebDriverWait(browser, 10).until(expected_conditions.url_contains("/w/"))
    base = f"{live_server.url}/w/{workspace.uuid}"
    for path in ("/", f"/sites/{site.uuid}/", "/monitoring/", "/handover/"):
        browser.get(base + path)
        WebDriverWait(browser, 10).until(
            lambda b: b.execute_script("return document.readyState") == "complete"
        )
        scroll_width, inner_width, wide = browser.execute_script(WIDE)
        assert scroll_width <= inner_width, (path, scroll_width, wide)
