"""Each certificate profile is what it says: checked with ssl against the sandbox CA bundle."""

import datetime as dt
import socket
import ssl

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from sandbox.pki import CertificateAuthority, CertSpec, issue


@pytest.fixture(scope="module")
def sb(sandbox_scenario):
    return sandbox_scenario("netlab")


def handshake(sb, name: str, ctx: ssl.SSLContext | None = None):
    """Returns (tls version, DER leaf) or raises the ssl error."""
    ctx = ctx or ssl.create_default_context(cafile=sb.ca_pem_path)
    with socket.create_connection((sb.address_of(name), sb.https_port), timeout=5) as sock:
        with ctx.wrap_socket(sock, server_hostname=name) as tls:
            return tls.version(), tls.getpeercert(binary_form=True)


def unverified() -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    return ctx


def test_valid_certificate_verifies_with_tls13(sb):
    version, der = handshake(sb, "valid.lab.test")
    assert version == "TLSv1.3"
    cert = x509.load_der_x509_certificate(der)
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["valid.lab.test"]
    assert "Intermediate" in cert.issuer.rfc4514_string()
    assert isinstance(cert.public_key(), ec.EllipticCurvePublicKey)


@pytest.mark.parametrize(
    ("host", "code", "message"),
    [
        ("expired.lab.test", 10, "certificate has expired"),
        ("not-yet-valid.lab.test", 9, "certificate is not yet valid"),
        ("wrong-host.lab.test", 62, "Hostname mismatch"),
        ("self-signed.lab.test", 18, "self-signed certificate"),
        ("missing-intermediate.lab.test", 20, "unable to get local issuer certificate"),
        ("weak-key.lab.test", 66, "EE certificate key too weak"),
    ],
)
def test_broken_profiles_fail_verification_with_their_reason(sb, host, code, message):
    with pytest.raises(ssl.SSLCertVerificationError) as excinfo:
        handshake(sb, host)
    assert excinfo.value.verify_code == code
    assert message in excinfo.value.verify_message


def test_expired_and_not_yet_valid_dates(sb):
    now = dt.datetime.now(dt.UTC)
    expired = x509.load_der_x509_certificate(handshake(sb, "expired.lab.test", unverified())[1])
    assert expired.not_valid_after_utc < now
    future = x509.load_der_x509_certificate(handshake(sb, "not-yet-valid.lab.test", unverified())[1])
    assert future.not_valid_before_utc > now


def test_expiring_profile_verifies_and_ends_in_n_days(sb):
    _, der = handshake(sb, "expiring.lab.test")
    remaining = x509.load_der_x509_certificate(der).not_valid_after_utc - dt.datetime.now(dt.UTC)
    assert dt.timedelta(days=4) < remaining <= dt.timedelta(days=5)


def test_weak_key_is_rsa_1024_from_the_ca(sb):
    cert = x509.load_der_x509_certificate(handshake(sb, "weak-key.lab.test", unverified())[1])
    key = cert.public_key()
    assert isinstance(key, rsa.RSAPublicKey) and key.key_size == 1024
    assert "Intermediate" in cert.issuer.rfc4514_string()


def test_missing_intermediate_verifies_once_the_client_knows_the_intermediate(sb, tmp_path):
    """Proves the server sends the leaf alone: adding the intermediate to the trust store fixes it."""
    ca = CertificateAuthority.load_or_create()
    bundle = tmp_path / "with-intermediate.pem"
    bundle.write_bytes(open(sb.ca_pem_path, "rb").read() + ca.intermediate_pem)
    ctx = ssl.create_default_context(cafile=str(bundle))
    version, _ = handshake(sb, "missing-intermediate.lab.test", ctx)
    assert version.startswith("TLS")


def test_sni_picks_the_certificate_on_a_shared_address(sb):
    assert sb.address_of("shared-a.lab.test") == sb.address_of("shared-b.lab.test")
    handshake(sb, "shared-a.lab.test")
    with pytest.raises(ssl.SSLCertVerificationError) as excinfo:
        handshake(sb, "shared-b.lab.test")
    assert excinfo.value.verify_code == 10


def test_tls_version_limits(sb):
    assert handshake(sb, "tls12.lab.test")[0] == "TLSv1.2"
    ctx = ssl.create_default_context(cafile=sb.ca_pem_path)
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    with pytest.raises(ssl.SSLError):
        handshake(sb, "tls13.lab.test", ctx)


def test_issue_rejects_unknown_profile():
    with pytest.raises(ValueError, match="unknown certificate profile"):
        issue(CertificateAuthority.load_or_create(), "x.test", CertSpec(profile="bogus"))
