"""Shared pieces of the facts: why a fact is missing, route budgets, small helpers."""

from __future__ import annotations

import enum
import functools
import math
from dataclasses import dataclass
from urllib.parse import urlsplit

from audits.serialization import Serializable


class UnavailableKind(enum.StrEnum):
    TIMEOUT = "timeout"
    BLOCKED = "blocked"  # WAF challenge, bot shield 403
    RATE_LIMITED = "rate_limited"
    ERROR = "error"  # the probe itself failed in an unexpected way
    OUT_OF_TIME = "out_of_time"  # the audit's time budget ran out first


@dataclass(frozen=True)
class Unavailable(Serializable):
    """Why a fact is missing. ``reason`` is a short sentence shown to the founder."""

    reason: str
    kind: UnavailableKind = UnavailableKind.ERROR


@functools.lru_cache(maxsize=4096)
def host_of(url: str) -> str:
    # Cached: the rules ask for the host of the same few hundred URLs thousands of times
    # in one evaluation (half of its time was spent splitting URLs).
    return (urlsplit(url).hostname or "").lower()


def percentile(values: list[float], pct: float) -> float | None:
    """Nearest-rank percentile (no interpolation): p95 of 20 samples is the 19th."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]
