"""The one home of the domain helpers: host under domain, registered domain, RDAP records."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from launchready.domains import (
    Registration,
    hostname_under,
    parse_rdap,
    rdap_domain_url,
    registered_domain,
    subdomain_label,
)


@pytest.mark.parametrize(
    ("host", "domain", "under"),
    [
        ("example.com", "example.com", True),
        ("shop.example.com", "example.com", True),
        ("a.b.example.com", "example.com", True),
        ("Shop.Example.COM.", "example.com", True),
        ("notexample.com", "example.com", False),
        ("example.com.evil.test", "example.com", False),
        ("evilshop.example.com", "shop.example.com", False),
        ("example.com", "shop.example.com", False),
        ("", "example.com", False),
        ("example.com", "", False),
    ],
)
def test_hostname_under_matches_whole_labels(host, domain, under):
    assert hostname_under(host, domain) is under


@pytest.mark.parametrize(
    ("host", "label"),
    [
        ("admin.example.com", "admin"),
        ("a.b.example.com", "a.b"),
        ("example.com", ""),
        ("notexample.com", ""),
        ("admin.other.com", ""),
    ],
)
def test_subdomain_label(host, label):
    assert subdomain_label(host, "example.com") == label


@pytest.mark.parametrize(
    ("name", "registered"),
    [
        ("example.com", "example.com"),
        ("shop.example.com", "example.com"),
        ("mail.shop.example.co.uk", "example.co.uk"),
        ("WWW.Example.CO.UK.", "example.co.uk"),
        ("my-store.github.io", "my-store.github.io"),  # a private suffix: each site is its own
        ("co.uk", "co.uk"),  # a public suffix has no registered domain: returned as it is
    ],
)
def test_registered_domain_follows_the_public_suffix_list(name, registered):
    assert registered_domain(name) == registered


def test_rdap_url_asks_about_the_registered_domain():
    assert rdap_domain_url("shop.example.com") == "https://rdap.verisign.com/com/v1/domain/example.com"
    assert rdap_domain_url("shop.example.co.uk") == "https://rdap.org/domain/example.co.uk"
    assert (
        rdap_domain_url("www.shop.test", "http://127.77.0.2/rdap")
        == "http://127.77.0.2/rdap/domain/shop.test"
    )


RDAP_DOCUMENT = {
    "objectClassName": "domain",
    "ldhName": "example.com",
    "status": ["client transfer prohibited", "clientDeleteProhibited"],
    "events": [
        {"eventAction": "registration", "eventDate": "2020-01-02T03:04:05Z"},
        {"eventAction": "expiration", "eventDate": "2027-01-02T03:04:05Z"},
    ],
    "entities": [
        {"roles": ["technical"], "vcardArray": ["vcard", [["fn", {}, "text", "Someone Else"]]]},
        {
            "roles": ["registrar"],
            "vcardArray": [
                "vcard",
                [["version", {}, "text", "4.0"], ["fn", {}, "text", "Example Registrar"]],
            ],
        },
    ],
}


def test_parse_rdap_reads_expiry_registrar_and_statuses():
    assert parse_rdap(RDAP_DOCUMENT) == Registration(
        registrar="Example Registrar",
        expires_at=datetime(2027, 1, 2, 3, 4, 5, tzinfo=UTC),
        statuses=["client transfer prohibited", "clientdeleteprohibited"],
    )


def test_parse_rdap_without_the_optional_parts_is_an_empty_record():
    assert parse_rdap({"objectClassName": "domain"}) == Registration()
    # Odd shapes in optional members are ignored, not a crash.
    assert parse_rdap({"events": "soon", "entities": [None, {"roles": ["registrar"]}]}) == Registration()


@pytest.mark.parametrize(
    "document", [[], "text", None, {"events": [{"eventAction": "expiration", "eventDate": "soon"}]}]
)
def test_parse_rdap_refuses_what_is_not_a_domain_object(document):
    with pytest.raises(ValueError):
        parse_rdap(document)
