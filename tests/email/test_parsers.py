"""Pure parsers with literal records: SPF syntax errors, DMARC tags, DKIM keys, the
services table and the HTML sanitiser."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from audits.email.dkim import key_strength, parse_dkim_key
from audits.email.dmarc import aligned, external_report_name, is_external, organizational_domain, parse_dmarc
from audits.email.sending_services import (
    SERVICES,
    get_service,
    selectors_for,
    service_for_domain,
)
from audits.email.spf import SpfSyntaxError, parse_record, select_spf
from audits.inbound.content import sanitize_html
from launchready.models import SENDING_SERVICES

from .test_probe import dkim_public

# --- SPF (RFC 7208) -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("record", "term", "words"),
    [
        ("v=spf1 ip5:192.0.2.1 -all", "ip5:192.0.2.1", "Unknown mechanism"),
        ("v=spf1 ip4:192.0.2.300 -all", "ip4:192.0.2.300", "not a valid IPv4"),
        ("v=spf1 ip4:192.0.2.0/33 -all", "ip4:192.0.2.0/33", "CIDR"),
        ("v=spf1 ip6:192.0.2.1 -all", "ip6:192.0.2.1", "not a valid IPv6"),
        ("v=spf1 include: -all", "include:", "needs a domain"),
        ("v=spf1 include:example -all", "include:example", "not a valid domain"),
        ("v=spf1 a:example.com/24//129 -all", "a:example.com/24//129", "0 and 128"),
        ("v=spf1 redirect=a.example redirect=b.example", "redirect=b.example", "more than one redirect"),
        ("v=spf1 -redirect=a.example", "-redirect=a.example", "qualifier"),
        ("v=spf1 exists:%{q}.example.com -all", "exists:%{q}.example.com", "Unknown macro letter"),
        ("v=spf1 include:%{c}.example.com -all", "include:%{c}.example.com", "Unknown macro letter"),
        ("v=spf1 a:50% -all", "a:50%", "%"),
        ("v=spf1 all:foo", "all:foo", "takes no argument"),
        ("v=spf1 ptr/24", "ptr/24", "CIDR"),
    ],
)
def test_spf_syntax_errors_name_the_term(record: str, term: str, words: str) -> None:
    with pytest.raises(SpfSyntaxError) as exc:
        parse_record(record)
    assert exc.value.term == term and words in exc.value.message


def test_spf_parse_valid_record() -> None:
    record = parse_record(
        "v=spf1  ip4:192.0.2.0/24 a/24//64 mx:mail.example.com include:_spf.google.com ~all foo=bar"
    )
    assert [t.name for t in record.mechanisms] == ["ip4", "a", "mx", "include", "all"]
    assert record.mechanisms[1].cidr4 == 24 and record.mechanisms[1].cidr6 == 64
    assert record.dns_term_count == 3 and record.all_term.qualifier == "~"
    assert [m.name for m in record.modifiers] == ["foo"]


def test_spf_record_selection() -> None:
    assert select_spf(["v=spf1 -all", "google-site-verification=x", "v=spf10", "V=SPF1 ~all"]) == [
        "v=spf1 -all",
        "V=SPF1 ~all",
    ]


# --- DMARC (RFC 7489) -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("record", "error"),
    [
        ("p=none; v=DMARC1", "must start with v=DMARC1"),
        ("v=DMARC1", "p= (none, quarantine or reject) is missing"),
        ("v=DMARC1; p=block", "p=block"),
        ("v=DMARC1; p=none; sp=never", "sp=never"),
        ("v=DMARC1; p=none; pct=150", "pct=150"),
        ("v=DMARC1; p=none; adkim=x", "adkim=x"),
        ("v=DMARC1; p=none; aspf=relaxed", "aspf=relaxed"),
        ("v=DMARC1; p=none; fo=2", "fo=2"),
        ("v=DMARC1; p=none; rf=iodef", "rf=iodef"),
        ("v=DMARC1; p=none; ri=daily", "ri=daily"),
        ("v=DMARC1; p=none; rua=dmarc@example.com", "not a URI"),
        ("v=DMARC1; p=none; ruf=mailto:nobody", "not a valid mailto"),
        ("v=DMARC1; p=none; p=reject", "more than once"),
        ("v=DMARC1;; p=none", "empty tag"),
        ("v=DMARC2; p=none", "v=DMARC2"),
    ],
)
def test_dmarc_every_tag_validated(record: str, error: str) -> None:
    parsed = parse_dmarc(record)
    assert not parsed.valid and any(error in e for e in parsed.errors), parsed.errors


def test_dmarc_valid_record() -> None:
    parsed = parse_dmarc(
        "v=DMARC1; p=quarantine; sp=reject; pct=50; adkim=s; aspf=r; fo=0:d; ri=86400; "
        "rua=mailto:a@example.com,mailto:b@reports.example.net!10m; ruf=mailto:f@example.com; x_new=1;"
    )
    assert parsed.valid, parsed.errors
    assert (parsed.policy, parsed.subdomain_policy, parsed.pct, parsed.adkim) == (
        "quarantine",
        "reject",
        50,
        "s",
    )
    assert [u.domain for u in parsed.rua] == ["example.com", "reports.example.net"]
    assert parsed.warnings == ["Unknown tag x_new= is ignored by receivers."]


def test_organisational_domains_and_alignment() -> None:
    assert organizational_domain("mail.shop.example.co.uk") == "example.co.uk"
    assert aligned("bounce.shop.test", "shop.test", "r") and not aligned("bounce.shop.test", "shop.test", "s")
    assert not aligned("shop.test", "other.test")
    assert is_external("shop.test", "reports.vendor.test") and not is_external("shop.test", "mail.shop.test")
    assert external_report_name("shop.test", "vendor.test") == "shop.test._report._dmarc.vendor.test"


# --- DKIM keys ------------------------------------------------------------------------


def test_dkim_keys() -> None:
    strong = parse_dkim_key("s1", "v=DKIM1; k=rsa; p=" + dkim_public(2048))
    assert (strong.bits, strong.valid, key_strength(strong)) == (2048, True, "ok")
    short = parse_dkim_key("s1", "v=DKIM1; p=" + dkim_public(1024))
    assert key_strength(short) == "short"
    raw = (
        ed25519.Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )
    ed = parse_dkim_key("ed", "v=DKIM1; k=ed25519; p=" + base64.b64encode(raw).decode())
    assert ed.valid and ed.key_type == "ed25519"
    assert parse_dkim_key("s1", "v=DKIM1; k=rsa; p=").revoked
    assert parse_dkim_key("s1", "v=DKIM1; p=AAAA").errors
    assert parse_dkim_key("s1", "k=rsa; v=DKIM1; p=" + dkim_public(2048)).errors == [
        "v=DKIM1 must come first in the record."
    ]
    assert parse_dkim_key("s1", "v=DKIM1; k=dsa; p=AAAA").errors == [
        "Unknown key type k=dsa (rsa or ed25519)."
    ]
    assert parse_dkim_key("s1", "v=DKIM1; k=rsa").errors == ["The record has no public key (p= tag)."]


# --- sending services -----------------------------------------------------------------


def test_services_cover_every_site_choice() -> None:
    keys = {key for key, _ in SENDING_SERVICES} - {"other"}
    assert keys == set(SERVICES)  # every service we know is offered on the site form, and only those
    assert get_service("other") is None and get_service("") is None


def test_services_lookups() -> None:
    google = get_service("google")
    assert google.authorises(["_spf.google.com"]) and not google.authorises(["sendgrid.net"])
    assert selectors_for("google", ["Custom ", ""]) == ["custom", "google"]
    assert service_for_domain("u123.wl.sendgrid.net") == "SendGrid"
    assert service_for_domain("klaviyomail.com") == "Klaviyo" and service_for_domain("shop.test") == ""


# --- HTML sanitiser -------------------------------------------------------------------


def test_sanitiser_removes_everything_that_runs_or_loads() -> None:
    html = sanitize_html(
        '<p onclick="x()" style="color:red">Hi</p><script>alert(1)</script><iframe src="https://x.test"></iframe>'
        '<img src="https://tracker.test/p.gif"><img src="data:image/png;base64,AAAA" alt="logo">'
        '<a href="javascript:alert(1)">bad</a><a href="https://shop.test/orders/1">order</a>'
        '<div style="background:url(https://tracker.test/bg.png)">bg</div><style>@import url(x.css)</style>'
        '<form action="https://x.test"><input name="card"></form><link rel="stylesheet" href="https://x.test/a.css">'
    )
    for bad in (
        "onclick",
        "<script",
        "<iframe",
        "tracker.test",
        "javascript:",
        "<style",
        "<form",
        "<input",
        "<link",
    ):
        assert bad not in html, bad
    assert 'style="color:red"' in html and "data:image/png" in html
    assert 'href="https://shop.test/orders/1"' in html and "noopener" in html


def test_sanitiser_refuses_disguised_css_loads_and_data_links() -> None:
    html = sanitize_html(
        r'<div style="background:u\72 l(https://tracker.test/a.gif)">escaped</div>'
        "<div style=\"background-image:-webkit-image-set('https://tracker.test/b.gif' 1x)\">set</div>"
        '<p style="color: rgb(1, 2, 3)">kept</p>'
        '<a href="data:text/html,&lt;script&gt;alert(1)&lt;/script&gt;">data link</a>'
        '<a href="mailto:help@shop.test">mail</a>'
    )
    assert "tracker.test" not in html
    assert "data:text/html" not in html
    assert 'style="color: rgb(1, 2, 3)"' in html and 'href="mailto:help@shop.test"' in html
