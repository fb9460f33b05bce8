"""Shared pytest set-up. Fixture modules are plugins so each area keeps its own file."""

import pytest

pytest_plugins: list[str] = [
    "tests.fixtures_core",  # owner/admin/member/viewer/stranger, workspace, site, url_kwarg_* (core)
    "tests.monitoring.fixtures",  # monitors, channels, incidents; url_kwarg_monitor/incident/channel/…
    "tests.fixtures_audits",  # audit runs with findings, share links; url_kwarg_run/finding/share/…
    "tests.handover.fixtures_deploys",  # deploys; url_kwarg_deploy
    "tests.handover.fixtures_env",  # env-var inventory; url_kwarg_envvar
    "tests.handover.fixtures_ownership",  # services, checklist, handover links; url_kwarg_service/…
    "tests.reports.fixtures",  # a real SMTP server (aiosmtpd); url_kwarg_report
    "sandbox.pytest_plugin",  # sandbox internet: the `sandbox_scenario` fixture factory
]


@pytest.fixture(autouse=True)
def _project_celery_app():
    """Tests that start a worker on an app of their own (``start_worker`` makes it the current
    and default app) must not leave it behind: later ``.delay()`` calls and eager settings
    belong to the project's app."""
    yield
    from launchready.celery import app

    app.set_current()
    app.set_default()


@pytest.fixture(autouse=True)
def _empty_cache():
    """Every test starts with an empty cache: cached page fragments are keyed by row ids,
    which a database rolled back after a test hands out again."""
    from django.conf import settings
    from django.core.cache import cache

    config = settings.CACHES["default"]
    if "Redis" in config["BACKEND"]:
        # FLUSHDB would empty the other xdist workers' caches too: only this worker's keys.
        client = cache._cache.get_client(None, write=True)
        keys = list(client.scan_iter(match=f"{config['KEY_PREFIX']}:*"))
        if keys:
            client.delete(*keys)
    else:
        cache.clear()
    yield
