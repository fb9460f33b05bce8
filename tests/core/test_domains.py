"""normalize_domain: what founders paste, and what we refuse with a reason."""

import pytest
from django.core.exceptions import ValidationError

from launchready.domains import hostname_under, normalize_domain

GOOD = [
    ("example.com", "example.com"),
    ("Example.COM", "example.com"),
    ("  shop.example.com  ", "shop.example.com"),
    ("https://shop.example.com", "shop.example.com"),
    ("http://shop.example.com/", "shop.example.com"),
    ("HTTPS://Shop.Example.COM:443/products?x=1#top", "shop.example.com"),
    ("shop.example.com:8080", "shop.example.com"),
    ("example.com.", "example.com"),
    ("https://user:pass@example.com/login", "example.com"),
    ("example.com/path/to/page", "example.com"),
    ("example.com?utm_source=ads", "example.com"),
    ("www.example.co.uk", "www.example.co.uk"),
    ("bücher.de", "xn--bcher-kva.de"),
    ("https://BÜCHER.de/", "xn--bcher-kva.de"),
    ("xn--bcher-kva.de", "xn--bcher-kva.de"),
    ("münchen.example", "xn--mnchen-3ya.example"),
    ("a-b.example.com", "a-b.example.com"),
    ("123shop.com", "123shop.com"),
    ("shop.example.xn--p1ai", "shop.example.xn--p1ai"),
    ("ftp://files.example.org", "files.example.org"),
    ("a" * 63 + ".com", "a" * 63 + ".com"),
]

BAD = [
    ("", "Enter your store"),
    ("   ", "Enter your store"),
    ("https://", "Enter your store"),
    ("localhost", "full domain"),
    ("example", "full domain"),
    ("192.168.1.1", "IP address"),
    ("https://10.0.0.1:8443/admin", "IP address"),
    ("[::1]", "IP address"),
    ("http://[2001:db8::1]/", "IP address"),
    ("127.1", "IP address"),
    ("0x7f.0.0.1", "IP address"),
    ("exa mple.com", "spaces"),
    ("-example.com", "not valid"),
    ("example-.com", "not valid"),
    ("exa_mple.com", "not valid"),
    ("example..com", "two dots"),
    ("a" * 64 + ".com", "63"),
    (".".join(["abcdefghij"] * 25) + ".com", "253"),
    ("example.123", "all digits"),
    ("exam!ple.com", "not valid"),
]


@pytest.mark.parametrize(("raw", "expected"), GOOD)
def test_good_domains_are_normalised(raw, expected):
    assert normalize_domain(raw) == expected


@pytest.mark.parametrize(("raw", "reason"), BAD)
def test_bad_domains_are_refused_with_a_reason(raw, reason):
    with pytest.raises(ValidationError) as exc:
        normalize_domain(raw)
    assert reason.lower() in " ".join(exc.value.messages).lower()


def test_at_least_25_cases():
    assert len(GOOD) + len(BAD) >= 25


def test_hostname_under():
    assert hostname_under("a.shop.example.com", "shop.example.com")
    assert hostname_under("shop.example.com", "shop.example.com")
    assert not hostname_under("evilshop.example.com", "shop.example.com")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("bü_cher.de", "cannot be used"),
        ("xn--zz.com", "international"),
        ("shop\U0001f600.com", "cannot be used"),
    ],
)
def test_bad_international_names_get_plain_messages(raw, reason):
    with pytest.raises(ValidationError) as exc:
        normalize_domain(raw)
    assert reason in exc.value.messages[0]
