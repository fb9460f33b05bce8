"""The side loop: a second event loop, in a thread of its own, for every probe that is
not about the store's own host (DNS, the registry, email, and the other hosts' TLS
handshakes, root pages and exposure paths).

Why: an audit is as fast as its longest chain, the store's own host's requests and then
its route samples, and each sample's time to first byte is read by the event loop that
sent it. The rest is most of an audit's CPU (TLS handshakes above all, hundreds on a
store with twenty subdomains, and DNS parsing); on the same loop it either ran before
the samples (the audit took its time plus the samples') or beside them, where a burst
of handshakes held the loop for up to 100 ms between a sample's response and its clock.
Here it overlaps the chain without touching that clock: OpenSSL releases the interpreter
lock during a handshake, so it runs on the machine's other core, and Python code on this
thread is interrupted every few milliseconds for the audit's loop.

``in_flight`` bounds the requests the work here has open at once (each request holds
the ``limit`` it is given), so the other hosts, often on the same servers as the store,
are not hit with hundreds of connections while the samples are timed.

    async with SideLoop(in_flight=24) as side:
        facts = await side.run(lambda limit: probe_tls(run, hosts, limit))

``run`` returns the work's value or raises its exception; cancelling the task that
awaits it cancels the work; leaving the ``async with`` cancels what is still running
there and ends the thread. What the work shares with the audit's loop must be safe to
share between threads (``ProbeRun`` counts requests and time under a lock).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from types import TracebackType
from typing import Any, TypeVar

T = TypeVar("T")

THREAD_NAME = "audit-side-loop"


class SideLoop:
    """A second event loop in its own thread, started on first use."""

    def __init__(self, in_flight: int) -> None:
        self.in_flight = max(1, in_flight)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._limit: asyncio.Semaphore | None = None

    async def run(self, work: Callable[[asyncio.Semaphore], Coroutine[Any, Any, T]]) -> T:
        """``await work(limit)`` on the side loop; every request of the work holds ``limit``."""

        async def there() -> T:
            if self._limit is None:  # made on the side loop, the only one that uses it
                self._limit = asyncio.Semaphore(self.in_flight)
            return await work(self._limit)

        future = asyncio.run_coroutine_threadsafe(there(), self._started())
        return await asyncio.wrap_future(future)  # cancelling this cancels the work there

    def _started(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
            self._thread = threading.Thread(target=self._loop.run_forever, name=THREAD_NAME, daemon=True)
            self._thread.start()
        return self._loop

    async def aclose(self) -> None:
        """Cancel what still runs on the side loop, then stop it and end its thread."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        self._loop = self._thread = None
        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(_cancel_the_rest(), loop))
        loop.call_soon_threadsafe(loop.stop)
        await asyncio.to_thread(thread.join)
        loop.close()

    async def __aenter__(self) -> SideLoop:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


async def _cancel_the_rest() -> None:
    tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
