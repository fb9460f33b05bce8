"""Server-rendered SVG charts (no JavaScript, no inline styles: the CSP forbids both).

Functions here are pure: they turn rollups into shapes; the templates draw them
and the classes come from ``monitoring/static/monitoring/monitoring.css``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime, timedelta

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


@functools.lru_cache(maxsize=8)
def _day_slots(today: date, n: int) -> tuple[tuple[date, int, str], ...]:
    """(day, x, "28 Nov") for the n days up to today: the same for every monitor of a page."""
    days = [today - timedelta(days=n - 1 - i) for i in range(n)]
    return tuple((day, i * (BAR_W + BAR_GAP), f"{day:%d %b}") for i, day in enumerate(days))


def uptime_bars(days: dict[date, tuple[int, int]], today: date, n: int = BAR_DAYS) -> list[Bar]:
    """One bar per day, oldest first; ``days`` maps a day to (checks, failures)."""
    bars = []
    for day, x, label in _day_slots(today, n):
        checks, failures = days.get(day, (0, 0))
        if not checks:
            bars.append(Bar(x=x, css="bar-none", title=f"{label}: no data"))
        else:
            uptime = 100 * (checks - failures) / checks
            bars.append(Bar(x=x, css=bar_class(checks, failures), title=f"{label}: {uptime:.2f}% up"))
    return bars


def uptime_bar_svg(bars: list[Bar], uptime: float | None) -> SafeString:
    """The 90-day bar as SVG markup. Built here rather than in a template loop: a
    workspace overview draws 90 rectangles per monitor, and the template engine spent
    most of the page's time on them (see BENCHMARKS.md, dashboard)."""
    width = len(bars) * (BAR_W + BAR_GAP)
    label = f"Uptime over the last {len(bars)} days" + (f": {uptime:.2f}%" if uptime is not None else "")
    # Titles and the label are made here from dates and numbers only (no user input),
    # so they need no escaping: escaping 16,000 titles per page was a third of its time.
    rects = "".join(
        f'<rect class="{b.css}" x="{b.x}" y="0" width="{BAR_W}" height="{BAR_H}"><title>{b.title}</title></rect>'
        for b in bars
    )
    return mark_safe(  # noqa: S308 - dates and numbers we formatted, see above
        f'<svg class="uptime-bar" viewBox="0 0 {width} {BAR_H}" width="{width}" height="{BAR_H}" '
        f'role="img" aria-label="{label}">{rects}</svg>'
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


# ----------------------------------------------------------------------------- stored bars
# A page does not draw 90 days per monitor on every request: the finished days are drawn
# once a day into ``UptimeBar.svg`` (``monitoring.rollups.refresh_bars``), and a page
# adds today's rectangle. Runs of days all up, or all without data, are one rectangle
# with one title; a day with failures keeps its own, with its uptime.

DAY_STEP = BAR_W + BAR_GAP


@dataclass(frozen=True)
class FinishedDays:
    through: date
    svg: str
    checks: int
    failures: int


def _rect(css: str, x: int, days: int, title: str) -> str:
    width = days * DAY_STEP - BAR_GAP
    return f'<rect class="{css}" x="{x}" y="0" width="{width}" height="{BAR_H}"><title>{title}</title></rect>'


def _run_title(first: date, last: date, css: str) -> str:
    what = "up" if css == "bar-up" else "no data"
    return f"{first:%d %b}: {what}" if first == last else f"{first:%d %b} – {last:%d %b}: {what}"


def finished_days(days: dict[date, tuple[int, int]], through: date, n: int = BAR_DAYS - 1) -> FinishedDays:
    """Rectangles for the ``n`` days ending at ``through`` (x from 0), and their totals.

    Titles are made from dates and numbers only (no user input): the markup is safe."""
    parts: list[str] = []
    run: tuple[str, int, date, date] | None = None  # css, x, first day, last day
    for i in range(n):
        day = through - timedelta(days=n - 1 - i)
        checks, failures = days.get(day, (0, 0))
        css = bar_class(checks, failures)
        if css in ("bar-up", "bar-none"):
            if run and run[0] == css:
                run = (css, run[1], run[2], day)
            else:
                if run:
                    parts.append(
                        _rect(run[0], run[1], (run[3] - run[2]).days + 1, _run_title(run[2], run[3], run[0]))
                    )
                run = (css, i * DAY_STEP, day, day)
            continue
        if run:
            parts.append(
                _rect(run[0], run[1], (run[3] - run[2]).days + 1, _run_title(run[2], run[3], run[0]))
            )
            run = None
        uptime = 100 * (checks - failures) / checks
        parts.append(_rect(css, i * DAY_STEP, 1, f"{day:%d %b}: {uptime:.2f}% up"))
    if run:
        parts.append(_rect(run[0], run[1], (run[3] - run[2]).days + 1, _run_title(run[2], run[3], run[0])))
    window = [days.get(through - timedelta(days=k), (0, 0)) for k in range(n)]
    return FinishedDays(
        through=through,
        svg="".join(parts),
        checks=sum(c for c, _ in window),
        failures=sum(f for _, f in window),
    )


def bar_with_today(
    finished: FinishedDays, today: date, counts: tuple[int, int]
) -> tuple[SafeString, float | None]:
    """The 90-day bar: the stored finished days (``finished.through`` must be the day before
    ``today``) and today's rectangle; with the 90-day uptime."""
    n = BAR_DAYS
    checks, failures = counts
    css = bar_class(checks, failures)
    if not checks:
        title = f"{today:%d %b} (today): no data yet"
    else:
        title = f"{today:%d %b} (today): {100 * (checks - failures) / checks:.2f}% up"
    total_checks, total_failures = finished.checks + checks, finished.failures + failures
    uptime = 100.0 * (total_checks - total_failures) / total_checks if total_checks else None
    width = n * DAY_STEP
    label = f"Uptime over the last {n} days" + (f": {uptime:.2f}%" if uptime is not None else ": no data yet")
    svg = mark_safe(  # noqa: S308 - dates and numbers we formatted (finished_days, here)
        f'<svg class="uptime-bar" viewBox="0 0 {width} {BAR_H}" width="{width}" height="{BAR_H}" '
        f'role="img" aria-label="{label}">{finished.svg}{_rect(css, (n - 1) * DAY_STEP, 1, title)}</svg>'
    )
    return svg, uptime
