"""HTTP(S) fetches through the SSRF guard, with the whole redirect chain and phase timings.

Why raw asyncio streams and not httpx or aiohttp: the layer must connect to an
address it resolved and vetted itself (no second lookup), send the right Host and
SNI, follow redirects by hand re-vetting each hop, time DNS, TCP connect, TLS and
first byte separately, and cap body bytes and time — so a client library would be
used with most of its features switched off. httpx's connection pool is slow under
high concurrency (encode/httpx#3215) and the monitoring hot path needs ≥300 HTTPS
checks/s per process with a fresh connection per check; aiohttp is fast but reports
connect and TLS as one phase and would need a custom resolver and connector tricks
to pin the address and the sandbox port. ``asyncio.open_connection`` +
``StreamWriter.start_tls`` is exactly the "bare loop" the monitoring benchmark
compares against, so the product path costs little more than the bare loop.
The HTTP/1.1 response reader here is deliberately small and lenient (like browsers):
status line, headers, then a body framed by chunked encoding, Content-Length or
connection close; ``Connection: close`` is sent and the socket is aborted after
each hop, unless the fetch runs in a ``Session`` (see ``session.py``), which keeps
connections alive for GET and HEAD. h11 (httpx's sans-I/O parser) was measured in its place on
2026-12-05 and kept out: in the monitoring benchmark (six runs each way) the CPU
ratio, bare loop ÷ ours, fell from 0.833 to 0.772 (−7 %, 0.14 ms more CPU per
check) and the wall-clock ratio from 0.94 to 0.74, over the 5 % allowed; about half
of h11's cost is validating and framing the request (BENCHMARKS.md, "HTTP/1.1 parser").
"""

from __future__ import annotations

import asyncio
import logging
import time
import zlib
from dataclasses import dataclass, field
from urllib.parse import urljoin

from .certs import client_context, inspecting_context
from .config import NetConfig, resolve_config
from .guard import VettedURL, vet_url
from .pool import ConnectionPool, PoolKey
from .results import ErrorKind, FetchResult, Headers, Hop, NetError, Timings, seconds
from .tls import explain_certificate_failure
from .transport import Connection, Target, TlsFailure, connect, resolve_target

logger = logging.getLogger(__name__)

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_HEADER_BYTES = 64 * 1024
MAX_HEADERS = 200
DEFAULT_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
# Methods sent on a kept-alive connection: a request lost in a connection the server had
# just closed is sent again once on a fresh one (RFC 9112 section 9.3.1), so only these.
KEEP_ALIVE_METHODS = frozenset({"GET", "HEAD"})
# The most a kept-alive connection reads of a body nobody asked for (a redirect's, or any
# with ``max_body_bytes=0``) to reach the next response; a longer one closes the connection.
DRAIN_MAX_BYTES = 64 * 1024
TRAILER_WAIT_S = 1.0  # the end of a chunked body, or a body read past, on a kept-alive connection


@dataclass
class _HopState:
    """What one hop has learned so far, so a timeout can still report it."""

    url: str
    host: str = ""
    address: str | None = None
    port: int | None = None
    status: int | None = None
    http_version: str | None = None
    tls_version: str | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    dns_ms: float | None = None
    connect_ms: float | None = None
    tls_ms: float | None = None
    ttfb_ms: float | None = None
    started: float = 0.0
    started_mono: float = 0.0
    body: bytearray = field(default_factory=bytearray)
    body_done: bool = False
    truncated: bool = False
    reused: bool = False

    def hop(self, error: NetError | None = None) -> Hop:
        headers: Headers = tuple(self.headers)
        location = next((v for k, v in headers if k.lower() == "location"), None)
        return Hop(
            url=self.url,
            status=self.status,
            location=location,
            headers=headers,
            address=self.address,
            port=self.port,
            http_version=self.http_version,
            tls_version=self.tls_version,
            started_at=self.started_mono,
            timings=Timings(
                dns_ms=self.dns_ms,
                connect_ms=self.connect_ms,
                tls_ms=self.tls_ms,
                ttfb_ms=self.ttfb_ms,
                total_ms=(time.perf_counter() - self.started) * 1000,
            ),
            error=error,
            reused_connection=self.reused,
        )


class _HopError(Exception):
    def __init__(self, error: NetError):
        super().__init__(error.message)
        self.error = error


async def fetch(
    url: str,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    follow_redirects: bool = True,
    max_redirects: int | None = None,
    max_body_bytes: int | None = None,
    timeout: float | None = None,
    config: NetConfig | None = None,
    verify_certificate: bool = True,
    pool: ConnectionPool | None = None,
) -> FetchResult:
    """Fetch ``url`` through the guard; never raises for network failures.

    ``verify_certificate=False`` reads a page whose certificate is refused (the audit
    still checks its headers and content; the certificate is reported separately). The
    SSRF guard, caps and timeouts apply all the same.

    ``timeout`` bounds the whole fetch including redirects (default
    ``config.total_timeout``); connect, TLS and each read are bounded by
    ``config.connect_timeout`` / ``config.read_timeout``. ``max_body_bytes=0``
    skips the body (status and headers only).

    ``pool`` (a ``Session``'s): GET and HEAD hops reuse its kept-alive connections and
    put theirs back when the response ended cleanly. Without it every hop opens a fresh
    connection, which is what the monitoring checks measure.
    """
    config = resolve_config(config)
    method = method.upper()
    total = timeout if timeout is not None else config.total_timeout
    limit = config.max_redirects if max_redirects is None else max_redirects
    cap = config.max_body_bytes if max_body_bytes is None else max_body_bytes
    extra = dict(headers or {})
    for key, value in extra.items():
        if any(ch in f"{key}{value}" for ch in "\r\n\0"):
            error = NetError(ErrorKind.INVALID_URL, f"The header {key[:40]!r} contains a line break.")
            return FetchResult(url=url, error=error)
    started = time.perf_counter()
    hops: list[Hop] = []
    seen: set[tuple[str, str]] = set()
    targets: dict[str, Target] = {}
    cookies: dict[str, dict[str, str]] = {}
    current, current_method, current_body = url, method, body
    state: _HopState | None = None
    origin: tuple[str, str] | None = None

    def finish(error: NetError | None = None, last: _HopState | None = None) -> FetchResult:
        wire = bytes(last.body) if last else b""
        encoding = _header(last.headers, "content-encoding") if last else None
        decoded, truncated = _decode(wire, encoding, cap)
        return FetchResult(
            url=url,
            hops=tuple(hops),
            body=decoded,
            body_truncated=bool(last and last.truncated) or truncated,
            body_bytes_read=len(wire),
            content_encoding=encoding,
            elapsed_ms=(time.perf_counter() - started) * 1000,
            error=error,
        )

    try:
        async with asyncio.timeout(total) as budget:
            while True:
                vetted = vet_url(current, config)
                if isinstance(vetted, NetError):
                    if hops:
                        vetted = _redirect_error(hops[-1].url, current, vetted)
                    return finish(vetted)
                state = _HopState(
                    url=vetted.url,
                    host=vetted.host,
                    started=time.perf_counter(),
                    started_mono=time.monotonic(),
                )
                jar = cookies.setdefault(vetted.host, {})
                cookie_header = "; ".join(f"{k}={v}" for k, v in jar.items())
                seen.add((vetted.url, cookie_header))
                if origin is None:
                    origin = (vetted.scheme, vetted.host)
                # Credentials the caller set for its own host never follow a redirect elsewhere.
                sent_headers = (
                    extra if origin == (vetted.scheme, vetted.host) else _without_credentials(extra)
                )
                try:
                    await _hop(
                        vetted,
                        current_method,
                        sent_headers,
                        current_body,
                        cookie_header,
                        cap,
                        config,
                        targets,
                        state,
                        verify_certificate,
                        pool if current_method in KEEP_ALIVE_METHODS else None,
                    )
                except _HopError as exc:
                    error = exc.error
                    if hops and error.kind == ErrorKind.BLOCKED:
                        error = _redirect_error(hops[-1].url, vetted.url, error)
                    hops.append(state.hop(error))
                    return finish(error, state)
                hops.append(state.hop())
                location = hops[-1].location
                if not (follow_redirects and state.status in REDIRECT_STATUSES and location):
                    return finish(None, state)
                _remember_cookies(jar, state.headers)
                nxt = urljoin(vetted.url, location.strip().replace(" ", "%20"))
                if len(hops) > limit:
                    return finish(
                        NetError(
                            ErrorKind.TOO_MANY_REDIRECTS, f"{url} redirects more than {limit} times; stopped."
                        )
                    )
                following = vet_url(nxt, config)
                next_key = following.url if isinstance(following, VettedURL) else nxt
                next_jar = "; ".join(f"{k}={v}" for k, v in cookies.get(_host_of(following), {}).items())
                if (next_key, next_jar) in seen:
                    chain = " → ".join([*(h.url for h in hops), next_key])
                    return finish(NetError(ErrorKind.REDIRECT_LOOP, f"{url} redirects in a loop: {chain}."))
                if state.status == 303 or (state.status in (301, 302) and current_method == "POST"):
                    current_method, current_body = ("HEAD" if current_method == "HEAD" else "GET"), None
                current = nxt
                state = None
    except TimeoutError:
        if not budget.expired():
            raise
        error = NetError(
            ErrorKind.TOTAL_TIMEOUT,
            f"{state.host if state else url} did not answer in full within {seconds(total)}.",
        )
        if state is not None:
            hops.append(state.hop(error))
        return finish(error, state)


def _redirect_error(previous: str, target: str, error: NetError) -> NetError:
    """Say which redirect led to a refused or invalid address."""
    shown = target if len(target) <= 120 else target[:119] + "…"
    if error.kind == ErrorKind.BLOCKED:
        reason = (
            error.detail if error.message.endswith(f"{error.detail}.") and error.detail else error.message
        )
        reason = reason.rstrip(".")
        return NetError(
            error.kind, f"{previous} redirects to {shown}, which was not followed: {reason}.", error.detail
        )
    return NetError(error.kind, f"{previous} redirects to an invalid address ({shown}).", error.message)


SENSITIVE_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})


def _without_credentials(headers: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k.lower() not in SENSITIVE_HEADERS}


def _host_of(vetted: VettedURL | NetError) -> str:
    return vetted.host if isinstance(vetted, VettedURL) else ""


def _header(headers: list[tuple[str, str]], name: str) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value
    return None


def _remember_cookies(jar: dict[str, str], headers: list[tuple[str, str]]) -> None:
    # Enough of a cookie jar for "set a cookie, redirect to yourself" pages (consent,
    # geo, session bootstrap): name=value per host, within one fetch only.
    for key, value in headers:
        if key.lower() == "set-cookie":
            pair = value.split(";", 1)[0]
            name, sep, val = pair.partition("=")
            if sep and name.strip():
                jar[name.strip()] = val.strip()


async def _hop(
    vetted: VettedURL,
    method: str,
    extra: dict[str, str],
    body: bytes | None,
    cookie_header: str,
    cap: int,
    config: NetConfig,
    targets: dict[str, Target],
    state: _HopState,
    verify_certificate: bool = True,
    pool: ConnectionPool | None = None,
) -> None:
    target = targets.get(vetted.host)
    if target is None:
        resolved = await resolve_target(vetted.host, config, literal=vetted.address)
        if isinstance(resolved, NetError):
            raise _HopError(resolved)
        target = targets[vetted.host] = resolved
        state.dns_ms = resolved.dns_ms
    key: PoolKey = (vetted.scheme, vetted.host, vetted.port, verify_certificate)
    # Only a connection to an address vetted for this very request, with the same TLS settings.
    reused = pool.take(key, target.addresses) if pool is not None else None
    if reused is not None:
        state.reused = True
        _connected(state, reused)
        try:
            await _use(reused, key, pool, vetted, method, extra, body, cookie_header, cap, config, state)
            return
        except _HopError as exc:
            if exc.error.kind != ErrorKind.CONNECTION_CLOSED or state.status is not None:
                raise
            # The server closed the idle connection as the request went out: once more, fresh.
            state.reused, state.ttfb_ms, state.headers = False, None, []
    tls = None
    if vetted.scheme == "https":
        tls = client_context(config.ca_bundle) if verify_certificate else inspecting_context(("http/1.1",))
    try:
        conn = await connect(target, vetted.port, config, tls=tls, server_hostname=vetted.host)
    except TlsFailure as failure:
        state.address, state.port, state.connect_ms = failure.address, failure.port, failure.connect_ms
        raise _HopError(
            await explain_certificate_failure(
                vetted.host, failure, vetted.port, config, config.connect_timeout
            )
        ) from None
    if isinstance(conn, NetError):
        raise _HopError(conn)
    _connected(state, conn)
    state.connect_ms, state.tls_ms = conn.connect_ms, conn.tls_ms
    if pool is not None:
        pool.opened += 1
    await _use(conn, key, pool, vetted, method, extra, body, cookie_header, cap, config, state)


def _connected(state: _HopState, conn: Connection) -> None:
    state.address, state.port = conn.address, conn.port
    state.tls_version = conn.ssl_object.version() if conn.ssl_object else None


async def _use(
    conn: Connection,
    key: PoolKey,
    pool: ConnectionPool | None,
    vetted: VettedURL,
    method: str,
    extra: dict[str, str],
    body: bytes | None,
    cookie_header: str,
    cap: int,
    config: NetConfig,
    state: _HopState,
) -> None:
    """One exchange on ``conn``; afterwards the connection goes back to ``pool`` if the
    response ended cleanly, and is aborted otherwise (errors, timeouts, cancellation)."""
    clean = False
    try:
        clean = await _exchange(
            conn, vetted, method, extra, body, cookie_header, cap, config, state, keep_alive=pool is not None
        )
    finally:
        if clean and pool is not None:
            pool.give_back(key, conn)
        else:
            conn.abort()


def _request_bytes(
    vetted: VettedURL,
    method: str,
    extra: dict[str, str],
    body: bytes | None,
    cookie_header: str,
    config: NetConfig,
    keep_alive: bool = False,
) -> bytes:
    fields = {
        "Host": vetted.host_header,
        "User-Agent": config.user_agent,
        "Accept": DEFAULT_ACCEPT,
        "Accept-Encoding": "gzip, deflate",
        "Connection": "keep-alive" if keep_alive else "close",
    }
    lower = {k.lower(): k for k in fields}
    for key, value in extra.items():
        if key.lower() in ("host", "connection", "content-length", "transfer-encoding"):
            continue  # framing and routing stay ours
        fields.pop(lower.get(key.lower(), key), None)
        fields[key] = value
    if cookie_header and not any(k.lower() == "cookie" for k in fields):
        fields["Cookie"] = cookie_header
    if body is not None:
        fields["Content-Length"] = str(len(body))
    head = (
        f"{method} {vetted.target} HTTP/1.1\r\n"
        + "".join(f"{k}: {v}\r\n" for k, v in fields.items())
        + "\r\n"
    )
    return head.encode("latin-1", errors="replace") + (body or b"")


def _mapped(exc: BaseException, host: str, what: str) -> _HopError | None:
    if isinstance(exc, asyncio.IncompleteReadError):
        message = f"{host} closed the connection before the response was complete."
        return _HopError(NetError(ErrorKind.CONNECTION_CLOSED, message))
    if isinstance(exc, asyncio.LimitOverrunError):
        return _HopError(
            NetError(ErrorKind.PROTOCOL_ERROR, f"{host} sent a response header that is too long.")
        )
    if isinstance(exc, (ConnectionError, OSError)):
        message = f"The connection to {host} broke while {what}."
        return _HopError(NetError(ErrorKind.CONNECTION_CLOSED, message, repr(exc)))
    return None


class _Reading:
    """``async with _Reading(...)``: a read timeout plus the mapping of read failures to sentences.

    One per phase (status line and headers together, then each body read) rather
    than one per line: creating a timeout costs about as much as parsing a header.
    """

    def __init__(self, config: NetConfig, host: str, what: str):
        self.timeout = asyncio.timeout(config.read_timeout)
        self.seconds, self.host, self.what = config.read_timeout, host, what

    async def __aenter__(self) -> None:
        await self.timeout.__aenter__()

    async def __aexit__(self, kind, exc, tb) -> bool:  # type: ignore[no-untyped-def]
        try:
            await self.timeout.__aexit__(kind, exc, tb)
        except TimeoutError:
            message = f"{self.host} stopped {self.what} for {seconds(self.seconds)}."
            raise _HopError(NetError(ErrorKind.READ_TIMEOUT, message)) from None
        mapped = _mapped(exc, self.host, self.what) if exc is not None else None
        if mapped is not None:
            raise mapped from None
        return False


async def _read(coro, config: NetConfig, host: str, what: str):  # type: ignore[no-untyped-def]
    async with _Reading(config, host, what):
        return await coro


async def _exchange(
    conn: Connection,
    vetted: VettedURL,
    method: str,
    extra: dict[str, str],
    body: bytes | None,
    cookie_header: str,
    cap: int,
    config: NetConfig,
    state: _HopState,
    *,
    keep_alive: bool = False,
) -> bool:
    """Send the request and read the response; True when ``keep_alive`` was asked for and
    the connection is left at a clean message boundary, ready for another request."""
    host = vetted.host
    # The clock starts as the request leaves: the server may answer before drain() returns
    # on a loaded machine, and a time to first byte must never read shorter than the wait.
    sent = time.perf_counter()
    conn.writer.write(_request_bytes(vetted, method, extra, body, cookie_header, config, keep_alive))
    transport = conn.writer.transport
    if transport.get_write_buffer_size() or transport.is_closing():
        # Only a request the socket has not taken whole can wait in drain(): bound it.
        await _read(conn.writer.drain(), config, host, "accepting the request")
    reader = conn.reader
    async with _Reading(config, host, "answering"):
        while True:  # skip interim 1xx responses (100 Continue, 103 Early Hints)
            line = await reader.readuntil(b"\n")
            if state.ttfb_ms is None:
                state.ttfb_ms = (time.perf_counter() - sent) * 1000
            parts = line.decode("latin-1").strip().split(" ", 2)
            if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
                detail = line[:80].decode("latin-1")
                raise _HopError(
                    NetError(ErrorKind.PROTOCOL_ERROR, f"{host} did not answer with HTTP.", detail)
                )
            state.http_version, state.status = parts[0][5:], int(parts[1])
            state.headers = await _read_headers(reader, host)
            if not (100 <= state.status < 200) or state.status == 101:
                break
    persistent = (
        keep_alive
        and state.http_version == "1.1"
        and (state.status or 0) >= 200
        and "close" not in _tokens(_header(state.headers, "connection"))
    )
    if method == "HEAD" or state.status in (204, 304):
        return persistent
    if cap <= 0 or state.status in REDIRECT_STATUSES:
        # Not read for the caller; on a kept-alive connection read past it to the next response.
        return persistent and await _drain(reader, config, host, state)
    await _read_body(reader, config, host, cap, state)
    return persistent and state.body_done and await _framed_end(reader, state.headers)


def _tokens(value: str | None) -> set[str]:
    return {part.strip().lower() for part in (value or "").split(",")}


async def _framed_end(reader: asyncio.StreamReader, headers: list[tuple[str, str]]) -> bool:
    """After a whole body: True when its end was declared (a length, or chunked with its
    trailer section read), so the next bytes on the connection start a new response.
    A body that ended with the connection's close is not reusable."""
    if "chunked" in (_header(headers, "transfer-encoding") or "").lower():
        try:
            async with asyncio.timeout(TRAILER_WAIT_S):
                while (await reader.readuntil(b"\n")).strip():
                    pass  # trailer fields, up to the empty line
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError):
            return False
        return True
    length = _header(headers, "content-length")
    return length is not None and length.strip().isdigit()


async def _drain(reader: asyncio.StreamReader, config: NetConfig, host: str, state: _HopState) -> bool:
    """Read and drop a body nobody asked for, when it is short and framed; True when done."""
    length = (_header(state.headers, "content-length") or "").strip()
    chunked = "chunked" in (_header(state.headers, "transfer-encoding") or "").lower()
    if not chunked and not (length.isdigit() and int(length) <= DRAIN_MAX_BYTES):
        return False
    scratch = _HopState(url=state.url, headers=state.headers)
    try:
        # The answer the caller asked for is complete: a body that stalls or breaks only
        # costs the connection, never the result.
        async with asyncio.timeout(TRAILER_WAIT_S):
            await _read_body(reader, config, host, DRAIN_MAX_BYTES, scratch)
    except (_HopError, TimeoutError):
        return False
    return scratch.body_done and not scratch.truncated and await _framed_end(reader, state.headers)


async def _read_headers(reader: asyncio.StreamReader, host: str) -> list[tuple[str, str]]:
    """Header lines up to the blank line; the caller's ``_Reading`` bounds the time."""
    headers: list[tuple[str, str]] = []
    size = 0
    while True:
        line = await reader.readuntil(b"\n")
        size += len(line)
        if size > MAX_HEADER_BYTES or len(headers) > MAX_HEADERS:
            raise _HopError(
                NetError(ErrorKind.PROTOCOL_ERROR, f"{host} sent more response headers than allowed.")
            )
        text = line.decode("latin-1").rstrip("\r\n")
        if not text:
            return headers
        if text[0] in " \t" and headers:  # obsolete line folding
            key, value = headers[-1]
            headers[-1] = (key, f"{value} {text.strip()}")
            continue
        key, sep, value = text.partition(":")
        if sep and key.strip():
            headers.append((key.strip(), value.strip()))


async def _read_body(
    reader: asyncio.StreamReader, config: NetConfig, host: str, cap: int, state: _HopState
) -> None:
    what = "sending the page"
    transfer = (_header(state.headers, "transfer-encoding") or "").lower()
    length_text = _header(state.headers, "content-length")
    body = state.body
    if "chunked" in transfer:
        while True:
            size_line = await _read(reader.readuntil(b"\n"), config, host, what)
            try:
                size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
            except ValueError:
                raise _HopError(
                    NetError(ErrorKind.PROTOCOL_ERROR, f"{host} sent a malformed chunked body.")
                ) from None
            if size == 0:
                break
            while size > 0:
                if len(body) >= cap:
                    state.truncated = True
                    return
                data = await _read(reader.read(min(size, cap - len(body), 65536)), config, host, what)
                if not data:
                    raise _HopError(
                        NetError(ErrorKind.CONNECTION_CLOSED, f"{host} closed the connection mid-page.")
                    )
                body += data
                size -= len(data)
            await _read(reader.readuntil(b"\n"), config, host, what)
        state.body_done = True
        return
    remaining: int | None = None
    if length_text is not None and length_text.strip().isdigit():
        remaining = int(length_text.strip())
    while remaining is None or remaining > 0:
        if len(body) >= cap:
            state.truncated = True
            return
        want = min(cap - len(body), 65536) if remaining is None else min(remaining, cap - len(body), 65536)
        data = await _read(reader.read(want), config, host, what)
        if not data:
            if remaining is not None:
                raise _HopError(
                    NetError(ErrorKind.CONNECTION_CLOSED, f"{host} closed the connection mid-page.")
                )
            break
        body += data
        if remaining is not None:
            remaining -= len(data)
    state.body_done = True


def _decode(wire: bytes, encoding: str | None, cap: int) -> tuple[bytes, bool]:
    """Undo gzip/deflate, never producing more than ``cap`` bytes (no decompression bombs)."""
    if not wire or not encoding or encoding.strip().lower() in ("identity", ""):
        return wire, False
    name = encoding.strip().lower()
    if name not in ("gzip", "x-gzip", "deflate"):
        return wire, False  # unknown encoding (br, zstd): keep the bytes as sent
    for wbits in (47,) if name != "deflate" else (15, -15):
        try:
            decompressor = zlib.decompressobj(wbits)
            out = decompressor.decompress(wire, max(cap, 1))
            return out, bool(decompressor.unconsumed_tail)
        except zlib.error:
            continue
    logger.info("Could not decode a %s body of %d bytes", name, len(wire))
    return wire, False
