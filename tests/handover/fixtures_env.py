"""Env-var inventory fixtures (a pytest plugin, registered in tests/conftest.py).

``env_vars`` fills ``site`` with a small production and staging inventory; also the
``url_kwarg_envvar`` value the URLconf walk needs for the variable pages.
"""

from __future__ import annotations

import pytest

from handover.models import EnvVar


@pytest.fixture
def env_vars(site) -> dict[str, EnvVar]:
    """production: DATABASE_URL (required, documented), STRIPE_SECRET_KEY (required,
    undocumented), SENTRY_DSN (optional); staging: DATABASE_URL, STAGING_ONLY (required)."""
    rows = [
        EnvVar(
            site=site,
            environment="production",
            name="DATABASE_URL",
            purpose="Postgres connection string",
            storage=EnvVar.Storage.HOSTING,
            owner="Ops",
        ),
        EnvVar(site=site, environment="production", name="STRIPE_SECRET_KEY", purpose="Payments"),
        EnvVar(site=site, environment="production", name="SENTRY_DSN", required=False),
        EnvVar(site=site, environment="staging", name="DATABASE_URL", purpose="Staging database"),
        EnvVar(site=site, environment="staging", name="STAGING_ONLY", purpose="Basic auth for previews"),
    ]
    EnvVar.objects.bulk_create(rows)
    return {f"{v.environment}:{v.name}": v for v in EnvVar.objects.filter(site=site)}


@pytest.fixture
def url_kwarg_envvar(env_vars):
    return env_vars["production:DATABASE_URL"]
