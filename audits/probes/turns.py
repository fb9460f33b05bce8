"""The audit's own requests in flight per host, so a route sample can wait for them.

The audit sends many requests at once (pages, exposure paths, assets) while it samples
the critical routes. A small store answers them one after another, so a sample sent in
the middle of that burst waited behind the audit's own requests: the broken demo's
homepage, answered in 20-60 ms alone, measured 500-1,200 ms at p95 in one run and under
its budget in the next. A sample therefore first waits until the host has none of the
audit's other requests in flight, and is taken again when some started while it ran;
both for a bounded time (``QUIET_WAIT_S`` per route, so a host that answers everything
slowly cannot hold the audit up).

Samples are not counted as other requests: the routes of one host are still sampled
side by side, as before.

The other hosts of a store are probed on the side loop, in another thread (side.py), so
the counts are kept under a lock. Only the store's own host, whose requests all run on
the audit's loop, is ever waited on: the side loop never sets an event a sample awaits.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

QUIET_WAIT_S = 3.0  # the most a route's samples wait, in all, for the audit's other requests


@dataclass
class Overlap:
    crowded: bool


@dataclass
class _Host:
    in_flight: int = 0
    started: int = 0  # ordinary requests started so far
    quiet: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.quiet.set()


class HostTurns:
    """Counts the audit's ordinary requests in flight per host name."""

    def __init__(self) -> None:
        self._hosts: dict[str, _Host] = {}
        self._lock = threading.Lock()

    def _host(self, host: str) -> _Host:
        with self._lock:
            return self._hosts.setdefault(host, _Host())

    def in_flight(self, host: str) -> int:
        return self._host(host).in_flight

    @contextmanager
    def request(self, host: str) -> Iterator[None]:
        """An ordinary request to ``host`` is in flight inside."""
        state = self._host(host)
        with self._lock:
            state.in_flight += 1
            state.started += 1
            state.quiet.clear()
        try:
            yield
        finally:
            with self._lock:
                state.in_flight -= 1
                if state.in_flight == 0:
                    state.quiet.set()

    @contextmanager
    def watch(self, host: str) -> Iterator[Overlap]:
        """Inside: a sample in flight. ``crowded`` afterwards: an ordinary request to
        ``host`` was in flight at some moment of it."""
        state = self._host(host)
        overlap = Overlap(crowded=state.in_flight > 0)
        started = state.started
        try:
            yield overlap
        finally:
            overlap.crowded = overlap.crowded or state.started != started

    async def quiet(self, host: str, timeout: float) -> float:
        """Wait until no ordinary request to ``host`` is in flight, at most ``timeout``
        seconds; the seconds waited."""
        started = time.monotonic()
        await asyncio.sleep(0)  # the probes started beside this one send their first requests
        if timeout > 0:
            try:
                await asyncio.wait_for(self._host(host).quiet.wait(), timeout)
            except TimeoutError:
                pass
        return time.monotonic() - started
