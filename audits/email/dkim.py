"""DKIM key records (RFC 6376 §3.6.1): parse with dkimpy, judge key type and size.

Pure code: the probe fetches ``<selector>._domainkey.<domain>`` and hands the TXT text here.
"""

from __future__ import annotations

import base64
import binascii
import logging
from dataclasses import dataclass, field

import dkim
import dkim.crypto

logger = logging.getLogger(__name__)

STRONG_BITS = 2048
MINIMUM_BITS = 1024


@dataclass(frozen=True)
class DkimKey:
    selector: str
    record: str
    key_type: str = ""  # "rsa" or "ed25519"
    bits: int | None = None
    revoked: bool = False  # p= is empty (§3.6.1)
    testing: bool = False  # t=y
    errors: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.errors and not self.revoked


def parse_dkim_key(selector: str, text: str) -> DkimKey:
    """Parse a key record; problems are sentences, never exceptions."""
    try:
        tags = dkim.util.parse_tag_value(text.encode("utf-8"))
    except (dkim.util.InvalidTagValueList, UnicodeError) as exc:
        return DkimKey(selector, text, errors=[f"The record is not a list of tag=value pairs ({exc})."])
    tags = {k.decode().lower(): v.decode(errors="replace").strip() for k, v in tags.items()}
    errors: list[str] = []
    version = tags.get("v")
    if version is not None:
        if version != "DKIM1":
            errors.append(f"v={version} must be v=DKIM1.")
        elif not text.lstrip().lower().startswith("v"):
            errors.append("v=DKIM1 must come first in the record.")
    key_type = tags.get("k", "rsa").lower()
    testing = "y" in [f.strip().lower() for f in tags.get("t", "").split(":")]
    if "p" not in tags:
        return DkimKey(selector, text, key_type, errors=errors + ["The record has no public key (p= tag)."])
    p = "".join(tags["p"].split())
    if p == "":
        return DkimKey(selector, text, key_type, revoked=True, testing=testing, errors=errors)
    try:
        der = base64.b64decode(p, validate=True)
    except (binascii.Error, ValueError):
        return DkimKey(selector, text, key_type, testing=testing, errors=errors + ["p= is not valid base64."])
    bits: int | None = None
    if key_type == "rsa":
        try:
            parsed = dkim.crypto.parse_public_key(der)
            bits = int(parsed["modulus"]).bit_length()
        except (dkim.crypto.UnparsableKeyError, KeyError, TypeError, ValueError) as exc:
            errors.append(f"p= is not a valid RSA public key ({exc}).")
    elif key_type == "ed25519":
        if len(der) != 32:
            errors.append(f"An Ed25519 key is 32 bytes; p= holds {len(der)}.")
        bits = 256
    else:
        errors.append(f"Unknown key type k={key_type} (rsa or ed25519).")
    return DkimKey(selector, text, key_type, bits=bits, testing=testing, errors=errors)


def key_strength(key: DkimKey) -> str:
    """ "weak" (< 1024-bit RSA), "short" (< 2048), or "ok"."""
    if key.key_type != "rsa" or key.bits is None:
        return "ok"
    if key.bits < MINIMUM_BITS:
        return "weak"
    if key.bits < STRONG_BITS:
        return "short"
    return "ok"
