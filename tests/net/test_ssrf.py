"""The SSRF guard with real DNS: names resolving to private addresses, redirects to them, rebinding."""

from __future__ import annotations

import pytest

from launchready.net import ErrorKind, fetch, tls_handshake, tls_protocol_support

pytestmark = pytest.mark.sandbox


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("private10.lab.test", "10.0.0.5, a private network address"),
        ("private192.lab.test", "192.168.1.1, a private network address"),
        ("metadata.lab.test", "169.254.169.254, a cloud metadata service"),
        ("loopback.lab.test", "127.0.0.1, a loopback address"),
        ("cgnat.lab.test", "100.64.0.1, a carrier-grade NAT address"),
        ("ula.lab.test", "fd00::1, a unique-local"),
        ("mapped.lab.test", "an IPv4-mapped IPv6 address"),
    ],
)
def test_names_resolving_to_private_addresses_are_refused(config, run, name: str, words: str) -> None:
    result = run(fetch(f"http://{name}/", config=config))
    assert result.error.kind == ErrorKind.BLOCKED
    assert result.error.message.startswith(f"{name} resolves to ")
    assert words in result.error.message
    assert result.error.message.endswith("Launch Ready only connects to public addresses.")
    assert result.hops[0].address is None  # nothing was connected to


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("/redirect/private", "private10.lab.test resolves to 10.0.0.5"),
        ("/redirect/metadata", "169.254.169.254 is a cloud metadata service"),
        ("/redirect/loopback", "127.0.0.1 is a loopback address"),
    ],
)
def test_public_to_private_redirects_are_refused(lab, config, run, path: str, words: str) -> None:
    result = run(fetch(f"https://www.lab.test{path}", config=config))
    assert result.error.kind == ErrorKind.BLOCKED
    assert words in result.error.message
    first = result.hops[0]
    assert (first.status, first.address) == (302, lab.address_of("www.lab.test"))
    assert all(h.address is None or h.address.startswith("127.77.") for h in result.hops)


def test_rebinding_name_never_reaches_the_private_answer(lab, config, run) -> None:
    """rebind.lab.test alternates 127.77.2.1 and 127.0.0.1 on every query (TTL 0)."""
    outcomes = [run(fetch("https://rebind.lab.test/", config=config)) for _ in range(8)]
    connected = [r for r in outcomes if r.ok]
    refused = [r for r in outcomes if not r.ok]
    assert connected and refused  # both answers really came back
    assert all(r.final.address == "127.77.2.1" and r.body == b"rebinding target" for r in connected)
    assert all(r.error.kind == ErrorKind.BLOCKED and "127.0.0.1" in r.error.message for r in refused)
    # One lookup per fetch: the address vetted is the address connected to (no second lookup).
    assert all(len(r.hops) == 1 for r in outcomes)


def test_rebinding_through_a_redirect(lab, config, run) -> None:
    outcomes = [run(fetch("https://www.lab.test/redirect/rebind", config=config)) for _ in range(6)]
    for result in outcomes:
        last = result.hops[-1]
        assert last.address in (None, "127.77.2.1")
        if not result.ok:
            assert result.error.kind == ErrorKind.BLOCKED


def test_mixed_answers_connect_only_to_the_vetted_address(lab, config, run) -> None:
    # mixed-private has 127.77.1.20 (allowed) and 10.0.0.5: never connect to the second.
    result = run(fetch("http://mixed-private.lab.test/", config=config))
    assert all(h.address in (None, "127.77.1.20") for h in result.hops)


def test_tls_functions_use_the_guard_too(config, run) -> None:
    handshake = run(tls_handshake("private10.lab.test", config=config))
    assert handshake.error.kind == ErrorKind.BLOCKED and handshake.chain == ()
    assert run(tls_handshake("169.254.169.254", config=config)).error.kind == ErrorKind.BLOCKED
    support = run(tls_protocol_support("loopback.lab.test", config=config))
    assert support.tls1_2.accepted is None and "127.0.0.1" in support.tls1_2.reason


def test_literal_private_address_is_refused_before_any_io(config, run) -> None:
    result = run(fetch("http://0x7f.1:8080/admin", config=config))
    assert result.error.kind == ErrorKind.BLOCKED and result.hops == ()
