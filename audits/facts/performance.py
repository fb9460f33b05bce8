"""Route timings, the routes found on the store, the light-load probe and Lighthouse."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from audits.facts.base import Unavailable, percentile
from audits.serialization import Serializable
from launchready.routes import PAGE_BUDGET_MS


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
    server_errors: int = 0  # among the errors, HTTP 5xx answers (the server was reached)
    not_found: int | None = None  # 404 or 410: the route does not exist, nothing was timed
    source: str = ""  # where the path came from when it was not declared: "sitemap", "homepage"…

    @property
    def p50(self) -> float | None:
        return percentile(self.ttfb_ms, 50)

    @property
    def p95(self) -> float | None:
        return percentile(self.ttfb_ms, 95)

    @property
    def max_ms(self) -> float | None:
        return max(self.ttfb_ms) if self.ttfb_ms else None

    @property
    def p95_low(self) -> float | None:
        """The true p95 is at least this, with 90 % confidence (see ``p95_lower_bound``)."""
        return p95_lower_bound(self.ttfb_ms)


P95_CONFIDENCE = 0.90


def p95_lower_bound(values: list[float], confidence: float = P95_CONFIDENCE) -> float | None:
    """A distribution-free lower confidence bound of the 95th percentile.

    Each sample falls at or below the true p95 with probability 0.95, so the number of
    samples at or below it is Binomial(n, 0.95). The k-th smallest sample is at or below
    the true p95 when at least k samples are, which happens with probability
    P(Binomial(n, 0.95) >= k). The bound is the largest k-th sample for which that
    probability is at least ``confidence``: with 20 samples, the 18th (the third largest).
    No randomness: the same samples always give the same bound, so a route that sits at
    its budget is decided the same way run after run.
    """
    if not values:
        return None
    ordered = sorted(values)
    n = len(ordered)
    k = 1
    for candidate in range(n, 0, -1):
        at_least = sum(math.comb(n, i) * 0.95**i * 0.05 ** (n - i) for i in range(candidate, n + 1))
        if at_least >= confidence:
            k = candidate
            break
    return ordered[k - 1]


@dataclass(frozen=True)
class DiscoveredRoute(Serializable):
    """A path found on the store for one of the standard route names."""

    name: str  # "product", "listing", "cart"…
    path: str
    source: str  # "sitemap", "homepage", "platform" (a convention of the detected platform)
    evidence: str = ""  # where exactly: "linked from the homepage", "in /sitemap.xml"…


@dataclass(frozen=True)
class RouteDiscovery(Serializable):
    """What the audit found about the store's real paths before timing them."""

    platform: str = ""  # "Shopify", "WooCommerce", "headless"… or "" when not recognised
    routes: list[DiscoveredRoute] = field(default_factory=list)
    sitemaps: list[str] = field(default_factory=list)  # sitemap URLs read
    notes: list[str] = field(default_factory=list)  # what could not be read, in plain words
    unavailable: Unavailable | None = None

    def route(self, name: str) -> DiscoveredRoute | None:
        return next((r for r in self.routes if r.name == name), None)


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
