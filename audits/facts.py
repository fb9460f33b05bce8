"""Facts: what the probes observed, as typed, JSON-serialisable dataclasses.

Data flows one way: probe → facts → rules → findings. Probes (the only code that does
network I/O) fill these classes; rules (``audits.rules``) read them and never touch
the network. ``AuditFacts`` is stored as JSON on the AuditRun and printed by the CLI,
so every class round-trips through ``to_dict()`` / ``from_dict()``.

Missing data is explicit. A fact that could not be collected (timeout, blocked by a
WAF, rate limited) carries ``unavailable=Unavailable(reason)`` and the rules report
``inconclusive`` for it. ``None`` for a whole section (``rdap``, ``load``,
``lighthouse``…) means the probe was not run, and the rules say the check was skipped.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from audits.serialization import Serializable

# Standard route names: path and whether each is a page or an API call (DESIGN.md).
# Mirrors CriticalRoute.STANDARD; a test keeps the two in step.
STANDARD_ROUTES: dict[str, tuple[str, str]] = {
    "home": ("/", "page"),
    "listing": ("/collections/all", "page"),
    "product": ("/products/example", "page"),
    "cart": ("/cart", "page"),
    "login": ("/account/login", "page"),
    "checkout": ("/checkout", "page"),
    "order": ("/api/orders", "api"),
}
PAGE_BUDGET_MS = 800
API_BUDGET_MS = 500


class DnsStatus(enum.StrEnum):
    OK = "ok"
    NXDOMAIN = "nxdomain"
    NODATA = "nodata"
    SERVFAIL = "servfail"
    TIMEOUT = "timeout"
    REFUSED = "refused"
    ERROR = "error"  # malformed reply or network error on our side
    BLOCKED = "blocked"  # the name server's address was refused by the SSRF guard


class UnavailableKind(enum.StrEnum):
    TIMEOUT = "timeout"
    BLOCKED = "blocked"  # WAF challenge, bot shield 403
    RATE_LIMITED = "rate_limited"
    ERROR = "error"  # the probe itself failed in an unexpected way
    OUT_OF_TIME = "out_of_time"  # the audit's time budget ran out first


@dataclass(frozen=True)
class Unavailable(Serializable):
    """Why a fact is missing. ``reason`` is a short sentence shown to the founder."""

    reason: str
    kind: UnavailableKind = UnavailableKind.ERROR


# --- The site as declared by its owner (or on the CLI) ---------------------------------


@dataclass(frozen=True)
class RouteSpec(Serializable):
    name: str
    path: str
    kind: str = "page"  # "page" or "api"
    budget_ms: int = PAGE_BUDGET_MS

    @classmethod
    def standard(cls, name: str, path: str | None = None, budget_ms: int | None = None) -> RouteSpec:
        """Build a route with the standard kind and budget for its name and path."""
        std_path, std_kind = STANDARD_ROUTES.get(name, ("/", "page"))
        path = path or std_path
        kind = "api" if path.startswith("/api/") else std_kind
        budget = budget_ms or (API_BUDGET_MS if kind == "api" else PAGE_BUDGET_MS)
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


# --- DNS --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DnsRecord(Serializable):
    rtype: str  # "A", "AAAA", "CNAME", "NS", "CAA"…
    value: str
    ttl: int


@dataclass(frozen=True)
class DnsAnswer(Serializable):
    """One query: ``name``/``rtype`` as asked, the status and what came back.

    ``cname_chain`` lists the CNAME targets the resolver followed, in order. A chain
    with status ``nxdomain`` means the last target does not exist (a dangling CNAME).
    """

    name: str
    rtype: str
    status: DnsStatus
    records: list[DnsRecord] = field(default_factory=list)
    cname_chain: list[str] = field(default_factory=list)
    error: str = ""

    def __post_init__(self) -> None:
        # The network layer's chain starts with the name asked; keep only the targets.
        if self.cname_chain and self.cname_chain[0].lower().rstrip(".") == self.name.lower().rstrip("."):
            object.__setattr__(self, "cname_chain", list(self.cname_chain[1:]))

    @property
    def values(self) -> list[str]:
        return [r.value for r in self.records if r.rtype == self.rtype]

    @property
    def inconclusive(self) -> bool:
        """No usable answer because of the query itself, not because of the zone."""
        return self.status in (DnsStatus.TIMEOUT, DnsStatus.REFUSED, DnsStatus.ERROR, DnsStatus.BLOCKED)


@dataclass(frozen=True)
class HostDns(Serializable):
    """Resolution of one host name (apex, www, a declared or discovered subdomain)."""

    name: str
    source: str  # "apex", "www", "declared", "common", "ct"
    a: DnsAnswer
    aaaa: DnsAnswer
    # Record types the authoritative server holds at this owner name besides CNAME
    # (filled when the name has a CNAME); used for dns.cname_conflict.
    other_types: list[str] = field(default_factory=list)

    @property
    def addresses(self) -> list[str]:
        return self.a.values + self.aaaa.values

    @property
    def cname_chain(self) -> list[str]:
        return self.a.cname_chain or self.aaaa.cname_chain

    @property
    def resolves(self) -> bool:
        return bool(self.addresses)

    @property
    def inconclusive(self) -> bool:
        return not self.resolves and (self.a.inconclusive or self.aaaa.inconclusive)


@dataclass(frozen=True)
class NameServerFacts(Serializable):
    """What one listed name server said when asked directly."""

    name: str
    addresses: list[str] = field(default_factory=list)
    responded: bool = True
    authoritative: bool = False  # AA flag set on its answer for the zone
    soa_serial: int | None = None
    apex_a: list[str] = field(default_factory=list)
    www_a: list[str] = field(default_factory=list)
    error: str = ""


@dataclass(frozen=True)
class DnsFacts(Serializable):
    domain: str  # registered domain
    ns: DnsAnswer  # NS at the registered domain, via the resolver
    nameservers: list[NameServerFacts] = field(default_factory=list)
    caa: DnsAnswer | None = None
    hosts: list[HostDns] = field(default_factory=list)
    ct_unavailable: Unavailable | None = None  # CT source unreachable: discovery incomplete

    def host(self, name: str) -> HostDns | None:
        return next((h for h in self.hosts if h.name == name), None)


@dataclass(frozen=True)
class RdapFacts(Serializable):
    domain: str
    registrar: str = ""
    expires_at: datetime | None = None
    statuses: list[str] = field(default_factory=list)  # e.g. "client transfer prohibited"
    unavailable: Unavailable | None = None


# --- HTTP -------------------------------------------------------------------------------


@dataclass(frozen=True)
class HttpHop(Serializable):
    """One request of a redirect chain. Header names are lower case."""

    url: str
    status: int | None
    location: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    elapsed_ms: float | None = None
    error: str = ""  # connect error, timeout, TLS failure… as a sentence

    @property
    def is_redirect(self) -> bool:
        return self.status is not None and 300 <= self.status < 400 and bool(self.location)


@dataclass(frozen=True)
class RedirectChain(Serializable):
    """Following an entry URL (http/https × apex/www) or a campaign URL to its end."""

    entry_url: str
    kind: str = "entry"  # "entry" or "campaign"
    hops: list[HttpHop] = field(default_factory=list)
    loop: bool = False  # a URL came back, or the redirect cap was hit
    error: str = ""
    # The network layer's ErrorKind value ("connect_timeout", "tls_certificate"…), so rules
    # can tell "does not answer" from "answers with a certificate browsers refuse".
    error_kind: str = ""
    unavailable: Unavailable | None = None

    @property
    def final(self) -> HttpHop | None:
        return self.hops[-1] if self.hops else None

    @property
    def redirects(self) -> int:
        return sum(1 for h in self.hops if h.is_redirect)

    @property
    def final_url(self) -> str:
        return self.final.url if self.final else self.entry_url

    @property
    def final_host(self) -> str:
        return host_of(self.final_url)

    @property
    def final_status(self) -> int | None:
        return self.final.status if self.final else None

    @property
    def failed(self) -> bool:
        """No HTTP answer at the end of the chain (connect error, timeout)."""
        return bool(self.error) or self.final is None or self.final.status is None

    def describe(self) -> str:
        parts = [
            f"{h.url} → {h.status if h.status is not None else h.error or 'no answer'}" for h in self.hops
        ]
        return "\n".join(parts) or f"{self.entry_url} → {self.error or 'no answer'}"


@dataclass(frozen=True)
class Cookie(Serializable):
    name: str
    secure: bool = False
    httponly: bool = False
    samesite: str = ""  # "", "lax", "strict", "none"
    domain: str = ""
    path: str = "/"


@dataclass(frozen=True)
class ScriptRef(Serializable):
    src: str  # absolute URL, "" for inline scripts
    in_head: bool = False
    is_async: bool = False
    is_defer: bool = False
    is_module: bool = False


@dataclass(frozen=True)
class MixedRef(Serializable):
    url: str
    tag: str  # "script", "img", "link"…
    active: bool  # scripts, styles, frames, objects: can rewrite the page


@dataclass(frozen=True)
class HtmlFacts(Serializable):
    """What ``audits.detect.analyse_html`` read from one HTML document."""

    title: str = ""
    scripts: list[ScriptRef] = field(default_factory=list)
    mixed_content: list[MixedRef] = field(default_factory=list)
    subresource_count: int = 0
    noindex: bool = False  # <meta name="robots" content="noindex">
    meta_csp: str = ""  # <meta http-equiv="Content-Security-Policy">
    error_tracking: list[str] = field(default_factory=list)  # "Sentry", "Bugsnag"…
    analytics: list[str] = field(default_factory=list)  # "Google Analytics 4"…
    debug_page: str = ""  # framework name when a debug page / stack trace is shown
    directory_listing: bool = False
    has_password_form: bool = False  # a login form: the host asks for credentials
    platform: list[str] = field(default_factory=list)  # "Shopify", "WooCommerce"…


@dataclass(frozen=True)
class PageFacts(Serializable):
    """One GET of an HTML page or host root. ``url`` is what was requested; redirects were
    followed to ``final_url`` and the other fields describe that last response."""

    url: str
    route: str = ""  # route name ("home", "cart"…), "" for a host root
    final_url: str = ""  # "" when there was no redirect
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    cookies: list[Cookie] = field(default_factory=list)
    body_bytes: int = 0
    truncated: bool = False  # the body hit the read cap: body_bytes is a lower bound
    body_excerpt: str = ""  # the first few kB, for detection and evidence
    body_sha256: str = ""
    html: HtmlFacts | None = None
    error: str = ""
    unavailable: Unavailable | None = None

    @property
    def host(self) -> str:
        """The host that was asked."""
        return host_of(self.url)

    @property
    def served_by(self) -> str:
        """The host whose answer this is (after redirects): headers and cookies are its."""
        return host_of(self.final_url or self.url)

    @property
    def is_https(self) -> bool:
        return (self.final_url or self.url).startswith("https://")

    @property
    def is_html(self) -> bool:
        return "html" in self.headers.get("content-type", "")


@dataclass(frozen=True)
class AssetFacts(Serializable):
    """A static resource (CSS/JS/image) or the HTML itself, fetched with Accept-Encoding."""

    url: str
    kind: str  # "html", "css", "js", "image", "font", "other"
    status: int | None = None
    cache_control: str = ""
    content_encoding: str = ""
    content_type: str = ""
    size: int = 0
    unavailable: Unavailable | None = None


@dataclass(frozen=True)
class OriginProbe(Serializable):
    """Whether a non-proxied host (or address) serves the canonical site directly."""

    host: str
    address: str
    serves_site: bool | None  # None: could not tell
    evidence: str = ""


# --- TLS --------------------------------------------------------------------------------


class VerifyError(enum.StrEnum):
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    HOSTNAME_MISMATCH = "hostname_mismatch"
    SELF_SIGNED = "self_signed"
    UNTRUSTED = "untrusted"
    INCOMPLETE_CHAIN = "incomplete_chain"


@dataclass(frozen=True)
class CertInfo(Serializable):
    subject: str
    sans: list[str] = field(default_factory=list)
    issuer: str = ""
    not_before: datetime | None = None
    not_after: datetime | None = None
    key_type: str = ""  # "RSA", "EC", "Ed25519"
    key_bits: int | None = None
    self_signed: bool = False


@dataclass(frozen=True)
class TlsFacts(Serializable):
    """TLS on port 443 of one host. Protocol flags: True/False, None = inconclusive."""

    host: str
    handshake_ok: bool
    error: str = ""
    verify_errors: list[VerifyError] = field(default_factory=list)
    cert: CertInfo | None = None  # the leaf as served
    chain: list[CertInfo] = field(default_factory=list)  # as served, leaf first
    tls10: bool | None = None
    tls11: bool | None = None
    tls13: bool | None = None
    protocol_reason: str = ""  # why a protocol flag above is None
    http2: bool | None = None
    unavailable: Unavailable | None = None


# --- Exposure ---------------------------------------------------------------------------


class Sniff(enum.StrEnum):
    """What a probed path turned out to contain (``audits.detect.sniff_exposure``)."""

    NOTHING = "nothing"  # 404, a login wall, or the normal HTML page
    ENV_FILE = "env_file"
    GIT_HEAD = "git_head"
    GIT_CONFIG = "git_config"
    DEBUG_PAGE = "debug_page"
    DIRECTORY_LISTING = "directory_listing"
    SOURCE_MAP = "source_map"


@dataclass(frozen=True)
class ExposureProbe(Serializable):
    url: str
    status: int | None = None
    content_type: str = ""
    sniff: Sniff = Sniff.NOTHING
    detail: str = ""  # e.g. variable names of an .env (never values), the framework
    unavailable: Unavailable | None = None

    @property
    def host(self) -> str:
        return host_of(self.url)


# --- Performance ------------------------------------------------------------------------


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


# --- The whole audit --------------------------------------------------------------------


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
    load: list[LoadTiming] | None = None  # None: the load probe did not run
    lighthouse: LighthouseFacts | None = None  # None: no Lighthouse source configured
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


# --- Helpers ----------------------------------------------------------------------------


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def percentile(values: list[float], pct: float) -> float | None:
    """Nearest-rank percentile (no interpolation): p95 of 20 samples is the 19th."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]
