"""CPU-heavy work on hostile input, in worker processes with a CPU-time allowance.

Why processes: the receiver's event loop and its database threads share one
interpreter lock with any thread that parses, and the threads of the default executor
with each other; DMARC reports parsed in threads made six 8 KB bombs delay a test
message by 38 s. In a worker process a report costs that process's CPU and nothing else.

Why a timer signal rather than checks in a parsing loop: the standard library's MIME
parser cannot be instrumented, and a hostile message can cost it seconds before any
report code runs. ``ITIMER_PROF`` counts the worker's own CPU time (user and system)
and raises ``CpuLimitExceeded`` wherever the Python code is when the allowance runs
out; the C calls underneath (zlib, expat) work on bounded chunks, so it fires promptly.

No Django here: workers are started with ``spawn`` (never ``fork`` from a process that
runs threads) and import only what the functions they are given need.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import signal
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")


class CpuLimitExceeded(Exception):
    """The function used up its CPU-time allowance and was stopped."""


class WorkerLost(Exception):
    """A worker process died (killed, out of memory); the next call gets a fresh one."""


def _start_worker() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the receiver, which stops us
    signal.signal(signal.SIGPROF, _out_of_cpu)


def _out_of_cpu(signum: int, frame: object) -> None:
    raise CpuLimitExceeded


def _limited(cpu_seconds: float, fn: Callable[..., T], args: tuple) -> T:
    signal.setitimer(signal.ITIMER_PROF, cpu_seconds)
    try:
        return fn(*args)
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)


class CpuPool:
    """A few worker processes, started on first use, each call limited in CPU time."""

    def __init__(self, workers: int) -> None:
        self.workers = max(1, workers)
        self._executor: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    async def run(self, cpu_seconds: float, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` in a worker; ``CpuLimitExceeded`` or ``WorkerLost`` if it did not finish."""
        executor = self._pool()
        try:
            return await asyncio.get_running_loop().run_in_executor(executor, _limited, cpu_seconds, fn, args)
        except BrokenProcessPool:
            raise self._lost(executor) from None

    def call(self, cpu_seconds: float, fn: Callable[..., T], *args: Any) -> T:
        """The same, blocking (for code outside an event loop)."""
        executor = self._pool()
        try:
            return executor.submit(_limited, cpu_seconds, fn, args).result()
        except BrokenProcessPool:
            raise self._lost(executor) from None

    def close(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)

    def _pool(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ProcessPoolExecutor(
                    self.workers, mp_context=multiprocessing.get_context("spawn"), initializer=_start_worker
                )
            return self._executor

    def _lost(self, executor: ProcessPoolExecutor) -> WorkerLost:
        logger.warning("an inbound worker process died; starting fresh ones")
        with self._lock:
            if self._executor is executor:
                self._executor = None
        executor.shutdown(wait=False, cancel_futures=True)
        return WorkerLost()
