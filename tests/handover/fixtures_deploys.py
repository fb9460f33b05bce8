"""Deploy fixtures (a pytest plugin, registered in tests/conftest.py).

Also the ``url_kwarg_deploy`` value the URLconf walk needs for the deploy pages.
"""

from __future__ import annotations

import pytest

from handover.models import Deploy


@pytest.fixture
def deploy_record(site) -> Deploy:
    """A production deploy of ``site`` whose smoke test is still queued."""
    return Deploy.objects.create(
        site=site, environment="production", version="v1.0.0", deployed_by="API token CI"
    )


@pytest.fixture
def url_kwarg_deploy(deploy_record):
    return deploy_record
