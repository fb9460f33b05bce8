"""Why a chain is not trusted, from the certificates themselves (pure: a PKI generated in the test)."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import AuthorityInformationAccessOID, NameOID

from launchready.net import CertProblem
from launchready.net.certs import classify, describe_certificate

NOW = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)


def _cert(cn, issuer_cert=None, issuer_key=None, *, ca=False, sans=(), aia=None, not_after=None):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_cert.subject if issuer_cert else name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=30))
        .not_valid_after(not_after or NOW + dt.timedelta(days=60))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if sans:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(s) for s in sans]), critical=False
        )
    if aia:
        access = x509.AccessDescription(
            AuthorityInformationAccessOID.CA_ISSUERS, x509.UniformResourceIdentifier(aia)
        )
        builder = builder.add_extension(x509.AuthorityInformationAccess([access]), critical=False)
    return builder.sign(issuer_key or key, hashes.SHA256()), key


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    root, root_key = _cert("Private Root", ca=True)
    inter, inter_key = _cert("Private Intermediate", root, root_key, ca=True)
    leaf, _ = _cert("shop.example.com", inter, inter_key, sans=("shop.example.com",))
    leaf_aia, _ = _cert(
        "aia.example.com", inter, inter_key, sans=("aia.example.com",), aia="http://ca.example/i.crt"
    )
    bundle = tmp_path_factory.mktemp("pki") / "bundle.pem"
    bundle.write_bytes(root.public_bytes(serialization.Encoding.PEM))
    return {"root": root, "inter": inter, "leaf": leaf, "leaf_aia": leaf_aia, "bundle": str(bundle)}


def test_trusted_chain_is_ok(pki) -> None:
    problems, message = classify("shop.example.com", [pki["leaf"], pki["inter"]], None, pki["bundle"], NOW)
    assert problems == [CertProblem.OK]
    assert message == "The certificate for shop.example.com is valid until 27 January 2027."


def test_chain_ending_at_a_presented_untrusted_root(pki) -> None:
    chain = [pki["leaf"], pki["inter"], pki["root"]]
    problems, message = classify("shop.example.com", chain, 19, "", NOW)
    assert problems == [CertProblem.UNTRUSTED_ROOT]
    assert (
        message
        == "The certificate for shop.example.com chains to Private Root, a root certificate that browsers do not trust."
    )


def test_unknown_issuer_when_the_intermediate_is_sent_but_its_root_is_unknown(pki) -> None:
    problems, message = classify("shop.example.com", [pki["leaf"], pki["inter"]], 20, "", NOW)
    assert problems == [CertProblem.UNKNOWN_ISSUER]
    assert "chains up to Private Root, a certificate authority browsers do not trust" in message


def test_missing_intermediate_whose_root_we_trust(pki) -> None:
    # The leaf alone, issued by an intermediate under a root in the bundle: a link is missing.
    problems, message = classify("shop.example.com", [pki["leaf"]], 20, pki["bundle"], NOW)
    assert problems == [CertProblem.INCOMPLETE_CHAIN]
    assert "does not send the intermediate certificate from Private Intermediate" in message


def test_missing_intermediate_when_the_certificate_says_where_it_is(pki) -> None:
    problems, _ = classify("aia.example.com", [pki["leaf_aia"]], 20, "", NOW)
    assert problems == [CertProblem.INCOMPLETE_CHAIN]
    assert describe_certificate(pki["leaf_aia"]).ca_issuers_urls == ("http://ca.example/i.crt",)


def test_self_signed_leaf(pki) -> None:
    problems, _ = classify("Private Root", [pki["root"]], 18, "", NOW)
    assert problems[0] == CertProblem.SELF_SIGNED


def test_every_problem_is_listed(pki) -> None:
    problems, message = classify(
        "other.example.com", [pki["leaf"], pki["inter"]], 10, pki["bundle"], NOW + dt.timedelta(days=90)
    )
    assert problems == [CertProblem.EXPIRED, CertProblem.HOSTNAME_MISMATCH]
    assert message == "The certificate for other.example.com expired on 27 January 2027."


def test_expired_intermediate_is_named(pki) -> None:
    root, root_key = _cert("Root 2", ca=True)
    inter, inter_key = _cert(
        "Old Intermediate", root, root_key, ca=True, not_after=NOW - dt.timedelta(days=1)
    )
    leaf, _ = _cert("shop.example.com", inter, inter_key, sans=("shop.example.com",))
    problems, message = classify("shop.example.com", [leaf, inter], 10, "", NOW)
    assert problems == [CertProblem.EXPIRED]
    assert (
        message
        == "The intermediate certificate Old Intermediate sent by shop.example.com expired on 27 November 2026."
    )
