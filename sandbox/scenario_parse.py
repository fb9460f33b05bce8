"""The parts of a scenario and how each is parsed: hosts, routes and their latency, zones
with their records and nameservers, RDAP registrations.

The schema is documented in ``sandbox/README.md``. Parsing is strict about unknown keys
so that a typo in a scenario fails loudly instead of silently serving the wrong thing.
``sandbox/scenario.py`` assembles the parts into a :class:`~sandbox.scenario.Scenario`
and fills in what a scenario leaves implicit.
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any
from urllib.parse import urlsplit

from .pki import KEY_TYPES, PROFILES, CertSpec

RDAP_ADDRESS = "127.77.0.2"
WEBHOOK_ADDRESS = "127.77.0.3"
RDAP_HOST = "rdap.sandbox.test"
WEBHOOK_HOST = "hooks.sandbox.test"
SANDBOX_NETWORK = ipaddress.ip_network("127.77.0.0/16")
NS_BEHAVIOURS = ("ok", "lame", "refused", "timeout")
TLS_VERSION_NAMES = ("1.0", "1.1", "1.2", "1.3")
HTML_KEYS = {"title", "lang", "meta", "stylesheets", "scripts", "head", "links", "images", "body"}
NAME_BEHAVIOURS = ("servfail", "timeout", "refused")
GOLDEN = (math.sqrt(5) - 1) / 2


class ScenarioError(ValueError):
    """A scenario file does not follow the schema."""


def _check_keys(data: dict, allowed: set[str], where: str) -> None:
    unknown = set(data) - allowed
    if unknown:
        raise ScenarioError(f"{where}: unknown key(s) {sorted(unknown)}; allowed: {sorted(allowed)}")


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _flatten(items: list) -> list:
    """Nested lists are spliced in, so YAML anchors can share a list of routes."""
    flat: list = []
    for item in items:
        flat.extend(_flatten(item) if isinstance(item, list) else [item])
    return flat


def _headers(data: Any, where: str) -> list[tuple[str, str]]:
    """Headers as an ordered list of pairs; a list value repeats the header."""
    if data is None:
        return []
    if not isinstance(data, dict):
        raise ScenarioError(f"{where}: headers must be a mapping")
    pairs = []
    for key, value in data.items():
        for item in _as_list(value):
            pairs.append((str(key), str(item)))
    return pairs


@dataclass
class Latency:
    """Server-side delay before answering: fixed, uniform, or log-normal from p50/p95.

    Samples use a golden-ratio low-discrepancy sequence for the quantile, so even a
    short run of 20 requests spreads evenly over the distribution and p95 tests are
    stable instead of flaky.
    """

    fixed_ms: float = 0.0
    p50_ms: float | None = None
    p95_ms: float | None = None
    min_ms: float | None = None
    max_ms: float | None = None
    _n: int = 0

    @classmethod
    def parse(cls, value: Any, where: str) -> Latency | None:
        if value is None:
            return None
        if isinstance(value, int | float):
            return cls(fixed_ms=float(value))
        if isinstance(value, dict):
            _check_keys(value, {"ms", "p50", "p95", "min", "max"}, where)
            if "p50" in value:
                p50 = float(value["p50"])
                return cls(p50_ms=p50, p95_ms=float(value.get("p95", p50)))
            if "min" in value:
                return cls(min_ms=float(value["min"]), max_ms=float(value.get("max", value["min"])))
            return cls(fixed_ms=float(value.get("ms", 0)))
        raise ScenarioError(f"{where}: latency must be a number of ms or a mapping")

    def sample_ms(self) -> float:
        self._n += 1
        u = (0.5 + self._n * GOLDEN) % 1.0
        u = min(max(u, 0.001), 0.999)
        if self.p50_ms is not None:
            p95 = max(self.p95_ms or self.p50_ms, self.p50_ms)
            sigma = math.log(p95 / self.p50_ms) / 1.6448536 if self.p50_ms > 0 else 0.0
            return self.p50_ms * math.exp(sigma * NormalDist().inv_cdf(u))
        if self.min_ms is not None:
            return self.min_ms + u * ((self.max_ms or self.min_ms) - self.min_ms)
        return self.fixed_ms


ROUTE_KEYS = {
    "path",
    "methods",
    "scheme",
    "status",
    "headers",
    "cookies",
    "body",
    "html",
    "content_type",
    "redirect",
    "keep_path",
    "latency",
    "endless",
    "trickle_ms",
    "compress",
    "serial_ms",
    "header_flood",
}


@dataclass
class Route:
    path: str
    methods: list[str] = field(default_factory=list)  # empty: any method
    scheme: str = ""  # "", "http" or "https"
    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    cookies: list[str] = field(default_factory=list)
    body: str | None = None
    html: dict | None = None
    content_type: str = ""
    redirect: str | None = None
    keep_path: bool = False
    latency: Latency | None = None
    endless: bool = False
    trickle_ms: int = 0
    compress: bool = False
    serial_ms: int = 0  # a one-worker origin: requests are served one at a time, N ms each
    header_flood: int = 0  # this many extra response headers (X-Flood-1: 1 …)

    @classmethod
    def parse(cls, data: dict, where: str) -> Route:
        if not isinstance(data, dict) or "path" not in data:
            raise ScenarioError(f"{where}: a route is a mapping with at least 'path'")
        _check_keys(data, ROUTE_KEYS, where)
        where = f"{where} {data['path']}"
        status = int(data.get("status", 301 if data.get("redirect") else 200))
        if data.get("html") is not None:
            if not isinstance(data["html"], dict):
                raise ScenarioError(f"{where}: html must be a mapping")
            _check_keys(data["html"], HTML_KEYS, f"{where} html")
        if data.get("scheme", "") not in ("", "http", "https"):
            raise ScenarioError(f"{where}: scheme must be http or https")
        return cls(
            path=str(data["path"]),
            methods=[m.upper() for m in _as_list(data.get("methods"))],
            scheme=str(data.get("scheme", "")),
            status=status,
            headers=_headers(data.get("headers"), where),
            cookies=[str(c) for c in _as_list(data.get("cookies"))],
            body=None if data.get("body") is None else str(data["body"]),
            html=data.get("html"),
            content_type=str(data.get("content_type", "")),
            redirect=data.get("redirect"),
            keep_path=bool(data.get("keep_path", False)),
            latency=Latency.parse(data.get("latency"), where),
            endless=bool(data.get("endless", False)),
            trickle_ms=int(data.get("trickle_ms", 0)),
            compress=bool(data.get("compress", False)),
            serial_ms=int(data.get("serial_ms", 0)),
            header_flood=int(data.get("header_flood", 0)),
        )


HOST_KEYS = {
    "name",
    "address",
    "http",
    "https",
    "cert",
    "tls",
    "headers",
    "cookies",
    "routes",
    "latency",
    "redirect_to",
    "https_redirect",
    "dns",
    "kind",
    "smtp",
    "compress",
    "http2",
    "upstream",
    "tls_garbage",
}


@dataclass
class Host:
    name: str
    address: str = ""  # assigned at load time when empty
    http: bool = True
    https: bool = True
    cert: CertSpec = field(default_factory=CertSpec)
    tls_min: str = "1.2"
    tls_max: str = "1.3"
    headers: list[tuple[str, str]] = field(default_factory=list)
    cookies: list[str] = field(default_factory=list)
    routes: list[Route] = field(default_factory=list)
    latency: Latency | None = None
    redirect_to: str | None = None  # whole-host redirect target (scheme://host), path kept
    redirect_status: int = 301
    https_redirect: int = 0  # 0: none, else the status used to send http:// to https://
    dns: bool = True  # publish an A record for the host automatically
    kind: str = "site"  # site | rdap | webhook
    smtp: bool = False  # also listen for SMTP on this address
    compress: bool = False
    http2: bool = False  # offer h2 by ALPN on HTTPS
    upstream: str = ""  # http://<loopback>:<port>: a local app behind this host, as behind a TLS proxy
    tls_garbage: bool = False  # the https port answers random bytes instead of a TLS handshake

    @classmethod
    def parse(cls, data: dict, where: str) -> Host:
        if not isinstance(data, dict) or "name" not in data:
            raise ScenarioError(f"{where}: a host is a mapping with at least 'name'")
        _check_keys(data, HOST_KEYS, where)
        name = _norm(data["name"])
        where = f"{where} {name}"
        cert = data.get("cert", "valid")
        if isinstance(cert, str):
            cert_spec = CertSpec(profile=cert)
        elif isinstance(cert, dict):
            _check_keys(cert, {"profile", "days", "names", "key"}, f"{where} cert")
            cert_spec = CertSpec(
                profile=cert.get("profile", "valid"),
                days=int(cert.get("days", 5)),
                names=[_norm(n) for n in _as_list(cert.get("names"))],
                key=cert.get("key", ""),
            )
        else:
            raise ScenarioError(f"{where}: cert must be a profile name or a mapping")
        if cert_spec.profile not in PROFILES:
            raise ScenarioError(f"{where}: certificate profile must be one of {PROFILES}")
        if cert_spec.key and cert_spec.key not in KEY_TYPES:
            raise ScenarioError(f"{where}: certificate key must be one of {KEY_TYPES}")
        tls = data.get("tls") or {}
        _check_keys(tls, {"min", "max"}, f"{where} tls")
        if not {str(v) for v in tls.values()} <= set(TLS_VERSION_NAMES):
            raise ScenarioError(f"{where}: tls versions must be among {TLS_VERSION_NAMES}")
        redirect = data.get("redirect_to")
        redirect_status = 301
        if isinstance(redirect, dict):
            _check_keys(redirect, {"url", "status"}, f"{where} redirect_to")
            redirect_status = int(redirect.get("status", 301))
            redirect = redirect["url"]
        https_redirect = data.get("https_redirect", False)
        if https_redirect is True:
            https_redirect = 301
        kind = data.get("kind", "site")
        if kind not in ("site", "rdap", "webhook"):
            raise ScenarioError(f"{where}: kind must be site, rdap or webhook")
        return cls(
            name=name,
            address=str(data.get("address", "")),
            http=bool(data.get("http", True)),
            https=bool(data.get("https", True)),
            cert=cert_spec,
            tls_min=str(tls.get("min", "1.2")),
            tls_max=str(tls.get("max", "1.3")),
            headers=_headers(data.get("headers"), where),
            cookies=[str(c) for c in _as_list(data.get("cookies"))],
            routes=[Route.parse(r, where) for r in _flatten(_as_list(data.get("routes")))],
            latency=Latency.parse(data.get("latency"), where),
            redirect_to=redirect,
            redirect_status=redirect_status,
            https_redirect=int(https_redirect or 0),
            dns=bool(data.get("dns", True)),
            kind=kind,
            smtp=bool(data.get("smtp", False)),
            compress=bool(data.get("compress", False)),
            http2=bool(data.get("http2", False)),
            upstream=_upstream(data.get("upstream"), where),
            tls_garbage=bool(data.get("tls_garbage", False)),
        )


def _upstream(value: Any, where: str) -> str:
    """``http://127.0.0.1:8000``: plain HTTP to a loopback address, so a scenario never reaches out."""
    if value in (None, ""):
        return ""
    parts = urlsplit(str(value))
    try:
        port = parts.port
        loopback = parts.hostname == "localhost" or ipaddress.ip_address(parts.hostname or "").is_loopback
    except ValueError:
        loopback, port = False, None
    if parts.scheme != "http" or not loopback or not port:
        raise ScenarioError(f"{where}: upstream must be http://<loopback address>:<port>, got {value!r}")
    if parts.path not in ("", "/") or parts.query:
        raise ScenarioError(f"{where}: upstream is an address only (the request path is kept), got {value!r}")
    return f"http://{parts.netloc}"


@dataclass
class Record:
    name: str  # absolute, no trailing dot
    rtype: str
    values: list[Any]  # rdata text (TXT: a string or a list of strings per record)
    ttl: int | None = None
    alternate: bool = False  # answer one value per query, rotating (DNS rebinding)


@dataclass
class NameServer:
    name: str
    address: str = ""
    behaviour: str = "ok"  # ok | lame (no AA) | refused | timeout
    serial: int | None = None  # SOA serial this server reports
    records: list[Record] = field(default_factory=list)  # records that differ on this server


@dataclass
class Zone:
    name: str
    ttl: int = 300
    serial: int = 2026010101
    nameservers: list[NameServer] = field(default_factory=list)
    records: list[Record] = field(default_factory=list)
    behaviours: dict[str, str] = field(default_factory=dict)  # name -> servfail | timeout | refused
    delay_ms: int = 0  # every server (the resolver too) answers this zone's questions this late
    implicit: bool = False  # created for host or nameserver names outside declared zones


@dataclass
class Registration:
    """RDAP data for a registered domain."""

    domain: str
    registered: str = ""  # ISO date-time or "-900d" style relative days
    expires: str = "+365d"
    updated: str = ""
    status: list[str] = field(default_factory=lambda: ["active"])
    registrar: str = "Sandbox Registrar"
    registrar_iana_id: str = "9999"
    nameservers: list[str] = field(default_factory=list)


def _norm(name: str) -> str:
    return str(name).strip().rstrip(".").lower()


ZONE_KEYS = {"ttl", "serial", "nameservers", "records", "failures", "delay_ms"}
RECORD_KEYS = {"name", "type", "value", "values", "ttl", "alternate", "repeat"}
NS_KEYS = {"name", "address", "behaviour", "serial", "records"}
REG_KEYS = {"registered", "expires", "updated", "status", "registrar", "registrar_iana_id"}
RECORD_TYPES = {"A", "AAAA", "CNAME", "MX", "TXT", "CAA", "NS", "SRV", "PTR"}


def _absolute(name: str, zone: str) -> str:
    """Zone-file style names: "@" is the apex, a trailing dot is absolute, the rest is relative.

    A name that already ends with the zone name is taken as absolute too, because writing
    ``www.shop.test`` inside zone ``shop.test`` almost never means ``www.shop.test.shop.test``.
    """
    name = str(name).strip()
    if name in ("@", ""):
        return zone
    if name.endswith("."):
        return name.rstrip(".").lower()
    name = name.lower()
    if name == zone or name.endswith("." + zone):
        return name
    return f"{name}.{zone}"


def _parse_record(data: dict, zone: str, where: str) -> Record:
    if not isinstance(data, dict):
        raise ScenarioError(f"{where}: a record is a mapping")
    _check_keys(data, RECORD_KEYS, where)
    rtype = str(data.get("type", "")).upper()
    if rtype not in RECORD_TYPES:
        raise ScenarioError(f"{where}: record type {rtype!r} not supported ({sorted(RECORD_TYPES)})")
    if "values" in data:
        values = list(data["values"])
    elif "value" in data:
        values = [data["value"]]
    else:
        raise ScenarioError(f"{where}: a record needs 'value' or 'values'")
    repeat = int(data.get("repeat", 0))
    if repeat:
        # Thousands of records without thousands of lines: "{n}" in a value counts 1..repeat.
        values = [str(v).replace("{n}", str(n)) for n in range(1, repeat + 1) for v in values]
    if rtype != "TXT":
        values = [str(v) for v in values]
    return Record(
        name=_absolute(data.get("name", "@"), zone),
        rtype=rtype,
        values=values,
        ttl=None if data.get("ttl") is None else int(data["ttl"]),
        alternate=bool(data.get("alternate", False)),
    )


def _parse_zone(name: str, data: dict) -> Zone:
    zone_name = _norm(name)
    where = f"zone {zone_name}"
    data = data or {}
    _check_keys(data, ZONE_KEYS, where)
    zone = Zone(name=zone_name, ttl=int(data.get("ttl", 300)), serial=int(data.get("serial", 2026010101)))
    zone.delay_ms = int(data.get("delay_ms", 0))
    zone.records = [_parse_record(r, zone_name, where) for r in _as_list(data.get("records"))]
    for ns in _as_list(data.get("nameservers")):
        if isinstance(ns, str):
            ns = {"name": ns}
        _check_keys(ns, NS_KEYS, f"{where} nameserver")
        behaviour = ns.get("behaviour", "ok")
        if behaviour not in NS_BEHAVIOURS:
            raise ScenarioError(f"{where}: nameserver behaviour must be one of {NS_BEHAVIOURS}")
        zone.nameservers.append(
            NameServer(
                name=_norm(ns["name"]),
                address=str(ns.get("address", "")),
                behaviour=behaviour,
                serial=None if ns.get("serial") is None else int(ns["serial"]),
                records=[
                    _parse_record(r, zone_name, f"{where} {ns['name']}") for r in _as_list(ns.get("records"))
                ],
            )
        )
    for fname, behaviour in (data.get("failures") or {}).items():
        if behaviour not in NAME_BEHAVIOURS:
            raise ScenarioError(f"{where}: failure for {fname} must be one of {NAME_BEHAVIOURS}")
        zone.behaviours[_absolute(fname, zone_name)] = behaviour
    return zone


def _parse_registration(domain: str, data: dict) -> Registration:
    data = data or {}
    _check_keys(data, REG_KEYS, f"registration {domain}")
    reg = Registration(domain=_norm(domain))
    for key in ("registered", "expires", "updated", "registrar", "registrar_iana_id"):
        if data.get(key) is not None:
            setattr(reg, key, str(data[key]))
    if data.get("status") is not None:
        reg.status = [str(s) for s in _as_list(data["status"])]
    return reg
