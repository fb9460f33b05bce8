"""Shared pytest set-up. Fixture modules are plugins so each area keeps its own file."""

pytest_plugins: list[str] = [
    "sandbox.pytest_plugin",  # sandbox internet: the `sandbox_scenario` fixture factory
]
