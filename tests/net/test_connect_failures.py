"""Connecting, then TLS, against small real servers on loopback that fail the handshake the
ways real ones do: accept and say nothing, answer in plain HTTP, or hang up. Each failure is
one sentence of its own kind, within the connect timeout, and leaves no socket open."""

from __future__ import annotations

import asyncio
import ipaddress
import os
import time
from collections.abc import Awaitable, Callable

import pytest

from launchready.net import ErrorKind, NetConfig, fetch

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.read()  # accepts, never answers the ClientHello, until the client gives up
    writer.close()


async def _plain_http(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.read(100)
    writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
    await writer.drain()
    writer.close()


async def _hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.close()


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


async def _fetch_against(handler: Handler, times: int = 1) -> tuple[list, float]:
    listener = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    config = NetConfig(
        allowed_networks=(ipaddress.ip_network("127.0.0.0/8"),),
        port_map={443: port},
        connect_timeout=0.4,
        read_timeout=1,
        total_timeout=5,
    )
    started = time.perf_counter()
    try:
        results = [await fetch("https://127.0.0.1/", config=config) for _ in range(times)]
    finally:
        listener.close()
        await asyncio.sleep(0.05)
    return results, time.perf_counter() - started


def test_a_server_that_never_answers_the_handshake_is_a_tls_timeout_within_the_connect_timeout():
    (result,), took = asyncio.run(_fetch_against(_silent))
    assert result.error.kind == ErrorKind.TLS_ERROR
    assert result.error.message == "The secure connection (TLS) to 127.0.0.1 timed out after 400 ms."
    assert took < 2


@pytest.mark.parametrize(
    ("handler", "message"),
    [
        (_plain_http, "127.0.0.1 does not speak TLS on this port (no HTTPS)."),
        (_hang_up, "127.0.0.1 closed the connection during the secure (TLS) handshake."),
    ],
)
def test_a_failed_handshake_says_how_it_failed(handler, message):
    (result,), _ = asyncio.run(_fetch_against(handler))
    assert result.error.kind == ErrorKind.TLS_ERROR
    assert result.error.message == message


@pytest.mark.parametrize("handler", [_silent, _plain_http, _hang_up])
def test_failed_handshakes_leave_no_socket_open(handler):
    async def go() -> int:
        await _fetch_against(handler, times=1)  # warm-up: the loop's own descriptors
        before = _open_fds()
        await _fetch_against(handler, times=5)
        await asyncio.sleep(0.1)
        return _open_fds() - before

    assert asyncio.run(go()) <= 0
