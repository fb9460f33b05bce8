"""Properties of the SPF, DMARC and DKIM record parsers: whatever a DNS TXT record holds,
each parser answers with a record or its documented error, never another exception.

SPF: ``parse_record`` raises only ``SpfSyntaxError``; ``check_host`` and ``expand_spf``
never raise, whatever records the names in the tree publish. DMARC and DKIM parsers
never raise: problems are sentences in the record's ``errors``.
"""

from __future__ import annotations

import asyncio
import ipaddress

from hypothesis import given
from hypothesis import strategies as st

from audits.email import dkim, dmarc, spf, spf_eval, spf_expand
from audits.probes.email import parse_mta_sts_policy
from launchready.net import DnsAnswer, DnsStatus

from .strategies import PROPERTY, any_text, ascii_text, budget, built_from

SPF_WORDS = [
    "v=spf1",
    "V=SPF1",
    "all",
    "-all",
    "~all",
    "?all",
    "+all",
    "include:",
    "include:a.test",
    "exists:%{i}.x.test",
    "a",
    "a:",
    "a/24",
    "a//64",
    "a:b.test/33",
    "mx",
    "mx:c.test//129",
    "ptr",
    "ptr:d.test",
    "ip4:",
    "ip4:192.0.2.1",
    "ip4:192.0.2.0/24",
    "ip4:1.2.3.4/99",
    "ip6:2001:db8::1",
    "ip6:::1/128",
    "ip6:2001:db8::/129",
    "redirect=",
    "redirect=a.test",
    "exp=explain.test",
    "%{",
    "%{d}",
    "%{ir}",
    "%{l1r-}",
    "%{c}",
    "%{p}",
    "%%",
    "%_",
    "%-",
    "%{d0}",
    "%{s999999999999999999}",
    "unknown=x",
    "=",
    ":",
    "/",
    "//",
    ".",
    "x.",
    "é",
]
SPF_SEPARATORS = [" ", "  ", "", "\t", ".", ":", "/", "="]
spf_texts = st.one_of(
    any_text,
    ascii_text,
    built_from(SPF_WORDS, SPF_SEPARATORS),
    built_from(SPF_WORDS, SPF_SEPARATORS).map(lambda t: "v=spf1 " + t),
)
NAMES = ["shop.test", "a.test", "b.test", "c.test", "d.test", "explain.test"]
TYPES = ["TXT", "A", "AAAA", "MX", "PTR"]
addresses = st.one_of(st.ip_addresses(v=4), st.ip_addresses(v=6)).map(str)
mx_values = st.sampled_from(NAMES).map(lambda n: f"10 {n}.") | st.text(max_size=30)


def answer_for(name: str, rdtype: str, records: list[str], status: DnsStatus) -> DnsAnswer:
    if rdtype == "TXT":
        return DnsAnswer(name, rdtype, status, tuple(records), txt_strings=tuple((r,) for r in records))
    return DnsAnswer(name, rdtype, status, tuple(records))


# A small hostile DNS: for each name and type, a status and some records.
zones = st.dictionaries(
    st.tuples(st.sampled_from(NAMES), st.sampled_from(TYPES)),
    st.tuples(
        st.sampled_from(list(DnsStatus)),
        st.lists(st.one_of(spf_texts, addresses, mx_values), max_size=4),
    ),
    max_size=12,
)


def in_memory_lookup(zone: dict):
    async def lookup(name: str, rdtype: str) -> DnsAnswer:
        status, records = zone.get((name.lower().rstrip("."), rdtype), (DnsStatus.NXDOMAIN, []))
        return answer_for(name, rdtype, records, status)

    return lookup


@PROPERTY
@given(spf_texts)
def test_spf_parser_raises_only_its_syntax_error(text):
    try:
        record = spf.parse_record(text)
    except spf.SpfSyntaxError as exc:
        assert exc.message
        return
    assert spf.is_spf_record(text)
    for term in record.mechanisms + record.modifiers:
        assert term.raw in text
        assert term.result in spf.QUALIFIERS.values()
    assert record.dns_term_count >= 0


@PROPERTY
@given(spf_texts, addresses, st.text(max_size=80), st.text(max_size=80))
def test_spf_macro_expansion_raises_only_its_syntax_error(text, ip, sender, domain):
    try:
        record = spf.parse_record(text)
    except spf.SpfSyntaxError:
        return
    ctx = spf.MacroContext(ip=ipaddress.ip_address(ip), sender=sender, domain=domain)
    for term in record.mechanisms + record.modifiers:
        for exp in (False, True):
            try:
                assert isinstance(spf.expand(term.value, ctx, exp=exp), str)
            except spf.SpfSyntaxError:
                pass
    assert isinstance(spf.truncate_domain(domain), str)
    assert isinstance(spf.valid_hostname(domain), bool)


@budget(80)
@given(zones, addresses, st.sampled_from(NAMES) | st.text(max_size=60), st.text(max_size=60))
def test_spf_check_host_never_raises(zone, ip, domain, local):
    result = asyncio.run(spf_eval.check_host(ip, domain, f"{local}@{domain}", in_memory_lookup(zone)))
    assert result.result in spf_eval.RESULTS
    assert result.lookups <= spf.LOOKUP_LIMIT + 1


@budget(80)
@given(zones, st.sampled_from(NAMES) | st.text(max_size=60))
def test_spf_expansion_for_the_audit_never_raises(zone, domain):
    facts = spf_expand.expand_spf(domain, in_memory_lookup(zone))
    facts = asyncio.run(facts)
    assert facts.lookup_count == len(facts.lookup_terms)


DMARC_WORDS = [
    "v=DMARC1",
    "v=dmarc1",
    "p=none",
    "p=reject",
    "p=quarantine",
    "p=",
    "sp=reject",
    "pct=",
    "pct=100",
    "pct=150",
    "pct=-1",
    "pct=99999999999999999999",
    "rua=mailto:r@a.test",
    "rua=mailto:r@a.test!10m",
    "rua=https://x",
    "rua=",
    "ruf=mailto:",
    "ruf=mailto:@",
    "adkim=s",
    "aspf=x",
    "fo=0:1:d:s",
    "fo=",
    "fo=::",
    "rf=afrf",
    "rf=",
    "ri=86400",
    "ri=1e9",
    "x=",
    "=",
    ";",
    ",",
    "!",
    "mailto:",
    "é",
]
dmarc_texts = st.one_of(any_text, built_from(DMARC_WORDS, [";", "; ", " ", ",", "", "="]))


@PROPERTY
@given(dmarc_texts)
def test_dmarc_parser_never_raises(text):
    record = dmarc.parse_dmarc(text)
    assert record.valid == (not record.errors)
    assert 0 <= record.pct or not record.valid
    assert isinstance(record.policy, str) and isinstance(record.subdomain_policy, str)
    for uri in record.rua + record.ruf:
        assert uri.scheme and uri.address
    assert isinstance(dmarc.is_dmarc_candidate(text), bool)


@PROPERTY
@given(any_text, any_text, st.sampled_from(["r", "s"]))
def test_dmarc_alignment_never_raises(a, b, mode):
    assert isinstance(dmarc.aligned(a, b, mode), bool)
    assert isinstance(dmarc.is_external(a, b), bool)
    assert isinstance(dmarc.external_report_name(a, b), str)


KEY_2048 = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAwF5HRd4xz9AYg0TGUxA8Rk6BWA6cSCe1W0Q2y3E1oRX4mjzr"
DKIM_WORDS = [
    "v=DKIM1",
    "v=DKIM2",
    "k=rsa",
    "k=ed25519",
    "k=",
    "p=",
    f"p={KEY_2048}",
    "p=MCowBQYDK2VwAyEA",
    "p=!!",
    "t=y",
    "t=s:y",
    "h=sha256",
    "s=email",
    "n=note",
    "=",
    ";",
    "==",
    "é",
    "\x00",
]
dkim_texts = st.one_of(any_text, built_from(DKIM_WORDS, [";", "; ", " ", "", "\t", "\r\n"]))


@PROPERTY
@given(st.text(max_size=40), dkim_texts)
def test_dkim_parser_never_raises(selector, text):
    key = dkim.parse_dkim_key(selector, text)
    assert key.selector == selector and key.record == text
    assert key.valid == (not key.errors and not key.revoked)
    assert dkim.key_strength(key) in ("weak", "short", "ok")


@PROPERTY
@given(st.binary(min_size=0, max_size=600))
def test_dkim_parser_reads_any_base64_key_material(der):
    import base64

    for key_type in ("rsa", "ed25519", "dsa"):
        key = dkim.parse_dkim_key("s1", f"v=DKIM1; k={key_type}; p={base64.b64encode(der).decode()}")
        assert key.revoked == (der == b"")
        assert key.errors or key.bits is not None or key.revoked


MTA_STS_WORDS = [
    "version: STSv1",
    "mode: enforce",
    "mode: testing",
    "mode: none",
    "mx: mail.shop.test",
    "mx: *.shop.test",
    "max_age: 86400",
    "max_age: ²",
    "max_age: ٣",
    "max_age: " + "9" * 5000,
    "max_age: -1",
    "max_age:",
    ":",
    "version",
    "\r",
    "\x0b",
    "\u2028",
]


@PROPERTY
@given(st.one_of(any_text, built_from(MTA_STS_WORDS, ["\n", "\r\n", "", " "], 12)))
def test_mta_sts_policy_parser_never_raises(text):
    mode, errors = parse_mta_sts_policy(text)
    assert mode in ("", "enforce", "testing", "none") or errors
    assert all(isinstance(e, str) and e for e in errors)
