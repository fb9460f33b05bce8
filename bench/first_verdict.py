"""``first_verdict``: seconds from the landing page to the broken demo store's verdict.

Runs the product as ``make run`` does (``manage.py dev``: the sandbox with both demo
stores, runserver, a worker, beat and the mail receiver, on a fresh SQLite database and
the embedded broker in a temporary folder), then a real Chromium does what a newcomer
does, all in the browser: landing page → sign up → open the development mailbox →
confirm → add ``broken-store.test`` → "Run audit now" → the verdict on screen.

Baseline: the audit's own duration in the same run (the run's start to finish as the
worker recorded it); ``ratio`` = value ÷ baseline is what the pages, the queue and
the sign-up add around the audit. Goal (BENCH.md): value < 30 s.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASE = "http://127.0.0.1:8000"
GOAL_S = 30.0


def _wait_for(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


def _browser(profile: Path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    from tests.browser.chrome import CHROMEDRIVER, CHROMIUM

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--no-first-run", f"--user-data-dir={profile}", "--window-size=1280,900"):  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.implicitly_wait(10)
    return driver


def _journey(driver) -> None:
    """A newcomer's first verdict, every step in the browser."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def fill(name: str, value: str) -> None:
        field = driver.find_element(By.NAME, name)
        field.clear()
        field.send_keys(value)

    def submit() -> None:
        driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()

    driver.get(f"{BASE}/")
    driver.find_element(By.LINK_TEXT, "Sign up free").click()
    fill("email", "newcomer@shop.example")
    fill("password1", "a-long-unusual-passphrase-42")
    fill("password2", "a-long-unusual-passphrase-42")
    submit()
    driver.find_element(By.LINK_TEXT, "Open the development mailbox").click()
    driver.find_element(By.PARTIAL_LINK_TEXT, "/accounts/confirm-email/").click()
    submit()  # "Confirm"
    WebDriverWait(driver, 20).until(lambda d: "/w/" in d.current_url)
    driver.find_element(By.LINK_TEXT, "Sites").click()
    driver.find_element(By.PARTIAL_LINK_TEXT, "Add a site").click()
    fill("domain", "broken-store.test")
    submit()
    driver.find_element(By.XPATH, "//button[normalize-space()='Run audit now']").click()
    WebDriverWait(driver, 120, poll_frequency=0.2).until(lambda d: "The 48-hour plan" in d.page_source)
    if "Not ready" not in driver.page_source:
        raise RuntimeError("the broken demo store's verdict is not 'Not ready'")


def _audit_seconds(database: Path) -> float:
    with sqlite3.connect(database) as db:
        started, finished = db.execute(
            "SELECT started_at, finished_at FROM audits_auditrun ORDER BY created_at DESC LIMIT 1"
        ).fetchone()
    return (datetime.fromisoformat(finished) - datetime.fromisoformat(started)).total_seconds()


def run(argv: list[str]) -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="lr-first-verdict-") as tmp:
        var = Path(tmp)
        env = {
            **{
                k: v
                for k, v in os.environ.items()
                if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "CACHE_URL")
            },
            "DEBUG": "true",
            "LAUNCHREADY_VAR_DIR": str(var),
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        }
        manage = [sys.executable, str(ROOT / "manage.py")]
        subprocess.run([*manage, "migrate", "--noinput", "-v0"], env=env, cwd=ROOT, check=True)
        log = (var / "make-run.log").open("w")
        # Its own session, so that the whole process tree gets the Ctrl-C at the end.
        product = subprocess.Popen(
            [*manage, "dev"], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        driver = None
        try:
            _wait_for(f"{BASE}/healthz", 90)
            driver = _browser(var / "profile")
            started = time.monotonic()
            try:
                _journey(driver)
            except Exception:
                driver.save_screenshot(str(ROOT / "var" / "first-verdict-failure.png"))
                (ROOT / "var" / "first-verdict-failure.html").write_text(driver.page_source)
                raise
            value = time.monotonic() - started
        finally:
            if driver is not None:
                driver.quit()
            os.killpg(product.pid, signal.SIGINT)
            try:
                product.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(product.pid, signal.SIGKILL)
            log.close()
        baseline = _audit_seconds(var / "db.sqlite3")
    return [
        {
            "name": "first_verdict",
            "value": round(value, 2),
            "unit": "s",
            "baseline": round(baseline, 2),
            "ratio": round(value / baseline, 2) if baseline else None,
            "goal_s": GOAL_S,
            "met": value < GOAL_S,
        }
    ]
