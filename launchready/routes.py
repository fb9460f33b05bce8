"""The standard critical routes of a store (DESIGN.md, "The audit CLI").

One table for the Site model, the audit facts and the CLI. Plain Python: the audit's
pure layers import it without Django.
"""

from __future__ import annotations

# name → (default path, "page" or "api")
STANDARD_ROUTES: dict[str, tuple[str, str]] = {
    "home": ("/", "page"),
    "listing": ("/collections/all", "page"),
    "product": ("/products/example", "page"),
    "cart": ("/cart", "page"),
    "login": ("/account/login", "page"),
    "checkout": ("/checkout", "page"),
    "order": ("/api/orders", "api"),
}
PAGE_BUDGET_MS = 800  # p95 budget of a page
API_BUDGET_MS = 500  # p95 budget of an API call


def route_kind(name: str, path: str) -> str:
    """A path under /api/ is an API call; standard names know their kind; else a page."""
    if path.startswith("/api/"):
        return "api"
    return STANDARD_ROUTES.get(name, ("", "page"))[1]


def default_budget(kind: str) -> int:
    return API_BUDGET_MS if kind == "api" else PAGE_BUDGET_MS
