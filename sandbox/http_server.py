"""HTTP and HTTPS hosts of the sandbox, selected by Host header (or :authority) and SNI.

The site logic works on a neutral :class:`Exchange` and returns a :class:`Reply`, so the
same hosts are served over HTTP/1.1 (aiohttp) and, where a host offers it, HTTP/2
(``sandbox.http2``). HTTPS listeners look at the ALPN result after the handshake and hand
the connection to the matching protocol.
"""

from __future__ import annotations

import asyncio
import fnmatch
import gzip
import logging
import ssl
import threading
import warnings
import weakref
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from aiohttp import web
from multidict import CIMultiDict

from . import services
from .exchange import Exchange, Reply
from .pages import content_type, render_html, substitute
from .pki import CertificateAuthority, issue
from .scenario import Host, Route, Scenario

try:  # optional: brotli is offered only when the module is installed
    import brotli
except ImportError:  # pragma: no cover - depends on the environment
    brotli = None

logger = logging.getLogger(__name__)

TLS_VERSIONS = {
    "1.0": ssl.TLSVersion.TLSv1,
    "1.1": ssl.TLSVersion.TLSv1_1,
    "1.2": ssl.TLSVersion.TLSv1_2,
    "1.3": ssl.TLSVersion.TLSv1_3,
}
DEFAULT_SERVER = "nginx"
ENDLESS_CHUNK = b"<!-- endless -->" * 4096  # 64 KiB


@dataclass
class HostTable:
    """Which host answers a request, by local address and Host header / SNI name."""

    by_address: dict[str, dict[str, Host]] = field(default_factory=dict)

    @classmethod
    def build(cls, scenario: Scenario) -> HostTable:
        table = cls()
        for host in scenario.hosts:
            table.by_address.setdefault(host.address, {})[host.name] = host
        return table

    def lookup(self, address: str, name: str) -> Host | None:
        hosts = self.by_address.get(address, {})
        name = name.lower().rstrip(".")
        if name in hosts:
            return hosts[name]
        if (name == address and len(hosts) == 1) or (not name and hosts):
            # A bare IP literal reaches the only host there; no Host at all (HTTP/1.0) gets
            # the first one, like a web server's default virtual host.
            return next(iter(hosts.values()))
        return None

    def addresses(self, scheme: str) -> list[str]:
        return [
            addr
            for addr, hosts in self.by_address.items()
            if any(h.https if scheme == "https" else h.http for h in hosts.values())
        ]


def build_ssl_contexts(
    scenario: Scenario, table: HostTable, ca: CertificateAuthority, workdir: Path
) -> dict[str, ssl.SSLContext]:
    """One server context per listening address; SNI swaps in the named host's context."""
    host_contexts: dict[str, ssl.SSLContext] = {}
    for host in scenario.hosts:
        if not host.https:
            continue
        issued = issue(ca, host.name, host.cert)
        cert_path = workdir / f"{host.name}.chain.pem"
        key_path = workdir / f"{host.name}.key.pem"
        cert_path.write_bytes(issued.chain_pem)
        key_path.write_bytes(issued.key_pem)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        # Security level 0 so weak keys and old protocols can be staged on purpose.
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        with warnings.catch_warnings():
            # TLS 1.0/1.1 are deprecated in ssl; staging them is the point of the option.
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx.minimum_version = TLS_VERSIONS[host.tls_min]
            ctx.maximum_version = TLS_VERSIONS[host.tls_max]
        ctx.load_cert_chain(cert_path, key_path)
        ctx.set_alpn_protocols(["h2", "http/1.1"] if host.http2 else ["http/1.1"])
        host_contexts[host.name] = ctx

    per_address: dict[str, ssl.SSLContext] = {}
    for address, hosts in table.by_address.items():
        names = [n for n, h in hosts.items() if h.https]
        if not names:
            continue
        default = host_contexts[names[0]]
        local = {n: host_contexts[n] for n in names}

        def pick(sslobj, server_name, _ctx, local=local):
            if server_name and server_name.lower() in local:
                sslobj.context = local[server_name.lower()]
            return None

        default.sni_callback = pick
        per_address[address] = default
    return per_address


def _match(route: Route, exchange: Exchange) -> bool:
    if route.scheme and route.scheme != exchange.scheme:
        return False
    method = exchange.method
    if route.methods and method not in route.methods and not (method == "HEAD" and "GET" in route.methods):
        return False
    return route.path == exchange.path or fnmatch.fnmatchcase(exchange.path, route.path)


def _base() -> CIMultiDict:
    return CIMultiDict({"Server": DEFAULT_SERVER})


def _headers(host: Host, route: Route | None) -> CIMultiDict:
    headers = CIMultiDict()
    route_headers = route.headers if route else []
    overridden = {k.lower() for k, _ in route_headers}
    for key, value in host.headers:
        if key.lower() not in overridden:
            headers.add(key, value)
    for key, value in route_headers:
        headers.add(key, value)
    for cookie in host.cookies + (route.cookies if route else []):
        headers.add("Set-Cookie", cookie)
    headers.setdefault("Server", DEFAULT_SERVER)
    return headers


def _redirect(host: Host, route: Route | None, status: int, location: str) -> Reply:
    headers = _headers(host, route)
    headers["Location"] = location
    headers["Content-Type"] = "text/html; charset=utf-8"
    return Reply(status, headers, f'<a href="{location}">Moved</a>\n'.encode())


async def _delay(host: Host, route: Route | None) -> None:
    latency = route.latency if route is not None and route.latency is not None else host.latency
    if latency is not None:
        ms = latency.sample_ms()
        if ms > 0:
            await asyncio.sleep(ms / 1000)


async def _endless() -> AsyncIterator[bytes]:
    while True:
        yield ENDLESS_CHUNK
        await asyncio.sleep(0.001)  # keep a greedy client from pinning a core


async def _trickle(body: bytes, interval_ms: int) -> AsyncIterator[bytes]:
    for i in range(len(body)):
        if i:
            await asyncio.sleep(interval_ms / 1000)
        yield body[i : i + 1]


def _encode(body: bytes, accept: str, headers: CIMultiDict) -> bytes:
    accepted = {part.split(";")[0].strip().lower() for part in accept.split(",")}
    if brotli is not None and "br" in accepted:
        body, coding = brotli.compress(body), "br"
    elif "gzip" in accepted:
        body, coding = gzip.compress(body, compresslevel=6, mtime=0), "gzip"
    else:
        return body
    headers["Content-Encoding"] = coding
    headers.add("Vary", "Accept-Encoding")
    return body


# Headers that belong to one connection (RFC 9110 section 7.6.1), never forwarded; a proxy
# also sets its own Date and Server and frames the body itself.
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "content-length",
}
UPSTREAM_TIMEOUT_S = 30
COMPRESSIBLE = ("text/", "application/json", "application/javascript", "application/xml", "image/svg+xml")


async def forward(host: Host, exchange: Exchange) -> Reply:
    """Pass a request to the host's upstream app the way a TLS proxy or CDN does.

    The Host header is kept, ``X-Forwarded-Proto`` says which scheme the client used and
    ``X-Forwarded-For`` gets the client's address appended. The answer comes back as the
    app sent it (no redirects followed, bodies not decoded), with the proxy's own Server
    and the host's ``headers``/``cookies`` on top; ``compress`` compresses text the app
    sent uncompressed. An app that does not answer is a 502 (504 after 30 s).
    """
    headers = CIMultiDict((k, v) for k, v in exchange.headers.items() if k.lower() not in HOP_BY_HOP)
    headers["Host"] = exchange.host or host.name
    headers["X-Forwarded-Proto"] = exchange.scheme
    forwarded_for = [v for v in [exchange.headers.get("X-Forwarded-For", ""), exchange.peer] if v]
    headers["X-Forwarded-For"] = ", ".join(forwarded_for)
    timeout = aiohttp.ClientTimeout(total=UPSTREAM_TIMEOUT_S)
    try:
        async with aiohttp.ClientSession(timeout=timeout, auto_decompress=False) as session:
            async with session.request(
                exchange.method,
                host.upstream + exchange.path_qs,
                headers=headers,
                data=exchange.body or None,
                allow_redirects=False,
                skip_auto_headers=("User-Agent", "Accept-Encoding", "Content-Type"),
            ) as upstream:
                status = upstream.status
                received = [(k, v) for k, v in upstream.headers.items() if k.lower() not in HOP_BY_HOP]
                body = await upstream.read()
    except TimeoutError:
        return _gateway_error(host, 504, "The app behind this host did not answer in time.")
    except aiohttp.ClientError as exc:
        logger.info("upstream %s of %s failed: %s", host.upstream, host.name, exc)
        return _gateway_error(host, 502, "The app behind this host could not be reached.")
    replies = _headers(host, None)
    own = {k.lower() for k, _ in host.headers} | {"server", "date"}
    for key, value in received:
        if key.lower() not in own:
            replies.add(key, value)
    encoded = "Content-Encoding" in replies
    if host.compress and not encoded and replies.get("Content-Type", "").startswith(COMPRESSIBLE):
        body = _encode(body, exchange.headers.get("Accept-Encoding", ""), replies)
    return Reply(status, replies, body)


def _gateway_error(host: Host, status: int, text: str) -> Reply:
    headers = _headers(host, None)
    headers["Content-Type"] = "text/plain; charset=utf-8"
    return Reply(status, headers, text.encode() + b"\n")


@dataclass(frozen=True)
class SeenRequest:
    """One HTTP/1.1 request as the sandbox received it, and on which connection."""

    host: str  # the Host header
    method: str
    path: str
    connection: int  # 1 for the first connection that sent a request, 2 for the next…


class ConnectionLog:
    """Every HTTP/1.1 request with the number of the connection it came on, so a test can
    tell kept-alive connections from fresh ones. Written by the sandbox thread."""

    def __init__(self) -> None:
        self._numbers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._requests: list[SeenRequest] = []
        self._accepted = 0
        self._lock = threading.Lock()

    def record(self, transport: object, host: str, method: str, path: str) -> None:
        with self._lock:
            number = self._numbers.get(transport)
            if number is None:
                self._accepted += 1
                number = self._numbers[transport] = self._accepted
            self._requests.append(SeenRequest(host, method, path, number))

    @property
    def requests(self) -> list[SeenRequest]:
        with self._lock:
            return list(self._requests)

    def clear(self) -> None:
        with self._lock:
            self._requests.clear()
            self._numbers.clear()


class SiteHandler:
    """Answers an :class:`Exchange` for the scenario's hosts and services."""

    def __init__(self, scenario: Scenario, table: HostTable, recorder: services.Recorder):
        self.scenario = scenario
        self.table = table
        self.recorder = recorder
        self.connections = ConnectionLog()
        self._serial_locks: dict[tuple[str, str], asyncio.Lock] = {}

    async def respond(self, exchange: Exchange) -> Reply:
        host = self.table.lookup(exchange.local_address, exchange.host_name)
        if host is None:
            headers = _base()
            headers["Content-Type"] = "text/plain; charset=utf-8"
            return Reply(404, headers, b"No site is configured for this host name.\n")
        if host.kind == "rdap":
            return services.rdap_reply(self.scenario, exchange)
        if host.kind == "webhook":
            return services.webhook_reply(self.scenario, self.recorder, exchange)
        return await self.site(host, exchange)

    async def site(self, host: Host, exchange: Exchange) -> Reply:
        if exchange.scheme == "http" and host.https_redirect:
            await _delay(host, None)
            return _redirect(host, None, host.https_redirect, f"https://{host.name}{exchange.path_qs}")
        if host.redirect_to:
            await _delay(host, None)
            return _redirect(
                host, None, host.redirect_status, host.redirect_to.rstrip("/") + exchange.path_qs
            )
        route = next((r for r in host.routes if _match(r, exchange)), None)
        if route is None and host.upstream:
            await _delay(host, None)
            return await forward(host, exchange)
        await _delay(host, route)
        if route is not None and route.serial_ms:
            # One worker: concurrent requests wait for each other, whatever the machine's load.
            lock = self._serial_locks.setdefault((host.name, route.path), asyncio.Lock())
            async with lock:
                await asyncio.sleep(route.serial_ms / 1000)
        if route is None:
            headers = _headers(host, None)
            headers["Content-Type"] = "text/html; charset=utf-8"
            return Reply(404, headers, b"<h1>Not Found</h1>\n")
        if route.redirect:
            location = route.redirect + (exchange.path_qs if route.keep_path else "")
            return _redirect(host, route, route.status, location)
        headers = _headers(host, route)
        headers.setdefault("Content-Type", content_type(route, exchange.path))
        for n in range(1, route.header_flood + 1):
            headers.add(f"X-Flood-{n}", str(n))
        if route.endless:
            return Reply(route.status, headers, stream=_endless())
        body = self._body(host, route, exchange)
        if route.trickle_ms:
            return Reply(route.status, headers, stream=_trickle(body, route.trickle_ms), length=len(body))
        if route.compress or host.compress:
            body = _encode(body, exchange.headers.get("Accept-Encoding", ""), headers)
        return Reply(route.status, headers, body)

    def _body(self, host: Host, route: Route, exchange: Exchange) -> bytes:
        if route.html is not None:
            return render_html(route.html, host.name, exchange.scheme, exchange.path).encode()
        if route.body is not None:
            return substitute(route.body, host.name, exchange.scheme, exchange.path).encode()
        if route.trickle_ms:
            return b"<!doctype html><p>" + b"slow " * 200 + b"</p>\n"
        return b""

    # -- HTTP/1.1 through aiohttp -----------------------------------------------------
    async def aiohttp_handle(self, request: web.Request) -> web.StreamResponse:
        transport = request.transport
        sockname = transport.get_extra_info("sockname") if transport else None
        exchange = Exchange(
            method=request.method,
            path=request.path,
            query_string=request.query_string,
            headers=CIMultiDict(request.headers),
            host=request.headers.get("Host", ""),  # request.host would fall back to a reverse lookup
            scheme="https" if transport and transport.get_extra_info("sslcontext") else "http",
            local_address=sockname[0] if sockname else "",
            body=await request.read(),
            peer=request.remote or "",
        )
        if transport is not None:
            self.connections.record(transport, exchange.host, exchange.method, exchange.path)
        reply = await self.respond(exchange)
        if reply.stream is None:
            return web.Response(status=reply.status, body=reply.body, headers=reply.headers)
        response = web.StreamResponse(status=reply.status, headers=reply.headers)
        if reply.length is not None:
            response.content_length = reply.length  # plain bytes on the wire, not chunk frames
        await response.prepare(request)
        if request.method == "HEAD":
            await reply.stream.aclose()
            await response.write_eof()
            return response
        try:
            async for chunk in reply.stream:
                await response.write(chunk)
            await response.write_eof()
        except (ConnectionError, RuntimeError):
            pass  # the client hung up
        return response


def make_app(handler: SiteHandler) -> web.Application:
    app = web.Application(client_max_size=4 * 1024 * 1024)
    app.router.add_route("*", "/{tail:.*}", handler.aiohttp_handle)
    return app


GARBAGE = bytes(range(256)) * 64  # 16 KiB that is not a TLS record


class TlsGarbage(asyncio.Protocol):
    """The https port of a ``tls_garbage`` host: answers a ClientHello with bytes that are no
    TLS at all, then hangs up."""

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.transport.write(GARBAGE)
        self.transport.close()


class AlpnDispatch(asyncio.Protocol):
    """Placeholder protocol of an HTTPS connection: after the handshake, hands over by ALPN."""

    def __init__(self, http1_factory, http2_factory):
        self.http1_factory = http1_factory
        self.http2_factory = http2_factory

    def connection_made(self, transport) -> None:
        ssl_object = transport.get_extra_info("ssl_object")
        alpn = ssl_object.selected_alpn_protocol() if ssl_object is not None else None
        protocol = self.http2_factory() if alpn == "h2" else self.http1_factory()
        transport.set_protocol(protocol)
        protocol.connection_made(transport)

    def data_received(self, data: bytes) -> None:  # pragma: no cover - replaced before any data
        raise RuntimeError("AlpnDispatch should have been replaced")
