"""The SSRF guard: which URLs and addresses the product may connect to.

Only http and https URLs on ports 80 and 443 (plus ``config.EXTRA_ALLOWED_PORTS``)
to public unicast addresses are allowed. Host literals are parsed the way libc's
``inet_aton`` and browsers do (``2130706433``, ``0177.0.0.1``, ``0x7f.1``, ``127.1``
are all 127.0.0.1), so no notation slips past. Names are vetted again after
resolution, for the first request and every redirect hop, and the HTTP client
connects to the vetted address itself (see ``http.py``), so DNS rebinding fails.

``LAUNCHREADY_ALLOWED_TARGET_NETWORKS`` (``NetConfig.allowed_networks``) is the only
way around the guard; tests and demos use it for the loopback sandbox.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import re
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

import idna

from .config import ALLOWED_PORTS, NetConfig
from .results import ErrorKind, NetError

logger = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Cloud metadata and similar "talk to the host" endpoints. Most already fall in a
# blocked range; they are listed so the message names them (168.63.129.16 is a
# public address and would otherwise pass).
METADATA_ADDRESSES: dict[IPAddress, str] = {
    ipaddress.ip_address("169.254.169.254"): "cloud metadata service (AWS, GCP, Azure, OpenStack)",
    ipaddress.ip_address("169.254.170.2"): "cloud metadata service (AWS ECS)",
    ipaddress.ip_address("169.254.169.123"): "cloud time service (AWS)",
    ipaddress.ip_address("fd00:ec2::254"): "cloud metadata service (AWS IPv6)",
    ipaddress.ip_address("fd00:ec2::123"): "cloud time service (AWS IPv6)",
    ipaddress.ip_address("100.100.100.200"): "cloud metadata service (Alibaba Cloud)",
    ipaddress.ip_address("192.0.0.192"): "cloud metadata service (Oracle Cloud)",
    ipaddress.ip_address("168.63.129.16"): "cloud host service (Azure WireServer)",
}

BLOCKED_NAMES = frozenset(
    {
        "localhost",
        "localhost.localdomain",
        "ip6-localhost",
        "ip6-loopback",
        "metadata",
        "metadata.google.internal",
    }
)
BLOCKED_SUFFIXES = (".localhost", ".internal", ".local", ".home.arpa", ".in-addr.arpa", ".ip6.arpa")

_N = ipaddress.ip_network
# Checked in order; the first match names the reason.
BLOCKED_NETWORKS: list[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str]] = [
    (_N("0.0.0.0/8"), "an unspecified or 'this network' address"),
    (_N("127.0.0.0/8"), "a loopback address (this machine)"),
    (_N("10.0.0.0/8"), "a private network address"),
    (_N("172.16.0.0/12"), "a private network address"),
    (_N("192.168.0.0/16"), "a private network address"),
    (_N("100.64.0.0/10"), "a carrier-grade NAT address (100.64.0.0/10)"),
    (_N("169.254.0.0/16"), "a link-local address"),
    (_N("192.0.0.0/24"), "an IETF protocol address (192.0.0.0/24)"),
    (_N("192.0.2.0/24"), "a documentation address"),
    (_N("198.51.100.0/24"), "a documentation address"),
    (_N("203.0.113.0/24"), "a documentation address"),
    (_N("198.18.0.0/15"), "a benchmarking address"),
    (_N("192.88.99.0/24"), "a deprecated 6to4 relay address"),
    (_N("224.0.0.0/4"), "a multicast address"),
    (_N("255.255.255.255/32"), "the broadcast address"),
    (_N("240.0.0.0/4"), "a reserved address"),
    (_N("::/128"), "the unspecified address"),
    (_N("::1/128"), "a loopback address (this machine)"),
    (_N("::ffff:0:0/96"), "an IPv4-mapped IPv6 address"),
    (_N("::ffff:0:0:0/96"), "an IPv4-translated IPv6 address"),
    (_N("::/96"), "an IPv4-compatible IPv6 address"),
    (_N("100::/64"), "a discard-only IPv6 address"),
    (_N("2001::/32"), "a Teredo tunnel address"),
    (_N("2001:db8::/32"), "a documentation address"),
    (_N("2001:10::/28"), "a reserved IPv6 address (ORCHID)"),
    (_N("2001:20::/28"), "a reserved IPv6 address (ORCHIDv2)"),
    (_N("3fff::/20"), "a documentation address"),
    (_N("5f00::/16"), "a reserved IPv6 address (SRv6 SIDs)"),
    (_N("fc00::/7"), "a unique-local (private) IPv6 address"),
    (_N("fe80::/10"), "a link-local address"),
    (_N("fec0::/10"), "a site-local (private) IPv6 address"),
    (_N("ff00::/8"), "a multicast address"),
]
NAT64_WELL_KNOWN = _N("64:ff9b::/96")
NAT64_LOCAL = _N("64:ff9b:1::/48")
SIX_TO_FOUR = _N("2002::/16")


def address_problem(address: str | IPAddress, config: NetConfig) -> str | None:
    """Why ``address`` must not be contacted, as a phrase ("a loopback address…"), or None if fine."""
    try:
        ip = address if not isinstance(address, str) else ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return "not a valid IP address"
    if isinstance(ip, ipaddress.IPv6Address) and ip.scope_id:
        ip = ipaddress.IPv6Address(str(ip).split("%", 1)[0])
    if config.in_allowed_network(ip):
        return None
    if ip in METADATA_ADDRESSES:
        return f"a {METADATA_ADDRESSES[ip]} address"
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        for inner in embedded:
            inner_problem = address_problem(inner, config)
            if inner_problem and not config.in_allowed_network(inner):
                return f"an IPv6 address that embeds {inner}, {inner_problem}"
        if ip in NAT64_LOCAL and not embedded:
            return "a local-use NAT64 address"
    for network, reason in BLOCKED_NETWORKS:
        if ip.version == network.version and ip in network:
            if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
                return f"{reason} (it stands for {ip.ipv4_mapped})"
            return reason
    if not ip.is_global:
        return "not a public address"
    return None


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses carried inside NAT64 and 6to4 addresses (RFC 6052, RFC 3056)."""
    packed = ip.packed
    if ip in NAT64_WELL_KNOWN:
        return [ipaddress.IPv4Address(packed[12:16])]
    if ip in NAT64_LOCAL:
        # Local-use prefixes are deployed as /48 (RFC 6052 layout, skipping octet 8) or /96.
        # An all-zero reading is just the unused layout, so name the other one.
        readings = [ipaddress.IPv4Address(packed[12:16]), ipaddress.IPv4Address(packed[6:8] + packed[9:11])]
        meaningful = [ip for ip in readings if int(ip)]
        return meaningful or readings[:1]
    if ip in SIX_TO_FOUR:
        return [ipaddress.IPv4Address(packed[2:6])]
    return []


_PATH_SAFE = "/%:@!$&'()*+,;=-._~[]"
_NUMERIC_LABEL = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$", re.IGNORECASE)
_LENIENT_HOST = re.compile(r"^[a-z0-9_]([a-z0-9_-]{0,62})(\.[a-z0-9_]([a-z0-9_-]{0,62}))*$")


class InvalidHost(ValueError):
    pass


def parse_ipv4_like_libc(text: str) -> ipaddress.IPv4Address | None:
    """Parse ``text`` as ``inet_aton`` (and the WHATWG URL standard) would.

    Returns None when ``text`` is not numeric-looking at all (a host name); raises
    ``InvalidHost`` when it looks numeric but is malformed (``1.2.3.256``, ``09.1``),
    which browsers also refuse.
    """
    host = text[:-1] if text.endswith(".") else text
    labels = host.split(".")
    if not _NUMERIC_LABEL.match(labels[-1]):
        return None
    if len(labels) > 4 or any(not label for label in labels):
        raise InvalidHost(f"{text} is neither a valid host name nor a valid IPv4 address")
    numbers: list[int] = []
    for label in labels:
        lower = label.lower()
        try:
            if lower.startswith("0x"):
                numbers.append(int(lower[2:] or "0", 16))
            elif len(lower) > 1 and lower.startswith("0"):
                numbers.append(int(lower, 8))
            else:
                numbers.append(int(lower, 10))
        except ValueError:
            raise InvalidHost(f"{text} is neither a valid host name nor a valid IPv4 address") from None
    *head, last = numbers
    if any(n > 255 for n in head) or last >= 256 ** (5 - len(numbers)):
        raise InvalidHost(f"{text} is not a valid IPv4 address (a part is out of range)")
    value = last
    for index, n in enumerate(head):
        value += n << (8 * (3 - index))
    return ipaddress.IPv4Address(value)


@functools.lru_cache(maxsize=4096)
def normalize_host(raw: str) -> tuple[str, IPAddress | None]:
    """Return ``(ascii_host, ip_or_None)`` for a URL host, raising ``InvalidHost``.

    IDNA/UTS-46 mapping runs first, so full-width digits and ideographic dots become
    the ASCII forms a resolver would see, then numeric forms are parsed like libc.
    """
    host = raw.strip()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if ":" in host:  # IPv6 literal, possibly with a zone id (%25eth0 in URLs)
        bare = host.split("%", 1)[0]
        try:
            ip6 = ipaddress.IPv6Address(bare)
            return str(ip6), ip6
        except ValueError:
            raise InvalidHost(f"{raw} is not a valid IPv6 address") from None
    if not host or "%" in host or any(ch.isspace() or ord(ch) < 32 for ch in host):
        raise InvalidHost(f"“{raw}” is not a valid host name")
    try:
        mapped = idna.uts46_remap(host, std3_rules=False, transitional=False)
    except idna.IDNAError:
        raise InvalidHost(f"“{raw}” is not a valid host name") from None
    ip = parse_ipv4_like_libc(mapped)
    if ip is not None:
        return str(ip), ip
    try:
        ascii_host = idna.encode(mapped.rstrip("."), uts46=False).decode("ascii").lower()
    except (idna.IDNAError, UnicodeError):
        ascii_host = mapped.rstrip(".").lower()
        if not ascii_host.isascii() or not _LENIENT_HOST.match(ascii_host):
            raise InvalidHost(f"“{raw}” is not a valid host name") from None
    if len(ascii_host) > 253:
        raise InvalidHost("that host name is longer than the 253 characters DNS allows")
    return ascii_host, None


def name_problem(host: str) -> str | None:
    """Why a host *name* (not an address) must not be contacted, or None."""
    if host in BLOCKED_NAMES or host.endswith(BLOCKED_SUFFIXES):
        return "a local or internal name"
    if "." not in host:
        return "a single-label name (not a public domain)"
    return None


@dataclass(frozen=True)
class VettedURL:
    """A URL that passed the guard: what to resolve, where to connect, what to send."""

    url: str  # normalised, without fragment or user info
    scheme: str
    host: str  # ASCII (punycode) host, or the canonical address for literals
    port: int  # logical port from the URL; ``NetConfig.map_port`` gives the real one
    target: str  # request target: path and query
    address: str | None = None  # set for IP literals (already vetted)

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


def vet_url(url: str, config: NetConfig) -> VettedURL | NetError:
    """Check a URL before any I/O; return a ``VettedURL`` or a ``NetError`` saying why not."""

    def refuse(reason: str) -> NetError:
        return NetError(ErrorKind.BLOCKED, f"{_short(url)} was not fetched: {reason}.", reason)

    if not isinstance(url, str) or not url:
        return NetError(ErrorKind.INVALID_URL, "No URL was given.")
    if any(ord(ch) < 33 or ch == "\\" for ch in url):
        return NetError(
            ErrorKind.INVALID_URL, f"{_short(url)} is not a valid URL (it contains spaces or backslashes)."
        )
    try:
        parts = urlsplit(url)
        explicit_port = parts.port
    except ValueError as exc:
        return NetError(ErrorKind.INVALID_URL, f"{_short(url)} is not a valid URL ({exc}).")
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        return refuse(f"only http and https addresses are checked, not {scheme or 'a URL without a scheme'}")
    if "@" in parts.netloc:
        return refuse("addresses with a user name or password in them are not fetched")
    if not parts.netloc or not parts.hostname:
        return NetError(ErrorKind.INVALID_URL, f"{_short(url)} has no host name.")
    port = explicit_port if explicit_port is not None else (443 if scheme == "https" else 80)
    if port not in ALLOWED_PORTS:
        allowed = ", ".join(str(p) for p in sorted(ALLOWED_PORTS))
        return refuse(f"port {port} is not one of the web ports Launch Ready checks ({allowed})")
    netloc_host = parts.netloc.rsplit(":", 1)[0] if explicit_port is not None else parts.netloc
    try:
        host, ip = normalize_host(netloc_host)
    except InvalidHost as exc:
        return NetError(ErrorKind.INVALID_URL, f"{_short(url)} is not a valid URL: {exc}.")
    if ip is not None:
        problem = address_problem(ip, config)
        if problem:
            return refuse(f"{ip} is {problem}")
    else:
        problem = name_problem(host)
        if problem:
            return refuse(f"{host} is {problem}")
    # Percent-encode what a browser would (spaces, non-ASCII) and nothing else.
    target = quote(parts.path or "/", safe=_PATH_SAFE)
    if parts.query:
        target += "?" + quote(parts.query, safe=_PATH_SAFE + "?")
    shown_host = f"[{host}]" if ":" in host else host
    default = 443 if scheme == "https" else 80
    netloc = shown_host if port == default else f"{shown_host}:{port}"
    return VettedURL(
        url=f"{scheme}://{netloc}{target}",
        scheme=scheme,
        host=host,
        port=port,
        target=target,
        address=str(ip) if ip is not None else None,
    )


def _short(url: str, limit: int = 120) -> str:
    text = url if len(url) <= limit else url[: limit - 1] + "…"
    return "".join(ch if ch.isprintable() else "?" for ch in text)
