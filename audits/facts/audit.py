"""All the facts of one audit run."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from audits.facts.base import Unavailable
from audits.facts.dns import DnsFacts, RdapFacts
from audits.facts.email import EmailFacts
from audits.facts.exposure import ExposureProbe
from audits.facts.performance import LighthouseFacts, LoadTiming, RouteDiscovery, RouteTiming
from audits.facts.setup import DeployRecords, MonitoringSetup
from audits.facts.site import SiteDeclaration
from audits.facts.tls import TlsFacts
from audits.facts.web import AssetFacts, OriginProbe, PageFacts, RedirectChain
from audits.serialization import Serializable


@dataclass(frozen=True)
class AuditFacts(Serializable):
    site: SiteDeclaration
    collected_at: datetime | None = None
    dns: DnsFacts | None = None
    rdap: RdapFacts | None = None
    redirects: list[RedirectChain] = field(default_factory=list)
    pages: list[PageFacts] = field(default_factory=list)
    assets: list[AssetFacts] = field(default_factory=list)
    tls: list[TlsFacts] = field(default_factory=list)
    origin_probes: list[OriginProbe] = field(default_factory=list)
    exposure: list[ExposureProbe] = field(default_factory=list)
    routes: list[RouteTiming] = field(default_factory=list)
    # The store's real paths found before timing (sitemap, homepage links, platform
    # conventions); None: discovery did not run. Shown to the owner for confirmation.
    discovered_routes: RouteDiscovery | None = None
    load: list[LoadTiming] | None = None  # None: the load probe did not run
    lighthouse: LighthouseFacts | None = None  # None: no Lighthouse source configured
    email: EmailFacts | None = None  # None: email was not probed (the email.* checks are skipped)
    monitoring_setup: MonitoringSetup | None = None  # None: no account (CLI): inventory checks skipped
    deploy_records: DeployRecords | None = None  # None: no account (CLI): deploy.* record checks skipped
    # A whole stage that could not run (time budget exhausted…): its checks are inconclusive.
    stage_unavailable: dict[str, Unavailable] = field(default_factory=dict)
    # LAUNCHREADY_ALLOWED_TARGET_NETWORKS, copied by the probes: addresses in these networks
    # count as public (the sandbox), so dns.private_address does not flag them.
    allowed_networks: list[str] = field(default_factory=list)

    def chain(self, entry_url: str) -> RedirectChain | None:
        return next((c for c in self.redirects if c.entry_url == entry_url), None)

    def page(self, url: str) -> PageFacts | None:
        return next((p for p in self.pages if p.url == url), None)

    def root_page(self, host: str) -> PageFacts | None:
        """The page fetched for a host's root (prefers HTTPS)."""
        candidates = [p for p in self.pages if p.host == host and urlsplit(p.url).path in ("", "/")]
        candidates.sort(key=lambda p: not p.is_https)
        return candidates[0] if candidates else None

    def home(self) -> PageFacts | None:
        """The canonical homepage."""
        return next((p for p in self.pages if p.route == "home"), None) or self.root_page(
            self.site.canonical_host
        )

    def storefront_pages(self) -> list[PageFacts]:
        """Readable HTML pages of the store itself: the critical routes and whatever the
        apex and www answer (not admin, staging or API hosts)."""
        store_hosts = {self.site.apex, self.site.www}
        return [
            p
            for p in self.pages
            if p.html and p.status == 200 and not p.unavailable and (p.route or p.served_by in store_hosts)
        ]

    def tls_for(self, host: str) -> TlsFacts | None:
        return next((t for t in self.tls if t.host == host), None)
