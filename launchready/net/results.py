"""Typed results of the network layer: facts and founder-readable errors.

Network failures never raise out of the layer: they come back as a ``NetError``
(a kind for code, a sentence for people) inside these dataclasses.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import re
import types
import typing
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ParamSpec, TypeVar, cast

# --- Storable text ---------------------------------------------------------------
# Text from the network ends up in the database (results, evidence, snippets). NUL is
# refused by PostgreSQL in text and JSON, and a lone surrogate (a UTF-7 body, say)
# cannot be encoded at all: either would fail a whole batch's write. Everything the
# public functions of this package return passes through ``storable_result``.

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def storable(text: str) -> str:
    """``text`` with NUL and lone surrogates replaced by U+FFFD, so any database can store it."""
    if text.isascii():
        return text.replace("\x00", REPLACEMENT) if "\x00" in text else text
    return _UNSTORABLE.sub(REPLACEMENT, text)


T = TypeVar("T")


def storable_result(value: T) -> T:
    """``value`` (a result dataclass, tuple or string, nested) with every string made storable."""
    return cast(T, _storable_value(value))


def _storable_value(value: object) -> object:
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, tuple):
        changed: list[object] | None = None
        for index, item in enumerate(value):
            stored = _storable_value(item)
            if stored is not item:
                changed = changed or list(value)
                changed[index] = stored
        return value if changed is None else tuple(changed)
    names = _text_fields(type(value))
    if not names:
        return value
    changes: dict[str, object] = {}
    for name in names:
        current = getattr(value, name)
        stored = _storable_value(current)
        if stored is not current:
            changes[name] = stored
    return dataclasses.replace(cast(Any, value), **changes) if changes else value


# Field types that never hold text: a field typed only with these is not walked.
_TEXTLESS: frozenset[object] = frozenset({int, float, bool, bytes, type(None), dt.datetime})


_TEXT_FIELDS: dict[type, tuple[str, ...]] = {}


def _text_fields(kind: type) -> tuple[str, ...]:
    """The fields of dataclass ``kind`` that may hold text (every field but those typed as
    numbers, flags, bytes or times); () for any other type. Every result of the layer
    passes through ``storable_result``, so the walk skips what cannot change."""
    names = _TEXT_FIELDS.get(kind)
    if names is None:
        names = _TEXT_FIELDS[kind] = _find_text_fields(kind)
    return names


def _find_text_fields(kind: type) -> tuple[str, ...]:
    if not dataclasses.is_dataclass(kind):
        return ()
    try:
        hints = typing.get_type_hints(kind)
    except (NameError, TypeError):  # an annotation that does not resolve: walk every field
        hints = {}

    def textless(hint: object) -> bool:
        options = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
        return all(option in _TEXTLESS for option in options)

    return tuple(
        f.name for f in dataclasses.fields(kind) if f.name not in hints or not textless(hints[f.name])
    )


P = ParamSpec("P")
R = TypeVar("R")


def returns_storable(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Wrap a public coroutine of the layer so that its result holds only storable text."""

    @functools.wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        return storable_result(await fn(*args, **kwargs))

    return wrapper


class ErrorKind(StrEnum):
    INVALID_URL = "invalid_url"
    BLOCKED = "blocked"  # refused by the SSRF guard
    DNS_NXDOMAIN = "dns_nxdomain"
    DNS_NODATA = "dns_nodata"
    DNS_SERVFAIL = "dns_servfail"
    DNS_REFUSED = "dns_refused"
    DNS_TIMEOUT = "dns_timeout"
    DNS_ERROR = "dns_error"
    CONNECT_TIMEOUT = "connect_timeout"
    CONNECTION_REFUSED = "connection_refused"
    CONNECT_ERROR = "connect_error"
    TLS_ERROR = "tls_error"  # handshake failed (protocol, alert)
    TLS_CERTIFICATE = "tls_certificate"  # certificate not trusted for this host
    READ_TIMEOUT = "read_timeout"
    TOTAL_TIMEOUT = "total_timeout"
    CONNECTION_CLOSED = "connection_closed"
    PROTOCOL_ERROR = "protocol_error"
    TOO_MANY_REDIRECTS = "too_many_redirects"
    REDIRECT_LOOP = "redirect_loop"


@dataclass(frozen=True)
class NetError:
    kind: ErrorKind
    message: str  # one short sentence a founder understands
    detail: str = ""  # technical detail for evidence and logs (OpenSSL reason, errno…)


def seconds(value: float) -> str:
    """``10.0`` → ``"10 s"``, ``2.5`` → ``"2.5 s"``, ``0.25`` → ``"250 ms"``."""
    if value < 1:
        return f"{round(value * 1000)} ms"
    return f"{value:g} s" if value == round(value, 1) else f"{value:.1f} s"


def human_date(when: dt.datetime) -> str:
    return f"{when.day} {when:%B %Y}"


# --- DNS ---------------------------------------------------------------------------


class DnsStatus(StrEnum):
    OK = "ok"
    NXDOMAIN = "nxdomain"  # the name does not exist
    NODATA = "nodata"  # the name exists but has no record of this type
    SERVFAIL = "servfail"
    REFUSED = "refused"
    TIMEOUT = "timeout"
    ERROR = "error"  # malformed reply, network error, bad name
    BLOCKED = "blocked"  # the nameserver address was refused by the SSRF guard


@dataclass(frozen=True)
class DnsAnswer:
    """The answer to one question (name, type) from the configured resolvers."""

    name: str  # as asked, ASCII, no trailing dot
    rdtype: str  # "A", "MX", …
    status: DnsStatus
    records: tuple[str, ...] = ()  # presentation form; TXT strings joined and unquoted
    ttl: int | None = None  # smallest TTL along the CNAME chain
    cname_chain: tuple[str, ...] = ()  # names followed, e.g. ("shop.example.com", "shops.myshopify.com")
    txt_strings: tuple[tuple[str, ...], ...] = ()  # TXT only: each record's character-strings
    nameserver: str = ""  # the server that answered
    elapsed_ms: float = 0.0
    error: NetError | None = None

    @property
    def ok(self) -> bool:
        return self.status == DnsStatus.OK

    @property
    def canonical_name(self) -> str:
        return self.cname_chain[-1] if self.cname_chain else self.name


@dataclass(frozen=True)
class NameserverAnswer:
    """A question asked of one specific (authoritative) nameserver, for lame/disagreeing NS checks."""

    nameserver: str  # address asked
    port: int  # port really used (mapped inside the sandbox)
    name: str
    rdtype: str
    status: DnsStatus
    rcode: str = ""  # "NOERROR", "NXDOMAIN", "REFUSED", … ("" when no reply)
    authoritative: bool = False  # AA flag
    records: tuple[str, ...] = ()
    ttl: int | None = None
    soa_serial: int | None = None  # from an SOA answer, or the SOA in the authority section
    answer_types: tuple[tuple[str, str], ...] = ()  # (owner, type) of every answer record set
    elapsed_ms: float = 0.0
    error: NetError | None = None

    @property
    def ok(self) -> bool:
        return self.status == DnsStatus.OK


# --- HTTP --------------------------------------------------------------------------


@dataclass(frozen=True)
class Timings:
    """Phase durations in milliseconds; None for a phase that did not happen."""

    dns_ms: float | None = None
    connect_ms: float | None = None
    tls_ms: float | None = None
    ttfb_ms: float | None = None  # request sent → first byte of the response
    total_ms: float | None = None


Headers = tuple[tuple[str, str], ...]


def _header(headers: Headers, name: str) -> str | None:
    wanted = name.lower()
    for key, value in headers:
        if key.lower() == wanted:
            return value
    return None


@dataclass(frozen=True)
class Hop:
    """One request/response in a redirect chain."""

    url: str
    status: int | None = None
    location: str | None = None  # raw Location header
    headers: Headers = ()  # in order, duplicates kept (Set-Cookie)
    address: str | None = None  # the vetted address connected to
    port: int | None = None  # the port really connected to
    http_version: str | None = None
    tls_version: str | None = None
    started_at: float = 0.0  # time.monotonic() when the hop began (for overlap checks)
    timings: Timings = field(default_factory=Timings)
    error: NetError | None = None
    # Sent on a kept-alive connection of a ``Session`` (no connect or TLS phase of its own).
    reused_connection: bool = False

    def header(self, name: str) -> str | None:
        return _header(self.headers, name)

    def header_all(self, name: str) -> list[str]:
        wanted = name.lower()
        return [value for key, value in self.headers if key.lower() == wanted]


@dataclass(frozen=True)
class FetchResult:
    """A URL fetched with its whole redirect chain; ``error`` is set when it did not complete."""

    url: str  # as requested
    hops: tuple[Hop, ...] = ()
    body: bytes = b""  # decoded (gzip/deflate) body of the last response, capped
    body_truncated: bool = False  # the cap was reached; ``body`` is the first part only
    body_bytes_read: int = 0  # bytes read from the wire for the last response
    content_encoding: str | None = None
    elapsed_ms: float = 0.0  # the whole fetch, all hops
    error: NetError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def final(self) -> Hop | None:
        return self.hops[-1] if self.hops else None

    @property
    def final_url(self) -> str:
        return self.hops[-1].url if self.hops else self.url

    @property
    def status(self) -> int | None:
        return self.hops[-1].status if self.hops else None

    @property
    def headers(self) -> Headers:
        return self.hops[-1].headers if self.hops else ()

    @property
    def timings(self) -> Timings:
        return self.hops[-1].timings if self.hops else Timings()

    def header(self, name: str) -> str | None:
        return _header(self.headers, name)

    def json(self) -> Any:
        """The body parsed as JSON; ``ValueError`` for anything else, absurd nesting included."""
        try:
            return json.loads(self.text())
        except RecursionError:
            raise ValueError("the JSON document is nested too deeply") from None

    def text(self) -> str:
        """The body as text, using the charset from Content-Type (UTF-8 by default)."""
        content_type = self.header("content-type") or ""
        charset = "utf-8"
        for part in content_type.split(";")[1:]:
            key, _, value = part.strip().partition("=")
            if key.lower() == "charset" and value:
                charset = value.strip("\"' ")
        try:
            text = self.body.decode(charset, errors="replace")
        except LookupError:
            text = self.body.decode("utf-8", errors="replace")
        return storable(text)


# --- TLS ---------------------------------------------------------------------------


class CertProblem(StrEnum):
    OK = "ok"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    HOSTNAME_MISMATCH = "hostname_mismatch"
    SELF_SIGNED = "self_signed"
    UNTRUSTED_ROOT = "untrusted_root"  # the chain ends at a root nobody trusts
    UNKNOWN_ISSUER = "unknown_issuer"  # issued by a CA that is neither sent nor trusted
    INCOMPLETE_CHAIN = "incomplete_chain"  # an intermediate certificate is missing
    WEAK_KEY = "weak_key"  # refused for a too-small key or a weak signature hash
    INVALID = "invalid"  # anything else OpenSSL refuses (bad signature, bad usage…)
    UNKNOWN = "unknown"  # no certificate was seen (the handshake failed first)


@dataclass(frozen=True)
class CertificateInfo:
    subject: str  # RFC 4514
    common_name: str | None
    sans: tuple[str, ...]  # DNS names and IP addresses
    issuer: str
    issuer_common_name: str | None
    not_before: dt.datetime  # UTC
    not_after: dt.datetime  # UTC
    key_type: str  # "RSA", "EC", "Ed25519", …
    key_bits: int | None
    serial: str  # hex
    sha256_fingerprint: str  # hex, colon-free
    signature_algorithm: str | None
    is_ca: bool
    self_issued: bool  # subject == issuer
    ca_issuers_urls: tuple[str, ...] = ()  # AIA "CA Issuers", where the intermediate can be fetched


@dataclass(frozen=True)
class TlsResult:
    """One TLS handshake: what the server presented and whether a normal client trusts it."""

    host: str
    port: int
    address: str | None = None
    protocol: str | None = None  # "TLSv1.3"
    cipher: str | None = None
    cipher_bits: int | None = None
    alpn: str | None = None  # "h2" when HTTP/2 is offered
    chain: tuple[CertificateInfo, ...] = ()  # as presented, leaf first
    trusted: bool = False  # verified against certifi + LAUNCHREADY_CA_BUNDLE for this host
    reason: CertProblem = CertProblem.UNKNOWN
    reason_message: str = ""  # the sentence for ``reason``
    problems: tuple[CertProblem, ...] = ()  # every problem found, most important first
    handshake_ms: float | None = None
    error: NetError | None = None  # set when no handshake happened or it was not trusted

    @property
    def leaf(self) -> CertificateInfo | None:
        return self.chain[0] if self.chain else None

    def days_until_expiry(self, now: dt.datetime | None = None) -> float | None:
        if not self.chain:
            return None
        now = now or dt.datetime.now(dt.UTC)
        return (self.chain[0].not_after - now).total_seconds() / 86400


@dataclass(frozen=True)
class ProtocolProbe:
    """Whether a server accepts one TLS version: True, False, or None (inconclusive, see reason)."""

    accepted: bool | None
    reason: str = ""


@dataclass(frozen=True)
class TlsProtocolSupport:
    host: str
    port: int
    tls1_0: ProtocolProbe
    tls1_1: ProtocolProbe
    tls1_2: ProtocolProbe
    tls1_3: ProtocolProbe
