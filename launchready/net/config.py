"""Network settings as one value object, so the layer also works outside Django.

``NetConfig.from_settings()`` reads the ``LAUNCHREADY_*`` settings at call time
(tests override them); a plain script (the audit CLI, a benchmark) can build a
``NetConfig`` directly and pass it to every call.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Ports a target URL may use besides 80 and 443. Kept small on purpose: these are
# the common "alternative HTTP(S)" ports a store might really serve on. Anything
# else (22, 25, 6379, 11211…) is refused so the scanner cannot be used to poke
# internal services on odd ports.
EXTRA_ALLOWED_PORTS: frozenset[int] = frozenset({8080, 8443})
ALLOWED_PORTS: frozenset[int] = frozenset({80, 443}) | EXTRA_ALLOWED_PORTS


@dataclass(frozen=True)
class NetConfig:
    """Everything the network layer needs; immutable so it can be shared between tasks."""

    dns_servers: tuple[tuple[str, int], ...] = ()  # empty: the system resolver
    ca_bundle: str = ""  # extra PEM roots, trusted on top of certifi
    allowed_networks: tuple[IPNetwork, ...] = ()  # the only way around the SSRF guard
    port_map: dict[int, int] = field(default_factory=dict)  # applies inside allowed_networks only
    max_body_bytes: int = 2 * 1024 * 1024
    user_agent: str = "LaunchReadyBot/1.0"
    dns_timeout: float = 5.0
    connect_timeout: float = 10.0
    read_timeout: float = 10.0  # per read, including time to first byte
    total_timeout: float = 30.0  # one whole fetch including redirects
    max_redirects: int = 10

    def __hash__(self) -> int:  # port_map is a dict; hash what identifies the config
        return hash(
            (self.dns_servers, self.ca_bundle, self.allowed_networks, tuple(sorted(self.port_map.items())))
        )

    @classmethod
    def from_settings(cls, **overrides: object) -> NetConfig:
        """Build from ``django.conf.settings`` now (not at import time)."""
        from django.conf import settings

        values: dict[str, object] = {
            "dns_servers": parse_dns_servers(getattr(settings, "LAUNCHREADY_DNS_SERVERS", []) or []),
            "ca_bundle": getattr(settings, "LAUNCHREADY_CA_BUNDLE", "") or "",
            "allowed_networks": parse_networks(
                getattr(settings, "LAUNCHREADY_ALLOWED_TARGET_NETWORKS", []) or []
            ),
            "port_map": parse_port_map(getattr(settings, "LAUNCHREADY_PORT_MAP", "") or ""),
            "max_body_bytes": int(getattr(settings, "LAUNCHREADY_MAX_BODY_BYTES", 2 * 1024 * 1024)),
            "user_agent": getattr(settings, "LAUNCHREADY_USER_AGENT", "") or "LaunchReadyBot/1.0",
        }
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]

    @classmethod
    def from_env(cls, environ: Mapping[str, str], **overrides: object) -> NetConfig:
        """Build from ``LAUNCHREADY_*`` environment variables (``Sandbox.env``, a shell), without Django."""
        values: dict[str, object] = {
            "dns_servers": parse_dns_servers(environ.get("LAUNCHREADY_DNS_SERVERS", "")),
            "ca_bundle": environ.get("LAUNCHREADY_CA_BUNDLE", ""),
            "allowed_networks": parse_networks(environ.get("LAUNCHREADY_ALLOWED_TARGET_NETWORKS", "")),
            "port_map": parse_port_map(environ.get("LAUNCHREADY_PORT_MAP", "")),
        }
        if environ.get("LAUNCHREADY_MAX_BODY_BYTES"):
            values["max_body_bytes"] = int(environ["LAUNCHREADY_MAX_BODY_BYTES"])
        if environ.get("LAUNCHREADY_USER_AGENT"):
            values["user_agent"] = environ["LAUNCHREADY_USER_AGENT"]
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]

    def in_allowed_network(self, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        return any(address.version == net.version and address in net for net in self.allowed_networks)

    def map_port(self, address: str, port: int) -> int:
        """The port to really connect to: the port map applies only inside the allowed networks."""
        if not self.port_map or port not in self.port_map:
            return port
        try:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            return port
        return self.port_map[port] if self.in_allowed_network(ip) else port


def resolve_config(config: NetConfig | None) -> NetConfig:
    return config if config is not None else NetConfig.from_settings()


def parse_dns_servers(items: list[str] | tuple[str, ...] | str) -> tuple[tuple[str, int], ...]:
    """``["127.0.0.53", "127.77.0.1:15353", "[::1]:53"]`` → ``(("127.0.0.53", 53), …)``."""
    if isinstance(items, str):
        items = [part for part in items.split(",") if part.strip()]
    servers: list[tuple[str, int]] = []
    for raw in items:
        text = raw.strip()
        host, port = text, 53
        if text.startswith("["):
            host, _, rest = text[1:].partition("]")
            if rest.startswith(":"):
                port = int(rest[1:])
        elif text.count(":") == 1:
            host, port_text = text.split(":")
            port = int(port_text)
        ipaddress.ip_address(host)  # a nameserver must be an address; raise early on typos
        servers.append((host, port))
    return tuple(servers)


def parse_networks(items: list[str] | tuple[str, ...] | str) -> tuple[IPNetwork, ...]:
    if isinstance(items, str):
        items = [part for part in items.split(",") if part.strip()]
    return tuple(ipaddress.ip_network(item.strip(), strict=False) for item in items)


def parse_port_map(text: str | dict[int, int]) -> dict[int, int]:
    """``"53:15353,80:18080,443:18443"`` → ``{53: 15353, 80: 18080, 443: 18443}``."""
    if isinstance(text, dict):
        return {int(k): int(v) for k, v in text.items()}
    mapping: dict[int, int] = {}
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        source, _, target = part.partition(":")
        mapping[int(source)] = int(target)
    return mapping
