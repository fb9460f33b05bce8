"""Route timings, the light-load probe and Lighthouse."""

from __future__ import annotations

from dataclasses import dataclass, field

from audits.facts.base import PAGE_BUDGET_MS, Unavailable, percentile
from audits.serialization import Serializable


@dataclass(frozen=True)
class RouteTiming(Serializable):
    """N sequential samples of one critical route."""

    name: str
    url: str
    kind: str = "page"
    budget_ms: int = PAGE_BUDGET_MS
    ttfb_ms: list[float] = field(default_factory=list)  # successful samples only
    total_ms: list[float] = field(default_factory=list)
    samples: int = 0  # attempted
    errors: int = 0  # 5xx, connect errors and timeouts among the attempts
    error_examples: list[str] = field(default_factory=list)
    unavailable: Unavailable | None = None

    @property
    def p50(self) -> float | None:
        return percentile(self.ttfb_ms, 50)

    @property
    def p95(self) -> float | None:
        return percentile(self.ttfb_ms, 95)

    @property
    def max_ms(self) -> float | None:
        return max(self.ttfb_ms) if self.ttfb_ms else None


@dataclass(frozen=True)
class LoadTiming(Serializable):
    """The light-load probe of one route (verified owners only)."""

    name: str
    url: str
    concurrency: int
    ttfb_ms: list[float] = field(default_factory=list)
    idle_p95_ms: float | None = None
    requests: int = 0
    errors: int = 0
    unavailable: Unavailable | None = None

    @property
    def p95(self) -> float | None:
        return percentile(self.ttfb_ms, 95)


@dataclass(frozen=True)
class LighthouseFacts(Serializable):
    url: str
    source: str  # e.g. "PageSpeed Insights"
    performance: int | None = None  # 0–100, mobile
    unavailable: Unavailable | None = None
