"""A consultant with several client workspaces opens the portfolio in a real browser: the
page has no WCAG 2.1 A/AA violation that axe-core finds, fits a 390 px phone without
sideways scrolling, sorts by a column header (``aria-sort`` follows) and filters.

axe-core is vendored in tests/browser/vendor (MPL-2.0, from the npm package ``axe-core``)
and injected by WebDriver, which our Content-Security-Policy does not block.
Screenshots: /tmp/portfolio-1280.png and /tmp/portfolio-390.png.
"""

from __future__ import annotations

from pathlib import Path

from tests.browser.test_journey import _console_problems, browser, pytestmark  # noqa: F401 - same browser
from tests.core.test_portfolio import _audit, _client_workspace, _full_workspace
from tests.fixtures_core import PASSWORD

AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text()
RUN_AXE = """
const done = arguments[arguments.length - 1];
axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})
  .then(r => done(r.violations.map(v => v.id + ': ' + v.help + ' ' + v.nodes.map(n => n.target.join(' ')).join(', '))))
  .catch(e => done(['axe failed: ' + e]));
"""
OVERFLOW = "return [document.documentElement.scrollWidth, window.innerWidth]"


def axe_violations(driver) -> list[str]:
    driver.execute_script(AXE)
    driver.set_script_timeout(30)
    return driver.execute_async_script(RUN_AXE)


def _log_in(driver, live_server, user) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(f"{live_server.url}/accounts/login/")
    driver.find_element(By.NAME, "login").send_keys(user.email)
    driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    WebDriverWait(driver, 10).until(expected_conditions.url_changes(f"{live_server.url}/accounts/login/"))


def _names(driver) -> list[str]:
    from selenium.webdriver.common.by import By

    return [
        th.find_element(By.TAG_NAME, "a").text for th in driver.find_elements(By.CSS_SELECTOR, "tbody th")
    ]


def test_portfolio_is_accessible_fits_a_phone_and_sorts(browser, live_server, make_user):  # noqa: F811
    from selenium.webdriver.common.by import By

    consultant = make_user("consultant")
    _full_workspace(consultant, "Bakery with a very-long-unbroken-client-name-for-phones", "bakery.example")
    calm = _client_workspace(consultant, "Calm Candles", "candles.example")
    _audit(calm.sites.get(), "ready")
    _client_workspace(consultant, "Atlas Apparel", "atlas.example")

    _log_in(browser, live_server, consultant)
    browser.get(f"{live_server.url}/portfolio/")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Portfolio"
    assert _names(browser)[0].startswith("Bakery")  # worst first: open incident and blockers

    for width in (1280, 390):
        browser.set_window_size(width, 900)
        scroll_width, inner_width = browser.execute_script(OVERFLOW)
        assert scroll_width <= inner_width, (width, scroll_width, inner_width)
        height = browser.execute_script("return document.documentElement.scrollHeight")
        browser.set_window_size(width, min(height + 100, 4000))
        browser.save_screenshot(f"/tmp/portfolio-{width}.png")
    assert axe_violations(browser) == []

    # Sort by name with the header link; the header says how the table is sorted.
    browser.find_element(By.CSS_SELECTOR, "thead a[href*='sort=name']").click()
    header = browser.find_element(By.CSS_SELECTOR, "thead th[aria-sort]")
    assert header.get_attribute("aria-sort") == "ascending" and header.text.startswith("Workspace")
    assert _names(browser) == sorted(_names(browser), key=str.lower)
    browser.find_element(By.CSS_SELECTOR, "thead a[href*='sort=name&dir=desc']").click()
    assert (
        browser.find_element(By.CSS_SELECTOR, "thead th[aria-sort]").get_attribute("aria-sort")
        == "descending"
    )
    assert _names(browser)[0] == "Calm Candles"

    # Filter: the sort is kept, and the page stays clean with a filter applied.
    browser.find_element(By.NAME, "q").send_keys("a")
    browser.find_element(By.CSS_SELECTOR, "#attention, [name=attention]").click()
    browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    assert [n[:6] for n in _names(browser)] == ["Bakery", "Atlas "]
    assert axe_violations(browser) == []
    assert _console_problems(browser) == []
