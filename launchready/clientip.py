"""The address of the person behind a request, seen past our own reverse proxies.

Behind the TLS proxy the README asks for, ``REMOTE_ADDR`` is the proxy: anything keyed
on it (allauth's login limits, our own throttles, a logged address) lumps every
visitor together. Two settings say which proxy information can be trusted:

- ``TRUSTED_PROXY_COUNT``: how many proxies we run in front of the app, each appending
  the address it saw to ``X-Forwarded-For``. The client is the entry that many places
  from the right, the one written by our outermost proxy; entries further left were
  sent by the client and are ignored, so nobody picks their own address.
- ``TRUSTED_CLIENT_IP_HEADER``: a header our proxy sets to the client address and
  overwrites when a client sends it (``X-Real-IP`` from nginx, ``CF-Connecting-IP``).

With neither set, or when the header does not hold what the setting promises (a
request straight to the app, fewer hops than proxies, garbage), the answer is
``REMOTE_ADDR``: the connecting peer cannot be forged, only shared.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """The client's address in canonical form, or None if not even ``REMOTE_ADDR`` is one."""
    peer = normalize_ip(request.META.get("REMOTE_ADDR", ""))
    header = settings.TRUSTED_CLIENT_IP_HEADER
    if header:
        return normalize_ip(request.headers.get(header, "")) or peer
    count = settings.TRUSTED_PROXY_COUNT
    forwarded = request.headers.get("X-Forwarded-For", "")
    if count and forwarded:
        hops = forwarded.split(",")
        if len(hops) >= count:
            return normalize_ip(hops[-count]) or peer
    return peer


def normalize_ip(value: str) -> str | None:
    """``"203.0.113.5:443"``, ``"[2001:DB8::1]:443"`` → the bare canonical address; None if not one."""
    value = value.strip()
    if value.startswith("["):
        value = value[1:].partition("]")[0]
    elif value.count(":") == 1:
        value = value.partition(":")[0]
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None
