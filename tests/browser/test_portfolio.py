"""A consultant with several client workspaces opens the portfolio in a real browser: the
page has no WCAG 2.1 A/AA violation that axe-core finds, fits a 390 px phone without
sideways scrolling, sorts by a column header (``aria-sort`` follows) and filters.

axe-core is vendored in tests/browser/vendor (MPL-2.0, from the npm package ``axe-core``)
and injected by WebDriver, which our Content-Security-Policy does not block.
Screenshots: /tmp/portfolio-1280.png and /tmp/portfolio-390.png.
"""

from __future__ import annotations

from tests.browser.pages import OVERFLOW, axe_violations, fits_and_shoot, log_in, wait_until_gone  # noqa: F401 - re-exported
from tests.browser.test_journey import _console_problems, browser, pytestmark  # noqa: F401 - same browser
from tests.core.test_portfolio import _audit, _client_workspace, _full_workspace

_log_in = log_in  # the name other tests import from here


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

    fits_and_shoot(browser, "portfolio")
    assert axe_violations(browser) == []

    # Sort by name with the header link; the header says how the table is sorted.
    table = browser.find_element(By.CSS_SELECTOR, "tbody")
    browser.find_element(By.CSS_SELECTOR, "thead a[href*='sort=name']").click()
    wait_until_gone(browser, table)
    header = browser.find_element(By.CSS_SELECTOR, "thead th[aria-sort]")
    assert header.get_attribute("aria-sort") == "ascending" and header.text.startswith("Workspace")
    assert _names(browser) == sorted(_names(browser), key=str.lower)
    table = browser.find_element(By.CSS_SELECTOR, "tbody")
    browser.find_element(By.CSS_SELECTOR, "thead a[href*='sort=name&dir=desc']").click()
    wait_until_gone(browser, table)
    assert (
        browser.find_element(By.CSS_SELECTOR, "thead th[aria-sort]").get_attribute("aria-sort")
        == "descending"
    )
    assert _names(browser)[0] == "Calm Candles"

    # Filter: the sort is kept, and the page stays clean with a filter applied.
    browser.find_element(By.NAME, "q").send_keys("a")
    browser.find_element(By.CSS_SELECTOR, "#attention, [name=attention]").click()
    table = browser.find_element(By.CSS_SELECTOR, "tbody")
    browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    wait_until_gone(browser, table)  # the filtered page
    assert [n[:6] for n in _names(browser)] == ["Bakery", "Atlas "]
    assert axe_violations(browser) == []
    assert _console_problems(browser) == []
