"""A shared incident (one cause, several monitors) in a real browser: no WCAG 2.1 A/AA violation
that axe-core finds, no sideways scrolling on a 390 px phone. Screenshots:
/tmp/incident-1280.png and /tmp/incident-390.png.
"""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from monitoring import engine
from monitoring.checks.specs import Cause, CauseKind, CheckOutcome
from monitoring.models import Incident, Monitor
from tests.browser.pages import axe_violations, fits_and_shoot
from tests.browser.pages import log_in as _log_in
from tests.browser.test_journey import browser, pytestmark  # noqa: F401 - same browser


def test_a_shared_incident_page_is_accessible_and_fits_a_phone(browser, live_server, owner, workspace):  # noqa: F811
    from selenium.webdriver.common.by import By

    t = timezone.now() - timedelta(minutes=30)
    cause = Cause(CauseKind.CERT_EXPIRED, "www.a-rather-long-store-name-for-phones.test")
    message = "The certificate for www.a-rather-long-store-name-for-phones.test has expired."
    names = ["Homepage", "Cart", "Checkout", "Login", "Order API"]
    monitors = [
        Monitor.objects.create(
            workspace=workspace,
            name=name,
            url=f"https://www.a-rather-long-store-name-for-phones.test/{name.lower()}",
            severity="critical" if name == "Checkout" else "warning",
        )
        for name in names
    ]
    for m in monitors:
        engine.apply_outcomes([CheckOutcome(m.pk, False, t, message, cause=cause)] * 2, now=t)
    engine.apply_outcomes([CheckOutcome(monitors[1].pk, True, t + timedelta(minutes=5), "Status 200.")])
    primary = Incident.objects.get(primary__isnull=True)

    _log_in(browser, live_server, owner)
    url = reverse("monitoring:incident", kwargs={"workspace": workspace.uuid, "incident": primary.uuid})
    browser.get(live_server.url + url)
    assert browser.find_element(By.TAG_NAME, "h1").text.startswith("Certificate of www.a-rather-long")
    assert (
        "critical: the Checkout monitor's severity" in browser.find_element(By.CSS_SELECTOR, "dl.facts").text
    )
    fits_and_shoot(browser, "incident")
    assert axe_violations(browser) == []
