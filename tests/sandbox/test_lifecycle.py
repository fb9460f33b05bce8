"""Start-up, parallel sandboxes, clean shutdown and scenario validation."""

import socket
import threading
from pathlib import Path

import pytest

from sandbox import Sandbox, Scenario, ScenarioError, load_scenario
from tests.sandbox.helpers import fetch

pytestmark = pytest.mark.sandbox

TINY = {"name": "tiny", "hosts": [{"name": "www.tiny.test", "routes": [{"path": "/", "body": "tiny"}]}]}


def _listening(address: str, port: int) -> bool:
    try:
        with socket.create_connection((address, port), timeout=1):
            return True
    except OSError:
        return False


def test_stop_closes_every_listener_thread_and_file():
    threads_before = set(threading.enumerate())
    sandbox = Sandbox(TINY).start()
    address, ports = sandbox.address_of("www.tiny.test"), dict(sandbox.ports)
    workdir = Path(sandbox.workdir)
    assert _listening(address, ports["http"]) and _listening(address, ports["https"])
    assert _listening("127.0.0.1", ports["dns"]) and _listening("127.0.0.1", ports["smtp"])
    assert workdir.exists()
    sandbox.stop()
    assert not _listening(address, ports["http"])
    assert not _listening(address, ports["https"])
    assert not _listening("127.0.0.1", ports["dns"])
    assert not _listening("127.0.0.1", ports["smtp"])
    assert not workdir.exists()
    assert set(threading.enumerate()) - threads_before == set()
    # The UDP port is free again too.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.bind(("127.0.0.1", ports["dns"]))


def test_stop_is_safe_after_an_endless_response_is_in_flight():
    sandbox = Sandbox("netlab").start()
    sock = socket.create_connection((sandbox.address_of("www.lab.test"), sandbox.http_port), timeout=5)
    sock.sendall(b"GET /endless HTTP/1.1\r\nHost: www.lab.test\r\n\r\n")
    assert sock.recv(1024)
    sandbox.stop()
    sock.close()
    assert sandbox.workdir is None


def test_two_sandboxes_run_side_by_side_on_different_ports():
    with Sandbox(TINY) as one, Sandbox(TINY) as two:
        assert one.http_port != two.http_port
        assert one.dns_port != two.dns_port
        assert fetch(one, "www.tiny.test")[2] == b"tiny"
        assert fetch(two, "www.tiny.test")[2] == b"tiny"


def test_port_collision_is_retried(monkeypatch):
    import random

    from sandbox import runner

    blocker = socket.socket()
    blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    taken = blocker.getsockname()[1]
    choices = iter([taken, taken, 23456, 23457, 23458, 23459, 23460])

    class Rigged(random.Random):
        def randrange(self, *args):
            return next(choices)

    try:
        group = runner.allocate(["127.0.0.1"], (socket.SOCK_STREAM,), Rigged())
        assert group.port != taken
        for sock in group.sockets:
            sock.close()
    finally:
        blocker.close()


def test_env_and_settings_point_at_the_sandbox():
    with Sandbox(TINY) as sb:
        env = sb.env
        assert env["LAUNCHREADY_DNS_SERVERS"] == f"127.0.0.1:{sb.dns_port}"
        assert env["LAUNCHREADY_ALLOWED_TARGET_NETWORKS"] == "127.77.0.0/16"
        assert env["LAUNCHREADY_PORT_MAP"] == (
            f"53:{sb.dns_port},80:{sb.http_port},443:{sb.https_port},25:{sb.smtp_port}"
        )
        assert Path(env["LAUNCHREADY_CA_BUNDLE"]).read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")
        assert env["SANDBOX_SMTP_PORT"] == str(sb.smtp_port)
        assert sb.settings["LAUNCHREADY_DNS_SERVERS"] == [env["LAUNCHREADY_DNS_SERVERS"]]
        assert sb.startup_seconds is not None and sb.startup_seconds > 0  # reported, not a timing test


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"hosts": [{"name": "a.test", "rotues": []}]}, "unknown key"),
        ({"hosts": [{"name": "a.test", "address": "10.0.0.1"}]}, "inside 127.77.0.0/16"),
        ({"zones": {"a.test": {"records": [{"name": "x", "type": "BOGUS", "value": "1"}]}}}, "not supported"),
        ({"zones": {"a.test": {"failures": {"x": "explode"}}}}, "must be one of"),
        ({"hosts": [{"name": "a.test"}, {"name": "A.test."}]}, "unique"),
        ({"hosts": [{"name": "a.test", "cert": 3}]}, "cert must be"),
        ({"hosts": [{"name": "a.test", "cert": "expird"}]}, "profile must be one of"),
        ({"hosts": [{"name": "a.test", "cert": {"key": "dsa"}}]}, "key must be one of"),
        ({"hosts": [{"name": "a.test", "tls": {"max": "1.4"}}]}, "tls versions"),
        ({"hosts": [{"name": "a.test", "routes": [{"path": "/", "html": {"titel": "x"}}]}]}, "unknown key"),
        ({"hosts": [{"name": "a.test", "routes": [{"path": "/", "scheme": "ftp"}]}]}, "scheme must be"),
    ],
)
def test_scenario_errors_are_explicit(data, message):
    with pytest.raises(ScenarioError, match=message):
        Scenario.from_dict(data)


def test_unknown_scenario_name_lists_the_available_ones():
    with pytest.raises(ScenarioError, match="demo_good"):
        load_scenario("no_such_scenario")


def test_scenario_fills_in_addresses_records_and_service_hosts():
    scenario = Scenario.from_dict(TINY)
    names = [h.name for h in scenario.hosts]
    assert names == ["www.tiny.test", "rdap.sandbox.test", "hooks.sandbox.test"]
    zone = scenario.zones["tiny.test"]
    assert zone.implicit
    assert [(r.name, r.rtype, r.values) for r in zone.records] == [("www.tiny.test", "A", ["127.77.1.1"])]


def test_stop_closes_open_client_connections_of_every_protocol():
    import smtplib
    import ssl

    sandbox = Sandbox("netlab").start()
    ctx = ssl.create_default_context(cafile=sandbox.ca_pem_path)
    ctx.set_alpn_protocols(["h2"])
    h2 = ctx.wrap_socket(
        socket.create_connection((sandbox.address_of("h2.lab.test"), sandbox.https_port), timeout=5),
        server_hostname="h2.lab.test",
    )
    assert h2.selected_alpn_protocol() == "h2"
    smtp = smtplib.SMTP("127.0.0.1", sandbox.smtp_port, timeout=5)
    dns_tcp = socket.create_connection(("127.0.0.1", sandbox.dns_port), timeout=5)
    sandbox.stop()
    try:
        h2.settimeout(2)
        while h2.recv(65536):  # the server's SETTINGS, then end of stream
            pass
        smtp.sock.settimeout(2)
        while smtp.sock.recv(4096):
            pass
        dns_tcp.settimeout(2)
        assert dns_tcp.recv(10) == b""
    finally:
        h2.close()
        smtp.close()
        dns_tcp.close()


def test_work_directories_of_dead_processes_are_removed(tmp_path):
    import tempfile

    from sandbox import runner

    stale = Path(tempfile.mkdtemp(prefix=runner.WORKDIR_PREFIX))
    (stale / "pid").write_text("999999999")  # no such process
    alive = Path(tempfile.mkdtemp(prefix=runner.WORKDIR_PREFIX))
    (alive / "pid").write_text(str(__import__("os").getpid()))
    try:
        with Sandbox(TINY) as sb:
            assert Path(sb.workdir).name.startswith(runner.WORKDIR_PREFIX)
        assert not stale.exists()
        assert alive.exists()
    finally:
        import shutil

        shutil.rmtree(stale, ignore_errors=True)
        shutil.rmtree(alive, ignore_errors=True)


def test_a_forgotten_sandbox_is_stopped_at_exit():
    import subprocess
    import sys

    code = (
        "from sandbox import Sandbox; sb = Sandbox({'hosts': [{'name': 'x.tiny.test'}]}).start(); "
        "print(sb.workdir)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert not Path(out.stdout.strip()).exists()
