"""The audit's side loop (audits/probes/side.py): a second event loop in a thread of its
own, where the probes of the store's other hosts run so that their CPU never sits
between a route sample's response and its clock on the audit's own loop."""

from __future__ import annotations

import asyncio
import threading

import pytest

from audits.probes.side import SideLoop


def test_work_runs_on_another_thread_and_its_value_comes_back() -> None:
    async def scenario() -> tuple[str, str, int]:
        async with SideLoop(in_flight=4) as side:

            async def work(limit: asyncio.Semaphore) -> tuple[str, int]:
                await asyncio.sleep(0)
                return threading.current_thread().name, 42

            name, value = await side.run(work)
        return threading.current_thread().name, name, value

    here, there, value = asyncio.run(scenario())
    assert there == "audit-side-loop" and there != here and value == 42


def test_an_error_in_the_work_is_raised_where_it_was_awaited() -> None:
    async def failing(limit: asyncio.Semaphore) -> None:
        raise LookupError("a programming error in a probe")

    async def scenario() -> None:
        async with SideLoop(in_flight=4) as side:
            await side.run(failing)

    with pytest.raises(LookupError, match="programming error"):
        asyncio.run(scenario())


def test_at_most_in_flight_requests_hold_the_limit_at_once() -> None:
    async def scenario() -> int:
        busy, most = 0, 0

        async def request(limit: asyncio.Semaphore) -> None:
            nonlocal busy, most
            async with limit:
                busy += 1
                most = max(most, busy)
                await asyncio.sleep(0.001)
                busy -= 1

        async def work(limit: asyncio.Semaphore) -> None:
            await asyncio.gather(*(request(limit) for _ in range(30)))

        async with SideLoop(in_flight=3) as side:
            await side.run(work)
            await side.run(work)  # the same limit for every piece of work
        return most

    assert asyncio.run(scenario()) == 3


def test_cancelling_the_waiting_task_cancels_the_work_and_closing_ends_the_thread() -> None:
    async def scenario() -> tuple[bool, bool]:
        started, cancelled = threading.Event(), threading.Event()

        async def endless(limit: asyncio.Semaphore) -> None:
            started.set()
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                cancelled.set()
                raise

        side = SideLoop(in_flight=2)
        waiting = asyncio.create_task(side.run(endless))
        while not started.is_set():
            await asyncio.sleep(0.001)
        waiting.cancel()  # what the audit's time budget does to an unfinished probe
        with pytest.raises(asyncio.CancelledError):
            await waiting
        await side.aclose()
        return cancelled.is_set(), any(t.name == "audit-side-loop" for t in threading.enumerate())

    assert asyncio.run(scenario()) == (True, False)


def test_closing_cancels_what_is_still_running_there() -> None:
    async def scenario() -> bool:
        cancelled = threading.Event()

        async def endless() -> None:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                cancelled.set()
                raise

        async def leave_a_task(limit: asyncio.Semaphore) -> None:
            asyncio.get_running_loop().create_task(endless())
            await asyncio.sleep(0)

        async with SideLoop(in_flight=2) as side:
            await side.run(leave_a_task)
        return cancelled.is_set()

    assert asyncio.run(scenario()) is True


def test_a_side_loop_never_used_starts_no_thread() -> None:
    async def scenario() -> None:
        async with SideLoop(in_flight=2):
            pass

    before = threading.active_count()
    asyncio.run(scenario())
    assert threading.active_count() == before
