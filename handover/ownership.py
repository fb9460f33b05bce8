"""Who owns what: the services a store depends on, joined with what the audit detected.

The latest finished audit names the DNS provider, registrar, hosting and CDN
(``audits.providers.site_profile``, the same detection ``dns.provider_inventory``
reports), the analytics and error tracking scripts on the store's pages, and payment
scripts; the site's settings name its email sending service. A service the consultant
has not recorded yet is offered with that provider filled in. Nothing here writes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from audits.facts import AuditFacts
from audits.models import AuditRun
from audits.providers import site_profile
from launchready.models import Site, Subdomain
from monitoring.models import EscalationContact

from .envfile import refusal, secret_reason
from .models.ownership import Service

logger = logging.getLogger(__name__)

Kind = Service.Kind
KIND_ORDER = {kind: position for position, kind in enumerate(Kind)}

# Payment scripts on a store's pages: (provider, pieces of a script URL).
PAYMENT_SCRIPTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Stripe", ("js.stripe.com",)),
    ("PayPal", ("paypal.com/sdk", "paypalobjects.com")),
    ("Adyen", ("adyen.com/checkoutshopper", "checkoutshopper-live.adyen.com")),
    ("Mollie", ("js.mollie.com",)),
    ("Braintree", ("js.braintreegateway.com",)),
    ("Square", ("web.squarecdn.com", "js.squareup.com")),
    ("Klarna", ("x.klarnacdn.net", "klarna.com/web-sdk")),
    ("Shop Pay", ("shop.app/pay",)),
)


@dataclass(frozen=True)
class DetectedProvider:
    kind: str  # a Service.Kind value
    provider: str  # "Cloudflare", "Google Analytics 4, Hotjar"
    via: str  # how we know: "NS ns1.cloudflare.com", "page markup", "site settings"


def refuse_secret(value: str) -> str | None:
    """The sentence to show when ``value`` looks like a credential (reuses the env detector)."""
    reason = secret_reason(value)
    return refusal(reason) if reason else None


def latest_run(site: Site) -> AuditRun | None:
    return AuditRun.objects.filter(site=site, status=AuditRun.Status.DONE).order_by("-created_at").first()


def facts_of(run: AuditRun | None) -> AuditFacts | None:
    """The run's facts as typed objects; None when there is no run or its facts cannot be read."""
    if run is None or not run.facts:
        return None
    try:
        return AuditFacts.from_dict(run.facts)
    except Exception:  # facts saved by an older release: the handover goes on without them
        logger.warning("facts of audit run %s could not be read", run.uuid, exc_info=True)
        return None


def _names(groups: Iterable[Iterable[str]]) -> str:
    return ", ".join(dict.fromkeys(name for group in groups for name in group))


def payment_providers(facts: AuditFacts) -> list[str]:
    found: dict[str, None] = {}
    for page in facts.storefront_pages():
        for script in page.html.scripts if page.html else []:
            src = script.src.lower()
            for name, pieces in PAYMENT_SCRIPTS:
                if src and any(piece in src for piece in pieces):
                    found[name] = None
    return list(found)


def detected_providers(site: Site, facts: AuditFacts | None) -> dict[str, DetectedProvider]:
    """Per service kind, the provider the audit (or the site's settings) names."""
    found: dict[str, DetectedProvider] = {}
    if site.sending_service and site.sending_service != "other":
        found[Kind.EMAIL] = DetectedProvider(Kind.EMAIL, site.get_sending_service_display(), "site settings")
    if facts is None:
        return found
    profile = site_profile(facts)
    for kind, match in ((Kind.DNS, profile.dns), (Kind.HOSTING, profile.hosting), (Kind.CDN, profile.cdn)):
        if match is not None:
            found[kind] = DetectedProvider(kind, match.name, match.via)
    if profile.registrar:
        found[Kind.REGISTRAR] = DetectedProvider(
            Kind.REGISTRAR, profile.registrar, "registration data (RDAP)"
        )
    pages = [p.html for p in facts.storefront_pages() if p.html]
    analytics = _names(h.analytics for h in pages)
    if analytics:
        found[Kind.ANALYTICS] = DetectedProvider(Kind.ANALYTICS, analytics, "scripts on the store's pages")
    trackers = _names(h.error_tracking for h in pages)
    if trackers:
        found[Kind.ERROR_TRACKING] = DetectedProvider(
            Kind.ERROR_TRACKING, trackers, "scripts on the store's pages"
        )
    payments = payment_providers(facts)
    if payments:
        found[Kind.PAYMENTS] = DetectedProvider(
            Kind.PAYMENTS, ", ".join(payments), "scripts on the store's pages"
        )
    return found


@dataclass(frozen=True)
class OwnershipRow:
    """One line of the ownership table: a recorded service, or a detected one not recorded yet."""

    kind: str
    kind_label: str
    service: Service | None = None
    detected: DetectedProvider | None = None

    @property
    def provider(self) -> str:
        if self.service is not None and self.service.provider:
            return self.service.provider
        return self.detected.provider if self.detected else ""

    @property
    def is_recorded(self) -> bool:
        return self.service is not None

    @property
    def differs_from_detection(self) -> bool:
        """The recorded provider is not what the audit saw (moved, or a typo worth a look)."""
        if self.service is None or self.detected is None or not self.service.provider:
            return False
        return self.service.provider.strip().lower() not in self.detected.provider.lower()


@dataclass(frozen=True)
class Ownership:
    rows: list[OwnershipRow]
    subdomains: list[Subdomain]
    contacts: list[EscalationContact]
    run: AuditRun | None = None
    missing_kinds: list[str] = field(default_factory=list)  # kinds neither recorded nor detected


def ownership_rows(services: Iterable[Service], detected: dict[str, DetectedProvider]) -> list[OwnershipRow]:
    """Recorded services in kind order, each with its detection; then detections not recorded."""
    services = sorted(services, key=lambda s: (KIND_ORDER[Kind(s.kind)], s.id or 0))
    recorded_kinds = {s.kind for s in services}
    rows = [OwnershipRow(s.kind, s.label, service=s, detected=detected.get(s.kind)) for s in services]
    rows += [
        OwnershipRow(kind, Kind(kind).label, detected=d)
        for kind, d in sorted(detected.items(), key=lambda item: KIND_ORDER[Kind(item[0])])
        if kind not in recorded_kinds
    ]
    return rows


def ownership(site: Site, *, run: AuditRun | None = None, facts: AuditFacts | None = None) -> Ownership:
    """The site's ownership inventory: services, detections, subdomains, escalation contacts.

    Pass the latest run and its facts when the caller has them already (the document does).
    """
    if run is None:
        run = latest_run(site)
        facts = facts_of(run)
    detected = detected_providers(site, facts)
    rows = ownership_rows(Service.objects.filter(site=site), detected)
    shown = {r.kind for r in rows}
    return Ownership(
        rows=rows,
        subdomains=list(Subdomain.objects.filter(site=site).order_by("name")),
        contacts=list(EscalationContact.objects.filter(workspace_id=site.workspace_id)),
        run=run,
        missing_kinds=[k.label for k in Kind if k not in shown and k != Kind.OTHER],
    )
