"""What the browser tests check on every page they open: no WCAG 2.1 A/AA violation that
axe-core finds, nothing wider than the screen at desktop and phone width, and a
screenshot of each width to look at.

axe-core is vendored in tests/browser/vendor (MPL-2.0, from the npm package ``axe-core``)
and injected by WebDriver, which our Content-Security-Policy does not block.
"""

from __future__ import annotations

from pathlib import Path

from tests.fixtures_core import PASSWORD

AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text()
RUN_AXE = """
const done = arguments[arguments.length - 1];
axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})
  .then(r => done(r.violations.map(v => v.id + ': ' + v.help + ' ' + v.nodes.map(n => n.target.join(' ')).join(', '))))
  .catch(e => done(['axe failed: ' + e]));
"""
OVERFLOW = "return [document.documentElement.scrollWidth, window.innerWidth]"
WIDTHS = (1280, 390)  # a laptop and a phone


def axe_violations(driver) -> list[str]:
    driver.execute_script(AXE)
    driver.set_script_timeout(30)
    return driver.execute_async_script(RUN_AXE)


def log_in(driver, live_server, user) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(f"{live_server.url}/accounts/login/")
    driver.find_element(By.NAME, "login").send_keys(user.email)
    driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    WebDriverWait(driver, 10).until(expected_conditions.url_changes(f"{live_server.url}/accounts/login/"))


def fits_and_shoot(driver, name: str) -> None:
    """At each width nothing scrolls sideways; the whole page is saved as /tmp/<name>-<width>.png."""
    for width in WIDTHS:
        driver.set_window_size(width, 900)
        scroll_width, inner_width = driver.execute_script(OVERFLOW)
        assert scroll_width <= inner_width, (name, width, scroll_width, inner_width)
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(width, min(height + 100, 4000))
        driver.save_screenshot(f"/tmp/{name}-{width}.png")


def wait_until_gone(driver, element, timeout: float = 10) -> None:
    """Wait until ``element`` has left the page (the next page or fragment replaced it).

    Selenium's ``staleness_of`` expects a stale-element error; Chromium also answers "Node
    with given id does not belong to the document" for a node of a page being replaced,
    which is the same fact, not a failure.
    """
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    def gone(_driver) -> bool:
        try:
            element.is_enabled()
        except StaleElementReferenceException:
            return True
        except WebDriverException as exc:
            if "does not belong to the document" in str(exc):
                return True
            raise
        return False

    WebDriverWait(driver, timeout).until(gone)
