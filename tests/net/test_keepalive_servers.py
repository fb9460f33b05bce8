"""Session against small real HTTP servers on loopback that misbehave in the ways real ones
do: close after each answer without saying so, answer HTTP/1.0, send bytes past the end of
an answer, close an idle connection as the next request arrives, or stall. Each server
counts the connections it accepted."""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from launchready.net import ErrorKind, NetConfig, Session

Answer = Callable[[int, int], Awaitable[bytes | None]]  # (connection, request on it) → bytes, None: hang up


@dataclass
class Server:
    """A raw HTTP/1.x server: ``answer`` decides the bytes; ``close_after`` hangs up after each."""

    answer: Answer
    close_after: bool = False
    connections: int = 0
    requests: list[tuple[int, str]] = field(default_factory=list)  # (connection, request line)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        number, count = self.connections, 0
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                count += 1
                self.requests.append((number, head.split(b"\r\n", 1)[0].decode()))
                reply = await self.answer(number, count)
                if reply is None:
                    break
                writer.write(reply)
                await writer.drain()
                if self.close_after:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


def ok(body: bytes, *, version: str = "1.1", extra: bytes = b"") -> bytes:
    return f"HTTP/{version} 200 OK\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body + extra


async def serve(server: Server, paths: list[str], **config: float) -> list:
    """Fetch ``paths`` one after another in one session against ``server``."""
    listener = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    net_config = NetConfig(
        allowed_networks=(ipaddress.ip_network("127.0.0.0/8"),),
        port_map={80: port},
        connect_timeout=2,
        read_timeout=config.get("read_timeout", 2),
        total_timeout=5,
    )
    try:
        async with Session(net_config) as session:
            return [await session.fetch(f"http://127.0.0.1{path}") for path in paths]
    finally:
        listener.close()
        await asyncio.sleep(0.05)  # the handlers see their connections end before the loop does


def test_a_server_that_closes_after_each_answer_gets_a_new_connection_each_time() -> None:
    async def answer(_conn: int, n: int) -> bytes:
        return ok(f"answer {n}".encode())

    server = Server(answer, close_after=True)
    results = asyncio.run(serve(server, ["/1", "/2", "/3"]))
    assert [r.body for r in results] == [b"answer 1", b"answer 1", b"answer 1"]
    assert all(r.ok for r in results) and server.connections == 3


def test_an_idle_connection_closed_as_the_next_request_arrives_is_retried_once_fresh() -> None:
    async def answer(_conn: int, n: int) -> bytes | None:
        return ok(b"fine") if n == 1 else None  # the second request on a connection: hang up

    server = Server(answer)
    results = asyncio.run(serve(server, ["/1", "/2", "/3"]))
    assert [r.ok for r in results] == [True, True, True], [r.error for r in results]
    assert all(r.body == b"fine" for r in results)
    # /2 goes out on connection 1, which hangs up, and again on a fresh 2; /3 likewise on 2, then 3.
    assert [conn for conn, _ in server.requests] == [1, 1, 2, 2, 3]
    assert not any(r.final.reused_connection for r in results)


def test_an_http_1_0_answer_closes_the_connection() -> None:
    async def answer(_conn: int, _n: int) -> bytes:
        return ok(b"old server", version="1.0")

    server = Server(answer)
    results = asyncio.run(serve(server, ["/1", "/2"]))
    assert [r.body for r in results] == [b"old server", b"old server"]
    assert server.connections == 2


def test_bytes_past_the_end_of_an_answer_are_never_read_as_the_next_answer() -> None:
    async def answer(_conn: int, _n: int) -> bytes:
        return ok(b"short", extra=b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nsmugl")

    server = Server(answer)

    async def go() -> list:
        results = []
        listener = await asyncio.start_server(server.handle, "127.0.0.1", 0)
        port = listener.sockets[0].getsockname()[1]
        config = NetConfig(allowed_networks=(ipaddress.ip_network("127.0.0.0/8"),), port_map={80: port})
        async with Session(config) as session:
            results.append(await session.fetch("http://127.0.0.1/1"))
            await asyncio.sleep(0.05)  # the extra bytes arrive while the connection is idle
            results.append(await session.fetch("http://127.0.0.1/2"))
        listener.close()
        await asyncio.sleep(0.05)
        return results

    results = asyncio.run(go())
    assert [r.body for r in results] == [b"short", b"short"]
    assert server.connections == 2


def test_a_chunked_answer_with_trailers_keeps_the_connection() -> None:
    async def answer(_conn: int, n: int) -> bytes:
        chunks = f"4\r\npart\r\n{len(str(n)):x}\r\n{n}\r\n0\r\nX-Checksum: 1\r\n\r\n"
        return b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks.encode()

    server = Server(answer)
    results = asyncio.run(serve(server, ["/1", "/2", "/3"]))
    assert [r.body for r in results] == [b"part1", b"part2", b"part3"]
    assert server.connections == 1


def test_a_timeout_closes_the_connection_and_the_next_request_opens_a_new_one() -> None:
    async def answer(_conn: int, n: int) -> bytes:
        if n == 2:
            await asyncio.sleep(1.0)  # stalls past the read timeout
        return ok(b"in time")

    server = Server(answer)
    first, stalled, after = asyncio.run(serve(server, ["/1", "/2", "/3"], read_timeout=0.3))
    assert first.body == b"in time" and after.body == b"in time"
    assert stalled.error.kind == ErrorKind.READ_TIMEOUT and stalled.final.reused_connection
    assert [conn for conn, _ in server.requests] == [1, 1, 2]


def test_a_redirect_whose_body_stalls_is_still_answered_and_its_connection_dropped() -> None:
    async def answer(conn: int, _n: int) -> bytes:
        if conn == 1:  # promises 100 bytes of body, sends 10, then waits
            return b"HTTP/1.1 301 Moved\r\nLocation: /elsewhere\r\nContent-Length: 100\r\n\r\n0123456789"
        return ok(b"next")

    server = Server(answer)

    async def go() -> list:
        listener = await asyncio.start_server(server.handle, "127.0.0.1", 0)
        port = listener.sockets[0].getsockname()[1]
        config = NetConfig(allowed_networks=(ipaddress.ip_network("127.0.0.0/8"),), port_map={80: port})
        async with Session(config) as session:
            moved = await session.fetch("http://127.0.0.1/old", follow_redirects=False)
            after = await session.fetch("http://127.0.0.1/next")
        listener.close()
        await asyncio.sleep(0.05)
        return [moved, after]

    moved, after = asyncio.run(go())
    assert moved.ok and moved.status == 301 and moved.final.location == "/elsewhere"
    assert after.body == b"next" and server.connections == 2
