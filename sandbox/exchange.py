"""Protocol-neutral request and reply of the sandbox HTTP hosts (HTTP/1.1 and HTTP/2)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from multidict import CIMultiDict


@dataclass
class Exchange:
    """One request, whatever the protocol it came over."""

    method: str
    path: str
    query_string: str
    headers: CIMultiDict
    host: str  # Host header / :authority as sent
    scheme: str  # http | https
    local_address: str
    body: bytes = b""
    peer: str = ""  # the client's address (X-Forwarded-For of an upstream host)

    @property
    def path_qs(self) -> str:
        return f"{self.path}?{self.query_string}" if self.query_string else self.path

    @property
    def host_name(self) -> str:
        if self.host.startswith("["):
            return ""
        return self.host.rsplit(":", 1)[0].lower().rstrip(".")


@dataclass
class Reply:
    status: int
    headers: CIMultiDict
    body: bytes = b""
    stream: AsyncIterator[bytes] | None = None  # streamed instead of body (endless, trickle)
    length: int | None = None  # Content-Length of a stream, when known
