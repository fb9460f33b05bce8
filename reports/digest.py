"""The consultant's weekly portfolio digest: one email, one line per client workspace, worst first.

The rows come from ``launchready.portfolio.portfolio_rows`` (the portfolio page's
selector), so the digest reads every workspace in a fixed number of queries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse

from launchready.portfolio import PortfolioRow, portfolio_rows

from .content import TONE_COLOURS, format_pct
from .render import MAX_SUBJECT, Rendered


@dataclass(frozen=True)
class DigestLine:
    name: str
    url: str
    verdict: str
    summary: str  # blockers, uptime, incidents, expiry, last deploy in one sentence
    tone: str

    @property
    def colour(self) -> str:
        return TONE_COLOURS[self.tone]


@dataclass(frozen=True)
class DigestContent:
    subject: str
    sentence: str
    lines: list[DigestLine]
    portfolio_url: str
    preferences_url: str


def _line(row: PortfolioRow) -> DigestLine:
    parts = []
    if row.open_blockers:
        parts.append(f"{row.open_blockers} blocker{'s' if row.open_blockers != 1 else ''} open")
    if row.open_incidents:
        parts.append(f"{row.open_incidents} incident{'s' if row.open_incidents != 1 else ''} open")
    parts.append(
        f"uptime {format_pct(row.uptime_7d)}" if row.uptime_7d is not None else "uptime not measured"
    )
    if row.expiry_soon and row.next_expiry and row.expiry_days is not None:
        parts.append(
            f"{row.next_expiry.what.lower()} {row.next_expiry.host} expires in {row.expiry_days} days"
        )
    if row.last_deploy and row.last_deploy.failed:
        parts.append(f"last deploy {row.last_deploy.version} failed its smoke test")
    if row.unaudited_sites:
        parts.append(f"{row.unaudited_sites} site{'s' if row.unaudited_sites != 1 else ''} not audited")
    tone = "bad" if row.needs_attention else ("good" if row.verdict_key == "ready" else "warn")
    return DigestLine(
        name=" ".join(row.workspace.name.split()),
        url=settings.SITE_URL + reverse("workspace_overview", kwargs={"workspace": row.workspace.uuid}),
        verdict=row.verdict_label,
        summary=", ".join(parts),
        tone=tone,
    )


def build(user, now: datetime) -> DigestContent:
    rows = portfolio_rows(user, now=now)
    attention = sum(1 for r in rows if r.needs_attention)
    n = len(rows)
    if attention:
        subject = f"{attention} of {n} client{'s' if n != 1 else ''} need attention"
        sentence = f"{attention} of your {n} workspaces need attention this week; the worst is first."
    else:
        subject = f"All {n} clients fine, nothing to do"
        sentence = f"None of your {n} workspaces needs attention this week."
    return DigestContent(
        subject=subject,
        sentence=sentence,
        lines=[_line(r) for r in rows],
        portfolio_url=settings.SITE_URL + reverse("portfolio"),
        preferences_url=settings.SITE_URL + reverse("reports_preferences"),
    )


def render(c: DigestContent, *, unsubscribe: str) -> Rendered:
    context = {"c": c, "unsubscribe_url": unsubscribe}
    return Rendered(
        subject=f"Portfolio: {c.subject}"[:MAX_SUBJECT],
        text=render_to_string("reports/email/digest.txt", context),
        html=render_to_string("reports/email/digest.html", context),
    )
