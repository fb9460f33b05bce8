"""What HTTP showed: redirect chains, pages, static assets, origins behind the CDN."""

from __future__ import annotations

from dataclasses import dataclass, field

from audits.facts.base import Unavailable, host_of
from audits.serialization import Serializable


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
    # Browsers refuse this host's certificate; the page was read past it (without
    # verification) so its headers, content and cookies are still checked. The chain of the
    # same URL stops at the certificate; the rules say both, never "does not answer".
    read_past_certificate: bool = False

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
    read_past_certificate: bool = False  # as for PageFacts: read past a refused certificate


@dataclass(frozen=True)
class OriginProbe(Serializable):
    """Whether a non-proxied host (or address) serves the canonical site directly.

    ``serves_site`` says only that the page is the store's; whether the CDN is absent for
    that address is for the rule to show from the DNS facts and ``headers``."""

    host: str
    address: str
    serves_site: bool | None  # None: could not tell
    evidence: str = ""
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)  # of the direct answer, lower-case names
    canonical_link: str = ""  # the page's <link rel="canonical"> (a deployment naming itself)
