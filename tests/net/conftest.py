"""Fixtures for the network-layer tests: the netlab sandbox scenario and a quick config."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from launchready.net import NetConfig


@pytest.fixture(scope="module")
def lab(sandbox_scenario):
    """The network-layer test bench (sandbox/scenarios/netlab.yaml), running for the module."""
    return sandbox_scenario("netlab")


@pytest.fixture
def config(lab) -> NetConfig:
    """The sandbox settings with short timeouts so failure cases stay fast."""
    return NetConfig.from_settings(dns_timeout=1.5, connect_timeout=3, read_timeout=3, total_timeout=10)


@pytest.fixture
def run() -> Callable[[Coroutine[Any, Any, Any]], Any]:
    return asyncio.run
