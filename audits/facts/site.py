"""The site as its owner declared it (or as given on the CLI)."""

from __future__ import annotations

from dataclasses import dataclass, field

from audits.serialization import Serializable
from launchready.routes import PAGE_BUDGET_MS, STANDARD_ROUTES, default_budget, route_kind


@dataclass(frozen=True)
class RouteSpec(Serializable):
    name: str
    path: str
    kind: str = "page"  # "page" or "api"
    budget_ms: int = PAGE_BUDGET_MS
    source: str = ""  # "" declared by the owner; "sitemap", "homepage", "platform" when found

    @classmethod
    def standard(cls, name: str, path: str | None = None, budget_ms: int | None = None) -> RouteSpec:
        """Build a route with the standard kind and budget for its name and path."""
        path = path or STANDARD_ROUTES.get(name, ("/", "page"))[0]
        kind = route_kind(name, path)
        budget = budget_ms or default_budget(kind)
        return cls(name=name, path=path, kind=kind, budget_ms=budget)


@dataclass(frozen=True)
class SiteDeclaration(Serializable):
    domain: str  # the registered domain, normalised (launchready.domains)
    canonical: str = "www"  # "apex" or "www"
    subdomains: list[str] = field(default_factory=list)  # declared labels: "app", "admin"…
    campaign_urls: list[str] = field(default_factory=list)
    routes: list[RouteSpec] = field(default_factory=list)
    error_tracking_declared: str = ""  # e.g. "Sentry (server side)": satisfies the check
    analytics_declared: str = ""
    ownership_verified: bool = False
    # The verification token, so the load probe can check the proof again just before it
    # runs (the token is published in DNS or on the store: it is no secret).
    ownership_token: str = ""
    # Email sending settings: the service (Site.sending_service key), the From address of
    # order emails and the DKIM selectors the owner declared.
    sending_service: str = ""
    from_address: str = ""
    dkim_selectors: list[str] = field(default_factory=list)

    @property
    def apex(self) -> str:
        return self.domain

    @property
    def www(self) -> str:
        return f"www.{self.domain}"

    @property
    def canonical_host(self) -> str:
        return self.www if self.canonical == "www" else self.apex

    @property
    def canonical_url(self) -> str:
        return f"https://{self.canonical_host}/"

    def declared_hosts(self) -> list[str]:
        return [f"{label}.{self.domain}" for label in self.subdomains]
