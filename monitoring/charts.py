"""Server-rendered SVG charts (no JavaScript, no inline styles: the CSP forbids both).

Functions here are pure: they turn rollups into shapes; the templates draw them
and the classes come from ``monitoring/static/monitoring/monitoring.css``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

BAR_DAYS = 90
BAR_W, BAR_GAP, BAR_H = 4, 1, 24


@dataclass(frozen=True)
class Bar:
    x: int
    css: str  # "bar-up", "bar-partial", "bar-down", "bar-none"
    title: str


def bar_class(checks: int, failures: int) -> str:
    if not checks:
        return "bar-none"
    uptime = (checks - failures) / checks
    if uptime >= 0.999:
        return "bar-up"
    return "bar-partial" if uptime >= 0.95 else "bar-down"


def uptime_bars(days: dict[date, tuple[int, int]], today: date, n: int = BAR_DAYS) -> list[Bar]:
    """One bar per day, oldest first; ``days`` maps a day to (checks, failures)."""
    bars = []
    for i in range(n):
        day = today - timedelta(days=n - 1 - i)
        checks, failures = days.get(day, (0, 0))
        title = (
            f"{day:%d %b}: no data"
            if not checks
            else f"{day:%d %b}: {100 * (checks - failures) / checks:.2f}% up"
        )
        bars.append(Bar(x=i * (BAR_W + BAR_GAP), css=bar_class(checks, failures), title=title))
    return bars


def uptime_bar_svg(bars: list[Bar], uptime: float | None) -> SafeString:
    """The 90-day bar as SVG markup. Built here rather than in a template loop: a
    workspace overview draws 90 rectangles per monitor, and the template engine spent
    most of the page's time on them (see BENCHMARKS.md, dashboard)."""
    width = len(bars) * (BAR_W + BAR_GAP)
    label = f"Uptime over the last {len(bars)} days" + (f": {uptime:.2f}%" if uptime is not None else "")
    rects = "".join(
        f'<rect class="{b.css}" x="{b.x}" y="0" width="{BAR_W}" height="{BAR_H}"><title>{escape(b.title)}</title></rect>'
        for b in bars
    )
    return mark_safe(  # noqa: S308 - every value above is escaped or a number we made
        f'<svg class="uptime-bar" viewBox="0 0 {width} {BAR_H}" width="{width}" height="{BAR_H}" '
        f'role="img" aria-label="{escape(label)}">{rects}</svg>'
    )


def uptime_pct(days: dict[date, tuple[int, int]]) -> float | None:
    checks = sum(c for c, _ in days.values())
    failures = sum(f for _, f in days.values())
    return 100.0 * (checks - failures) / checks if checks else None


@dataclass(frozen=True)
class LatencyChart:
    width: int
    height: int
    p50: str  # SVG polyline points
    p95: str
    max_ms: int
    empty: bool


def latency_chart(
    points: list[tuple[datetime, int | None, int | None]],
    start: datetime,
    end: datetime,
    width: int = 360,
    height: int = 60,
) -> LatencyChart:
    """Hourly p50/p95 as two polylines scaled to the largest p95 in the window."""
    usable = [(t, p50, p95) for t, p50, p95 in points if p50 is not None]
    if not usable:
        return LatencyChart(width, height, "", "", 0, True)
    top = max((p95 or p50) for _, p50, p95 in usable) or 1
    span = max((end - start).total_seconds(), 1)

    def xy(t: datetime, v: int) -> str:
        x = (t - start).total_seconds() / span * width
        y = height - (v / top) * (height - 4) - 2
        return f"{x:.1f},{y:.1f}"

    return LatencyChart(
        width,
        height,
        " ".join(xy(t, p50) for t, p50, _ in usable),
        " ".join(xy(t, p95 or p50) for t, p50, p95 in usable),
        top,
        False,
    )
