"""The client address behind our TLS proxy: allauth's login limits key on the person, not the proxy.

Behind a reverse proxy every request arrives from the proxy's address. Without
``TRUSTED_PROXY_COUNT`` (or ``TRUSTED_CLIENT_IP_HEADER``) ten failed logins from
anyone lock everybody out for a minute; with it, each client has its own count and a
client cannot pick its count by sending its own ``X-Forwarded-For``.
"""

import pytest
from django.core.cache import cache
from django.test import RequestFactory
from django.urls import reverse

from launchready.clientip import client_ip

PROXY = "10.0.0.7"
TOO_MANY = "Too many failed login attempts"


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()


def _fail_login(client, n: int, **headers):
    """A failed login for a different (unknown) account each time, so only the per-IP limit counts."""
    return client.post(
        reverse("account_login"),
        {"login": f"nobody{n}@example.com", "password": "wrong-password"},
        REMOTE_ADDR=PROXY,
        **headers,
    )


def _locked_out(response) -> bool:
    return response.status_code == 429 or TOO_MANY in response.content.decode()


def test_two_clients_behind_one_proxy_are_limited_separately(client, db, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for n in range(10):
        assert not _locked_out(_fail_login(client, n, HTTP_X_FORWARDED_FOR="203.0.113.5"))
    assert _locked_out(_fail_login(client, 10, HTTP_X_FORWARDED_FOR="203.0.113.5"))
    # Another person behind the same proxy can still log in (well, try to).
    response = _fail_login(client, 11, HTTP_X_FORWARDED_FOR="198.51.100.9")
    assert response.status_code == 200 and not _locked_out(response)


def test_a_client_cannot_escape_its_limit_with_its_own_forwarded_for(client, db, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for n in range(10):
        _fail_login(client, n, HTTP_X_FORWARDED_FOR="203.0.113.5")
    # The client sends "X-Forwarded-For: 192.0.2.1"; our one proxy appends the address it saw.
    spoofed = _fail_login(client, 10, HTTP_X_FORWARDED_FOR="192.0.2.1, 203.0.113.5")
    assert _locked_out(spoofed)


def test_without_a_trusted_proxy_forwarded_for_is_ignored(client, db, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    for n in range(10):
        _fail_login(client, n, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
    assert _locked_out(_fail_login(client, 10, HTTP_X_FORWARDED_FOR="192.0.2.99"))


def test_a_trusted_client_ip_header_keys_the_limit(client, db, settings):
    settings.TRUSTED_CLIENT_IP_HEADER = "X-Real-IP"
    for n in range(10):
        _fail_login(client, n, HTTP_X_REAL_IP="203.0.113.5", HTTP_X_FORWARDED_FOR="192.0.2.1")
    assert _locked_out(_fail_login(client, 10, HTTP_X_REAL_IP="203.0.113.5"))
    assert not _locked_out(_fail_login(client, 11, HTTP_X_REAL_IP="198.51.100.9"))


# The helper itself, with the cases a proxy chain produces.
def _request(remote: str = PROXY, **headers):
    return RequestFactory().get("/", REMOTE_ADDR=remote, **headers)


@pytest.mark.parametrize(
    ("count", "forwarded", "expected"),
    [
        (0, "", PROXY),
        (0, "203.0.113.5", PROXY),  # nobody trusted: the header is the client's word
        (1, "", PROXY),  # a request straight to the app (health check)
        (1, "203.0.113.5", "203.0.113.5"),
        (1, "192.0.2.1, 203.0.113.5", "203.0.113.5"),  # the client's own entry is skipped
        (2, "192.0.2.1, 203.0.113.5, 10.0.0.3", "203.0.113.5"),  # CDN then load balancer
        (2, "203.0.113.5", PROXY),  # fewer hops than proxies: not guessed from the header
        (1, "not-an-address", PROXY),
        (1, "203.0.113.5:51234", "203.0.113.5"),
        (1, "[2001:db8::1]:443", "2001:db8::1"),
        (1, "2001:DB8::1", "2001:db8::1"),
    ],
)
def test_client_ip_from_forwarded_for(settings, count, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = count
    settings.TRUSTED_CLIENT_IP_HEADER = ""
    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {}
    assert client_ip(_request(**headers)) == expected


def test_client_ip_from_a_trusted_header(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    settings.TRUSTED_CLIENT_IP_HEADER = "CF-Connecting-IP"
    assert client_ip(_request(HTTP_CF_CONNECTING_IP="203.0.113.5")) == "203.0.113.5"
    assert client_ip(_request(HTTP_X_FORWARDED_FOR="192.0.2.1")) == PROXY  # header missing
    assert client_ip(_request(HTTP_CF_CONNECTING_IP="bogus")) == PROXY
