"""Resolve-and-vet, then connect to exactly the vetted address (TCP, optionally TLS).

This is the step that makes DNS rebinding fail: a host is resolved once, every
address is vetted, and the socket is opened to one of those addresses. Nothing
below this module ever looks a name up again.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
import ssl
import time
from dataclasses import dataclass

from .config import NetConfig
from .guard import address_problem
from .resolver import resolve
from .results import DnsStatus, ErrorKind, NetError, seconds

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Target:
    host: str
    addresses: tuple[str, ...]  # vetted, IPv4 first
    dns_ms: float | None  # None for IP literals
    refused: tuple[str, ...] = ()  # addresses the name also has, refused by the guard


# Vetted addresses per (resolvers, host), kept for the records' TTL (at most a few
# minutes) as any stub resolver would: a batch of monitors checking the same hosts
# every 30 s then costs no DNS round trips. Safe against rebinding, because what is
# cached is the address already vetted and connected to, never re-resolved later.
ADDRESS_CACHE_MAX_TTL = 300
ADDRESS_CACHE_SIZE = 10_000
_address_cache: dict[tuple[object, ...], tuple[float, Target]] = {}


def clear_address_cache() -> None:
    _address_cache.clear()


async def resolve_target(
    host: str, config: NetConfig, *, literal: str | None = None, use_cache: bool = True
) -> Target | NetError:
    """Resolve ``host`` (A and AAAA together) and vet every address it has."""
    if literal is not None:
        return Target(host, (literal,), None)
    key = (config.dns_servers, config.allowed_networks, host)  # vetting depends on both
    cached = _address_cache.get(key) if use_cache else None
    if cached is not None and cached[0] > time.monotonic():
        return Target(host, cached[1].addresses, 0.0, cached[1].refused)
    started = time.perf_counter()
    a, aaaa = await asyncio.gather(resolve(host, "A", config=config), resolve(host, "AAAA", config=config))
    dns_ms = (time.perf_counter() - started) * 1000
    addresses = [*a.records, *aaaa.records]
    if not addresses:
        # Report the more telling of the two answers (NXDOMAIN and timeouts before NODATA).
        for answer in (a, aaaa):
            if answer.status not in (DnsStatus.OK, DnsStatus.NODATA) and answer.error:
                return answer.error
        return NetError(ErrorKind.DNS_NODATA, f"{host} has no address (no A or AAAA record).")
    # Connect only to vetted addresses. A name with one public and one private address
    # (a stray AAAA, or bait) is still reachable on the public one, never the other.
    allowed = [address for address in addresses if address_problem(address, config) is None]
    if not allowed:
        problem = address_problem(addresses[0], config)
        return NetError(
            ErrorKind.BLOCKED,
            f"{host} resolves to {addresses[0]}, {problem}; Launch Ready only connects to public addresses.",
            ", ".join(addresses),
        )
    target = Target(host, tuple(allowed), dns_ms, tuple(a for a in addresses if a not in allowed))
    ttl = min((answer.ttl for answer in (a, aaaa) if answer.ok and answer.ttl is not None), default=0)
    if use_cache and ttl > 0:
        if len(_address_cache) >= ADDRESS_CACHE_SIZE:
            _address_cache.clear()
        _address_cache[key] = (time.monotonic() + min(ttl, ADDRESS_CACHE_MAX_TTL), target)
    return target


@dataclass
class Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    address: str
    port: int  # really connected to (after the sandbox port map)
    connect_ms: float
    tls_ms: float | None
    ssl_object: ssl.SSLObject | None

    def abort(self) -> None:
        # Abort rather than close: a fresh connection per check, and a polite TLS
        # shutdown to a misbehaving server could wait for its full timeout.
        self.writer.transport.abort()


class TlsFailure(Exception):
    """Raised inside ``connect`` only; carries the ssl exception and what we had connected to."""

    def __init__(self, exc: ssl.SSLError, address: str, port: int, connect_ms: float):
        super().__init__(str(exc))
        self.exc, self.address, self.port, self.connect_ms = exc, address, port, connect_ms
        # Set on certificate verification failures (ssl.SSLCertVerificationError) only.
        self.verify_code: int | None = getattr(exc, "verify_code", None)
        self.verify_message: str | None = getattr(exc, "verify_message", None)


async def connect(
    target: Target,
    port: int,
    config: NetConfig,
    *,
    tls: ssl.SSLContext | None,
    server_hostname: str,
    connect_timeout: float | None = None,
) -> Connection | NetError:
    """Open TCP to the first address that answers, then TLS with SNI ``server_hostname``.

    Returns a ``NetError`` for network failures; a certificate failure is returned as
    ``TlsFailure`` wrapped in a NetError of kind TLS_CERTIFICATE (the caller explains it).
    """
    wait = connect_timeout if connect_timeout is not None else config.connect_timeout
    last_error: NetError | None = None
    for address in target.addresses:
        real_port = config.map_port(address, port)
        started = time.perf_counter()
        try:
            async with asyncio.timeout(wait):
                sock = await _tcp(address, real_port)
        except TimeoutError:
            last_error = NetError(
                ErrorKind.CONNECT_TIMEOUT,
                f"Connection to {target.host} timed out after {seconds(wait)}.",
                f"{address}:{real_port}",
            )
            continue
        except OSError as exc:
            last_error = _connect_error(target.host, address, real_port, exc)
            continue
        connect_ms = (time.perf_counter() - started) * 1000
        if tls is None:
            reader, writer = await asyncio.open_connection(sock=sock)
            return Connection(reader, writer, address, real_port, connect_ms, None, None)
        tls_started = time.perf_counter()
        # TLS over the connected socket in one step (no plain transport to upgrade with
        # start_tls, which costs a second protocol and transport per check), bounded by
        # asyncio's own handshake timer, which aborts with ConnectionAbortedError (a peer
        # that breaks the handshake gives a reset or EOF instead). On any failure asyncio
        # closes the transport it made of ``sock``.
        try:
            reader, writer = await asyncio.open_connection(
                sock=sock, ssl=tls, server_hostname=server_hostname, ssl_handshake_timeout=wait
            )
        except ConnectionAbortedError:
            return NetError(
                ErrorKind.TLS_ERROR,
                f"The secure connection (TLS) to {target.host} timed out after {seconds(wait)}.",
                f"{address}:{real_port}",
            )
        except ssl.SSLCertVerificationError as exc:
            raise TlsFailure(exc, address, real_port, connect_ms) from None
        except (ssl.SSLError, OSError, EOFError) as exc:
            return tls_error(target.host, exc, f"{address}:{real_port}")
        tls_ms = (time.perf_counter() - tls_started) * 1000
        ssl_object = writer.transport.get_extra_info("ssl_object")
        return Connection(reader, writer, address, real_port, connect_ms, tls_ms, ssl_object)
    return last_error or NetError(ErrorKind.CONNECT_ERROR, f"{target.host} has no address to connect to.")


async def _tcp(address: str, port: int) -> socket.socket:
    """A TCP socket connected to ``address`` (a vetted IP address, never a name)."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, (address, port))
    except BaseException:
        sock.close()
        raise
    return sock


def _connect_error(host: str, address: str, port: int, exc: OSError) -> NetError:
    where = f"{address}:{port}"
    if isinstance(exc, ConnectionRefusedError) or exc.errno == errno.ECONNREFUSED:
        return NetError(ErrorKind.CONNECTION_REFUSED, f"{host} refused the connection.", f"{where}: {exc}")
    if exc.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
        return NetError(
            ErrorKind.CONNECT_ERROR, f"{host} could not be reached (no route).", f"{where}: {exc}"
        )
    return NetError(ErrorKind.CONNECT_ERROR, f"Could not connect to {host}.", f"{where}: {exc}")


def tls_error(host: str, exc: BaseException, where: str = "") -> NetError:
    reason = getattr(exc, "reason", None) or str(exc) or type(exc).__name__
    text = str(reason).replace("_", " ").lower()
    if "wrong version number" in text or "record layer failure" in text or "packet length too long" in text:
        message = f"{host} does not speak TLS on this port (no HTTPS)."
    elif "protocol version" in text or "unsupported protocol" in text or "no protocols available" in text:
        message = f"{host} and Launch Ready have no TLS version in common."
    elif "handshake failure" in text or "no shared cipher" in text:
        message = f"The secure connection (TLS) to {host} failed: the server refused the handshake."
    elif isinstance(exc, (ConnectionResetError, EOFError)) or "eof" in text:
        message = f"{host} closed the connection during the secure (TLS) handshake."
    else:
        message = f"The secure connection (TLS) to {host} failed."
    return NetError(ErrorKind.TLS_ERROR, message, f"{where} {reason}".strip())
