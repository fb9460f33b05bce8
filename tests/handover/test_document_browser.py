"""A real browser reads the handover document at desktop and phone width (390 px): every
section is there, nothing overflows sideways, and the print stylesheet hides the chrome.

Screenshots are saved in the test's temporary folder (``--basetemp`` keeps them).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from audits.models import AcceptedRisk
from handover import links
from handover.models import ChecklistItem, EnvVar, HandoverDocument, Service
from launchready.models import Subdomain
from monitoring.models import EscalationContact
from tests.browser.test_journey import browser, pytestmark  # noqa: F401 - the same browser and skip rule
from tests.fixtures_core import PASSWORD

LONG = "a-very-long-unbroken-subdomain-name-that-a-store-really-uses-for-its-preview-builds.shop.example.com"


@pytest.fixture
def full_site(site, owner, make_run):
    make_run(site, ago_minutes=60 * 24 * 10)
    make_run(site)
    Service.objects.create(
        site=site,
        kind="hosting",
        provider="Vercel",
        owner="Ana Silva",
        access="Ana (admin), agency (until handover)",
        credentials_location="1Password vault “Shop” / Vercel",
        renews_on=timezone.localdate() + dt.timedelta(days=200),
    )
    Subdomain.objects.create(site=site, name="preview", purpose=LONG, owner="Agency")
    EnvVar.objects.create(
        site=site,
        environment="production",
        name="STRIPE_WEBHOOK_SIGNING_SECRET_FOR_THE_ORDER_CONFIRMATION_FLOW",
        purpose="Verifies Stripe's webhook calls",
        storage="hosting",
        storage_detail="Vercel → Settings → Environment Variables",
    )
    ChecklistItem.objects.create(site=site, label="Payment account moved to the client")
    HandoverDocument.objects.create(
        site=site, deploy_steps="Merge to main\nWatch the smoke test in Launch Ready"
    )
    EscalationContact.objects.create(workspace=site.workspace, name="Ana Silva", email="ana@example.com")
    AcceptedRisk.objects.create(
        site=site,
        check_id="dns.single_nameserver",
        subject="shop.example.com",
        reason="Moving DNS next month.",
        expires_at=timezone.now() + dt.timedelta(days=30),
        accepted_by=owner,
    )
    return site


def _overflow(driver) -> int:
    return driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")


def _section_overflow(driver, element_id: str) -> int:
    """How far the section, or anything in it, reaches past the window's right edge."""
    return driver.execute_script(
        "const s = document.getElementById(arguments[0]);"
        "const right = Math.max(...[s, ...s.querySelectorAll('*')].map(e => e.getBoundingClientRect().right));"
        "return Math.ceil(right - window.innerWidth);",
        element_id,
    )


def test_document_reads_on_desktop_and_phone(browser, live_server, full_site, owner, workspace, tmp_path):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(f"{live_server.url}/accounts/login/")
    browser.find_element(By.NAME, "login").send_keys(owner.email)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    WebDriverWait(browser, 10).until(expected_conditions.url_contains("/w/"))

    _, token = links.create_link(full_site, user=owner, days=3)
    pages = {
        "document": f"{live_server.url}/w/{workspace.uuid}/sites/{full_site.uuid}/handover/",
        "shared": f"{live_server.url}/handover/{token}/",
        "tab": f"{live_server.url}/w/{workspace.uuid}/handover/",
        "site": f"{live_server.url}/w/{workspace.uuid}/sites/{full_site.uuid}/",
    }
    for width, height in ((1280, 900), (390, 844)):
        browser.set_window_size(width, height)
        for name, url in pages.items():
            browser.get(url)
            assert browser.find_element(By.TAG_NAME, "h1").text
            if name in ("document", "shared"):
                text = browser.find_element(By.TAG_NAME, "main").text
                for section in ("Handover checklist", "Where secrets live", "Week one: what good looks like"):
                    assert section in text
            browser.save_screenshot(str(tmp_path / f"handover-{name}-{width}.png"))
            if name == "site":  # other panels of the site page are not ours: our section fits
                WebDriverWait(browser, 10).until(
                    lambda b: "Ana Silva" in b.find_element(By.ID, "owners").text
                )
                assert _section_overflow(browser, "owners") <= 0, (
                    f"the ownership panel overflows at {width} px"
                )
            else:
                assert _overflow(browser) <= 0, f"{name} overflows sideways at {width} px"
    assert not [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]

    # Printing hides the header, navigation and buttons; the document stays.
    browser.get(pages["document"])
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    assert not browser.find_element(By.CSS_SELECTOR, ".site-header").is_displayed()
    assert not browser.find_element(By.CSS_SELECTOR, ".doc-actions").is_displayed()
    assert browser.find_element(By.ID, "week-one-h").is_displayed()
