"""The audit's own requests in flight per host (audits/probes/turns.py): a route sample
waits until none is in flight to its host, and knows afterwards whether one overlapped
it, so it can be taken again (audits/probes/performance.py)."""

from __future__ import annotations

import asyncio

from audits.probes.turns import HostTurns

WWW = "www.shop.test"


async def page_request(turns: HostTurns, host: str, release: asyncio.Event, log: list[str]) -> None:
    with turns.request(host):
        log.append(f"{host} in")
        await release.wait()
        log.append(f"{host} out")


def test_a_sample_waits_until_the_requests_to_its_host_are_done() -> None:
    async def scenario() -> list[str]:
        turns, log, release = HostTurns(), [], asyncio.Event()
        page = asyncio.create_task(page_request(turns, WWW, release, log))
        waiting = asyncio.create_task(turns.quiet(WWW, timeout=60))
        for _ in range(5):
            await asyncio.sleep(0)
        log.append("sample still waiting" if not waiting.done() else "sample sent")
        release.set()
        await asyncio.gather(page, waiting)
        log.append("sample sent")
        return log

    assert asyncio.run(scenario()) == [f"{WWW} in", "sample still waiting", f"{WWW} out", "sample sent"]


def test_a_host_that_stays_busy_holds_the_sample_only_until_the_timeout() -> None:
    async def scenario() -> tuple[int, bool]:
        turns, release = HostTurns(), asyncio.Event()
        page = asyncio.create_task(page_request(turns, WWW, release, []))
        await asyncio.sleep(0)
        waited = await turns.quiet(WWW, timeout=0.05)
        busy = turns.in_flight(WWW)
        release.set()
        await page
        return busy, waited > 0

    assert asyncio.run(scenario()) == (1, True)


def test_other_hosts_do_not_hold_the_sample() -> None:
    async def scenario() -> bool:
        turns, release = HostTurns(), asyncio.Event()
        apex = asyncio.create_task(page_request(turns, "shop.test", release, []))
        await asyncio.sleep(0)
        waiting = asyncio.create_task(turns.quiet(WWW, timeout=60))
        for _ in range(5):
            await asyncio.sleep(0)
        done = waiting.done()
        release.set()
        await asyncio.gather(apex, waiting)
        return done

    assert asyncio.run(scenario()) is True


def test_a_sample_knows_whether_a_request_to_its_host_overlapped_it() -> None:
    async def scenario() -> list[bool]:
        turns, release = HostTurns(), asyncio.Event()
        release.set()
        seen = []
        with turns.watch(WWW) as alone:
            await page_request(turns, "shop.test", release, [])  # another host
        seen.append(alone.crowded)
        with turns.watch(WWW) as started_during:
            await page_request(turns, WWW, release, [])
        seen.append(started_during.crowded)
        held = asyncio.Event()
        page = asyncio.create_task(page_request(turns, WWW, held, []))
        await asyncio.sleep(0)
        with turns.watch(WWW) as in_flight_before:
            pass
        seen.append(in_flight_before.crowded)
        held.set()
        await page
        return seen

    assert asyncio.run(scenario()) == [False, True, True]
