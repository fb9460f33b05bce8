"""httpx clients for the product's API calls, sending every request through the guarded fetch.

Where the product is an API client rather than a scanner (Slack, Twilio, webhooks;
PageSpeed, certificate transparency and RDAP in the audit), httpx gives the familiar
request API: ``json=``, ``data=``, ``params=``, ``auth=``, ``response.json()``. Its
transport here does no I/O of its own: each request becomes one ``http.fetch`` call,
so the SSRF guard, the vetted address (no second DNS lookup, so rebinding fails), the
body cap, the timeouts and the founder-readable sentences are the scanner's own.

Redirects are followed by the network layer, never by httpx: each hop is vetted again,
loops are caught, credentials stay with their host, and a refused hop is explained
("… redirects to …, which was not followed: …"). The clients are therefore built with
httpx's own redirect following off; ``follow_redirects`` belongs to ``api_client()``.

A failure is raised as ``RequestFailed`` (an ``httpx.TransportError``) carrying the
``NetError``; catch ``API_ERRORS`` and call ``api_error(exc)`` for the sentence, so
callers outside this package never import httpx themselves.

The sync client runs each request with ``asyncio.run`` and is for sync code (Celery
tasks, management commands); async code uses ``async_api_client()``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from typing import Any

import httpx

from . import http
from .config import NetConfig, resolve_config
from .results import ErrorKind, FetchResult, NetError, storable, storable_result

logger = logging.getLogger(__name__)

# Framing is the network layer's: it asks for gzip/deflate and returns the body decoded.
# Sentry's httpx integration adds trace headers inside a task's transaction, and its
# baggage names our release and the DSN's public key: nothing a third party should get.
_DROPPED_REQUEST_HEADERS = frozenset(
    {"host", "connection", "content-length", "accept-encoding"}
    | {"sentry-trace", "baggage", "traceparent", "tracestate"}
)
_DROPPED_RESPONSE_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})


class RequestFailed(httpx.TransportError):
    """An API request the network layer could not complete; ``error.message`` is the sentence to show."""

    def __init__(
        self, error: NetError, *, request: httpx.Request | None = None, result: FetchResult | None = None
    ) -> None:
        super().__init__(error.message, request=request)
        self.error = error
        self.result = result  # the chain so far: which hops were made, and to which address


# Everything an API call through these clients can raise for a network or URL problem.
API_ERRORS: tuple[type[Exception], ...] = (httpx.HTTPError, httpx.InvalidURL)


def api_error(exc: Exception) -> NetError:
    """The ``NetError`` behind any of ``API_ERRORS``, with a sentence a founder understands."""
    if isinstance(exc, RequestFailed):
        return exc.error
    if isinstance(exc, httpx.TimeoutException):
        return NetError(ErrorKind.TOTAL_TIMEOUT, "The service did not answer in time.", repr(exc))
    if isinstance(exc, (httpx.InvalidURL, httpx.UnsupportedProtocol)):
        return NetError(ErrorKind.INVALID_URL, "The service address is not a valid URL.", str(exc))
    return NetError(ErrorKind.PROTOCOL_ERROR, "The request to the service failed.", repr(exc))


class ApiResponse(httpx.Response):
    """httpx's response with the layer's promises: storable text, absurd JSON nesting a ValueError."""

    @property
    def text(self) -> str:
        return storable(super().text)

    def json(self, **kwargs: Any) -> Any:
        try:
            return super().json(**kwargs)
        except RecursionError:
            raise ValueError("the JSON document is nested too deeply") from None


class _Guarded:
    """What the sync and async transports share: turning a request into a fetch and back."""

    def __init__(
        self,
        config: NetConfig | None = None,
        *,
        follow_redirects: bool = False,
        max_redirects: int | None = None,
        max_body_bytes: int | None = None,
        timeout: float | None = None,
    ) -> None:
        self.config = config
        self.follow_redirects = follow_redirects
        self.max_redirects = max_redirects
        self.max_body_bytes = max_body_bytes
        self.timeout = timeout

    async def _send(self, request: httpx.Request, body: bytes) -> httpx.Response:
        config = resolve_config(self.config)
        # httpx's per-phase timeouts map onto the layer's; the whole call stays bounded too.
        phases = request.extensions.get("timeout") or {}
        connect, read = phases.get("connect"), phases.get("read")
        if connect is not None or read is not None:
            config = dataclasses.replace(
                config,
                connect_timeout=connect if connect is not None else config.connect_timeout,
                read_timeout=read if read is not None else config.read_timeout,
            )
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _DROPPED_REQUEST_HEADERS}
        # Looked up at call time, so a test can stand in for the layer's fetch.
        result: FetchResult = storable_result(
            await http.fetch(
                str(request.url),
                method=request.method,
                headers=headers,
                body=body if body or request.method not in ("GET", "HEAD") else None,
                follow_redirects=self.follow_redirects,
                max_redirects=self.max_redirects,
                max_body_bytes=self.max_body_bytes,
                timeout=self.timeout,
                config=config,
            )
        )
        if result.error is not None:
            raise RequestFailed(result.error, request=request, result=result)
        if result.body_truncated:
            cap = self.max_body_bytes if self.max_body_bytes is not None else config.max_body_bytes
            host = httpx.URL(result.final_url).host
            error = NetError(
                ErrorKind.PROTOCOL_ERROR,
                f"{host} answered with more than {cap:,} bytes; the answer was not read.",
            )
            raise RequestFailed(error, request=request, result=result)
        final = result.final
        if final is None or final.status is None:  # not expected: a fetch without error has a status
            error = NetError(ErrorKind.PROTOCOL_ERROR, "The service sent no answer.", result.url)
            raise RequestFailed(error, request=request, result=result)
        # Header text came off the wire as latin-1; hand httpx the same bytes back.
        raw_headers = [
            (k.encode("latin-1", "replace"), v.encode("latin-1", "replace"))
            for k, v in final.headers
            if k.lower() not in _DROPPED_RESPONSE_HEADERS
        ]
        return ApiResponse(
            final.status,
            headers=raw_headers,
            content=result.body,
            request=request,
            extensions={
                "http_version": f"HTTP/{final.http_version or '1.1'}".encode(),
                "launchready_fetch": result,  # the whole chain with addresses and timings
            },
        )


class GuardedTransport(_Guarded, httpx.BaseTransport):
    """A sync httpx transport that sends every request through ``launchready.net``'s fetch."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return asyncio.run(self._send(request, request.read()))


class AsyncGuardedTransport(_Guarded, httpx.AsyncBaseTransport):
    """An async httpx transport that sends every request through ``launchready.net``'s fetch."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self._send(request, await request.aread())


def _client_options(
    config: NetConfig | None, timeout: float, headers: dict[str, str] | None
) -> dict[str, Any]:
    user_agent = resolve_config(config).user_agent
    return {
        "headers": {"User-Agent": user_agent, **(headers or {})},
        "timeout": timeout,
        "follow_redirects": False,  # the layer follows them (see the module docstring)
    }


def api_client(
    *,
    config: NetConfig | None = None,
    timeout: float = 10.0,
    follow_redirects: bool = False,
    max_body_bytes: int | None = None,
    headers: dict[str, str] | None = None,
    base_url: str = "",
) -> httpx.Client:
    """A sync httpx client whose every request goes through the SSRF guard (see the module docstring).

    ``timeout`` bounds each phase and the whole request, redirects included.
    """
    transport = GuardedTransport(
        config, follow_redirects=follow_redirects, max_body_bytes=max_body_bytes, timeout=timeout
    )
    return httpx.Client(transport=transport, base_url=base_url, **_client_options(config, timeout, headers))


def async_api_client(
    *,
    config: NetConfig | None = None,
    timeout: float = 10.0,
    follow_redirects: bool = False,
    max_body_bytes: int | None = None,
    headers: dict[str, str] | None = None,
    base_url: str = "",
) -> httpx.AsyncClient:
    """The async twin of ``api_client()`` for probes running under asyncio."""
    transport = AsyncGuardedTransport(
        config, follow_redirects=follow_redirects, max_body_bytes=max_body_bytes, timeout=timeout
    )
    return httpx.AsyncClient(
        transport=transport, base_url=base_url, **_client_options(config, timeout, headers)
    )


__all__ = [
    "API_ERRORS",
    "ApiResponse",
    "AsyncGuardedTransport",
    "GuardedTransport",
    "RequestFailed",
    "api_client",
    "api_error",
    "async_api_client",
]
