"""What leaves the network layer can always be stored, and local names are never looked up."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from launchready.net import DnsStatus, ErrorKind, FetchResult, Hop, NetError, resolve, storable
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
