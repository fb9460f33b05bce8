"""Rules of the ``http.*`` checks (stage ``edge``): redirects, HTTPS, HSTS, mixed content,
security headers, cookies and version banners. The CDN and caching checks (``edge.*``)
are in ``edge.py``, the certificates (``tls.*``) in ``tls.py``."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable

from audits.checks import Severity
from audits.facts import PageFacts, RedirectChain
from audits.findings import FindingData
from audits.rules.base import RuleContext, Skip, rule

HSTS_MIN_AGE = 15_552_000  # 180 days
MAX_REDIRECTS = 10
SENSITIVE_ROUTES = {"cart", "checkout", "login"}
CERTIFICATE_REFUSED = "tls_certificate"  # launchready.net ErrorKind.TLS_CERTIFICATE
# launchready.net ErrorKind.DNS_TIMEOUT / DNS_ERROR: the lookup itself failed, not the store.
RESOLVER_GAVE_NO_ANSWER = frozenset({"dns_timeout", "dns_error"})
NO_SUCH_NAME, NO_RECORD = "dns_nxdomain", "dns_nodata"  # ErrorKind.DNS_NXDOMAIN, DNS_NODATA
_SESSION_COOKIE = re.compile(r"sess|^sid$|auth|token|jwt|login|remember|customer_sig|identity", re.I)
_NOT_SESSION = re.compile(r"csrf|xsrf", re.I)
_VERSION = re.compile(r"\d+\.\d+|/\d")


def _entry_chains(ctx: RuleContext) -> list[RedirectChain]:
    return [c for c in ctx.facts.redirects if c.kind == "entry"]


def _canonical_chain(ctx: RuleContext) -> RedirectChain | None:
    return ctx.facts.chain(ctx.site.canonical_url)


def _https_pages(ctx: RuleContext) -> list[PageFacts]:
    return [p for p in ctx.facts.pages if p.is_https and p.status is not None and not p.unavailable]


def _unseen(chain: RedirectChain) -> str:
    """Why the chain was not seen to its end, or "" when it was (a loop is seen: it loops)."""
    if chain.unavailable:
        return chain.unavailable.reason
    if chain.failed and not chain.loop:
        where = chain.hops[-1].url if chain.hops else chain.entry_url
        return f"the redirects could not be followed to the end: {where} → {chain.error or 'no answer'}"
    return ""


def _canonical_read_past_certificate(ctx: RuleContext) -> PageFacts | None:
    """The canonical homepage as read past a certificate that browsers refuse, if it was."""
    chain = _canonical_chain(ctx)
    if chain is None or chain.error_kind != CERTIFICATE_REFUSED:
        return None
    home = ctx.facts.root_page(ctx.site.canonical_host)
    if home is None or home.status is None or home.unavailable or not home.read_past_certificate:
        return None
    return home


def _none_requested(ctx: RuleContext, check_id: str, chains: list[RedirectChain]) -> list[FindingData]:
    if chains:
        return []
    return [ctx.inconclusive(check_id, ctx.site.canonical_url, "the store's entry URLs were not requested")]


def _nonexistent(chain: RedirectChain) -> bool:
    """The entry URL's own name has no DNS record: there is no redirect to follow there."""
    no_answer = not any(h.status is not None for h in chain.hops)
    return no_answer and chain.error_kind in (NO_SUCH_NAME, NO_RECORD)


def _followable(chains: list[RedirectChain]) -> list[RedirectChain]:
    """The chains whose entry name exists (dns.* reports a name that does not). When none
    does, the check is skipped with that reason, never passed."""
    kept = [c for c in chains if not _nonexistent(c)]
    if chains and not kept:
        raise Skip(
            "none of these addresses exists in DNS, so there is no redirect to follow (the DNS checks report it)"
        )
    return kept


def _storefront_unread(ctx: RuleContext, check_id: str) -> list[FindingData]:
    """An inconclusive finding when no page of the storefront (the canonical host) was read
    over HTTPS: another host's redirect page says nothing about the store's own pages."""
    canonical = ctx.site.canonical_host
    if any(p.served_by == canonical for p in _https_pages(ctx)):
        return []
    home = ctx.facts.home()
    why = (home.unavailable or home.error) if home else ""
    return [ctx.inconclusive(check_id, canonical, why or "no page of the storefront was read over HTTPS")]


def _no_page_read(ctx: RuleContext, check_id: str) -> list[FindingData]:
    """An inconclusive finding when no page of the site gave an HTTP answer, else nothing."""
    if any(p.status is not None and not p.unavailable for p in ctx.facts.pages):
        return []
    home = ctx.facts.home()
    why = (home.unavailable or home.error) if home else ""
    return [ctx.inconclusive(check_id, ctx.site.canonical_host, why or "no page of the site could be read")]


@rule("http.unreachable")
def unreachable(ctx: RuleContext) -> list[FindingData]:
    chain = _canonical_chain(ctx)
    subject = ctx.site.canonical_url
    if chain is None:
        return [ctx.inconclusive("http.unreachable", subject, "the canonical URL was not requested")]
    if chain.unavailable:
        return [ctx.inconclusive("http.unreachable", subject, chain.unavailable)]
    if _canonical_read_past_certificate(ctx):
        return []  # it answers, with a certificate browsers refuse: the tls.* checks report that
    if chain.failed and chain.error_kind == CERTIFICATE_REFUSED:
        reason = f"browsers refuse the certificate ({chain.error}); fix the certificate findings first"
        return [ctx.inconclusive("http.unreachable", subject, reason)]
    if chain.failed and chain.error_kind in RESOLVER_GAVE_NO_ANSWER:
        # Our resolver got no answer in time: that says nothing about the store itself (the
        # dns.* checks ask the store's own name servers and report what they find).
        reason = f"the name could not be looked up in time ({chain.error}), so the store was not asked"
        return [ctx.inconclusive("http.unreachable", subject, reason)]
    if chain.failed and not chain.loop:
        return [ctx.fail("http.unreachable", subject, chain.describe())]
    return []


@rule("http.server_error")
def server_error(ctx: RuleContext) -> list[FindingData]:
    chain = _canonical_chain(ctx)
    subject = ctx.site.canonical_url
    if chain is None:
        return [ctx.inconclusive("http.server_error", subject, "the canonical URL was not requested")]
    if chain.unavailable:
        return [ctx.inconclusive("http.server_error", subject, chain.unavailable)]
    if chain.failed:
        home = _canonical_read_past_certificate(ctx)
        if home is None:
            return [ctx.inconclusive("http.server_error", subject, _unseen(chain) or chain.describe())]
        if home.status is not None and home.status >= 500:
            evidence = [chain.describe(), f"read past the refused certificate: {home.url} → {home.status}"]
            return [ctx.fail("http.server_error", subject, evidence)]
        return []
    if chain.final_status is not None and chain.final_status >= 500:
        return [ctx.fail("http.server_error", subject, chain.describe())]
    return []


def _per_chain(
    ctx: RuleContext, check_id: str, chains: list[RedirectChain], failing: Callable[[RedirectChain], bool]
) -> list[FindingData]:
    findings = _none_requested(ctx, check_id, chains)
    for chain in _followable(chains):
        if chain.unavailable:
            findings.append(ctx.inconclusive(check_id, chain.entry_url, chain.unavailable))
        elif failing(chain):
            findings.append(ctx.fail(check_id, chain.entry_url, chain.describe()))
        elif unseen := _unseen(chain):
            # What was seen is fine, but the rest of the chain was not: never a pass.
            findings.append(ctx.inconclusive(check_id, chain.entry_url, unseen))
    return findings


@rule("http.no_https_redirect")
def no_https_redirect(ctx: RuleContext) -> list[FindingData]:
    findings = _none_requested(ctx, "http.no_https_redirect", _entry_chains(ctx))
    for chain in _followable(_entry_chains(ctx)):
        if not chain.entry_url.startswith("http://"):
            continue
        if chain.unavailable:
            findings.append(ctx.inconclusive("http.no_https_redirect", chain.entry_url, chain.unavailable))
        elif any(h.status is not None for h in chain.hops):
            if not chain.loop and not chain.final_url.startswith("https://"):
                findings.append(ctx.fail("http.no_https_redirect", chain.entry_url, chain.describe()))
        elif _port_80_closed(ctx, chain):
            evidence = [chain.describe(), "https:// answers, but http:// (port 80) does not answer at all"]
            findings.append(ctx.fail("http.no_https_redirect", chain.entry_url, evidence))
        else:
            # The host does not answer at all: DNS or http.unreachable report why.
            why = _unseen(chain) or chain.describe()
            findings.append(ctx.inconclusive("http.no_https_redirect", chain.entry_url, why))
    return findings


def _port_80_closed(ctx: RuleContext, chain: RedirectChain) -> bool:
    if chain.error_kind.startswith("dns_"):
        return False
    secure = ctx.facts.chain("https://" + chain.entry_url.removeprefix("http://"))
    return secure is not None and not secure.failed


@rule("http.redirect_not_permanent")
def redirect_not_permanent(ctx: RuleContext) -> list[FindingData]:
    return _per_chain(
        ctx,
        "http.redirect_not_permanent",
        _entry_chains(ctx),
        lambda c: any(h.is_redirect and h.status in (302, 303, 307) for h in c.hops),
    )


@rule("http.duplicate_site")
def duplicate_site(ctx: RuleContext) -> list[FindingData]:
    apex = ctx.facts.chain(f"https://{ctx.site.apex}/")
    www = ctx.facts.chain(f"https://{ctx.site.www}/")
    if not apex or not www:
        return [
            ctx.inconclusive(
                "http.duplicate_site", ctx.site.domain, "the apex and www were not both requested"
            )
        ]
    if _nonexistent(apex) or _nonexistent(www):
        if _nonexistent(apex) and _nonexistent(www):
            raise Skip("neither the apex nor www exists in DNS (the DNS checks report it)")
        return []  # one of the two names does not exist: it cannot serve a copy
    if apex.unavailable or www.unavailable or apex.failed or www.failed:
        # One of the two could not be read: we cannot tell whether it serves a copy.
        unread = next(c for c in (apex, www) if c.unavailable or c.failed)
        reason = unread.unavailable or f"{unread.entry_url}: {unread.error or 'no answer'}"
        return [ctx.inconclusive("http.duplicate_site", ctx.site.domain, reason)]
    served_apart = apex.final_host != www.final_host
    if served_apart and apex.final_status == 200 and www.final_status == 200:
        evidence = [
            apex.describe(),
            www.describe(),
            "both hosts answer 200 without redirecting to one another",
        ]
        return [ctx.fail("http.duplicate_site", ctx.site.domain, evidence)]
    return []


@rule("http.canonical_mismatch")
def canonical_mismatch(ctx: RuleContext) -> list[FindingData]:
    canonical = ctx.site.canonical_host
    findings = _none_requested(ctx, "http.canonical_mismatch", _entry_chains(ctx))
    for chain in _followable(_entry_chains(ctx)):
        if chain.unavailable:
            findings.append(ctx.inconclusive("http.canonical_mismatch", chain.entry_url, chain.unavailable))
            continue
        if unseen := _unseen(chain):
            findings.append(ctx.inconclusive("http.canonical_mismatch", chain.entry_url, unseen))
            continue
        answered = not chain.loop and (chain.final_status or 0) < 400
        if answered and chain.final_host != canonical:
            evidence = [chain.describe(), f"declared canonical host: {canonical}"]
            findings.append(ctx.fail("http.canonical_mismatch", chain.entry_url, evidence))
    return findings


@rule("http.redirect_chain_long")
def redirect_chain_long(ctx: RuleContext) -> list[FindingData]:
    findings = _none_requested(ctx, "http.redirect_chain_long", ctx.facts.redirects)
    for chain in _followable(ctx.facts.redirects):
        if chain.unavailable:
            findings.append(ctx.inconclusive("http.redirect_chain_long", chain.entry_url, chain.unavailable))
            continue
        if chain.loop:
            continue  # http.redirect_loop reports it
        if chain.redirects <= 1:
            # A chain that broke (a refused certificate, no answer) was not seen to its end.
            if unseen := _unseen(chain):
                findings.append(ctx.inconclusive("http.redirect_chain_long", chain.entry_url, unseen))
            continue
        severity = Severity.HIGH if chain.redirects >= 3 else Severity.MEDIUM
        evidence = [f"{chain.redirects} redirects before the page:", chain.describe()]
        findings.append(ctx.fail("http.redirect_chain_long", chain.entry_url, evidence, severity=severity))
    return findings


@rule("http.redirect_loop")
def redirect_loop(ctx: RuleContext) -> list[FindingData]:
    return _per_chain(
        ctx, "http.redirect_loop", ctx.facts.redirects, lambda c: c.loop or c.redirects > MAX_REDIRECTS
    )


@rule("http.redirect_downgrade")
def redirect_downgrade(ctx: RuleContext) -> list[FindingData]:
    def downgrades(c: RedirectChain) -> bool:
        urls = [h.url for h in c.hops]
        return any(
            a.startswith("https://") and b.startswith("http://") for a, b in zip(urls, urls[1:], strict=False)
        )

    return _per_chain(ctx, "http.redirect_downgrade", ctx.facts.redirects, downgrades)


@rule("http.campaign_url_broken")
def campaign_url_broken(ctx: RuleContext) -> list[FindingData]:
    chains = {c.entry_url: c for c in ctx.facts.redirects if c.kind == "campaign"}
    findings = []
    for url in ctx.site.campaign_urls:
        chain = chains.get(url)
        if chain is None:
            findings.append(ctx.inconclusive("http.campaign_url_broken", url, "the URL was not requested"))
        elif chain.unavailable:
            findings.append(ctx.inconclusive("http.campaign_url_broken", url, chain.unavailable))
        elif chain.failed or (chain.final_status or 0) >= 400:
            # A name that does not exist breaks the link too: it is judged, not skipped.
            findings.append(ctx.fail("http.campaign_url_broken", url, chain.describe()))
    return findings


def _hsts(ctx: RuleContext) -> tuple[RedirectChain | None, str | None]:
    """The canonical chain and its HSTS header ("" when absent, None when it could not be read).

    Behind a certificate browsers refuse, the header is read from the page fetched past it,
    the same page whose content and cookies the other checks quote."""
    chain = _canonical_chain(ctx)
    if chain is not None and (home := _canonical_read_past_certificate(ctx)):
        return chain, home.headers.get("strict-transport-security", "")
    if chain is None or chain.failed or chain.unavailable or not chain.final_url.startswith("https://"):
        return chain, None
    return chain, chain.final.headers.get("strict-transport-security", "") if chain.final else ""


@rule("http.hsts_missing")
def hsts_missing(ctx: RuleContext) -> list[FindingData]:
    chain, header = _hsts(ctx)
    host = ctx.site.canonical_host
    if chain is None:
        return [ctx.inconclusive("http.hsts_missing", host, "the canonical URL was not requested")]
    if chain.unavailable:
        return [ctx.inconclusive("http.hsts_missing", host, chain.unavailable)]
    if chain.failed and header is None:
        return [
            ctx.inconclusive(
                "http.hsts_missing", host, f"the canonical page could not be read: {chain.error}"
            )
        ]
    if header == "":
        evidence = f"{chain.final_url} → HTTP {chain.final_status}, no Strict-Transport-Security header"
        if chain.failed and (home := _canonical_read_past_certificate(ctx)):
            evidence = f"{home.url} (read past the refused certificate) → HTTP {home.status}, no Strict-Transport-Security header"
        return [ctx.fail("http.hsts_missing", host, evidence)]
    if header is None:
        return [ctx.inconclusive("http.hsts_missing", host, "the canonical page did not end on HTTPS")]
    return []


@rule("http.hsts_short")
def hsts_short(ctx: RuleContext) -> list[FindingData]:
    chain, header = _hsts(ctx)
    host = ctx.site.canonical_host
    if header is None:
        why = (chain.unavailable or _unseen(chain)) if chain else ""
        return [ctx.inconclusive("http.hsts_short", host, why or "the canonical page could not be read")]
    if not header:
        raise Skip("no Strict-Transport-Security header to measure (http.hsts_missing reports it)")
    match = re.search(r"max-age\s*=\s*\"?(\d+)", header, re.I)
    # At most 18 significant digits: a longer number is far past the goal anyway, and int()
    # refuses strings of more than 4,300 digits, which a hostile header can hold.
    age = int(match.group(1).lstrip("0")[:18] or 0) if match else 0
    if age >= HSTS_MIN_AGE:
        return []
    evidence = (
        f"Strict-Transport-Security: {header} (max-age {age} s = {age // 86_400} days; 180 days needed)"
    )
    return [ctx.fail("http.hsts_short", host, evidence)]


@rule("http.mixed_content")
def mixed_content(ctx: RuleContext) -> list[FindingData]:
    findings = _storefront_unread(ctx, "http.mixed_content")
    for page in _https_pages(ctx):
        refs = page.html.mixed_content if page.html else []
        if not refs:
            continue
        active = any(r.active for r in refs)
        severity = Severity.HIGH if active or page.route in SENSITIVE_ROUTES else Severity.MEDIUM
        evidence = [f"{r.url} ({r.tag}, {'active' if r.active else 'passive'})" for r in refs[:20]]
        if len(refs) > 20:
            evidence.append(f"… and {len(refs) - 20} more")
        findings.append(ctx.fail("http.mixed_content", page.url, evidence, severity=severity))
    return findings


def _per_host_header(
    ctx: RuleContext, check_id: str, lacking: Callable[[PageFacts], str]
) -> list[FindingData]:
    """One finding per host listing its HTML pages for which ``lacking(page)`` gives a reason."""
    by_host: dict[str, list[str]] = defaultdict(list)
    # Successful HTML answers only: an error page without the header is not the store.
    pages = [
        p
        for p in _https_pages(ctx)
        if p.is_html and 200 <= (p.status or 0) < 300 and ctx.is_site_host(p.served_by)
    ]
    seen: set[str] = set()
    for page in pages:
        url = page.final_url or page.url
        if url not in seen and (reason := lacking(page)):
            seen.add(url)
            by_host[page.served_by].append(f"{url}: {reason}")
    findings = [ctx.fail(check_id, host, lines) for host, lines in sorted(by_host.items())]
    canonical = ctx.site.canonical_host
    if not any(p.served_by == canonical for p in pages):
        # Never a silent pass: the storefront's own headers could not be read.
        home = ctx.facts.home()
        why = (home.unavailable or home.error) if home else ""
        findings.append(
            ctx.inconclusive(check_id, canonical, why or "no HTML page of the storefront could be read")
        )
    return findings


@rule("http.csp_missing")
def csp_missing(ctx: RuleContext) -> list[FindingData]:
    def lacking(page: PageFacts) -> str:
        if page.headers.get("content-security-policy") or (page.html and page.html.meta_csp):
            return ""
        if page.headers.get("content-security-policy-report-only"):
            return "only Content-Security-Policy-Report-Only (nothing is enforced)"
        return "no Content-Security-Policy header"

    return _per_host_header(ctx, "http.csp_missing", lacking)


@rule("http.clickjacking")
def clickjacking(ctx: RuleContext) -> list[FindingData]:
    requested = [p for p in ctx.facts.pages if p.route in ("login", "checkout")]
    if not requested:
        raise Skip("no login or checkout page was fetched")
    pages = [p for p in _https_pages(ctx) if p.route in ("login", "checkout")]
    findings = [
        ctx.inconclusive("http.clickjacking", p.url, p.unavailable or p.error or "no answer")
        for p in requested
        if p not in pages
    ]
    for page in pages:
        csp = page.headers.get("content-security-policy", "").lower()
        xfo = page.headers.get("x-frame-options", "").lower()
        if "frame-ancestors" in csp or xfo in ("deny", "sameorigin"):
            continue
        evidence = f"{page.url}: no frame-ancestors in Content-Security-Policy and no X-Frame-Options"
        findings.append(ctx.fail("http.clickjacking", page.url, evidence))
    return findings


@rule("http.nosniff_missing")
def nosniff_missing(ctx: RuleContext) -> list[FindingData]:
    def lacking(page: PageFacts) -> str:
        value = page.headers.get("x-content-type-options", "")
        return "" if value.strip().lower() == "nosniff" else f"X-Content-Type-Options: {value or 'missing'}"

    return _per_host_header(ctx, "http.nosniff_missing", lacking)


@rule("http.referrer_policy_missing")
def referrer_policy_missing(ctx: RuleContext) -> list[FindingData]:
    return _per_host_header(
        ctx,
        "http.referrer_policy_missing",
        lambda p: "" if p.headers.get("referrer-policy") else "no Referrer-Policy",
    )


@rule("http.cookie_insecure")
def cookie_insecure(ctx: RuleContext) -> list[FindingData]:
    findings: dict[tuple[str, str], FindingData] = {}
    for page in _https_pages(ctx):
        for cookie in page.cookies:
            session = bool(_SESSION_COOKIE.search(cookie.name)) and not _NOT_SESSION.search(cookie.name)
            missing = [
                flag
                for flag, ok in (
                    ("Secure", cookie.secure),
                    ("HttpOnly", cookie.httponly or not session),
                    ("SameSite", bool(cookie.samesite)),
                )
                if not ok
            ]
            key = (page.served_by, cookie.name)
            if not missing or key in findings:
                continue
            kind = "session cookie" if session else "cookie"
            evidence = f"{page.url} sets {kind} {cookie.name} without {', '.join(missing)}"
            severity = Severity.HIGH if session else Severity.MEDIUM
            subject = f"{page.served_by} cookie {cookie.name}"
            findings[key] = ctx.fail("http.cookie_insecure", subject, evidence, severity=severity)
    return _storefront_unread(ctx, "http.cookie_insecure") + list(findings.values())


@rule("http.version_leak")
def version_leak(ctx: RuleContext) -> list[FindingData]:
    by_host: dict[str, set[str]] = defaultdict(set)
    for page in ctx.facts.pages:
        for header in ("server", "x-powered-by", "x-aspnet-version", "x-generator"):
            value = page.headers.get(header, "")
            if value and _VERSION.search(value) and ctx.is_site_host(page.served_by):
                by_host[page.served_by].add(f"{header}: {value}")
    if not by_host:
        return _no_page_read(ctx, "http.version_leak")
    return [ctx.fail("http.version_leak", h, sorted(lines)) for h, lines in sorted(by_host.items())]
