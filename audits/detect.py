"""Detections from HTML and headers: pure functions the probes call on what they fetched.

``analyse_html`` turns a document into ``HtmlFacts`` (scripts in <head>, mixed content,
subresources, error tracking, analytics, debug pages, directory listings, noindex).
``sniff_exposure`` says what a probed path (``/.env``, ``/.git/HEAD``…) really holds,
``detect_block`` recognises a WAF or rate limit so the fact becomes inconclusive, and
``parse_set_cookie`` reads cookie flags. The stdlib ``html.parser`` copes with bad HTML.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from html.parser import HTMLParser
from urllib.parse import urljoin

from audits.facts import Cookie, HtmlFacts, MixedRef, ScriptRef, Sniff, Unavailable, UnavailableKind

logger = logging.getLogger(__name__)

# Inline script text kept for pattern matching; enough for snippets, bounded for huge pages.
_INLINE_CAP = 200_000

ERROR_TRACKERS: dict[str, tuple[str, ...]] = {
    "Sentry": ("sentry-cdn.com", "@sentry/", "sentry.init(", "ingest.sentry.io", ".ingest.us.sentry.io"),
    "Bugsnag": ("bugsnag", "d2wy8f7a9ursnm.cloudfront.net"),
    "Datadog RUM": ("datadoghq-browser-agent.com", "dd_rum", "datadog-rum"),
    "Rollbar": ("rollbar", "_rollbarconfig"),
    "LogRocket": ("cdn.logrocket.io", "cdn.lr-ingest.io", "logrocket.init("),
    "New Relic": ("js-agent.newrelic.com", "nreum", "bam.nr-data.net"),
    "TrackJS": ("cdn.trackjs.com", "trackjs.install"),
    "Raygun": ("cdn.raygun.io", "rg4js("),
    "Honeybadger": ("js.honeybadger.io",),
    "Airbrake": ("airbrake-js", "@airbrake/browser"),
    "Elastic APM": ("elastic-apm-rum",),
    "AppSignal": ("@appsignal/javascript",),
}

ANALYTICS: dict[str, tuple[str, ...]] = {
    "Google Analytics 4": ("googletagmanager.com/gtag/js", "gtag('config'", 'gtag("config"'),
    "Google Tag Manager": ("googletagmanager.com/gtm.js", "googletagmanager.com/ns.html"),
    "Google Analytics (Universal)": ("google-analytics.com/analytics.js", "google-analytics.com/ga.js"),
    "Plausible": ("plausible.io/js",),
    "Fathom": ("cdn.usefathom.com",),
    "Segment": ("cdn.segment.com", "analytics.load("),
    "Shopify Analytics": ("shopifyanalytics", "trekkie", "monorail-edge.shopifysvc.com"),
    "Matomo": ("matomo.js", "piwik.js", "_paq.push"),
    "Simple Analytics": ("scripts.simpleanalyticscdn.com",),
    "Umami": ("data-website-id", "umami.is/script.js"),
    "Mixpanel": ("cdn.mxpnl.com", "mixpanel.init("),
    "Amplitude": ("cdn.amplitude.com", "amplitude.getinstance"),
    "Heap": ("heapanalytics.com",),
    "PostHog": ("posthog.init(", "posthog.com/static/array.js"),
    "Cloudflare Web Analytics": ("static.cloudflareinsights.com/beacon",),
    "Vercel Web Analytics": ("/_vercel/insights/script.js",),
    "Hotjar": ("static.hotjar.com",),
}

PLATFORMS: dict[str, tuple[str, ...]] = {
    "Shopify": ("cdn.shopify.com", "shopify.theme", "myshopify.com"),
    "WooCommerce": ("woocommerce", "wc-ajax", "wc-block"),
    "WordPress": ("wp-content/", "wp-includes/"),
    "BigCommerce": ("cdn11.bigcommerce.com", "bigcommerce"),
    "Magento": ("mage/cookies", "magento_", "requirejs-config.js"),
    "PrestaShop": ("prestashop",),
    "Squarespace": ("static1.squarespace.com",),
    "Wix": ("static.wixstatic.com", "wix-bolt"),
    "Webflow": ("assets.website-files.com", "webflow.js"),
}

# (framework, pattern) — patterns come from each framework's own debug/error templates.
_DEBUG_PAGES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("Django", re.compile(r"DEBUG = True|<th>Django Version:</th>|technical_500", re.I)),
    ("Werkzeug (Flask)", re.compile(r"Werkzeug Debugger|The debugger caught an exception in your WSGI")),
    ("Laravel", re.compile(r"Whoops! There was an error|Illuminate\\\\|<title>Ignition|laravel/framework")),
    ("Symfony", re.compile(r"Symfony\\\\Component\\\\|sf-dump|Symfony Exception")),
    ("Rails", re.compile(r"Action Controller: Exception caught|Rails\.root:")),
    ("Express (Node.js)", re.compile(r"node_modules/express/|\bat [\w.<>\[\] ]+ \([^)\n]+\.js:\d+:\d+\)")),
    ("phpinfo", re.compile(r"<title>[^<]*phpinfo\(\)|PHP License</h|phpinfo\(\)</title>", re.I)),
    ("ASP.NET", re.compile(r"Server Error in '/[^']*' Application")),
    ("Python", re.compile(r"Traceback \(most recent call last\):")),
    ("Java", re.compile(r"\bat (?:org|com|java)\.[\w.$]+\([\w]+\.java:\d+\)")),
)

_DIRECTORY_LISTING = re.compile(
    r"<title>\s*Index of /|<h1>\s*Index of /|Directory listing for /|\[To Parent Directory\]|<title>Directory Listing",
    re.I,
)

_ACTIVE_TAGS = {"script", "iframe", "frame", "object", "embed"}
_PASSIVE_TAGS = {"img", "audio", "video", "source", "track", "input"}


class _Parser(HTMLParser):
    def __init__(self, base_url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base_url = base_url
        self.in_head = False
        self.head_done = False
        self.in_title = False
        self.in_script = False
        self.title = ""
        self.scripts: list[ScriptRef] = []
        self.urls: list[tuple[str, str, bool]] = []  # (raw url, tag, active)
        self.inline: list[str] = []
        self.inline_len = 0
        self.noindex = False
        self.meta_csp = ""
        self.password_form = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): (v or "") for k, v in attrs}
        if tag == "head" and not self.head_done:
            self.in_head = True
        elif tag == "body":
            self.in_head, self.head_done = False, True
        elif tag == "title" and not self.title:
            self.in_title = True
        elif tag == "meta":
            name = a.get("name", "").lower()
            if name in ("robots", "googlebot") and "noindex" in a.get("content", "").lower():
                self.noindex = True
            if a.get("http-equiv", "").lower() == "content-security-policy":
                self.meta_csp = a.get("content", "")
        if tag == "input" and a.get("type", "").lower() == "password":
            self.password_form = True
        if tag == "script":
            self.in_script = True
            src = a.get("src", "")
            self.scripts.append(
                ScriptRef(
                    src=urljoin(self.base_url, src) if src else "",
                    in_head=self.in_head,
                    is_async="async" in a,
                    is_defer="defer" in a,
                    is_module=a.get("type", "").lower() == "module",
                )
            )
            if src:
                self.urls.append((src, "script", True))
        elif tag == "link" and a.get("href"):
            rel = a.get("rel", "").lower().split()
            if "stylesheet" in rel:
                self.urls.append((a["href"], "link", True))
            elif {"icon", "preload", "modulepreload", "apple-touch-icon", "manifest"} & set(rel):
                active = "modulepreload" in rel or a.get("as", "") in ("script", "style")
                self.urls.append((a["href"], "link", active))
        elif tag in _ACTIVE_TAGS | _PASSIVE_TAGS:
            active = tag in _ACTIVE_TAGS
            for attr in ("src", "data"):
                if a.get(attr) and (tag != "input" or a.get("type", "").lower() == "image"):
                    self.urls.append((a[attr], tag, active))
            for candidate in a.get("srcset", "").split(","):
                url = candidate.strip().split(" ")[0]
                if url:
                    self.urls.append((url, tag, False))

    def handle_endtag(self, tag: str) -> None:
        if tag == "head":
            self.in_head, self.head_done = False, True
        elif tag == "title":
            self.in_title = False
        elif tag == "script":
            self.in_script = False

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title += data
        if self.in_script and self.inline_len < _INLINE_CAP:
            self.inline.append(data)
            self.inline_len += len(data)


def analyse_html(html: str, url: str, body_bytes: int | None = None) -> HtmlFacts:
    """Read an HTML document fetched from ``url`` (the final URL after redirects)."""
    parser = _Parser(url)
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # html.parser rarely raises; keep what was read so far
        logger.debug("HTML parser stopped early on %s", url, exc_info=True)
    is_https = url.startswith("https://")
    mixed: list[MixedRef] = []
    seen_mixed: set[str] = set()
    subresources: set[str] = set()
    for raw, tag, active in parser.urls:
        raw = raw.strip()
        if raw.startswith(("data:", "blob:", "javascript:", "about:", "#")):
            continue
        absolute = urljoin(url, raw)
        subresources.add(absolute)
        if is_https and absolute.startswith("http://") and absolute not in seen_mixed:
            seen_mixed.add(absolute)
            mixed.append(MixedRef(url=absolute, tag=tag, active=active))
    haystack = " ".join([s.src for s in parser.scripts] + parser.inline + [html[:_INLINE_CAP]]).lower()
    return HtmlFacts(
        title=" ".join(parser.title.split())[:200],
        scripts=parser.scripts,
        mixed_content=mixed,
        subresource_count=len(subresources),
        noindex=parser.noindex,
        meta_csp=parser.meta_csp,
        error_tracking=_detect_names(ERROR_TRACKERS, haystack),
        analytics=_detect_names(ANALYTICS, haystack),
        debug_page=detect_debug_page(html),
        directory_listing=is_directory_listing(html),
        has_password_form=parser.password_form,
        platform=_detect_names(PLATFORMS, haystack),
    )


def _detect_names(table: Mapping[str, tuple[str, ...]], haystack: str) -> list[str]:
    return [name for name, needles in table.items() if any(n in haystack for n in needles)]


def detect_debug_page(body: str) -> str:
    """The framework whose debug page or stack trace ``body`` shows, or ""."""
    for framework, pattern in _DEBUG_PAGES:
        if pattern.search(body):
            return framework
    return ""


def is_directory_listing(body: str) -> bool:
    return bool(_DIRECTORY_LISTING.search(body))


def is_noindex(headers: Mapping[str, str], html: HtmlFacts | None) -> bool:
    """Search engines are told not to index: X-Robots-Tag header or robots meta tag."""
    tag = headers.get("x-robots-tag", "").lower()
    return "noindex" in tag or "none" in tag.split(",") or bool(html and html.noindex)


# Paths the exposure probe requests on each public host; ``sniff_exposure`` reads the answers.
# Source maps are found from the page's own bundles (``<bundle>.map``), directory listings
# from the folders of its assets (``/static/``).
EXPOSURE_PATHS: tuple[str, ...] = (
    "/.env",
    "/.env.production",
    "/.env.local",
    "/.git/HEAD",
    "/.git/config",
    "/debug",
    "/phpinfo.php",
    "/info.php",
    "/_profiler/",
    "/static/",
    "/assets/",
    "/uploads/",
)

_ENV_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=")


def sniff_exposure(url: str, status: int | None, content_type: str, body: str) -> tuple[Sniff, str]:
    """What a probed path holds. The detail never contains secret values, only names.

    Files count only when served with 2xx; a debug page counts whatever its status, since
    frameworks show their stack traces on 500 and 404 answers.
    """
    if status is None:
        return Sniff.NOTHING, ""
    if not 200 <= status < 300:
        framework = detect_debug_page(body)
        return (Sniff.DEBUG_PAGE, debug_page_detail(framework)) if framework else (Sniff.NOTHING, "")
    path = url.split("?", 1)[0].lower()
    looks_html = "html" in content_type.lower() or body.lstrip()[:15].lower().startswith(
        ("<!doctype", "<html")
    )
    if "/.env" in path and not looks_html:
        lines = [ln for ln in body.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
        names = [m.group(1) for ln in lines if (m := _ENV_LINE.match(ln))]
        if names and len(names) * 2 >= len(lines):
            shown = ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
            return Sniff.ENV_FILE, f"{len(names)} variables: {shown}"
    if path.endswith("/.git/head") and re.match(r"^(ref: refs/|[0-9a-f]{40}\s*$)", body.strip()):
        return Sniff.GIT_HEAD, body.strip()[:80]
    if path.endswith("/.git/config") and "[core]" in body and "repositoryformatversion" in body:
        return Sniff.GIT_CONFIG, "a Git config file ([core] section)"
    if path.endswith(".map") and body.lstrip().startswith("{") and '"mappings"' in body:
        return Sniff.SOURCE_MAP, "a JavaScript source map"
    if framework := detect_debug_page(body):
        return Sniff.DEBUG_PAGE, debug_page_detail(framework)
    if is_directory_listing(body):
        return Sniff.DIRECTORY_LISTING, "an auto-generated index of files"
    return Sniff.NOTHING, ""


def debug_page_detail(framework: str) -> str:
    """The evidence line for a debug page: what was seen, not just the framework's name."""
    if framework == "phpinfo":
        return "a phpinfo() page listing the server's configuration"
    return f"a {framework} debug page / stack trace"


def detect_block(status: int | None, headers: Mapping[str, str], body: str = "") -> Unavailable | None:
    """A WAF challenge, bot shield or rate limit in place of the real answer."""
    h = {k.lower(): v.lower() for k, v in headers.items()}
    text = body[:20_000]
    if status == 429:
        retry = f" (retry after {h['retry-after']}s)" if h.get("retry-after") else ""
        return Unavailable(f"rate limited by the site: HTTP 429{retry}", UnavailableKind.RATE_LIMITED)
    if h.get("cf-mitigated") == "challenge" or (
        status in (403, 503)
        and "cloudflare" in h.get("server", "")
        and re.search(r"Just a moment|Attention Required! \| Cloudflare|cf-chl|challenge-platform", text)
    ):
        return Unavailable("blocked by Cloudflare bot protection", UnavailableKind.BLOCKED)
    if h.get("x-vercel-mitigated") == "challenge":
        return Unavailable("blocked by the Vercel firewall challenge", UnavailableKind.BLOCKED)
    if status not in (401, 403, 405, 406, 503):
        return None
    if "incapsula incident id" in text.lower() or "x-iinfo" in h:
        return Unavailable("blocked by Imperva (Incapsula)", UnavailableKind.BLOCKED)
    if "akamaighost" in h.get("server", "") and "Reference #" in text:
        return Unavailable("blocked by Akamai", UnavailableKind.BLOCKED)
    if "x-amzn-waf-action" in h or ("cloudfront" in h.get("via", "") and "Request blocked" in text):
        return Unavailable("blocked by AWS WAF", UnavailableKind.BLOCKED)
    if "x-sucuri-id" in h or "sucuri website firewall" in text.lower():
        return Unavailable("blocked by the Sucuri firewall", UnavailableKind.BLOCKED)
    if "x-datadome" in h or "datadome" in h.get("set-cookie", ""):
        return Unavailable("blocked by DataDome bot protection", UnavailableKind.BLOCKED)
    return None


def parse_set_cookie(value: str) -> Cookie:
    """One Set-Cookie header value → its name and flags (the value itself is not kept)."""
    parts = [p.strip() for p in value.split(";")]
    name = parts[0].split("=", 1)[0].strip() if parts else ""
    attrs: dict[str, str] = {}
    for part in parts[1:]:
        key, _, val = part.partition("=")
        attrs[key.strip().lower()] = val.strip()
    return Cookie(
        name=name,
        secure="secure" in attrs,
        httponly="httponly" in attrs,
        samesite=attrs.get("samesite", "").lower(),
        domain=attrs.get("domain", ""),
        path=attrs.get("path", "/") or "/",
    )
