"""``python -m bench audit_large``: does the audit stay as fast as its slowest chain on a
large store?

A sandbox store with 20 subdomains (22 hosts with the apex and www), 10 critical routes
× 20 samples and 3 DKIM selectors, 50 ms of latency on every HTTP response. The routes
are declared, so the audit times exactly these (it would otherwise discover its own).
The baseline, measured in the same run, is the longest dependent chain alone (the
slowest route's 20 sequential samples, or DNS followed by TLS of every host).
``ratio`` = audit wall time / longest chain (goal ≤ 1.2).
"""

from __future__ import annotations

from bench.audit import LATENCY_MS, SAMPLES, SECURE_HEADERS, measure, setup_django, store_page

SUBDOMAINS = [
    "app",
    "admin",
    "api",
    "checkout",
    "shop",
    "store",
    "staging",
    "dev",
    "preview",
    "beta",
    "blog",
    "cdn",
    "static",
    "status",
    "help",
    "docs",
    "careers",
    "partners",
    "wholesale",
    "returns",
]
ROUTES = {
    "home": "/",
    "listing": "/collections/all",
    "new": "/collections/new",
    "product": "/products/tee",
    "product2": "/products/mug",
    "search": "/search",
    "cart": "/cart",
    "checkout": "/checkout",
    "login": "/account/login",
    "order": "/api/orders",
}
DKIM_SELECTORS = ["s1", "s2", "s3"]
# An RSA-2048 public key (test material, no private half kept anywhere).
DKIM_KEY = (
    "v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAuhV8Pgqd0G+H9rqPw4kIszOJ+qH/sQUK9uDNl6uEIDi"
    "PVEZbMOo4uPsUQDJdOS3BbDb/hQH+nk5/NeuDHynZG9K71UVKmeAgsY9bRJiwK09aPtqw+5FxrkNekQJ5KcfM6Z0OHRrnZpw8wgr9CfrD"
    "5LO9SSqJ6PlNg4DxuIZuijewZeAtJEWW5GDvj57rWzTaOlD6UzREaTnEJRjy1HhDoxgqWmxzdt6jLsyCf0sDrIr7tmUujx23oiAiHFIwL"
    "ccDkECvmapzLorsFmY0r3D77z2DcrvLXt9dE7ysvRYnUvNTHlpcsB+0RBOC1v3i28gxYkaTkJUbJVDUJgZRQDfBgwIDAQAB"
)
DOMAIN = "large-store.test"


def scenario() -> dict:
    page = store_page("Large Store")
    secure = SECURE_HEADERS
    routes = [
        {"path": p, "html": page, "latency": LATENCY_MS} for p in ROUTES.values() if not p.startswith("/api/")
    ]
    routes.append(
        {"path": "/api/orders", "body": "[]", "content_type": "application/json", "latency": LATENCY_MS}
    )
    routes.append({"path": "/static/*", "body": "x" * 2048, "latency": LATENCY_MS, "compress": True})
    subdomain_routes = [{"path": "/", "html": {"title": "Large Store"}, "latency": LATENCY_MS}]
    records = [
        {"name": "@", "type": "CAA", "value": '0 issue "letsencrypt.org"'},
        {"name": "@", "type": "MX", "value": "10 mx.large-store.test."},
        {"name": "mx", "type": "A", "value": "127.77.25.1"},
        {"name": "@", "type": "TXT", "value": "v=spf1 ip4:198.51.100.0/24 -all"},
        {
            "name": "_dmarc",
            "type": "TXT",
            "value": "v=DMARC1; p=quarantine; rua=mailto:dmarc@large-store.test",
        },
    ]
    records += [{"name": f"{s}._domainkey", "type": "TXT", "value": DKIM_KEY} for s in DKIM_SELECTORS]
    return {
        "name": "bench_large_store",
        "zones": {DOMAIN: {"records": records}},
        "hosts": [
            {
                "name": f"www.{DOMAIN}",
                "headers": secure,
                "https_redirect": 301,
                "latency": LATENCY_MS,
                "routes": routes,
            },
            {"name": DOMAIN, "redirect_to": f"https://www.{DOMAIN}", "latency": LATENCY_MS},
            *(
                {
                    "name": f"{label}.{DOMAIN}",
                    "headers": secure,
                    "latency": LATENCY_MS,
                    "routes": subdomain_routes,
                }
                for label in SUBDOMAINS
            ),
        ],
        "registrations": {DOMAIN: {"expires": "+365d"}},
    }


def run(args: list[str]) -> list[dict]:
    setup_django()
    from audits.facts import RouteSpec, SiteDeclaration

    site = SiteDeclaration(
        domain=DOMAIN,
        canonical="www",
        subdomains=list(SUBDOMAINS),
        routes=[RouteSpec.standard(name, path) for name, path in ROUTES.items()],
        dkim_selectors=list(DKIM_SELECTORS),
    )
    figures = measure(scenario(), site, chain_route=list(ROUTES).index("checkout"))
    return [
        {
            "name": "audit_large",
            **figures,
            "hosts": len(SUBDOMAINS) + 2,
            "subdomains": len(SUBDOMAINS),
            "routes": len(ROUTES),
            "samples": SAMPLES,
            "dkim_selectors": len(DKIM_SELECTORS),
            "latency_ms": LATENCY_MS,
            "goal": "ratio <= 1.2",
        }
    ]
