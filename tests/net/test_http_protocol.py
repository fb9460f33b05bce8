"""HTTP/1.1 edge cases the sandbox's (well-behaved) aiohttp servers cannot produce.

A minimal raw loopback server, separate from the sandbox on purpose: it answers each
connection with scripted bytes (malformed, endless headers, early close…). It binds
an address inside the allowed test network and reaches it through the port map,
exactly as the sandbox does.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable

import pytest

from launchready.net import ErrorKind, FetchResult, NetConfig, fetch

ADDRESS = "127.77.250.1"
Script = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((ADDRESS, 0))
        return sock.getsockname()[1]


def serve_and_fetch(script: Script, path: str = "/", **kwargs) -> FetchResult:
    """Start a one-off raw server with ``script``, fetch ``http://ADDRESS/path`` once, stop."""

    async def main() -> FetchResult:
        port = _free_port()

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.readuntil(b"\r\n\r\n")
            try:
                await script(reader, writer)
            except (ConnectionError, asyncio.CancelledError):
                pass
            finally:
                writer.close()

        server = await asyncio.start_server(handle, ADDRESS, port)
        config = NetConfig(
            allowed_networks=(ipaddress.ip_network("127.77.0.0/16"),),
            port_map={80: port},
            read_timeout=kwargs.pop("read_timeout", 2),
            total_timeout=kwargs.pop("total_timeout", 5),
        )
        try:
            return await fetch(f"http://{ADDRESS}{path}", config=config, **kwargs)
        finally:
            server.close()

    return asyncio.run(main())


def reply(data: bytes) -> Script:
    async def script(reader, writer) -> None:
        writer.write(data)
        await writer.drain()

    return script


def test_chunked_body_with_extensions() -> None:
    result = serve_and_fetch(
        reply(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
        )
    )
    assert result.ok and result.body == b"hello world" and not result.body_truncated


def test_body_until_close_without_length() -> None:
    result = serve_and_fetch(reply(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close"))
    assert result.ok and result.body == b"until close" and result.final.http_version == "1.0"


def test_interim_responses_are_skipped_and_folded_headers_joined() -> None:
    result = serve_and_fetch(
        reply(
            b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"
            b"HTTP/1.1 200 OK\r\nX-Long: first\r\n  second\r\nContent-Length: 2\r\n\r\nok"
        )
    )
    assert result.status == 200 and result.body == b"ok"
    assert result.header("x-long") == "first second"


def test_not_http() -> None:
    result = serve_and_fetch(reply(b"SSH-2.0-OpenSSH_9.6\r\n"))
    assert result.error.kind == ErrorKind.PROTOCOL_ERROR
    assert result.error.message == f"{ADDRESS} did not answer with HTTP."


def test_close_before_answering() -> None:
    result = serve_and_fetch(reply(b""))
    assert result.error.kind == ErrorKind.CONNECTION_CLOSED


def test_close_in_the_middle_of_the_body() -> None:
    result = serve_and_fetch(reply(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part"))
    assert result.error.kind == ErrorKind.CONNECTION_CLOSED
    assert result.status == 200 and result.body == b"only part"


def test_header_flood_is_capped() -> None:
    async def flood(reader, writer) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\n")
        for i in range(100_000):
            writer.write(b"X-Flood-%d: %s\r\n" % (i, b"a" * 100))
            if i % 100 == 0:
                await writer.drain()

    result = serve_and_fetch(flood)
    assert result.error.kind == ErrorKind.PROTOCOL_ERROR
    assert "more response headers than allowed" in result.error.message


def test_header_trickle_hits_the_total_cap() -> None:
    async def trickle(reader, writer) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\n")
        for _ in range(1000):
            writer.write(b"X: y\r\n")
            await writer.drain()
            await asyncio.sleep(0.05)

    result = serve_and_fetch(trickle, read_timeout=1, total_timeout=0.6)
    assert result.error.kind == ErrorKind.TOTAL_TIMEOUT
    assert result.error.message == f"{ADDRESS} did not answer in full within 600 ms."


def test_silent_server_hits_the_read_cap() -> None:
    async def silent(reader, writer) -> None:
        await asyncio.sleep(5)

    result = serve_and_fetch(silent, read_timeout=0.3)
    assert result.error.kind == ErrorKind.READ_TIMEOUT


def test_gzip_bomb_is_capped() -> None:
    import gzip

    bomb = gzip.compress(b"\0" * 20_000_000)
    head = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(bomb)
    result = serve_and_fetch(reply(head + bomb), max_body_bytes=1_000_000)
    assert result.body_bytes_read == len(bomb) < 1_000_000
    assert len(result.body) == 1_000_000 and result.body_truncated


def test_request_is_plain_http11_with_host_and_agent() -> None:
    seen: list[bytes] = []

    async def main() -> FetchResult:
        port = _free_port()

        async def handle(reader, writer) -> None:
            seen.append(await reader.readuntil(b"\r\n\r\n"))
            writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(handle, ADDRESS, port)
        config = NetConfig(
            allowed_networks=(ipaddress.ip_network("127.77.0.0/16"),), port_map={80: port}, user_agent="UA/1"
        )
        try:
            return await fetch(f"http://{ADDRESS}/a%20b?q=é", config=config)
        finally:
            server.close()

    result = asyncio.run(main())
    assert result.status == 204
    request = seen[0].decode("latin-1")
    assert request.startswith("GET /a%20b?q=%C3%A9 HTTP/1.1\r\n")
    assert f"\r\nHost: {ADDRESS}\r\n" in request
    assert "\r\nUser-Agent: UA/1\r\n" in request and "\r\nConnection: close\r\n" in request


@pytest.mark.parametrize(
    "location", ["http://[::1]/", "http://0x7f.1/", "file:///etc/passwd", "http://x:22/"]
)
def test_refused_redirect_targets_from_a_raw_server(location: str) -> None:
    result = serve_and_fetch(reply(b"HTTP/1.1 302 Found\r\nLocation: " + location.encode() + b"\r\n\r\n"))
    assert result.error.kind in (ErrorKind.BLOCKED, ErrorKind.INVALID_URL)
    assert result.error.message.startswith(f"http://{ADDRESS}/ redirects to ")
    assert len(result.hops) == 1 and result.hops[0].status == 302


def test_credentials_do_not_follow_a_redirect_to_another_host() -> None:
    seen: list[bytes] = []
    other = "127.77.250.2"

    async def main() -> FetchResult:
        port = _free_port()

        async def first(reader, writer) -> None:
            seen.append(await reader.readuntil(b"\r\n\r\n"))
            writer.write(f"HTTP/1.1 302 Found\r\nLocation: http://{other}/next\r\n\r\n".encode())
            await writer.drain()
            writer.close()

        async def second(reader, writer) -> None:
            seen.append(await reader.readuntil(b"\r\n\r\n"))
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()
            writer.close()

        servers = [
            await asyncio.start_server(first, ADDRESS, port),
            await asyncio.start_server(second, other, port),
        ]
        config = NetConfig(allowed_networks=(ipaddress.ip_network("127.77.0.0/16"),), port_map={80: port})
        try:
            headers = {"Authorization": "Bearer secret", "X-Trace": "1"}
            return await fetch(f"http://{ADDRESS}/", headers=headers, config=config)
        finally:
            for server in servers:
                server.close()

    result = asyncio.run(main())
    assert result.status == 200 and len(result.hops) == 2
    assert b"Authorization: Bearer secret" in seen[0]
    assert b"Authorization" not in seen[1] and b"X-Trace: 1" in seen[1]
