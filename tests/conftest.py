"""Shared pytest set-up. Fixture modules are plugins so each area keeps its own file."""

pytest_plugins: list[str] = []
