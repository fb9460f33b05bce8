"""The post-deploy smoke test: one GET per critical route, through ``launchready.net`` only.

Three layers, like the monitoring checks: ``judge`` is the pure rule (status,
keyword, time budget), ``check_route`` the probe (one fetch, never raises, never
touches the database) and ``run_smoke`` runs every route concurrently. The Celery
task in ``handover.tasks`` loads the targets and writes the results.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from launchready import net

logger = logging.getLogger(__name__)

ROUTE_TIMEOUT_S = 20.0  # a slow route still fails on its budget; this only bounds the wait
MAX_BODY_BYTES = 512 * 1024  # enough to find a keyword on a storefront page


@dataclass(frozen=True)
class SmokeTarget:
    route_name: str
    url: str
    budget_ms: int
    keyword: str = ""


@dataclass(frozen=True)
class Verdict:
    passed: bool
    reason: str


@dataclass(frozen=True)
class RouteOutcome:
    target: SmokeTarget
    passed: bool
    reason: str
    checked_at: datetime
    status_code: int | None = None
    elapsed_ms: int | None = None


def judge(
    *,
    error_message: str | None,
    status: int | None,
    body_text: str,
    elapsed_ms: float,
    keyword: str,
    budget_ms: int,
) -> Verdict:
    """The verdict on one route; the first failing rule names the cause.

    The status is the final one after redirects: 2xx or 3xx passes (a 3xx left at the
    end of the chain is a page that answers, e.g. too many redirects is an error instead).
    """
    if error_message:
        return Verdict(False, error_message)
    if status is None:
        return Verdict(False, "No response was received.")
    if not 200 <= status < 400:
        return Verdict(False, f"Status {status} (expected 200–399).")
    if keyword and keyword.casefold() not in body_text.casefold():
        return Verdict(False, f"The text “{keyword}” is not on the page.")
    if elapsed_ms > budget_ms:
        return Verdict(False, f"Took {elapsed_ms:.0f} ms, over the {budget_ms} ms budget.")
    return Verdict(True, f"Status {status} in {elapsed_ms:.0f} ms.")


async def check_route(target: SmokeTarget, config: net.NetConfig | None = None) -> RouteOutcome:
    checked_at = datetime.now(UTC)
    result = await net.fetch(
        target.url, timeout=ROUTE_TIMEOUT_S, max_body_bytes=MAX_BODY_BYTES, config=config
    )
    verdict = judge(
        error_message=result.error.message if result.error else None,
        status=result.status,
        body_text=result.text() if target.keyword and result.body else "",
        elapsed_ms=result.elapsed_ms,
        keyword=target.keyword,
        budget_ms=target.budget_ms,
    )
    return RouteOutcome(
        target=target,
        passed=verdict.passed,
        reason=verdict.reason,
        checked_at=checked_at,
        status_code=result.status,
        elapsed_ms=round(result.elapsed_ms) if result.status is not None else None,
    )


async def _check_safely(target: SmokeTarget, config: net.NetConfig | None) -> RouteOutcome:
    try:
        async with asyncio.timeout(ROUTE_TIMEOUT_S + 5):
            return await check_route(target, config)
    except TimeoutError:
        return RouteOutcome(target, False, f"Timed out after {ROUTE_TIMEOUT_S:g} s.", datetime.now(UTC))
    except Exception:  # a bug for one route must not lose the others' results
        logger.exception("smoke test of %s crashed", target.url)
        return RouteOutcome(
            target, False, "The route could not be tested (internal error).", datetime.now(UTC)
        )


async def run_smoke(targets: list[SmokeTarget], config: net.NetConfig | None = None) -> list[RouteOutcome]:
    """Every route at once; one outcome per target, in the order given."""
    return list(await asyncio.gather(*(_check_safely(t, config) for t in targets)))
