"""``Session``: many requests to the same hosts over kept-alive connections (opt-in).

Why: the audit reads 13 well-known paths on every host of a store, and a fresh TCP and
TLS handshake per path was half of an audit's CPU (BENCHMARKS.md, audit_large). In a
session, GET and HEAD requests reuse a connection their host left open, so a host's
paths cost one handshake per connection instead of one per path.

What stays as in ``fetch()``: every request is vetted by the guard and resolved to
vetted addresses; a connection is reused only for the same scheme, host, port,
certificate setting and a vetted address (``pool.py``); a redirect to another host
opens its own guarded connection; body cap, read timeouts and the total timeout hold
per request. A connection is closed, and the next request opens a new one, after a
response that says ``Connection: close``, an HTTP/1.0 answer, a body not read to its
declared end (over the cap, or framed by the connection's close), an error or a
timeout. A request that meets an idle connection the server has just closed is sent
once more on a fresh one.

The session does not limit concurrency: requests sent at the same moment each open a
connection. Callers that want few connections per host send a host's requests in a
few sequential lanes (``audits/probes/exposure.py``). The monitoring checks never use
a session: they measure a fresh connection on purpose.

    async with Session(config) as session:
        result = await session.fetch("https://shop.example/.env", follow_redirects=False)
"""

from __future__ import annotations

from types import TracebackType

from . import http
from .config import NetConfig, resolve_config
from .pool import ConnectionPool
from .results import FetchResult, storable_result


class Session:
    """Kept-alive connections on one ``NetConfig``; close it (``async with``) when done."""

    def __init__(self, config: NetConfig | None = None) -> None:
        self.config = resolve_config(config)
        self._pool = ConnectionPool()

    @property
    def connections_opened(self) -> int:
        return self._pool.opened

    @property
    def requests_reused(self) -> int:
        """Requests sent on a connection an earlier request had opened."""
        return self._pool.reused

    async def fetch(
        self,
        url: str,
        *,
        method: str = "GET",
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
        follow_redirects: bool = True,
        max_redirects: int | None = None,
        max_body_bytes: int | None = None,
        timeout: float | None = None,
        verify_certificate: bool = True,
    ) -> FetchResult:
        """``launchready.net.fetch`` on this session's settings and connections."""
        return storable_result(
            await http.fetch(
                url,
                method=method,
                headers=headers,
                body=body,
                follow_redirects=follow_redirects,
                max_redirects=max_redirects,
                max_body_bytes=max_body_bytes,
                timeout=timeout,
                config=self.config,
                verify_certificate=verify_certificate,
                pool=self._pool,
            )
        )

    async def aclose(self) -> None:
        self._pool.close()

    async def __aenter__(self) -> Session:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
