"""Idle kept-alive HTTP/1.1 connections of one ``Session``, by scheme, host, port and TLS settings.

A connection is put back only by ``http._hop``, and only when its last response ended
cleanly at a message boundary (HTTP/1.1, no ``Connection: close``, the body read to its
declared end). It is taken again only for the same scheme, host name, URL port and
certificate setting, and only when the address it is connected to is among the
addresses the guard vetted for the new request: a reused socket never reaches an
address the guard would not have connected to. Anything doubtful is aborted instead.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from .transport import Connection

# How long an idle connection is kept. Servers drop idle keep-alive connections after
# 5 s (Apache) to 75 s (nginx); a connection older than the shortest common one is not
# worth the risk of a request sent into a closing socket.
IDLE_TIMEOUT_S = 4.0
MAX_IDLE_PER_KEY = 8

PoolKey = tuple[str, str, int, bool]  # scheme, host name, port in the URL, certificate verified


@dataclass
class _Idle:
    conn: Connection
    since: float


class ConnectionPool:
    """The idle connections; ``opened`` and ``reused`` count what the session did."""

    def __init__(self, *, max_idle_per_key: int = MAX_IDLE_PER_KEY, idle_timeout: float = IDLE_TIMEOUT_S):
        self.max_idle_per_key = max_idle_per_key
        self.idle_timeout = idle_timeout
        self.opened = 0
        self.reused = 0
        self.closed = False
        self._idle: dict[PoolKey, list[_Idle]] = {}

    def take(self, key: PoolKey, vetted_addresses: tuple[str, ...]) -> Connection | None:
        """An idle connection for ``key`` to one of ``vetted_addresses``, or None."""
        idle = self._idle.get(key)
        now = time.monotonic()
        while idle:
            entry = idle.pop()
            conn = entry.conn
            if (
                now - entry.since > self.idle_timeout
                or conn.address not in vetted_addresses
                or not _clean(conn)
            ):
                conn.abort()
                continue
            self.reused += 1
            return conn
        return None

    def give_back(self, key: PoolKey, conn: Connection) -> None:
        idle = self._idle.setdefault(key, [])
        if self.closed or len(idle) >= self.max_idle_per_key or not _clean(conn):
            conn.abort()
            return
        idle.append(_Idle(conn, time.monotonic()))

    def close(self) -> None:
        self.closed = True
        for idle in self._idle.values():
            for entry in idle:
                entry.conn.abort()
        self._idle.clear()


def _clean(conn: Connection) -> bool:
    """Open, not at end of stream, and nothing unread waiting (bytes a server sent past
    the end of its response would be read as the next response's status line)."""
    if conn.writer.transport.is_closing() or conn.reader.at_eof() or conn.reader.exception() is not None:
        return False
    # StreamReader has no public "bytes buffered" call; its buffer is a bytearray.
    pending: bytearray = getattr(conn.reader, "_buffer", bytearray())
    return not pending
