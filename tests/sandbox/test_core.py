"""The sandbox core really serves: DNS over UDP and TCP, HTTP and HTTPS by name, the fixture."""

import dns.flags
import dns.rcode
import pytest
from django.conf import settings

from tests.sandbox.helpers import answer_values, dns_query, fetch, header

SCENARIO = {
    "name": "core",
    "zones": {
        "shop.test": {
            "records": [
                {"name": "alias", "type": "CNAME", "value": "www"},
                {"name": "@", "type": "TXT", "value": "v=spf1 -all"},
            ]
        }
    },
    "hosts": [
        {
            "name": "www.shop.test",
            "headers": {"Strict-Transport-Security": "max-age=31536000"},
            "routes": [{"path": "/", "body": "hello {{host}} over {{scheme}}"}],
        },
        {"name": "shop.test", "redirect_to": "https://www.shop.test"},
    ],
}


@pytest.fixture(scope="module")
def sb(sandbox_scenario):
    return sandbox_scenario(SCENARIO)


def test_fixture_applies_settings(sb):
    assert settings.LAUNCHREADY_DNS_SERVERS == [f"127.0.0.1:{sb.dns_port}"]
    assert settings.LAUNCHREADY_ALLOWED_TARGET_NETWORKS == ["127.77.0.0/16"]
    assert settings.LAUNCHREADY_CA_BUNDLE == sb.ca_pem_path
    assert f"443:{sb.https_port}" in settings.LAUNCHREADY_PORT_MAP
    assert sb.env["LAUNCHREADY_PORT_MAP"] == settings.LAUNCHREADY_PORT_MAP


def test_dns_udp_and_tcp_follow_cname(sb):
    for tcp in (False, True):
        response = dns_query(sb, "alias.shop.test", "A", tcp=tcp)
        assert response.rcode() == dns.rcode.NOERROR
        assert response.flags & dns.flags.AA
        assert answer_values(response, "CNAME") == ["www.shop.test."]
        assert answer_values(response, "A") == [sb.address_of("www.shop.test")]


def test_https_by_sni_and_host_header(sb):
    status, headers, body = fetch(sb, "www.shop.test", "/")
    assert status == 200
    assert body == b"hello www.shop.test over https"
    assert header(headers, "Strict-Transport-Security") == "max-age=31536000"


def test_http_and_whole_host_redirect_keep_path(sb):
    status, headers, _ = fetch(sb, "shop.test", "/products?page=2", scheme="http")
    assert status == 301
    assert header(headers, "Location") == "https://www.shop.test/products?page=2"


def test_unknown_path_is_404(sb):
    status, _, _ = fetch(sb, "www.shop.test", "/nope")
    assert status == 404
