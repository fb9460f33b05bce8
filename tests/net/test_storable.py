"""What leaves the network layer can always be stored, and local names are never looked up."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from launchready.net import (
    CertificateInfo,
    CertProblem,
    DnsStatus,
    ErrorKind,
    FetchResult,
    Hop,
    NetError,
    TlsResult,
    resolve,
    storable,
)
from launchready.net.results import storable_result
from monitoring.checks.probes import check_tls
from monitoring.checks.specs import CheckSpec


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("plain", "plain"),
        ("a\x00b", "a\ufffdb"),
        ("caf\u00e9 \ud800 \udfff", "caf\u00e9 \ufffd \ufffd"),
        ("\U0001f600 emoji stays", "\U0001f600 emoji stays"),
    ],
)
def test_storable_replaces_nul_and_lone_surrogates(raw, stored):
    assert storable(raw) == stored
    stored.encode("utf-8")  # encodable, hence storable in PostgreSQL text and JSON


def test_every_string_of_a_nested_result_is_made_storable():
    hop = Hop(url="https://x.test/\x00", headers=(("Server", "nginx\x00"), ("X-A", "ok")))
    result = FetchResult(
        url="https://x.test/", hops=(hop,), error=NetError(ErrorKind.PROTOCOL_ERROR, "bad \ud800")
    )
    clean = storable_result(result)
    assert clean.hops[0].url == "https://x.test/\ufffd"
    assert clean.hops[0].headers == (("Server", "nginx\ufffd"), ("X-A", "ok"))
    assert clean.error.message == "bad \ufffd"
    untouched = FetchResult(url="https://x.test/")
    assert storable_result(untouched) is untouched  # nothing to change: no copy


def test_text_inside_tuples_of_results_is_made_storable_and_the_rest_kept():
    when = datetime(2026, 1, 1, tzinfo=UTC)
    cert = CertificateInfo(
        subject="CN=a\x00", common_name=None, sans=("a.test", "b\ud800.test"), issuer="CN=ca",
        issuer_common_name="ca", not_before=when, not_after=when, key_type="EC", key_bits=256,
        serial="01", sha256_fingerprint="ab", signature_algorithm=None, is_ca=False, self_issued=False,
    )  # fmt: skip
    result = TlsResult(host="a.test", port=443, chain=(cert,), reason=CertProblem.OK, handshake_ms=1.5)
    clean = storable_result(result)
    assert clean.chain[0].subject == "CN=a\ufffd" and clean.chain[0].sans == ("a.test", "b\ufffd.test")
    assert clean.chain[0].not_before is when and clean.chain[0].key_bits == 256
    assert clean.reason is CertProblem.OK and clean.handshake_ms == 1.5
    assert storable_result(clean) is clean


def test_json_of_a_hostile_body_is_a_value_error_not_a_crash():
    deep = FetchResult(url="https://x.test/", body=b"[" * 100_000 + b"]" * 100_000)
    with pytest.raises(ValueError, match="nested too deeply"):
        deep.json()
    assert FetchResult(url="https://x.test/", body=b'{"a": 1}').json() == {"a": 1}


@pytest.mark.parametrize("name", ["localhost", "db.internal", "printer.local", "metadata.google.internal"])
def test_local_names_are_never_looked_up(name):
    answer = asyncio.run(resolve(name, "A"))
    assert answer.status == DnsStatus.BLOCKED and answer.error.kind == ErrorKind.BLOCKED
    assert answer.error.message == f"{name} was not looked up: it is a local or internal name."


def test_a_certificate_check_of_an_ipv6_literal_is_judged_not_crashed():
    spec = CheckSpec(monitor_id=1, kind="tls_expiry", hostname="[::1]:443", timeout_s=2)
    outcome = asyncio.run(check_tls(spec))
    assert not outcome.ok and not outcome.internal_error
    assert "loopback" in outcome.message
    assert outcome.checked_at <= datetime.now(UTC)


def _walked(value):
    """The plain definition: every string of nested tuples made storable, nothing else."""
    if isinstance(value, str):
        return storable(value)
    return tuple(_walked(item) for item in value)


_texts = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=8)
_nested = st.recursive(
    st.tuples() | st.lists(_texts, max_size=4).map(tuple),
    lambda inner: st.lists(inner | _texts, max_size=4).map(tuple),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None)
@given(_nested)
@example(((("Server", "nginx\x00"),),))
@example((("a", "\ud800"), "b"))
@example(("caf\u00e9", ("x", "\x00")))
def test_tuples_of_text_are_stored_as_the_plain_walk_says_and_kept_when_clean(value):
    clean = storable_result(value)
    assert clean == _walked(value)
    if clean == value:
        assert clean is value  # nothing to change: no copy, at any depth
    assert storable_result(clean) is clean
