"""TLS handshakes against every sandbox certificate profile, and protocol version probes."""

from __future__ import annotations

import datetime as dt
import ssl

import pytest

from launchready.net import CertProblem, ErrorKind, hostname_matches, tls_handshake, tls_protocol_support
from launchready.net import tls as tls_module

pytestmark = pytest.mark.sandbox


def test_valid_chain_is_parsed(lab, config, run) -> None:
    result = run(tls_handshake("valid.lab.test", config=config))
    assert result.trusted and result.reason == CertProblem.OK and result.error is None
    assert result.problems == ()
    assert result.protocol == "TLSv1.3" and result.cipher and result.cipher_bits
    assert result.address == lab.address_of("valid.lab.test")
    leaf, intermediate = result.chain
    assert leaf.common_name == "valid.lab.test" and "valid.lab.test" in leaf.sans
    assert leaf.issuer_common_name == intermediate.common_name == "Launch Ready Sandbox Intermediate CA"
    assert (leaf.key_type, leaf.key_bits) == ("EC", 256)
    assert intermediate.is_ca and not leaf.is_ca
    assert len(leaf.sha256_fingerprint) == 64 and leaf.serial
    assert leaf.not_before < dt.datetime.now(dt.UTC) < leaf.not_after
    assert 0 < result.days_until_expiry() < 400
    assert result.reason_message.startswith("The certificate for valid.lab.test is valid until ")


@pytest.mark.parametrize(
    ("host", "reason", "message_start"),
    [
        ("expired.lab.test", CertProblem.EXPIRED, "The certificate for expired.lab.test expired on "),
        (
            "not-yet-valid.lab.test",
            CertProblem.NOT_YET_VALID,
            "The certificate for not-yet-valid.lab.test is not valid until ",
        ),
        (
            "wrong-host.lab.test",
            CertProblem.HOSTNAME_MISMATCH,
            "The certificate presented by wrong-host.lab.test is for wrong-host.sandbox.test, not for wrong-host.lab.test.",
        ),
        (
            "self-signed.lab.test",
            CertProblem.SELF_SIGNED,
            "The certificate for self-signed.lab.test is self-signed",
        ),
        (
            "missing-intermediate.lab.test",
            CertProblem.INCOMPLETE_CHAIN,
            "The server for missing-intermediate.lab.test does not send the intermediate certificate from Launch Ready Sandbox Intermediate CA",
        ),
        (
            "weak-key.lab.test",
            CertProblem.WEAK_KEY,
            "The certificate for weak-key.lab.test uses a 1024-bit RSA key",
        ),
    ],
)
def test_every_certificate_profile_has_its_reason(
    config, run, host: str, reason: CertProblem, message_start: str
) -> None:
    result = run(tls_handshake(host, config=config))
    assert result.trusted is False
    assert result.reason == reason
    assert result.problems[0] == reason
    assert result.reason_message.startswith(message_start), result.reason_message
    assert result.error.kind == ErrorKind.TLS_CERTIFICATE and result.error.message == result.reason_message
    assert result.chain, "the presented chain is still reported"
    assert result.protocol is not None


def test_expired_message_names_the_date(config, run) -> None:
    result = run(tls_handshake("expired.lab.test", config=config))
    leaf = result.chain[0]
    assert (
        result.reason_message
        == f"The certificate for expired.lab.test expired on {leaf.not_after.day} {leaf.not_after:%B %Y}."
    )
    assert result.days_until_expiry() < 0


def test_expiring_soon_is_still_trusted(config, run) -> None:
    result = run(tls_handshake("expiring.lab.test", config=config))
    assert result.trusted
    assert 4 < result.days_until_expiry() <= 5.01


def test_leaf_only_chain(config, run) -> None:
    result = run(tls_handshake("missing-intermediate.lab.test", config=config))
    assert len(result.chain) == 1 and not result.chain[0].self_issued


def test_key_sizes(config, run) -> None:
    weak = run(tls_handshake("weak-key.lab.test", config=config)).chain[0]
    rsa = run(tls_handshake("rsa.lab.test", config=config))
    assert (weak.key_type, weak.key_bits) == ("RSA", 1024)
    assert rsa.trusted and (rsa.chain[0].key_type, rsa.chain[0].key_bits) == ("RSA", 2048)


def test_not_tls_and_nothing_listening(config, run) -> None:
    result = run(tls_handshake("https-only.lab.test", port=80, config=config))  # no listener on 80
    assert result.error.kind in (ErrorKind.CONNECTION_REFUSED, ErrorKind.CONNECT_ERROR)
    assert result.chain == () and result.reason == CertProblem.UNKNOWN
    missing = run(tls_handshake("nowhere.lab.test", config=config))
    assert missing.error.kind == ErrorKind.DNS_NXDOMAIN


def test_hostname_matching_rules() -> None:
    assert hostname_matches("www.example.com", ("*.example.com",))
    assert not hostname_matches("a.b.example.com", ("*.example.com",))
    assert not hostname_matches("example.com", ("*.example.com",))
    assert hostname_matches("Example.COM.", ("example.com",))
    assert hostname_matches("192.0.2.1", ("192.0.2.1",))
    assert not hostname_matches("192.0.2.1", ("*.0.2.1",))


# --- protocol versions --------------------------------------------------------------------------


def _accepted(support) -> dict[str, bool | None]:
    return {k: getattr(support, k).accepted for k in ("tls1_0", "tls1_1", "tls1_2", "tls1_3")}


def test_modern_server(config, run) -> None:
    support = run(tls_protocol_support("valid.lab.test", config=config))
    assert _accepted(support) == {"tls1_0": False, "tls1_1": False, "tls1_2": True, "tls1_3": True}


def test_no_tls13(config, run) -> None:
    support = run(tls_protocol_support("tls12.lab.test", config=config))
    assert _accepted(support) == {"tls1_0": False, "tls1_1": False, "tls1_2": True, "tls1_3": False}


def test_tls13_only(config, run) -> None:
    support = run(tls_protocol_support("tls13.lab.test", config=config))
    assert _accepted(support) == {"tls1_0": False, "tls1_1": False, "tls1_2": False, "tls1_3": True}


def test_legacy_protocols_detected(config, run) -> None:
    support = run(tls_protocol_support("legacy.lab.test", config=config))
    assert support.tls1_0.accepted is True and support.tls1_1.accepted is True
    assert "negotiated TLSv1)" in support.tls1_0.reason


def test_only_the_versions_asked_for_are_tried(config, run) -> None:
    # The audit reads TLS 1.2 and 1.3 from its own handshake, so it asks only for the old
    # versions: the others are not tried (no handshake) and say so, neither pass nor fail.
    support = run(tls_protocol_support("legacy.lab.test", config=config, versions=("tls1_0", "tls1_1")))
    assert _accepted(support) == {"tls1_0": True, "tls1_1": True, "tls1_2": None, "tls1_3": None}
    assert support.tls1_2.reason == "TLS 1.2 was not tested."
    assert support.tls1_3.reason == "TLS 1.3 was not tested."
    with pytest.raises(ValueError, match="tls1_4"):
        run(tls_protocol_support("legacy.lab.test", config=config, versions=("tls1_4",)))


def test_inconclusive_when_local_openssl_cannot_offer_old_protocols(config, run, monkeypatch) -> None:
    monkeypatch.setattr(ssl, "HAS_TLSv1", False)
    tls_module.local_support.cache_clear()
    try:
        support = run(tls_protocol_support("legacy.lab.test", config=config))
    finally:
        monkeypatch.undo()
        tls_module.local_support.cache_clear()
    assert support.tls1_0.accepted is None  # never a pass, never a fail
    assert "was built without TLS 1.0" in support.tls1_0.reason
    assert support.tls1_1.accepted is True


def test_local_self_test_really_negotiates() -> None:
    # On this machine OpenSSL 3 can still speak TLS 1.0 at security level 0; the self-test proves it.
    assert tls_module.local_support("tls1_2") is None
    assert tls_module.local_support("tls1_3") is None


def test_without_the_sandbox_root_the_sandbox_ca_is_unknown(lab, run) -> None:
    from launchready.net import NetConfig

    public_only = NetConfig.from_settings(ca_bundle="")
    result = run(tls_handshake("valid.lab.test", config=public_only))
    assert result.reason == CertProblem.UNKNOWN_ISSUER and not result.trusted
    assert "a certificate authority browsers do not trust" in result.reason_message
