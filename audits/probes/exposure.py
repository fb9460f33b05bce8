"""Probes of the ``exposure`` checks: well-known paths that must not be public (``.env``,
``.git``, admin panels, debug pages) and the source maps of the homepage's bundles."""

from __future__ import annotations

import asyncio
import uuid
from contextlib import nullcontext

from audits import detect
from audits.facts import ExposureProbe, PageFacts, Unavailable, host_of
from launchready import net
from launchready.domains import hostname_under

from .base import BudgetExhausted, ProbeRun, response_headers
from .web import home_page


async def probe_exposure(
    run: ProbeRun, hosts: list[str], limit: asyncio.Semaphore | None = None
) -> list[ExposureProbe]:
    """Every well-known path on every host. A host's paths go over a few kept-alive
    connections (``ProbeOptions.exposure_connections``), one path after another on each,
    instead of a fresh TCP and TLS handshake per path; the hosts run side by side. Each
    request holds ``limit`` (when given) while it runs."""
    per_host = [
        [
            *(f"https://{host}{path}" for path in detect.EXPOSURE_PATHS),
            # A path that cannot exist shows a framework's debug 404 page when debug is on.
            f"https://{host}/launchready-check-{uuid.uuid4().hex[:8]}",
        ]
        for host in hosts
    ]
    if not run.options.exposure_keep_alive:
        return list(
            await asyncio.gather(
                *(exposure_probe(run, url, limit=limit) for urls in per_host for url in urls)
            )
        )
    lanes = max(1, run.options.exposure_connections)
    # The store's own host is read all at once: its route samples wait until none of the
    # audit's other requests to it is in flight (turns.py), so fewer round trips there
    # shorten the audit more than the handshakes they save.
    own = run.site.canonical_host
    async with run.session() as session:
        found = await asyncio.gather(
            *(
                _in_lanes(run, urls, len(urls) if host == own else lanes, session, limit)
                for host, urls in zip(hosts, per_host, strict=True)
            )
        )
    return [probe for probes in found for probe in probes]


async def _in_lanes(
    run: ProbeRun, urls: list[str], lanes: int, session: net.Session, limit: asyncio.Semaphore | None
) -> list[ExposureProbe]:
    """``urls`` in ``lanes`` sequences side by side, so each lane keeps one connection busy."""
    found: list[ExposureProbe | None] = [None] * len(urls)

    async def lane(start: int) -> None:
        for index in range(start, len(urls), lanes):
            found[index] = await exposure_probe(run, urls[index], session, limit)

    await asyncio.gather(*(lane(start) for start in range(min(lanes, len(urls)))))
    return [probe for probe in found if probe is not None]


async def probe_source_maps(run: ProbeRun, pages: list[PageFacts]) -> list[ExposureProbe]:
    home = home_page(pages)
    if not home or not home.html:
        return []
    bundles = [s.src for s in home.html.scripts if s.src and hostname_under(host_of(s.src), run.site.domain)]
    return list(await asyncio.gather(*(exposure_probe(run, src + ".map") for src in bundles[:3])))


async def exposure_probe(
    run: ProbeRun, url: str, session: net.Session | None = None, limit: asyncio.Semaphore | None = None
) -> ExposureProbe:
    try:
        async with limit if limit is not None else nullcontext():
            result = await run.fetch(
                url,
                follow_redirects=False,
                max_body_bytes=64 * 1024,
                read_past_certificate=True,
                session=session,
            )
    except BudgetExhausted as exc:
        return ExposureProbe(url=url, unavailable=Unavailable(str(exc)))
    if not result.ok:
        return ExposureProbe(url=url, unavailable=Unavailable(result.error.message))
    body = result.text()
    content_type = result.header("content-type") or ""
    blocked = detect.detect_block(result.status, response_headers(result.final), body[:4000])
    if blocked:
        return ExposureProbe(url=url, status=result.status, content_type=content_type, unavailable=blocked)
    sniff, detail = detect.sniff_exposure(url, result.status, content_type, body)
    return ExposureProbe(url=url, status=result.status, content_type=content_type, sniff=sniff, detail=detail)
