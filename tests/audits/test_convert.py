"""From network-layer results (literal dataclasses, no network) to facts."""

from __future__ import annotations

import datetime as dt

from audits.convert import (
    asset_facts,
    dns_answer,
    exposure_probe,
    nameserver_facts,
    page_facts,
    redirect_chain,
    route_timing,
    tls_facts,
)
from audits.facts import DnsStatus, RouteSpec, Sniff, UnavailableKind, VerifyError
from launchready import net

NOW = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)
HOME = "https://www.example.com/"


def hop(
    url: str,
    status: int | None,
    *headers: tuple[str, str],
    location: str | None = None,
    error=None,
    ttfb=40.0,
) -> net.Hop:
    return net.Hop(
        url=url,
        status=status,
        location=location,
        headers=headers,
        timings=net.Timings(ttfb_ms=ttfb, total_ms=ttfb + 5),
        error=error,
    )


def fetched(
    url: str, *hops: net.Hop, body: bytes = b"", error: net.NetError | None = None, elapsed: float = 60.0
) -> net.FetchResult:
    return net.FetchResult(
        url=url, hops=hops, body=body, body_bytes_read=len(body), elapsed_ms=elapsed, error=error
    )


def test_dns_answer_keeps_targets_ttl_and_status() -> None:
    answer = net.DnsAnswer(
        name="shop.example.com",
        rdtype="A",
        status=net.DnsStatus.OK,
        records=("23.227.38.65",),
        ttl=300,
        cname_chain=("shop.example.com", "shops.myshopify.com"),
    )
    facts = dns_answer(answer)
    assert facts.status == DnsStatus.OK and facts.values == ["23.227.38.65"]
    assert facts.records[0].ttl == 300 and facts.cname_chain == ["shops.myshopify.com"]
    broken = dns_answer(
        net.DnsAnswer(
            "x.example.com", "A", net.DnsStatus.BLOCKED, error=net.NetError(net.ErrorKind.BLOCKED, "refused")
        )
    )
    assert broken.status == DnsStatus.BLOCKED and broken.inconclusive and broken.error == "refused"


def test_nameserver_facts() -> None:
    soa = net.NameserverAnswer(
        "192.0.2.53",
        53,
        "example.com",
        "SOA",
        net.DnsStatus.OK,
        rcode="NOERROR",
        authoritative=True,
        soa_serial=9,
    )
    a = net.NameserverAnswer(
        "192.0.2.53",
        53,
        "example.com",
        "A",
        net.DnsStatus.OK,
        rcode="NOERROR",
        authoritative=True,
        records=("192.0.2.1",),
    )
    ns = nameserver_facts("ns1.example.net", ["192.0.2.53"], soa, a)
    assert (ns.responded, ns.authoritative, ns.soa_serial, ns.apex_a) == (True, True, 9, ["192.0.2.1"])
    refused = net.NameserverAnswer(
        "192.0.2.54", 53, "example.com", "SOA", net.DnsStatus.REFUSED, rcode="REFUSED"
    )
    lame = nameserver_facts("ns2.example.net", ["192.0.2.54"], refused)
    assert (lame.responded, lame.authoritative, lame.error) == (True, False, "answers REFUSED")
    silent = nameserver_facts(
        "ns3.example.net",
        [],
        net.NameserverAnswer("192.0.2.55", 53, "example.com", "SOA", net.DnsStatus.TIMEOUT),
    )
    assert not silent.responded


def test_redirect_chain_and_loop() -> None:
    result = fetched(
        "http://example.com/",
        hop("http://example.com/", 301, ("Location", HOME), location=HOME),
        hop(
            HOME,
            200,
            ("Strict-Transport-Security", "max-age=31536000"),
            ("Set-Cookie", "a=1"),
            ("Set-Cookie", "b=2"),
        ),
    )
    chain = redirect_chain(result)
    assert chain.redirects == 1 and chain.final_status == 200 and not chain.failed
    assert chain.final.headers["strict-transport-security"] == "max-age=31536000"
    assert chain.final.headers["set-cookie"] == "a=1, b=2"
    loop = redirect_chain(
        fetched(HOME, hop(HOME, 302, location=HOME), error=net.NetError(net.ErrorKind.REDIRECT_LOOP, "loops"))
    )
    assert loop.loop and loop.error == ""


def test_connect_failure_is_a_failure_but_the_guard_is_unavailable() -> None:
    refused = redirect_chain(
        fetched(
            HOME,
            hop(HOME, None, error=net.NetError(net.ErrorKind.CONNECTION_REFUSED, "refused")),
            error=net.NetError(net.ErrorKind.CONNECTION_REFUSED, "Connection refused."),
        )
    )
    assert refused.failed and refused.unavailable is None and refused.error_kind == "connection_refused"
    guarded = redirect_chain(fetched(HOME, error=net.NetError(net.ErrorKind.BLOCKED, "a private address")))
    assert guarded.unavailable is not None and guarded.unavailable.kind == UnavailableKind.BLOCKED


def test_waf_challenge_makes_the_page_unavailable() -> None:
    result = fetched(
        HOME,
        hop(HOME, 403, ("Server", "cloudflare"), ("Content-Type", "text/html")),
        body=b"<title>Just a moment...</title>",
    )
    page = page_facts(result, "home")
    assert page.unavailable is not None and page.unavailable.kind == UnavailableKind.BLOCKED


def test_page_facts_read_html_and_cookies() -> None:
    body = b'<html><head><title>Shop</title><script src="https://js.sentry-cdn.com/x.min.js"></script></head><body></body></html>'
    result = fetched(
        "https://example.com/",
        hop("https://example.com/", 301, ("Set-Cookie", "seen=1; Secure"), location=HOME),
        hop(
            HOME,
            200,
            ("Content-Type", "text/html; charset=utf-8"),
            ("Set-Cookie", "_session=x; Secure; HttpOnly; SameSite=Lax"),
        ),
        body=body,
    )
    page = page_facts(result, "home")
    assert (page.final_url, page.status, page.body_bytes) == (HOME, 200, len(body))
    assert page.html.title == "Shop" and page.html.error_tracking == ["Sentry"]
    assert {c.name: c.httponly for c in page.cookies} == {"seen": False, "_session": True}
    assert len(page.body_sha256) == 64


def test_asset_and_exposure() -> None:
    asset = asset_facts(
        net.FetchResult(
            url="https://www.example.com/a.js",
            hops=(hop("https://www.example.com/a.js", 200, ("Cache-Control", "max-age=60")),),
            body=b"x" * 900,
            body_bytes_read=300,
            content_encoding="gzip",
        ),
        "js",
    )
    assert (asset.cache_control, asset.content_encoding, asset.size) == ("max-age=60", "gzip", 300)
    env = exposure_probe(
        fetched(
            "https://www.example.com/.env",
            hop("https://www.example.com/.env", 200, ("Content-Type", "text/plain")),
            body=b"SECRET_KEY=abc\n",
        )
    )
    assert (env.sniff, env.detail) == (Sniff.ENV_FILE, "1 variables: SECRET_KEY")


def test_route_timing_counts_errors_and_keeps_successful_ttfb() -> None:
    ok = [fetched(HOME, hop(HOME, 200, ttfb=100.0 + i)) for i in range(18)]
    bad = [
        fetched(HOME, hop(HOME, 502)),
        fetched(HOME, error=net.NetError(net.ErrorKind.READ_TIMEOUT, "timed out")),
    ]
    timing = route_timing(RouteSpec.standard("home"), HOME, ok + bad)
    assert (timing.samples, timing.errors, len(timing.ttfb_ms), timing.p95) == (20, 2, 18, 117.0)
    assert timing.error_examples == ["HTTP 502", "timed out"] and timing.unavailable is None


def _cert(**kw) -> net.CertificateInfo:
    base = {
        "subject": "CN=www.example.com",
        "common_name": "www.example.com",
        "sans": ("www.example.com",),
        "issuer": "CN=R11,O=Let's Encrypt",
        "issuer_common_name": "R11",
        "not_before": NOW - dt.timedelta(days=10),
        "not_after": NOW + dt.timedelta(days=80),
        "key_type": "EC",
        "key_bits": 256,
        "serial": "01",
        "sha256_fingerprint": "ab",
        "signature_algorithm": "ecdsa-with-SHA256",
        "is_ca": False,
        "self_issued": False,
    }
    base.update(kw)
    return net.CertificateInfo(**base)


def test_tls_facts_map_problems_and_protocols() -> None:
    result = net.TlsResult(
        host="www.example.com",
        port=443,
        protocol="TLSv1.3",
        alpn="h2",
        chain=(_cert(),),
        trusted=False,
        reason=net.CertProblem.INCOMPLETE_CHAIN,
        problems=(net.CertProblem.INCOMPLETE_CHAIN,),
        error=net.NetError(net.ErrorKind.TLS_CERTIFICATE, "An intermediate certificate is missing."),
    )
    protocols = net.TlsProtocolSupport(
        "www.example.com",
        443,
        tls1_0=net.ProtocolProbe(None, "this machine's OpenSSL cannot offer TLS 1.0"),
        tls1_1=net.ProtocolProbe(False),
        tls1_2=net.ProtocolProbe(True),
        tls1_3=net.ProtocolProbe(True),
    )
    facts = tls_facts(result, protocols)
    assert facts.handshake_ok and facts.http2 and facts.unavailable is None
    assert facts.verify_errors == [VerifyError.INCOMPLETE_CHAIN]
    assert (facts.tls10, facts.tls11, facts.tls13) == (None, False, True)
    assert facts.protocol_reason == "this machine's OpenSSL cannot offer TLS 1.0"
    assert facts.cert.subject == "www.example.com" and facts.cert.issuer == "R11"


def test_tls_without_handshake() -> None:
    result = net.TlsResult(
        host="app.example.com",
        port=443,
        error=net.NetError(net.ErrorKind.CONNECTION_REFUSED, "Nothing listens on port 443."),
    )
    facts = tls_facts(result)
    assert (facts.handshake_ok, facts.error, facts.http2, facts.cert) == (
        False,
        "Nothing listens on port 443.",
        None,
        None,
    )
