"""pytest fixtures for the sandbox internet.

Register with ``pytest_plugins = ["sandbox.pytest_plugin"]`` in ``tests/conftest.py``::

    @pytest.fixture(scope="module")
    def sb(sandbox_scenario):
        return sandbox_scenario("demo_broken")   # or a dict, or a Scenario

The sandbox runs for the whole module and its settings (``sb.settings``) are applied as
Django setting overrides for that time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from .runner import Sandbox
from .scenario import Scenario


@pytest.fixture(scope="module")
def sandbox_scenario() -> Iterator[Callable[[Scenario | str | dict], Sandbox]]:
    from django.test import override_settings

    started: list[tuple[Sandbox, override_settings]] = []

    def start(scenario: Scenario | str | dict) -> Sandbox:
        sandbox = Sandbox(scenario).start()
        overrides = override_settings(**sandbox.settings)
        overrides.enable()
        started.append((sandbox, overrides))
        return sandbox

    yield start
    for sandbox, overrides in reversed(started):
        overrides.disable()
        sandbox.stop()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests that use the sandbox get the ``sandbox`` marker (``-m "not sandbox"`` skips them)."""
    for item in items:
        if "sandbox_scenario" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.sandbox)
