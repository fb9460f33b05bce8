"""Domain names: as founders paste them, how they nest, and what the registry says.

``normalize_domain("https://Shop.Example.COM:443/products?x=1")`` gives
``"shop.example.com"``. IDNs become punycode (IDNA 2008 with UTS 46 mapping).
Anything that is not a public host name is rejected with a sentence that says why.

The one home of the small domain helpers every app needs: whether a host is under a
domain (``hostname_under``, label by label, so ``notexample.com`` is not under
``example.com``), the registered domain by the public-suffix list
(``registered_domain``), and the registration record read from an RDAP answer
(``parse_rdap``, used by the audit and by the domain-expiry monitor).
"""

from __future__ import annotations

import functools
import ipaddress
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

import idna
from django.core.exceptions import ValidationError
from publicsuffixlist import PublicSuffixList

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


def _bare(name: str) -> str:
    return (name or "").strip().lower().rstrip(".")


def hostname_under(host: str, domain: str) -> bool:
    """``host`` is ``domain`` itself or a name below it (case and a final dot ignored).

    Label by label: ``shop.example.com`` is under ``example.com``; ``notexample.com``
    is not.
    """
    host, domain = _bare(host), _bare(domain)
    return bool(domain) and (host == domain or host.endswith("." + domain))


def subdomain_label(host: str, domain: str) -> str:
    """What ``host`` adds in front of ``domain``: ``a.b.example.com`` → ``a.b``; ``""``
    for the domain itself or a host that is not under it."""
    host, domain = _bare(host), _bare(domain)
    return host[: -len(domain) - 1] if host != domain and hostname_under(host, domain) else ""


@functools.cache
def _public_suffixes() -> PublicSuffixList:
    return PublicSuffixList()  # the list bundled with the package: no network


def registered_domain(name: str) -> str:
    """The domain a registrar sells, by the public-suffix list:
    ``mail.shop.example.co.uk`` → ``example.co.uk``. A name that is itself a public
    suffix (or unknown to the list) is returned as it is."""
    name = _bare(name)
    return _public_suffixes().privatesuffix(name) or name


# --- registration data (RDAP, RFC 9083) ---------------------------------------------

# Registries whose RDAP server is known; anything else goes through the rdap.org
# bootstrap redirector, which sends the client on to the registry's own server.
RDAP_SERVERS = {
    "com": "https://rdap.verisign.com/com/v1/",
    "net": "https://rdap.verisign.com/net/v1/",
    "org": "https://rdap.publicinterestregistry.org/rdap/",
}
RDAP_BOOTSTRAP = "https://rdap.org/"


def rdap_domain_url(domain: str, base_url: str = "") -> str:
    """Where to ask about ``domain``'s registration: ``base_url`` (a configured RDAP
    server, ``LAUNCHREADY_RDAP_URL``) or the registry of its ending, plus ``domain/<name>``."""
    name = registered_domain(domain)
    base = base_url or RDAP_SERVERS.get(name.rsplit(".", 1)[-1], RDAP_BOOTSTRAP)
    return urljoin(base if base.endswith("/") else base + "/", f"domain/{name}")


@dataclass(frozen=True)
class Registration:
    """What an RDAP domain answer says: who sells the name, until when, and its locks."""

    registrar: str = ""
    expires_at: datetime | None = None
    statuses: list[str] = field(default_factory=list)  # lower case, e.g. "client transfer prohibited"


def parse_rdap(document: Any) -> Registration:
    """Read an RDAP domain object; ``ValueError`` when it is not one."""
    if not isinstance(document, dict):
        raise ValueError("the RDAP answer is not a JSON object")
    expires = None
    for event in _list(document.get("events")):
        if isinstance(event, dict) and event.get("eventAction") == "expiration" and event.get("eventDate"):
            try:
                when = datetime.fromisoformat(str(event["eventDate"]).replace("Z", "+00:00"))
            except ValueError:
                raise ValueError(f"the expiration date {event['eventDate']!r} is not a date") from None
            expires = when if when.tzinfo else when.replace(tzinfo=UTC)
    registrar = ""
    for entity in _list(document.get("entities")):
        if isinstance(entity, dict) and "registrar" in _list(entity.get("roles")):
            vcard = _list(entity.get("vcardArray"))
            for item in _list(vcard[1]) if len(vcard) > 1 else []:
                if isinstance(item, list) and len(item) > 3 and item[0] == "fn":
                    registrar = str(item[3])
    return Registration(
        registrar=registrar,
        expires_at=expires.astimezone(UTC) if expires else None,
        statuses=[str(s).lower() for s in _list(document.get("status"))],
    )


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


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
