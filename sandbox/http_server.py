"""HTTP and HTTPS hosts of the sandbox (aiohttp.web), selected by Host header and SNI."""

from __future__ import annotations

import asyncio
import fnmatch
import gzip
import html as html_lib
import logging
import mimetypes
import ssl
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web
from multidict import CIMultiDict

from . import services
from .pki import CertificateAuthority, issue
from .scenario import Host, Route, Scenario

logger = logging.getLogger(__name__)

TLS_VERSIONS = {
    "1.0": ssl.TLSVersion.TLSv1,
    "1.1": ssl.TLSVersion.TLSv1_1,
    "1.2": ssl.TLSVersion.TLSv1_2,
    "1.3": ssl.TLSVersion.TLSv1_3,
}
DEFAULT_SERVER = "nginx"
ENDLESS_CHUNK = b"<!-- endless -->" * 4096  # 64 KiB


@dataclass
class HostTable:
    """Which host answers a request, by local address and Host header / SNI name."""

    by_address: dict[str, dict[str, Host]] = field(default_factory=dict)

    @classmethod
    def build(cls, scenario: Scenario) -> HostTable:
        table = cls()
        for host in scenario.hosts:
            table.by_address.setdefault(host.address, {})[host.name] = host
        return table

    def lookup(self, address: str, name: str) -> Host | None:
        hosts = self.by_address.get(address, {})
        name = name.lower().rstrip(".")
        if name in hosts:
            return hosts[name]
        if name == address and len(hosts) == 1:
            return next(iter(hosts.values()))  # a bare IP literal reaches the only host there
        return None

    def addresses(self, scheme: str) -> list[str]:
        return [
            addr
            for addr, hosts in self.by_address.items()
            if any(h.https if scheme == "https" else h.http for h in hosts.values())
        ]


def build_ssl_contexts(
    scenario: Scenario, table: HostTable, ca: CertificateAuthority, workdir: Path
) -> dict[str, ssl.SSLContext]:
    """One server context per listening address; SNI swaps in the named host's context."""
    host_contexts: dict[str, ssl.SSLContext] = {}
    for host in scenario.hosts:
        if not host.https:
            continue
        issued = issue(ca, host.name, host.cert)
        cert_path = workdir / f"{host.name}.chain.pem"
        key_path = workdir / f"{host.name}.key.pem"
        cert_path.write_bytes(issued.chain_pem)
        key_path.write_bytes(issued.key_pem)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        # Security level 0 so weak keys and old protocols can be staged on purpose.
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        with warnings.catch_warnings():
            # TLS 1.0/1.1 are deprecated in ssl; staging them is the point of the option.
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx.minimum_version = TLS_VERSIONS[host.tls_min]
            ctx.maximum_version = TLS_VERSIONS[host.tls_max]
        ctx.load_cert_chain(cert_path, key_path)
        ctx.set_alpn_protocols(["http/1.1"])
        host_contexts[host.name] = ctx

    per_address: dict[str, ssl.SSLContext] = {}
    for address, hosts in table.by_address.items():
        names = [n for n, h in hosts.items() if h.https]
        if not names:
            continue
        default = host_contexts[names[0]]
        local = {n: host_contexts[n] for n in names}

        def pick(sslobj, server_name, _ctx, local=local):
            if server_name and server_name.lower() in local:
                sslobj.context = local[server_name.lower()]
            return None

        default.sni_callback = pick
        per_address[address] = default
    return per_address


def _content_type(route: Route | None, path: str) -> str:
    if route is not None and route.content_type:
        return route.content_type
    guessed, _ = mimetypes.guess_type(path)
    if guessed and not path.endswith("/"):
        return guessed
    return "text/html; charset=utf-8"


def render_html(spec: dict, host: str, scheme: str, path: str = "/") -> str:
    """A small, realistic storefront page with subresources from a route's ``html`` key."""
    title = html_lib.escape(str(spec.get("title", host)))
    head = [f'<meta charset="utf-8"><title>{title}</title>']
    head.append('<meta name="viewport" content="width=device-width, initial-scale=1">')
    for name, content in (spec.get("meta") or {}).items():
        head.append(f'<meta name="{html_lib.escape(name)}" content="{html_lib.escape(str(content))}">')
    for href in spec.get("stylesheets") or []:
        head.append(f'<link rel="stylesheet" href="{html_lib.escape(href)}">')
    for script in spec.get("scripts") or []:
        if isinstance(script, str):
            script = {"src": script}
        attrs = "".join(f" {flag}" for flag in ("async", "defer") if script.get(flag))
        if script.get("inline"):
            head.append(f"<script{attrs}>{script['inline']}</script>")
        else:
            head.append(f'<script src="{html_lib.escape(script["src"])}"{attrs}></script>')
    if spec.get("head"):
        head.append(str(spec["head"]))
    body = [f"<h1>{title}</h1>"]
    for href in spec.get("links") or []:
        body.append(f'<a href="{html_lib.escape(href)}">{html_lib.escape(href)}</a>')
    for src in spec.get("images") or []:
        body.append(f'<img src="{html_lib.escape(src)}" alt="">')
    if spec.get("body"):
        body.append(str(spec["body"]))
    lang = html_lib.escape(str(spec.get("lang", "en")))
    page = f'<!doctype html>\n<html lang="{lang}">\n<head>\n{chr(10).join(head)}\n</head>\n<body>\n'
    page += "\n".join(body) + "\n</body>\n</html>\n"
    return page.replace("{{host}}", host).replace("{{scheme}}", scheme).replace("{{path}}", path)


def _match(route: Route, request: web.Request, scheme: str) -> bool:
    if route.scheme and route.scheme != scheme:
        return False
    if (
        route.methods
        and request.method not in route.methods
        and not (request.method == "HEAD" and "GET" in route.methods)
    ):
        return False
    return route.path == request.path or fnmatch.fnmatchcase(request.path, route.path)


class SiteHandler:
    def __init__(self, scenario: Scenario, table: HostTable, recorder: services.Recorder):
        self.scenario = scenario
        self.table = table
        self.recorder = recorder

    async def handle(self, request: web.Request) -> web.StreamResponse:
        sockname = request.transport.get_extra_info("sockname") if request.transport else None
        address = sockname[0] if sockname else ""
        name = (request.host or "").rsplit(":", 1)[0] if not (request.host or "").startswith("[") else ""
        host = self.table.lookup(address, name)
        scheme = "https" if request.transport and request.transport.get_extra_info("sslcontext") else "http"
        if host is None:
            return web.Response(
                status=404, text="No site is configured for this host name.\n", headers=_base()
            )
        if host.kind == "rdap":
            return services.rdap_response(self.scenario, request)
        if host.kind == "webhook":
            return await services.webhook_response(self.scenario, self.recorder, request)
        return await self.site(host, request, scheme)

    async def site(self, host: Host, request: web.Request, scheme: str) -> web.StreamResponse:
        if scheme == "http" and host.https_redirect:
            await _delay(host, None)
            return _redirect(host, None, host.https_redirect, f"https://{host.name}{request.path_qs}")
        if host.redirect_to:
            await _delay(host, None)
            return _redirect(host, None, host.redirect_status, host.redirect_to.rstrip("/") + request.path_qs)
        route = next((r for r in host.routes if _match(r, request, scheme)), None)
        await _delay(host, route)
        if route is None:
            headers = _headers(host, None)
            headers["Content-Type"] = "text/html; charset=utf-8"
            return web.Response(status=404, body=b"<h1>Not Found</h1>\n", headers=headers)
        if route.redirect:
            location = route.redirect + (request.path_qs if route.keep_path else "")
            return _redirect(host, route, route.status, location)
        body = self._body(host, route, request, scheme)
        headers = _headers(host, route)
        headers.setdefault("Content-Type", _content_type(route, request.path))
        if route.endless:
            return await _endless(request, route.status, headers)
        if route.trickle_ms:
            return await _trickle(request, route.status, headers, body, route.trickle_ms)
        if (route.compress or host.compress) and "gzip" in request.headers.get("Accept-Encoding", ""):
            body = gzip.compress(body, compresslevel=6, mtime=0)
            headers["Content-Encoding"] = "gzip"
            headers.add("Vary", "Accept-Encoding")
        return web.Response(status=route.status, body=body, headers=headers)

    def _body(self, host: Host, route: Route, request: web.Request, scheme: str) -> bytes:
        if route.html is not None:
            return render_html(route.html, host.name, scheme, request.path).encode()
        if route.body is not None:
            text = route.body.replace("{{host}}", host.name).replace("{{scheme}}", scheme)
            return text.replace("{{path}}", request.path).encode()
        if route.trickle_ms:
            return b"<!doctype html><p>" + b"slow " * 200 + b"</p>\n"
        return b""


def _base() -> CIMultiDict:
    return CIMultiDict({"Server": DEFAULT_SERVER})


def _headers(host: Host, route: Route | None) -> CIMultiDict:
    headers = CIMultiDict()
    route_headers = route.headers if route else []
    overridden = {k.lower() for k, _ in route_headers}
    for key, value in host.headers:
        if key.lower() not in overridden:
            headers.add(key, value)
    for key, value in route_headers:
        headers.add(key, value)
    for cookie in host.cookies + (route.cookies if route else []):
        headers.add("Set-Cookie", cookie)
    headers.setdefault("Server", DEFAULT_SERVER)
    return headers


def _redirect(host: Host, route: Route | None, status: int, location: str) -> web.Response:
    headers = _headers(host, route)
    headers["Location"] = location
    headers["Content-Type"] = "text/html; charset=utf-8"
    body = f'<a href="{html_lib.escape(location)}">Moved</a>\n'.encode()
    return web.Response(status=status, body=body, headers=headers)


async def _delay(host: Host, route: Route | None) -> None:
    latency = route.latency if route is not None and route.latency is not None else host.latency
    if latency is not None:
        ms = latency.sample_ms()
        if ms > 0:
            await asyncio.sleep(ms / 1000)


async def _endless(request: web.Request, status: int, headers: CIMultiDict) -> web.StreamResponse:
    response = web.StreamResponse(status=status, headers=headers)
    await response.prepare(request)
    try:
        while True:
            await response.write(ENDLESS_CHUNK)
            await asyncio.sleep(0.001)  # keep a greedy client from pinning a core
    except (ConnectionError, RuntimeError):
        pass
    return response


async def _trickle(request, status: int, headers: CIMultiDict, body: bytes, interval_ms: int):
    response = web.StreamResponse(status=status, headers=headers)
    response.content_length = len(body)  # plain bytes on the wire, not one chunk frame per byte
    await response.prepare(request)
    try:
        for i in range(len(body)):
            await response.write(body[i : i + 1])
            await asyncio.sleep(interval_ms / 1000)
        await response.write_eof()
    except (ConnectionError, RuntimeError):
        pass
    return response


def make_app(handler: SiteHandler) -> web.Application:
    app = web.Application(client_max_size=4 * 1024 * 1024)
    app.router.add_route("*", "/{tail:.*}", handler.handle)
    return app
