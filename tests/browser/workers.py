"""A real Celery worker (solo pool, in this process) for the browser journeys."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from celery import Celery
from celery.contrib.testing.worker import start_worker

import audits.tasks  # noqa: F401 - the audit task
import handover.tasks  # noqa: F401 - the smoke-test task
import launchready.tasks  # noqa: F401 - the core tasks
from launchready.celery import app as product_app


@contextmanager
def solo_worker(name: str) -> Iterator[Celery]:
    """A worker on the settings' broker for one test. Tasks that earlier tests of this
    process queued and never ran (the broker's folder outlives them) are purged first, or
    they would go before the test's own and outlast its waits."""
    app = Celery(name)
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.loader.import_default_modules()
    app.control.purge()
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            yield app
    finally:
        # start_worker made this app the current and default one; tasks queued by later
        # tests (from the live server's thread too) must go through the product's app again.
        product_app.set_current()
        product_app.set_default()
