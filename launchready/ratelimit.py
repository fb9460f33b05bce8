"""Fixed-window counters in the shared cache, for limits that must hold across processes.

``hit("test-alerts:<workspace>", limit=10, window_s=3600)`` counts one event and says
whether it is within the limit. The cache's atomic ``incr`` means concurrent
requests cannot pass a limit together; the price of fixed windows is up to twice
the limit across a window's turn, which is fine for abuse limits.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

from django.core.cache import cache

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after_s: int  # until the window turns; 0 when allowed

    @property
    def retry_after_minutes(self) -> int:
        return max(1, math.ceil(self.retry_after_s / 60))


def _window(window_s: int, now: float | None) -> tuple[int, int]:
    """The current window's number and the seconds until the next one starts."""
    now = time.time() if now is None else now
    window = int(now // window_s)
    return window, max(1, math.ceil((window + 1) * window_s - now))


def hit_all(
    limits: list[tuple[str, int]], window_s: int, *, now: float | None = None
) -> tuple[int | None, Verdict]:
    """Count one event under every ``(key, limit)``, or under none.

    Returns the index of the first limit that refused it (its counts are taken back, so
    a refused event costs nothing) and the verdict; ``(None, allowed)`` when all allow
    it. Cache errors propagate: callers of several limits (invitation emails) refuse
    rather than send without limits.
    """
    window, retry = _window(window_s, now)
    counted: list[str] = []
    for index, (key, limit) in enumerate(limits):
        counter = f"ratelimit:{key}:{window}"
        cache.add(counter, 0, timeout=window_s * 2)
        counted.append(counter)
        if cache.incr(counter) > limit:
            for done in counted:
                cache.decr(done)
            return index, Verdict(False, retry)
    return None, Verdict(True, 0)


def hit(key: str, limit: int, window_s: int, *, now: float | None = None, fail_open: bool = True) -> Verdict:
    """Count one event under ``key``; allowed while the window's count stays within ``limit``.

    If the cache is unavailable the event is allowed (``fail_open``, e.g. heartbeat
    pings, where losing one is worse) or refused.
    """
    window, retry = _window(window_s, now)
    counter = f"ratelimit:{key}:{window}"
    try:
        cache.add(counter, 0, timeout=window_s * 2)
        count = cache.incr(counter)
    except Exception:  # any cache trouble
        logger.warning("rate limit %s skipped: the cache is unavailable", key, exc_info=True)
        return Verdict(fail_open, 0 if fail_open else retry)
    return Verdict(True, 0) if count <= limit else Verdict(False, retry)
