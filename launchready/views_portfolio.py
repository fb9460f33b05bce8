"""The consultant's portfolio page: every workspace of the user on one sortable table.

Sorting and filtering are GET parameters read on the server, so the page works
without JavaScript and a sorted, filtered view can be bookmarked or shared with a
colleague (who sees only their own workspaces).
"""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from monitoring import rollups

from . import fragments, pagecache, portfolio

VERDICT_FILTER_CHOICES = [("", "Any verdict"), *portfolio.VERDICT_KEY_LABELS.items()]

# The table's sortable columns, in order: (sort key, header, first direction when clicked).
# Counts and dates start with the largest / newest first; uptime with the worst first.
COLUMNS = [
    ("name", "Workspace", "asc"),
    ("verdict", "Verdict", "asc"),
    ("blockers", "Open blockers", "desc"),
    ("uptime", "Uptime (7 days)", "asc"),
    ("incidents", "Open incidents", "desc"),
    ("expiry", "Next expiry", "asc"),
    ("audit", "Last audit", "desc"),
    ("deploy", "Last deploy", "desc"),
]
SORT_CHOICES = [("attention", "Needs attention first")] + [(key, label) for key, label, _ in COLUMNS]


class PortfolioFilter(forms.Form):
    q = forms.CharField(label="Workspace name contains", required=False, max_length=100)
    verdict = forms.ChoiceField(label="Verdict", choices=VERDICT_FILTER_CHOICES, required=False)
    attention = forms.BooleanField(label="Only workspaces that need attention", required=False)
    sort = forms.ChoiceField(choices=SORT_CHOICES, required=False)
    dir = forms.ChoiceField(choices=[("asc", "Ascending"), ("desc", "Descending")], required=False)


@dataclass(frozen=True)
class Header:
    key: str
    label: str
    url: str  # the link that sorts by this column (or flips its direction)
    aria_sort: str  # "ascending" / "descending" on the sorted column, "" elsewhere
    next_direction: str  # what a click does, in words for screen readers


def _headers(params: QueryDict, sort: str, direction: str) -> list[Header]:
    headers = []
    for key, label, first in COLUMNS:
        if key == sort:
            aria = "ascending" if direction == "asc" else "descending"
            new_direction = "desc" if direction == "asc" else "asc"
        else:
            aria, new_direction = "", first
        query = params.copy()
        query["sort"], query["dir"] = key, new_direction
        headers.append(
            Header(
                key=key,
                label=label,
                url="?" + query.urlencode(),
                aria_sort=aria,
                next_direction="ascending" if new_direction == "asc" else "descending",
            )
        )
    return headers


def _rows(request: HttpRequest) -> list[portfolio.PortfolioRow]:
    """Every workspace's row, worst first. Each row is kept per user and workspace version
    (and the hourly rollup's): a change in one of a consultant's 50 workspaces draws that
    workspace's row again, not the 50 (their queries read only the workspaces drawn)."""
    keys = fragments.keys(
        "portfolio-row",
        pagecache.my_workspace_ids(request),
        request.user.pk,
        rollups.bars_version(),
        timezone.localdate().isoformat(),
    )
    found = cache.get_many(list(keys.values()))
    missing = [ws for ws, k in keys.items() if k not in found]
    drawn = portfolio.portfolio_rows(request.user, workspace_ids=missing)
    cache.set_many({keys[row.workspace.pk]: row for row in drawn}, fragments.TTL)
    return sorted([*found.values(), *drawn], key=lambda row: row.attention_key)


@login_required
@require_http_methods(["GET", "HEAD"])
@pagecache.user_page(also=rollups.bars_version, params=PortfolioFilter.base_fields)
def portfolio_page(request: HttpRequest) -> HttpResponse:
    form = PortfolioFilter(request.GET)
    # A bad parameter (a sort key we do not know) is shown as a form error and ignored.
    data = form.cleaned_data if form.is_valid() else {}
    sort = data.get("sort") or "attention"
    direction = data.get("dir") or "asc"
    every_row = _rows(request)
    rows = portfolio.filter_rows(
        every_row,
        text=data.get("q", ""),
        verdict=data.get("verdict", ""),
        attention=data.get("attention", False),
    )
    if sort != "attention":
        rows = portfolio.sort_rows(rows, sort, descending=direction == "desc")
    params = request.GET.copy()
    context = {
        "form": form,
        "rows": rows,
        "total": len(every_row),
        "attention_count": sum(1 for r in every_row if r.needs_attention),
        "filtered": bool(data.get("q") or data.get("verdict") or data.get("attention")),
        "headers": _headers(params, sort, direction),
        "sort": sort,
        "direction": direction,
    }
    return render(request, "workspace/portfolio.html", context)
