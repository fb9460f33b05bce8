"""The network layer: the one place the product talks to the internet.

Every outbound DNS query, HTTP request and TLS handshake goes through here, behind
the SSRF guard, with timeouts, size caps and founder-readable errors carried in
the results (network failures never raise). Everything is asyncio, so an audit or
a batch of monitors runs its probes concurrently (``asyncio.gather``).

Public API (import only from ``launchready.net``)::

    NetConfig.from_settings(**overrides) -> NetConfig       # settings read at call time
    NetConfig.from_env(environ, **overrides) -> NetConfig   # LAUNCHREADY_* variables, no Django
    await resolve(name, rdtype="A", *, config=None, timeout=None) -> DnsAnswer
    await query_nameserver(nameserver_ip, name, rdtype="SOA", *, config=None,
                           timeout=None, tcp=False) -> NameserverAnswer
    await fetch(url, *, method="GET", headers=None, body=None, follow_redirects=True,
                max_redirects=None, max_body_bytes=None, timeout=None,
                config=None) -> FetchResult
    Session(config=None)                                  # kept-alive connections (opt-in)
        async with Session(config) as s: await s.fetch(url, ...same as fetch...) -> FetchResult
    await tls_handshake(host, port=443, *, config=None, timeout=None) -> TlsResult
    await tls_protocol_support(host, port=443, *, config=None, timeout=None,
                               versions=None) -> TlsProtocolSupport   # versions: ("tls1_0", …)
    vet_url(url, config=None) -> VettedURL | NetError      # no I/O
    address_problem(address, config=None) -> str | None   # "a loopback address…" or None
    name_problem(host) -> str | None                      # "a local or internal name" or None
    storable(text) -> str                                 # NUL and lone surrogates → U+FFFD
    hostname_matches(host, sans) -> bool
    api_client(*, config=None, timeout=10.0, follow_redirects=False, max_body_bytes=None,
               headers=None, base_url="") -> httpx.Client        # API calls (sync code)
    async_api_client(...same...) -> httpx.AsyncClient           # API calls (asyncio code)
    API_ERRORS, api_error(exc) -> NetError                       # what they raise, and its sentence

The httpx clients are for the product's API calls (Slack, Twilio, webhooks, PageSpeed,
certificate transparency, RDAP): their transport turns each request into one
``fetch()``, so the guard, caps and sentences are the same, and return ``ApiResponse``
(httpx's response with storable text); only this package imports httpx.

Results: ``DnsAnswer``/``DnsStatus``, ``NameserverAnswer``, ``FetchResult``/``Hop``/
``Timings``, ``TlsResult``/``CertificateInfo``/``CertProblem``, ``TlsProtocolSupport``/
``ProtocolProbe``, and ``NetError``/``ErrorKind`` (``error.message`` is the sentence
to show). ``config=None`` means ``NetConfig.from_settings()``; scripts without
Django settings build a ``NetConfig`` and pass it.

Every string in a returned result is storable (no NUL, no lone surrogate), whatever
the remote side sent, so one hostile answer cannot fail a database write.

``fetch()`` opens a fresh connection per request (the monitoring checks measure exactly
that). A ``Session`` keeps GET/HEAD connections alive for many requests to the same
hosts (the audit's exposure paths), each still vetted, capped and timed on its own.

``resolve()`` and ``query_nameserver()`` always ask DNS afresh. ``fetch()`` and the TLS
functions reuse a host's vetted addresses for their DNS TTL (at most 5 minutes; TTL 0
is never reused), which keeps big monitor batches off the resolvers; the address
connected to is always the one vetted, so DNS rebinding still fails.
"""

from __future__ import annotations

from . import http, resolver, tls
from .certs import hostname_matches
from .client import API_ERRORS, ApiResponse, RequestFailed, api_client, api_error, async_api_client
from .config import ALLOWED_PORTS, NetConfig, resolve_config
from .guard import VettedURL, name_problem
from .guard import address_problem as _address_problem
from .guard import vet_url as _vet_url
from .results import (
    CertificateInfo,
    CertProblem,
    DnsAnswer,
    DnsStatus,
    ErrorKind,
    FetchResult,
    Hop,
    NameserverAnswer,
    NetError,
    ProtocolProbe,
    Timings,
    TlsProtocolSupport,
    TlsResult,
    returns_storable,
    storable,
)
from .session import Session

# Every result that leaves the layer holds only text a database can store.
fetch = returns_storable(http.fetch)
resolve = returns_storable(resolver.resolve)
query_nameserver = returns_storable(resolver.query_nameserver)
tls_handshake = returns_storable(tls.tls_handshake)
tls_protocol_support = returns_storable(tls.tls_protocol_support)


def vet_url(url: str, config: NetConfig | None = None) -> VettedURL | NetError:
    """Check ``url`` against the SSRF guard without any I/O (names are vetted again after DNS)."""
    return _vet_url(url, resolve_config(config))


def address_problem(address: str, config: NetConfig | None = None) -> str | None:
    """Why ``address`` may not be contacted ("a private network address"…), or None if public."""
    return _address_problem(address, resolve_config(config))


__all__ = [
    "ALLOWED_PORTS",
    "API_ERRORS",
    "ApiResponse",
    "CertProblem",
    "CertificateInfo",
    "DnsAnswer",
    "DnsStatus",
    "ErrorKind",
    "FetchResult",
    "Hop",
    "NameserverAnswer",
    "NetConfig",
    "NetError",
    "ProtocolProbe",
    "RequestFailed",
    "Session",
    "Timings",
    "TlsProtocolSupport",
    "TlsResult",
    "VettedURL",
    "address_problem",
    "api_client",
    "api_error",
    "async_api_client",
    "fetch",
    "hostname_matches",
    "name_problem",
    "query_nameserver",
    "resolve",
    "storable",
    "tls_handshake",
    "tls_protocol_support",
    "vet_url",
]
