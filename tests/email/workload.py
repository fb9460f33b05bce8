"""Functions the worker-process tests hand to a worker. No Django here: the worker
imports this module to find them."""

from __future__ import annotations

import os


def spin() -> None:
    while True:
        pass


def crash() -> None:
    os._exit(3)


def add(a: int, b: int) -> int:
    return a + b
