"""Probes of the ``exposure`` checks: well-known paths that must not be public (``.env``,
``.git``, admin panels, debug pages) and the source maps of the homepage's bundles."""

from __future__ import annotations

import asyncio
import uuid

from audits import detect
from audits.facts import ExposureProbe, PageFacts, Unavailable, host_of
from launchready.domains import hostname_under

from .base import BudgetExhausted, ProbeRun, response_headers
from .web import home_page


async def probe_exposure(run: ProbeRun, hosts: list[str]) -> list[ExposureProbe]:
    jobs = []
    for host in hosts:
        for path in detect.EXPOSURE_PATHS:
            jobs.append(exposure_probe(run, f"https://{host}{path}"))
        # A path that cannot exist shows a framework's debug 404 page when debug is on.
        jobs.append(exposure_probe(run, f"https://{host}/launchready-check-{uuid.uuid4().hex[:8]}"))
    return list(await asyncio.gather(*jobs))


async def probe_source_maps(run: ProbeRun, pages: list[PageFacts]) -> list[ExposureProbe]:
    home = home_page(pages)
    if not home or not home.html:
        return []
    bundles = [s.src for s in home.html.scripts if s.src and hostname_under(host_of(s.src), run.site.domain)]
    return list(await asyncio.gather(*(exposure_probe(run, src + ".map") for src in bundles[:3])))


async def exposure_probe(run: ProbeRun, url: str) -> ExposureProbe:
    try:
        result = await run.fetch(
            url, follow_redirects=False, max_body_bytes=64 * 1024, read_past_certificate=True
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
