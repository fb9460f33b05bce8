"""Domain names as founders paste them, normalised to what we probe.

``normalize_domain("https://Shop.Example.COM:443/products?x=1")`` gives
``"shop.example.com"``. IDNs become punycode (IDNA 2008 with UTS 46 mapping).
Anything that is not a public host name is rejected with a sentence that says why.
"""

from __future__ import annotations

import ipaddress
import re

import idna
from django.core.exceptions import ValidationError

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)


def normalize_domain(raw: str) -> str:
    """Return the normalised domain or raise ``ValidationError`` with a clear message."""
    text = (raw or "").strip()
    if not text:
        raise ValidationError("Enter your store's domain, for example shop.example.com.")
    text = _SCHEME.sub("", text)
    # Drop user info, path, query and fragment.
    text = re.split(r"[/?#]", text, maxsplit=1)[0]
    if "@" in text:
        text = text.rsplit("@", 1)[1]
    if text.startswith("["):
        raise ValidationError("That is an IP address. Enter the domain name your customers type.")
    # Strip a port.
    if re.search(r":\d*$", text):
        text = text.rsplit(":", 1)[0]
    text = text.rstrip(".").strip()
    if not text:
        raise ValidationError("Enter your store's domain, for example shop.example.com.")
    if _is_ip(text):
        raise ValidationError("That is an IP address. Enter the domain name your customers type.")
    if any(ch.isspace() for ch in text):
        raise ValidationError("A domain cannot contain spaces.")
    if text.isascii():
        ascii_name = text.lower()
    else:
        try:
            ascii_name = idna.encode(text, uts46=True).decode("ascii").lower()
        except (idna.IDNAError, UnicodeError):
            # idna's own messages ("Codepoint U+005F at position 4…") mean nothing to a founder.
            raise ValidationError(
                f"“{raw.strip()}” contains characters that cannot be used in a domain name."
            ) from None
    labels = ascii_name.split(".")
    if len(labels) < 2:
        raise ValidationError(
            "Enter the full domain including its ending, for example example.com rather than example."
        )
    if len(ascii_name) > 253:
        raise ValidationError("That domain is longer than the 253 characters DNS allows.")
    for label in labels:
        if not label:
            raise ValidationError("The domain has an empty part (two dots in a row).")
        if len(label) > 63:
            raise ValidationError(f"The part “{label[:20]}…” is longer than the 63 characters DNS allows.")
        if not _LABEL.match(label):
            raise ValidationError(
                f"The part “{label}” is not valid: use letters, digits and hyphens, "
                "and do not start or end with a hyphen."
            )
    if labels[-1].isdigit():
        raise ValidationError("The domain ending cannot be all digits.")
    for label in labels:
        if label.startswith("xn--"):
            try:
                idna.decode(label)
            except (idna.IDNAError, UnicodeError):
                raise ValidationError(f"The part “{label}” is not a valid international name.") from None
    return ascii_name


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        pass
    # Short or odd IPv4 forms such as 127.1 or 0x7f.0.0.1 are also addresses.
    parts = text.split(".")
    return all(re.fullmatch(r"(0x[0-9a-f]+|\d+)", p, re.IGNORECASE) for p in parts if p) and len(parts) <= 4


def hostname_under(host: str, domain: str) -> bool:
    return host == domain or host.endswith("." + domain)


def split_host_port(text: str, default_port: int = 443) -> tuple[str, int]:
    """``"shop.example.com:8443"`` → ``("shop.example.com", 8443)``; ``"[::1]:443"`` → ``("::1", 443)``.

    A bare IPv6 address (``"2001:db8::1"``) is a host without a port. ``ValueError``
    with a sentence for anything else.
    """
    text = (text or "").strip()
    host, port = text, ""
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            raise ValueError(f"“{text}” is not a host name or [IPv6 address] with an optional :port.")
        port = rest[1:]
    elif text.count(":") == 1:
        host, port = text.split(":")
    if not host:
        raise ValueError("Enter a host name, e.g. shop.example.com.")
    if not port:
        return host, default_port
    if not port.isascii() or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"“{port}” is not a port number (1–65535).")
    return host, int(port)
