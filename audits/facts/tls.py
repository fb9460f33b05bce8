"""What TLS showed on port 443 of each host: the handshake, the certificates, the protocols."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from audits.facts.base import Unavailable
from audits.serialization import Serializable


class VerifyError(enum.StrEnum):
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    HOSTNAME_MISMATCH = "hostname_mismatch"
    SELF_SIGNED = "self_signed"
    UNTRUSTED = "untrusted"
    INCOMPLETE_CHAIN = "incomplete_chain"


@dataclass(frozen=True)
class CertInfo(Serializable):
    subject: str
    sans: list[str] = field(default_factory=list)
    issuer: str = ""
    not_before: datetime | None = None
    not_after: datetime | None = None
    key_type: str = ""  # "RSA", "EC", "Ed25519"
    key_bits: int | None = None
    self_signed: bool = False


@dataclass(frozen=True)
class TlsFacts(Serializable):
    """TLS on port 443 of one host. Protocol flags: True/False, None = inconclusive."""

    host: str
    handshake_ok: bool
    error: str = ""
    verify_errors: list[VerifyError] = field(default_factory=list)
    cert: CertInfo | None = None  # the leaf as served
    chain: list[CertInfo] = field(default_factory=list)  # as served, leaf first
    tls10: bool | None = None
    tls11: bool | None = None
    tls13: bool | None = None
    protocol_reason: str = ""  # why a protocol flag above is None
    http2: bool | None = None
    unavailable: Unavailable | None = None
