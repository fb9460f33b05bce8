"""The :class:`Sandbox`: starts every server of a scenario in one background event loop."""

from __future__ import annotations

import asyncio
import atexit
import errno
import logging
import os
import random
import shutil
import socket
import tempfile
import threading
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web
from aiosmtpd.smtp import SMTP

from . import dns_server, http_server, services
from .http2 import H2Protocol
from .pki import CertificateAuthority
from .scenario import RDAP_ADDRESS, SANDBOX_NETWORK, WEBHOOK_HOST, Scenario, load_scenario

logger = logging.getLogger(__name__)

RESOLVER_ADDRESS = "127.0.0.1"
PORT_RANGE = (20000, 32000)  # below Linux's ephemeral range, so outgoing sockets rarely collide
PORT_ATTEMPTS = 200
START_TIMEOUT = 15.0


WORKDIR_PREFIX = "launchready-sandbox-run-"
_RUNNING: weakref.WeakSet = weakref.WeakSet()


@atexit.register
def _stop_all() -> None:
    """A script that forgets ``stop()`` still leaves no temporary files behind."""
    for sandbox in list(_RUNNING):
        sandbox.stop()


def _remove_stale_workdirs() -> None:
    """Delete work directories of sandboxes whose process was killed before cleaning up."""
    for path in Path(tempfile.gettempdir()).glob(WORKDIR_PREFIX + "*"):
        try:
            if path.stat().st_uid != os.getuid():
                continue
            pid = int((path / "pid").read_text())
            os.kill(pid, 0)  # still running: leave it alone
        except ProcessLookupError:
            shutil.rmtree(path, ignore_errors=True)
        except (OSError, ValueError):
            continue  # unreadable, or someone else's process: not ours to judge


@dataclass
class _PortGroup:
    port: int
    sockets: list[socket.socket] = field(default_factory=list)


def _bind(address: str, port: int, kind: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, kind)
    try:
        if kind == socket.SOCK_STREAM:
            # Lets a restarted sandbox reuse a port in TIME_WAIT; Linux still refuses a second listener.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((address, port))
        if kind == socket.SOCK_STREAM:
            sock.listen(128)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


def allocate(addresses: list[str], kinds: tuple[int, ...], rng: random.Random) -> _PortGroup:
    """Bind one port number on every address (for each socket kind), retrying on collisions."""
    last_error: OSError | None = None
    for _ in range(PORT_ATTEMPTS):
        group = _PortGroup(port=rng.randrange(*PORT_RANGE))
        try:
            for address in addresses:
                for kind in kinds:
                    group.sockets.append(_bind(address, group.port, kind))
            return group
        except OSError as exc:
            for sock in group.sockets:
                sock.close()
            if exc.errno not in (errno.EADDRINUSE, errno.EACCES):
                raise
            last_error = exc
    raise OSError(f"no free port for the sandbox after {PORT_ATTEMPTS} attempts: {last_error}")


class Sandbox:
    """Real DNS, HTTP(S), RDAP, webhook and SMTP servers for one scenario, on loopback.

    Use as a context manager; ``env`` and ``settings`` point the app at it.
    """

    def __init__(self, scenario: Scenario | str | dict):
        if isinstance(scenario, str):
            scenario = load_scenario(scenario)
        elif isinstance(scenario, dict):
            scenario = Scenario.from_dict(scenario)
        self.scenario: Scenario = scenario
        self.recorder = services.Recorder()
        self.ports: dict[str, int] = {}
        self.startup_seconds: float | None = None
        self.workdir: Path | None = None
        self._groups: list[_PortGroup] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._closers: list = []
        self._connections: weakref.WeakSet = weakref.WeakSet()  # HTTP/2 and SMTP protocols
        self._runner: web.AppRunner | None = None
        self._handler: http_server.SiteHandler | None = None

    # -- public API -----------------------------------------------------------------
    @property
    def ca_pem_path(self) -> str:
        assert self.workdir is not None, "the sandbox is not running"
        return str(self.workdir / "ca.pem")

    @property
    def dns_port(self) -> int:
        return self.ports["dns"]

    @property
    def http_port(self) -> int:
        return self.ports["http"]

    @property
    def https_port(self) -> int:
        return self.ports["https"]

    @property
    def smtp_port(self) -> int:
        return self.ports["smtp"]

    @property
    def webhook_requests(self) -> list[services.WebhookRequest]:
        return self.recorder.webhook_requests

    @property
    def smtp_messages(self) -> list[services.SmtpMessage]:
        return self.recorder.smtp_messages

    @property
    def http_requests(self) -> list[http_server.SeenRequest]:
        """The HTTP/1.1 requests received so far, each with its connection's number."""
        assert self._handler is not None, "the sandbox is not running"
        return self._handler.connections.requests

    def clear_http_requests(self) -> None:
        assert self._handler is not None, "the sandbox is not running"
        self._handler.connections.clear()

    def address_of(self, host: str) -> str:
        """The loopback address serving ``host`` (a scenario host or a nameserver name)."""
        name = host.lower().rstrip(".")
        for h in self.scenario.hosts:
            if h.name == name:
                return h.address
        for zone in self.scenario.zones.values():
            for ns in zone.nameservers:
                if ns.name == name:
                    return ns.address
        raise KeyError(f"{host} is not a host of scenario {self.scenario.name}")

    def url(self, host: str, path: str = "/", scheme: str = "https") -> str:
        """A direct URL (address and real port) for tests; set the Host header / SNI yourself."""
        port = self.https_port if scheme == "https" else self.http_port
        return f"{scheme}://{self.address_of(host)}:{port}{path}"

    @property
    def port_map(self) -> str:
        return f"53:{self.dns_port},80:{self.http_port},443:{self.https_port},25:{self.smtp_port}"

    @property
    def env(self) -> dict[str, str]:
        return {
            "LAUNCHREADY_DNS_SERVERS": f"{RESOLVER_ADDRESS}:{self.dns_port}",
            "LAUNCHREADY_CA_BUNDLE": self.ca_pem_path,
            "LAUNCHREADY_ALLOWED_TARGET_NETWORKS": str(SANDBOX_NETWORK),
            "LAUNCHREADY_PORT_MAP": self.port_map,
            "LAUNCHREADY_RDAP_URL": f"http://{RDAP_ADDRESS}/rdap/",
            "SANDBOX_SCENARIO": self.scenario.name,
            "SANDBOX_SMTP_HOST": RESOLVER_ADDRESS,
            "SANDBOX_SMTP_PORT": str(self.smtp_port),
            "SANDBOX_WEBHOOK_URL": f"https://{WEBHOOK_HOST}/",
        }

    @property
    def settings(self) -> dict[str, object]:
        env = self.env
        return {
            "LAUNCHREADY_DNS_SERVERS": [env["LAUNCHREADY_DNS_SERVERS"]],
            "LAUNCHREADY_CA_BUNDLE": env["LAUNCHREADY_CA_BUNDLE"],
            "LAUNCHREADY_ALLOWED_TARGET_NETWORKS": [env["LAUNCHREADY_ALLOWED_TARGET_NETWORKS"]],
            "LAUNCHREADY_PORT_MAP": env["LAUNCHREADY_PORT_MAP"],
            "LAUNCHREADY_RDAP_URL": env["LAUNCHREADY_RDAP_URL"],
        }

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # -- lifecycle ------------------------------------------------------------------
    def start(self) -> Sandbox:
        if self._thread is not None:
            raise RuntimeError("the sandbox is already running")
        started = time.perf_counter()
        try:
            self._prepare()
            self._loop = asyncio.new_event_loop()
            self._thread = threading.Thread(
                target=self._run_loop, name=f"sandbox-{self.scenario.name}", daemon=True
            )
            self._thread.start()
            future = asyncio.run_coroutine_threadsafe(self._serve(), self._loop)
            future.result(timeout=START_TIMEOUT)
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.perf_counter() - started
        logger.info("Sandbox %s started in %.2f s", self.scenario.name, self.startup_seconds)
        return self

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is not None and thread is not None and thread.is_alive():
            try:
                asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(timeout=10)
            except Exception:
                logger.exception("Sandbox shutdown did not finish cleanly")
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=10)
        if loop is not None and not loop.is_running():
            loop.close()
        self._loop, self._thread = None, None
        for group in self._groups:
            for sock in group.sockets:
                sock.close()
        self._groups = []
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None
        _RUNNING.discard(self)

    def _run_loop(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_forever()

    def _prepare(self) -> None:
        """Everything synchronous: certificates on disk and every listening socket bound."""
        _remove_stale_workdirs()
        self.workdir = Path(tempfile.mkdtemp(prefix=WORKDIR_PREFIX))
        (self.workdir / "pid").write_text(str(os.getpid()))
        _RUNNING.add(self)
        self._ca = CertificateAuthority.load_or_create()
        (self.workdir / "ca.pem").write_bytes(self._ca.root_pem)
        self._table = http_server.HostTable.build(self.scenario)
        self._ssl = http_server.build_ssl_contexts(self.scenario, self._table, self._ca, self.workdir)
        self._dns = dns_server.DnsData(self.scenario)
        rng = random.Random()
        dns_addresses = [RESOLVER_ADDRESS] + self._dns.nameserver_addresses
        smtp_addresses = [RESOLVER_ADDRESS] + sorted({h.address for h in self.scenario.hosts if h.smtp})
        plan = {
            "dns": (dns_addresses, (socket.SOCK_DGRAM, socket.SOCK_STREAM)),
            "http": (self._table.addresses("http"), (socket.SOCK_STREAM,)),
            "https": (self._table.addresses("https"), (socket.SOCK_STREAM,)),
            "smtp": (smtp_addresses, (socket.SOCK_STREAM,)),
        }
        self._plan = {}
        for key, (addresses, kinds) in plan.items():
            group = allocate(addresses, kinds, rng)
            self._groups.append(group)
            self.ports[key] = group.port
            self._plan[key] = group

    async def _serve(self) -> None:
        loop = asyncio.get_running_loop()
        for sock in self._plan["dns"].sockets:
            address = sock.getsockname()[0]
            view = dns_server.RESOLVER_VIEW if address == RESOLVER_ADDRESS else address
            if sock.type == socket.SOCK_DGRAM:
                transport, _ = await loop.create_datagram_endpoint(
                    lambda view=view: dns_server.DnsUdpProtocol(self._dns, view), sock=sock
                )
                self._closers.append(transport)
            else:
                server = await asyncio.start_server(dns_server.make_tcp_handler(self._dns, view), sock=sock)
                self._closers.append(server)
        handler = self._handler = http_server.SiteHandler(self.scenario, self._table, self.recorder)
        self._runner = web.AppRunner(http_server.make_app(handler), access_log=None, shutdown_timeout=0.2)
        await self._runner.setup()
        http1 = self._runner.server
        for sock in self._plan["http"].sockets:
            self._closers.append(await loop.create_server(http1, sock=sock))
        garbage = {h.address for h in self.scenario.hosts if h.tls_garbage}
        for sock in self._plan["https"].sockets:
            if sock.getsockname()[0] in garbage:
                self._closers.append(
                    await loop.create_server(lambda: self._track(http_server.TlsGarbage()), sock=sock)
                )
                continue
            ctx = self._ssl[sock.getsockname()[0]]
            server = await loop.create_server(
                lambda: http_server.AlpnDispatch(http1, lambda: self._track(H2Protocol(handler.respond))),
                sock=sock,
                ssl=ctx,
            )
            self._closers.append(server)
        smtp_handler = services.SmtpHandler(self.recorder)
        for sock in self._plan["smtp"].sockets:
            server = await loop.create_server(
                lambda: self._track(SMTP(smtp_handler, hostname="mx.sandbox.test", ident="Sandbox ESMTP")),
                sock=sock,
            )
            self._closers.append(server)

    def _track(self, protocol):
        self._connections.add(protocol)
        return protocol

    async def _shutdown(self) -> None:
        loop = asyncio.get_running_loop()
        # Stop accepting first and let accepts under way finish: an accept completing after
        # its server is closed leaves the client's connection open and orphaned.
        for closer in self._closers:
            for sock in getattr(closer, "sockets", None) or ():
                loop.remove_reader(sock.fileno())
        await asyncio.sleep(0.01)
        for closer in self._closers:
            closer.close()
        self._closers = []
        for protocol in list(self._connections):
            # Closing a server does not close its open connections (aiohttp closes its own).
            transport = getattr(protocol, "transport", None)
            if transport is not None:
                transport.abort()  # close() would wait for a TLS close_notify exchange
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        current = asyncio.current_task()
        pending = [t for t in asyncio.all_tasks() if t is not current]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        await asyncio.sleep(0.01)  # transports close their sockets on the next loop iterations
        await asyncio.get_running_loop().shutdown_default_executor()
