"""Literal facts for rule tests: ``good_facts()`` is a store that passes every check; the
``with_*`` helpers swap one fact so a test shows exactly what makes a check fail."""

from __future__ import annotations

import dataclasses
import datetime as dt

from audits.facts import (
    AssetFacts,
    AuditFacts,
    CertInfo,
    Cookie,
    DeployRecords,
    DnsAnswer,
    DnsFacts,
    DnsRecord,
    DnsStatus,
    ExposureProbe,
    HostDns,
    HtmlFacts,
    HttpHop,
    LighthouseFacts,
    LoadTiming,
    MonitoringSetup,
    NameServerFacts,
    PageFacts,
    RdapFacts,
    RedirectChain,
    RouteSpec,
    RouteTiming,
    ScriptRef,
    SiteDeclaration,
    TlsFacts,
)

NOW = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)
DOMAIN = "example.com"
WWW = f"www.{DOMAIN}"
HOME = f"https://{WWW}/"

GOOD_HEADERS = {
    "content-type": "text/html; charset=utf-8",
    "server": "cloudflare",
    "cf-ray": "8c1f2a3b4c5d6e7f-AMS",
    "strict-transport-security": "max-age=31536000; includeSubDomains",
    "content-security-policy": "default-src 'self'; frame-ancestors 'self'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "strict-origin-when-cross-origin",
    "content-encoding": "br",
}


def headers(**changes: str | None) -> dict[str, str]:
    """The good store's headers with some changed (``cf_ray="…"``) or removed (``=None``)."""
    result = dict(GOOD_HEADERS)
    for key, value in changes.items():
        key = key.replace("_", "-")
        if value is None:
            result.pop(key, None)
        else:
            result[key] = value
    return result


def answer(
    name: str, rtype: str, *values: str, ttl: int = 300, status: DnsStatus | None = None, chain=()
) -> DnsAnswer:
    records = [DnsRecord(rtype, v, ttl) for v in values]
    if status is None:
        status = DnsStatus.OK if values else DnsStatus.NODATA
    return DnsAnswer(name=name, rtype=rtype, status=status, records=records, cname_chain=list(chain))


def host(
    name: str, *addresses: str, source: str = "declared", ttl: int = 300, chain=(), status=None
) -> HostDns:
    v4 = [a for a in addresses if ":" not in a]
    v6 = [a for a in addresses if ":" in a]
    return HostDns(
        name=name,
        source=source,
        a=answer(name, "A", *v4, ttl=ttl, chain=chain, status=status),
        aaaa=answer(name, "AAAA", *v6, ttl=ttl, chain=chain, status=status if status else None),
    )


def hop(url: str, status: int | None, location: str = "", **headers: str) -> HttpHop:
    return HttpHop(
        url=url,
        status=status,
        location=location,
        headers={k.replace("_", "-"): v for k, v in headers.items()},
    )


def chain(entry: str, *hops: HttpHop, kind: str = "entry", **kw) -> RedirectChain:
    return RedirectChain(entry_url=entry, kind=kind, hops=list(hops), **kw)


def ok_hop(url: str = HOME) -> HttpHop:
    return HttpHop(url=url, status=200, headers=dict(GOOD_HEADERS))


def page(url: str = HOME, route: str = "home", **kw) -> PageFacts:
    html = kw.pop("html", None) or HtmlFacts(
        title="Example Store",
        scripts=[
            ScriptRef(src="https://www.googletagmanager.com/gtag/js?id=G-X", in_head=True, is_async=True)
        ],
        subresource_count=30,
        error_tracking=["Sentry"],
        analytics=["Google Analytics 4"],
    )
    defaults = {
        "status": 200,
        "headers": dict(GOOD_HEADERS),
        "cookies": [Cookie("_session_id", secure=True, httponly=True, samesite="lax")],
        "body_bytes": 80_000,
        "body_sha256": "home-hash" if route == "home" else f"{route}-hash",
    }
    defaults.update(kw)
    return PageFacts(url=url, route=route, html=html, **defaults)


def cert(host_names=(DOMAIN, f"*.{DOMAIN}"), days_left: float = 60, **kw) -> CertInfo:
    defaults = {
        "subject": f"CN={host_names[0]}",
        "sans": list(host_names),
        "issuer": "CN=R11, O=Let's Encrypt",
        "not_before": NOW - dt.timedelta(days=30),
        "not_after": NOW + dt.timedelta(days=days_left),
        "key_type": "EC",
        "key_bits": 256,
    }
    defaults.update(kw)
    return CertInfo(**defaults)


def tls(name: str = WWW, **kw) -> TlsFacts:
    defaults = {
        "handshake_ok": True,
        "cert": cert(),
        "tls10": False,
        "tls11": False,
        "tls13": True,
        "http2": True,
    }
    defaults.update(kw)
    return TlsFacts(host=name, **defaults)


def timing(name: str, path: str, ms: float = 150, **kw) -> RouteTiming:
    spec = RouteSpec.standard(name, path)
    defaults = {
        "ttfb_ms": [ms + i for i in range(20)],
        "total_ms": [ms + 40 + i for i in range(20)],
        "samples": 20,
        "errors": 0,
    }
    defaults.update(kw)
    return RouteTiming(
        name=name, url=f"https://{WWW}{path}", kind=spec.kind, budget_ms=spec.budget_ms, **defaults
    )


ROUTES = {
    "home": "/",
    "product": "/products/tee",
    "cart": "/cart",
    "login": "/account/login",
    "checkout": "/checkout",
}


def good_facts() -> AuditFacts:
    """A store ready for launch: Cloudflare in front, www canonical, everything set."""
    ns = ["amy.ns.cloudflare.com", "bob.ns.cloudflare.com"]
    site = SiteDeclaration(
        domain=DOMAIN,
        canonical="www",
        subdomains=["app"],
        campaign_urls=[f"https://{DOMAIN}/spring"],
        routes=[RouteSpec.standard(n, p) for n, p in ROUTES.items()] + [RouteSpec.standard("order")],
        ownership_verified=True,
    )
    dns = DnsFacts(
        domain=DOMAIN,
        ns=answer(DOMAIN, "NS", *ns, ttl=86400),
        nameservers=[
            NameServerFacts(
                ns[0],
                ["173.245.58.51"],
                authoritative=True,
                soa_serial=7,
                apex_a=["104.16.1.1"],
                www_a=["104.16.1.2"],
            ),
            NameServerFacts(
                ns[1],
                ["172.64.33.74"],
                authoritative=True,
                soa_serial=7,
                apex_a=["104.16.1.1"],
                www_a=["104.16.1.2"],
            ),
        ],
        caa=answer(DOMAIN, "CAA", '0 issue "letsencrypt.org"'),
        hosts=[
            host(DOMAIN, "104.16.1.1", "2606:4700::1", source="apex"),
            host(WWW, "104.16.1.2", source="www"),
            host(f"app.{DOMAIN}", "104.16.1.3"),
        ],
        # The random label a real audit asks for: no wildcard record answers it.
        wildcard_probe=host(
            f"launchready-0123456789ab.{DOMAIN}", source="wildcard", status=DnsStatus.NXDOMAIN
        ),
    )
    redirects = [
        chain(f"http://{DOMAIN}/", hop(f"http://{DOMAIN}/", 301, HOME), ok_hop()),
        chain(f"https://{DOMAIN}/", hop(f"https://{DOMAIN}/", 301, HOME), ok_hop()),
        chain(f"http://{WWW}/", hop(f"http://{WWW}/", 301, HOME), ok_hop()),
        chain(HOME, ok_hop()),
        chain(
            f"https://{DOMAIN}/spring",
            hop(f"https://{DOMAIN}/spring", 301, f"https://{WWW}/collections/spring"),
            ok_hop(f"https://{WWW}/collections/spring"),
            kind="campaign",
        ),
    ]
    pages = [page(f"https://{WWW}{path}", name) for name, path in ROUTES.items()]
    pages.append(
        page(
            f"https://app.{DOMAIN}/",
            "",
            final_url=f"https://app.{DOMAIN}/login",
            html=HtmlFacts(title="Sign in", has_password_form=True),
            body_sha256="app-hash",
        )
    )
    assets = [
        AssetFacts(HOME, "html", 200, "no-cache", "br", "text/html", 80_000),
        AssetFacts(
            f"https://{WWW}/assets/app.css", "css", 200, "public, max-age=31536000", "br", "text/css", 40_000
        ),
        AssetFacts(
            f"https://{WWW}/assets/app.js",
            "js",
            200,
            "public, max-age=31536000, immutable",
            "gzip",
            "text/javascript",
            90_000,
        ),
        AssetFacts(
            f"https://{WWW}/assets/hero.webp", "image", 200, "max-age=604800", "", "image/webp", 120_000
        ),
    ]
    exposure = [
        ExposureProbe(f"https://{WWW}/.env", 404),
        ExposureProbe(f"https://{WWW}/.env.production", 404),
        ExposureProbe(f"https://{WWW}/.git/HEAD", 404),
        ExposureProbe(f"https://{WWW}/.git/config", 404),
        ExposureProbe(f"https://{WWW}/assets/app.js.map", 404),
    ]
    routes = [timing(n, p) for n, p in ROUTES.items()] + [timing("order", "/api/orders", 90)]
    return AuditFacts(
        site=site,
        collected_at=NOW,
        dns=dns,
        rdap=RdapFacts(
            DOMAIN,
            registrar="Example Registrar",
            expires_at=NOW + dt.timedelta(days=400),
            statuses=["client transfer prohibited", "active"],
        ),
        redirects=redirects,
        pages=pages,
        assets=assets,
        tls=[tls(DOMAIN), tls(WWW), tls(f"app.{DOMAIN}")],
        exposure=exposure,
        routes=routes,
        load=[
            LoadTiming(
                "product",
                f"https://{WWW}/products/tee",
                5,
                [200 + i for i in range(40)],
                idle_p95_ms=170,
                requests=40,
            )
        ],
        lighthouse=LighthouseFacts(HOME, "PageSpeed Insights", 91),
        monitoring_setup=MonitoringSetup(
            monitored_urls=[
                f"https://www.{DOMAIN}/",
                f"https://www.{DOMAIN}/account/login",
                f"https://www.{DOMAIN}/checkout",
            ],
            verified_channels=["Slack: #shop-alerts"],
            escalation_contacts=["Dana (owner)"],
            heartbeats=["Stripe webhook handler"],
        ),
        deploy_records=DeployRecords(
            has_env_inventory=True,
            env_gate_last_call=NOW - dt.timedelta(days=1),
            has_deploys=True,
            last_smoke_at=NOW - dt.timedelta(days=1),
            last_smoke_passed=True,
            last_rollback_at=NOW - dt.timedelta(days=20),
            last_rollback_minutes=4.0,
            last_rollback_kind="rehearsal",
        ),
    )


def replace(obj, **changes):
    return dataclasses.replace(obj, **changes)


def with_dns(facts: AuditFacts, **changes) -> AuditFacts:
    return replace(facts, dns=replace(facts.dns, **changes))


def with_host(facts: AuditFacts, new: HostDns) -> AuditFacts:
    hosts = [h for h in facts.dns.hosts if h.name != new.name] + [new]
    return with_dns(facts, hosts=hosts)


def with_chain(facts: AuditFacts, new: RedirectChain) -> AuditFacts:
    chains = [c for c in facts.redirects if c.entry_url != new.entry_url] + [new]
    return replace(facts, redirects=chains)


def with_page(facts: AuditFacts, new: PageFacts) -> AuditFacts:
    pages = [p for p in facts.pages if p.url != new.url] + [new]
    return replace(facts, pages=pages)


def with_tls(facts: AuditFacts, new: TlsFacts) -> AuditFacts:
    return replace(facts, tls=[t for t in facts.tls if t.host != new.host] + [new])


def with_route(facts: AuditFacts, new: RouteTiming) -> AuditFacts:
    return replace(facts, routes=[r for r in facts.routes if r.name != new.name] + [new])


def with_exposure(facts: AuditFacts, new: ExposureProbe) -> AuditFacts:
    return replace(facts, exposure=[e for e in facts.exposure if e.url != new.url] + [new])


def html(**kw) -> HtmlFacts:
    base = {
        "title": "Example Store",
        "error_tracking": ["Sentry"],
        "analytics": ["Google Analytics 4"],
        "subresource_count": 30,
    }
    base.update(kw)
    return HtmlFacts(**base)


def failing(facts: AuditFacts, check: str) -> list[tuple[str, str, str]]:
    """(check, severity, subject) of the failing findings of one check."""
    from audits.findings import Status
    from audits.rules import evaluate

    return [
        (f.check, str(f.severity), f.subject)
        for f in evaluate(facts, NOW, [check]).findings
        if f.status == Status.FAIL
    ]


def outcome(facts: AuditFacts, check: str) -> str:
    from audits.rules import evaluate

    (result,) = evaluate(facts, NOW, [check]).results
    return str(result.outcome)
