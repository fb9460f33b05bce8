"""Rules of the ``deploy`` stage that need no inventory: public secrets and source,
debug pages, open admin/staging hosts (``exposure.*``), and ``deploy.staging_not_separated``."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from urllib.parse import urlsplit

from audits.detect import debug_page_detail, is_noindex
from audits.facts import ExposureProbe, PageFacts, Sniff, host_of
from audits.findings import FindingData
from audits.providers import detect_cdn
from audits.rules.base import RuleContext, Skip, rule
from audits.rules.dns import names_unlooked
from launchready.domains import subdomain_label

ADMIN_HOST = re.compile(
    r"^(admin|preview|staging|stage|stg|dev|develop|test|testing|beta|uat|qa|sandbox|internal|cms|backoffice|dashboard)"
    r"([-_0-9]|$)"
)
STAGING_HOST = re.compile(
    r"^(preview|staging|stage|stg|dev|develop|test|testing|beta|uat|qa|sandbox)([-_0-9]|$)"
)
_LOGIN_PATH = re.compile(r"login|signin|sign_in|sign-in|auth|sso|oauth|saml|session", re.I)
_ACCESS_GATEWAYS = (
    "cloudflareaccess.com",
    "accounts.google.com",
    "login.microsoftonline.com",
    "okta.com",
    "auth0.com",
)


def _probes(ctx: RuleContext, wanted: Callable[[ExposureProbe], bool]) -> list[ExposureProbe]:
    if not ctx.facts.exposure:
        raise Skip("exposed paths were not probed in this run")
    return [p for p in ctx.facts.exposure if wanted(p)]


def _sniff_rule(
    ctx: RuleContext, check_id: str, sniffs: set[Sniff], path_test: Callable[[str], bool]
) -> list[FindingData]:
    """One finding per host listing its URLs that hold what ``sniffs`` names."""
    hits: dict[str, list[str]] = defaultdict(list)
    inconclusive: dict[str, str] = {}
    for probe in _probes(ctx, lambda p: p.sniff in sniffs or path_test(urlsplit(p.url).path)):
        if probe.sniff in sniffs:
            detail = f": {probe.detail}" if probe.detail else ""
            hits[probe.host].append(f"{probe.url} → HTTP {probe.status}{detail}")
        elif probe.unavailable:
            inconclusive.setdefault(probe.host, probe.unavailable.reason)
    findings = [ctx.fail(check_id, host, lines) for host, lines in sorted(hits.items())]
    findings += [ctx.inconclusive(check_id, h, r) for h, r in sorted(inconclusive.items()) if h not in hits]
    return findings


@rule("exposure.env_file")
def env_file(ctx: RuleContext) -> list[FindingData]:
    return _sniff_rule(ctx, "exposure.env_file", {Sniff.ENV_FILE}, lambda path: "/.env" in path)


@rule("exposure.git")
def git(ctx: RuleContext) -> list[FindingData]:
    return _sniff_rule(ctx, "exposure.git", {Sniff.GIT_HEAD, Sniff.GIT_CONFIG}, lambda path: "/.git/" in path)


@rule("exposure.source_maps")
def source_maps(ctx: RuleContext) -> list[FindingData]:
    findings = _sniff_rule(
        ctx, "exposure.source_maps", {Sniff.SOURCE_MAP}, lambda path: path.endswith(".map")
    )
    probed = any(urlsplit(p.url).path.endswith(".map") for p in ctx.facts.exposure)
    home = ctx.facts.home()
    if not probed and (home is None or home.html is None):
        # The source maps looked for are those of the homepage's own scripts.
        if home is None:
            why = "the homepage was not fetched"
        elif home.status is not None and not home.unavailable:
            why = f"the homepage answered HTTP {home.status} without an HTML page"
        else:
            why = _why_unread(home)
        reason = (
            f"the homepage's scripts could not be listed, so their source maps were not looked for ({why})"
        )
        findings.append(ctx.inconclusive("exposure.source_maps", ctx.site.canonical_host, reason))
    return findings


def _page_hits(ctx: RuleContext, test: Callable[[PageFacts], str]) -> dict[str, list[str]]:
    hits: dict[str, list[str]] = defaultdict(list)
    for page in ctx.facts.pages:
        if page.html and (what := test(page)):
            hits[page.served_by].append(f"{page.final_url or page.url} → HTTP {page.status}: {what}")
    return hits


def _with_pages(
    ctx: RuleContext, check_id: str, sniff: Sniff, test: Callable[[PageFacts], str]
) -> list[FindingData]:
    hits = _page_hits(ctx, test)
    for probe in ctx.facts.exposure:
        if probe.sniff == sniff:
            hits[probe.host].append(f"{probe.url} → HTTP {probe.status}: {probe.detail}")
    if not hits and not ctx.facts.pages and not ctx.facts.exposure:
        raise Skip("no page was fetched in this run")
    findings = [ctx.fail(check_id, host, lines) for host, lines in sorted(hits.items())]
    findings += [
        ctx.inconclusive(check_id, h, r) for h, r in sorted(_unread_hosts(ctx).items()) if h not in hits
    ]
    return findings


def _unread_hosts(ctx: RuleContext) -> dict[str, str]:
    """Hosts of which no page nor probed path got an HTTP answer, with the first reason."""
    reasons: dict[str, str] = {}
    answered: set[str] = set()
    for page in ctx.facts.pages:
        if page.status is not None and not page.unavailable:
            answered.add(page.host)
        else:
            reasons.setdefault(page.host, _why_unread(page))
    for probe in ctx.facts.exposure:
        if probe.status is not None and not probe.unavailable:
            answered.add(probe.host)
        else:
            reasons.setdefault(probe.host, _why_unread(probe))
    return {
        host: f"no page of this host could be read ({reason})"
        for host, reason in reasons.items()
        if host not in answered
    }


def _why_unread(fetched: PageFacts | ExposureProbe) -> str:
    """Why a page or path gave no readable answer, in the network layer's words."""
    if fetched.unavailable:
        return fetched.unavailable.reason
    error = fetched.error if isinstance(fetched, PageFacts) else ""
    return error or "no answer"


@rule("exposure.debug_page")
def debug_page(ctx: RuleContext) -> list[FindingData]:
    return _with_pages(
        ctx,
        "exposure.debug_page",
        Sniff.DEBUG_PAGE,
        lambda p: debug_page_detail(p.html.debug_page) if p.html and p.html.debug_page else "",
    )


@rule("exposure.directory_listing")
def directory_listing(ctx: RuleContext) -> list[FindingData]:
    return _with_pages(
        ctx,
        "exposure.directory_listing",
        Sniff.DIRECTORY_LISTING,
        lambda p: "a directory listing" if p.html and p.html.directory_listing else "",
    )


def _first_label(ctx: RuleContext, host: str) -> str:
    """The label just below the site's domain: ``staging`` for ``a.staging.example.com``."""
    return subdomain_label(host, ctx.site.domain).split(".")[-1]


def _protected(page: PageFacts) -> str:
    """Why the host counts as protected, or "" when anyone can see it."""
    if page.status in (401, 403):
        return f"HTTP {page.status}"
    final = page.final_url or page.url
    if any(gateway in host_of(final) for gateway in _ACCESS_GATEWAYS):
        return f"redirects to the sign-in gateway {host_of(final)}"
    if page.final_url and _LOGIN_PATH.search(urlsplit(final).path):
        return f"redirects to a sign-in page ({final})"
    if page.html and page.html.has_password_form:
        return "shows a sign-in form"
    return ""


def _open_hosts(
    ctx: RuleContext, pattern: re.Pattern[str], check_id: str
) -> tuple[list[PageFacts], list[FindingData]]:
    """Root pages of hosts whose label matches ``pattern`` and that answered without a login,
    and the inconclusive findings of such hosts that could not be looked up or read."""
    dns = ctx.facts.dns
    if dns is None and not ctx.facts.pages:
        raise Skip("no subdomain was looked up or fetched in this run")
    open_pages: list[PageFacts] = []
    inconclusive: list[FindingData] = []
    if dns is not None and (unlooked := names_unlooked(dns)):
        reason = f"the subdomains (admin, staging, preview…) could not be looked for: {unlooked}"
        inconclusive.append(ctx.inconclusive(check_id, ctx.site.domain, reason))
    seen: set[str] = set()
    for page in sorted(ctx.facts.pages, key=lambda p: not p.is_https):
        if page.route or page.host in seen or not pattern.match(_first_label(ctx, page.host)):
            continue
        seen.add(page.host)
        if page.unavailable or page.status is None:
            reason = f"its page could not be read ({_why_unread(page)})"
            inconclusive.append(ctx.inconclusive(check_id, page.host, reason))
        elif page.served_by != page.host and not pattern.match(_first_label(ctx, page.served_by)):
            continue  # redirects away (to the store, or a sign-in service): nothing served here
        elif page.status is not None and 200 <= page.status < 300 and not _protected(page):
            open_pages.append(page)
    return open_pages, inconclusive


@rule("exposure.admin_public")
def admin_public(ctx: RuleContext) -> list[FindingData]:
    pages, findings = _open_hosts(ctx, ADMIN_HOST, "exposure.admin_public")
    for page in pages:
        title = f" (“{page.html.title}”)" if page.html and page.html.title else ""
        evidence = f"{page.final_url or page.url} → HTTP {page.status}{title} with no login, 401/403 or access gateway"
        findings.append(ctx.fail("exposure.admin_public", page.host, evidence))
    return findings


@rule("exposure.staging_indexable")
def staging_indexable(ctx: RuleContext) -> list[FindingData]:
    pages, findings = _open_hosts(ctx, STAGING_HOST, "exposure.staging_indexable")
    for page in pages:
        if is_noindex(page.headers, page.html):
            continue
        robots = page.headers.get("x-robots-tag", "")
        evidence = [
            f"{page.final_url or page.url} → HTTP {page.status} without authentication",
            f'X-Robots-Tag: {robots or "missing"}; no <meta name="robots" content="noindex">',
        ]
        findings.append(ctx.fail("exposure.staging_indexable", page.host, evidence))
    return findings


@rule("deploy.staging_not_separated")
def staging_not_separated(ctx: RuleContext) -> list[FindingData]:
    dns = ctx.facts.dns
    if dns is None:
        raise Skip("DNS was not probed in this run")
    if unlooked := names_unlooked(dns):
        reason = f"the staging names (staging, preview, dev…) could not be looked for: {unlooked}"
        return [ctx.inconclusive("deploy.staging_not_separated", ctx.site.domain, reason)]
    production = [h for h in (dns.host(ctx.site.canonical_host), dns.host(ctx.site.apex)) if h and h.resolves]
    home = ctx.facts.home()
    findings = []
    for host in dns.hosts:
        if not STAGING_HOST.match(_first_label(ctx, host.name)) or not host.resolves:
            continue
        reasons = []
        page = ctx.facts.root_page(host.name)
        if page and home and page.body_sha256 and page.body_sha256 == home.body_sha256:
            reasons.append(f"{page.url} serves byte-for-byte the same page as {home.url}")
        for prod in production:
            if prod.name in host.cname_chain:
                reasons.append(f"{host.name} is a CNAME of the production host {prod.name}")
            elif prod.cname_chain and host.cname_chain and prod.cname_chain[-1] == host.cname_chain[-1]:
                reasons.append(f"{host.name} and {prod.name} both point at {host.cname_chain[-1]}")
            elif (shared := set(host.addresses) & set(prod.addresses)) and not detect_cdn(shared):
                reasons.append(
                    f"{host.name} and {prod.name} resolve to the same origin {', '.join(sorted(shared))}"
                )
        if reasons:
            findings.append(ctx.fail("deploy.staging_not_separated", host.name, reasons))
    return findings
