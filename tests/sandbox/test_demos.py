"""The two demo stores look the way the demo promises (seen from the outside, like the audit)."""

import base64
import ipaddress
import re
import socket
import ssl

import dns.rcode
import pytest
from cryptography.hazmat.primitives.serialization import load_der_public_key

from tests.sandbox.helpers import answer_values, dns_query, fetch, header, header_all

GOOD_SITES = [
    "good-store.test",
    "www.good-store.test",
    "api.good-store.test",
    "admin.good-store.test",
    "staging.good-store.test",
    "mta-sts.good-store.test",
]


@pytest.fixture(scope="module")
def good(sandbox_scenario):
    return sandbox_scenario("demo_good")


@pytest.fixture(scope="module")
def broken(sandbox_scenario):
    return sandbox_scenario("demo_broken")


def tls_version(sb, name, with_alpn=False):
    ctx = ssl.create_default_context(cafile=sb.ca_pem_path)
    ctx.set_alpn_protocols(["h2", "http/1.1"])
    with socket.create_connection((sb.address_of(name), sb.https_port), timeout=5) as sock:
        with ctx.wrap_socket(sock, server_hostname=name) as tls:
            return (tls.version(), tls.selected_alpn_protocol()) if with_alpn else tls.version()


def txt(sb, name):
    response = dns_query(sb, name, "TXT")
    return [b"".join(rd.strings).decode() for rrset in response.answer for rd in rrset]


# -- demo_good ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", GOOD_SITES)
def test_good_every_host_has_a_valid_certificate_tls13_and_http2(good, name):
    assert tls_version(good, name, with_alpn=True) == ("TLSv1.3", "h2")


def test_good_canonical_redirects_are_single_301s(good):
    for host, scheme in (
        ("good-store.test", "http"),
        ("good-store.test", "https"),
        ("www.good-store.test", "http"),
    ):
        status, headers, _ = fetch(good, host, "/", scheme=scheme)
        assert (status, header(headers, "Location")) == (301, "https://www.good-store.test/")


def test_good_homepage_headers_and_snippets(good):
    status, headers, body = fetch(good, "www.good-store.test", "/", headers={"Accept-Encoding": "gzip"})
    assert status == 200
    hsts = header(headers, "Strict-Transport-Security")
    assert int(re.search(r"max-age=(\d+)", hsts).group(1)) >= 31536000
    assert "frame-ancestors" in header(headers, "Content-Security-Policy")
    assert header(headers, "X-Content-Type-Options") == "nosniff"
    assert header(headers, "Referrer-Policy")
    assert header(headers, "Server") == "cloudflare" and header(headers, "CF-Ray")
    assert header(headers, "Content-Encoding") == "gzip"
    html = fetch(good, "www.good-store.test", "/")[2].decode()
    assert "browser.sentry-cdn.com" in html and "plausible.io/js/script.js" in html
    assert "http://" not in html


def test_good_static_cached_and_cookies_secure(good):
    _, headers, _ = fetch(good, "www.good-store.test", "/static/app.8b2e4d.js")
    assert int(re.search(r"max-age=(\d+)", header(headers, "Cache-Control")).group(1)) >= 86400
    _, headers, _ = fetch(good, "www.good-store.test", "/login")
    cookies = header_all(headers, "Set-Cookie")
    assert cookies and all("Secure" in c and "SameSite" in c for c in cookies)


def test_good_private_hosts_need_authentication(good):
    for host in ("admin.good-store.test", "staging.good-store.test"):
        status, headers, _ = fetch(good, host, "/")
        assert status == 401 and "noindex" in header(headers, "X-Robots-Tag")


def test_good_dns_and_email(good):
    ns = answer_values(dns_query(good, "good-store.test", "NS"), "NS")
    addresses = [answer_values(dns_query(good, n))[0] for n in ns]
    assert len({ipaddress.ip_network(f"{a}/24", strict=False) for a in addresses}) >= 2
    assert answer_values(dns_query(good, "good-store.test", "CAA"), "CAA")
    assert answer_values(dns_query(good, "good-store.test", "MX"), "MX")
    spf = [t for t in txt(good, "good-store.test") if t.startswith("v=spf1")]
    assert spf == ["v=spf1 include:_spf.sandboxmail.test -all"]
    assert txt(good, "_spf.sandboxmail.test")[0].endswith("-all")
    dkim = txt(good, "s1._domainkey.good-store.test")[0]
    key = load_der_public_key(base64.b64decode(dkim.split("p=")[1]))
    assert key.key_size >= 2048
    dmarc = txt(good, "_dmarc.good-store.test")[0]
    assert dmarc.startswith("v=DMARC1; p=quarantine") and "rua=mailto:dmarc-reports@good-store.test" in dmarc
    assert txt(good, "_mta-sts.good-store.test")[0].startswith("v=STSv1")
    assert txt(good, "_smtp._tls.good-store.test")[0].startswith("v=TLSRPTv1")
    policy = fetch(good, "mta-sts.good-store.test", "/.well-known/mta-sts.txt")[2].decode()
    assert "mode: enforce" in policy


# -- demo_broken -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("www.broken-store.test", 10),  # expired
        ("api.broken-store.test", 20),  # missing intermediate
        ("checkout.broken-store.test", 66),  # weak key
        ("staging.broken-store.test", 62),  # wrong host
    ],
)
def test_broken_certificates(broken, name, code):
    with pytest.raises(ssl.SSLCertVerificationError) as excinfo:
        tls_version(broken, name)
    assert excinfo.value.verify_code == code


def test_broken_edge(broken):
    status, headers, body = fetch(broken, "broken-store.test", "/", scheme="http")
    assert status == 200  # no https redirect
    assert fetch(broken, "broken-store.test", "/")[0] == 200  # apex and www both serve the store
    assert fetch(broken, "www.broken-store.test", "/home/", verify=False)[0] == 200
    assert header(headers, "Strict-Transport-Security") is None
    assert re.search(r"\d", header(headers, "Server"))
    assert all("Secure" not in c for c in header_all(headers, "Set-Cookie"))
    hops = []
    url_host, path, scheme = "www.broken-store.test", "/", "http"
    for _ in range(3):
        status, headers, _ = fetch(broken, url_host, path, scheme=scheme, verify=False)
        location = header(headers, "Location")
        hops.append(status)
        scheme, rest = location.split("://")
        url_host, path = rest.split("/", 1)[0], "/" + rest.split("/", 1)[1]
    assert hops == [302, 302, 302]
    cart = fetch(broken, "broken-store.test", "/cart")[2]
    assert b'src="http://www.broken-store.test/static/cart.js"' in cart


def test_broken_exposure(broken):
    assert b"DB_PASSWORD" in fetch(broken, "broken-store.test", "/.env")[2]
    assert fetch(broken, "broken-store.test", "/.git/HEAD")[2] == b"ref: refs/heads/main\n"
    assert b"DEBUG = True" in fetch(broken, "broken-store.test", "/debug")[2]
    assert fetch(broken, "admin.broken-store.test", "/")[0] == 200


def test_broken_dns_and_email(broken):
    assert answer_values(dns_query(broken, "broken-store.test", "NS"), "NS") == ["ns1.cheapdns.test."]
    assert dns_query(broken, "www.broken-store.test").answer[0].ttl == 172800
    assert not dns_query(broken, "broken-store.test", "CAA").answer
    assert not dns_query(broken, "broken-store.test", "MX").answer
    assert txt(broken, "broken-store.test") == ["v=spf1 include:_spf.sandboxmail.test +all"]
    assert dns_query(broken, "_dmarc.broken-store.test", "TXT").rcode() == dns.rcode.NXDOMAIN
    assert dns_query(broken, "promo.broken-store.test").rcode() == dns.rcode.NXDOMAIN
    blog = fetch(broken, "broken-store.pages-host.test", "/")
    assert blog[0] == 404 and b"There isn't a GitHub Pages site here." in blog[2]


def test_broken_homepage_has_no_monitoring_snippets(broken):
    html = fetch(broken, "broken-store.test", "/")[2].decode().lower()
    for marker in ("sentry", "bugsnag", "datadog", "plausible", "googletagmanager", "gtag(", "segment"):
        assert marker not in html


def test_broken_offers_no_http2_and_no_tls13_on_www(broken):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols(["h2", "http/1.1"])
    with socket.create_connection(
        (broken.address_of("www.broken-store.test"), broken.https_port), timeout=5
    ) as s:
        with ctx.wrap_socket(s, server_hostname="www.broken-store.test") as tls:
            assert (tls.version(), tls.selected_alpn_protocol()) == ("TLSv1.2", "http/1.1")


def test_good_exposes_no_listing_or_source_maps(good):
    assert fetch(good, "www.good-store.test", "/static/")[0] == 404
    assert fetch(good, "www.good-store.test", "/static/app.8b2e4d.js.map")[0] == 404
    for path in ("/.env", "/.git/HEAD", "/debug"):
        assert fetch(good, "www.good-store.test", path)[0] == 404
