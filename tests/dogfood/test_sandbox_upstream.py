"""A sandbox host in front of a local app (``upstream``), as a TLS proxy or CDN would be.

The upstream here is a small echo server on 127.0.0.1: what it saw of each request comes
back as JSON, so the tests read the forwarded request on the app's side of the proxy.
"""

from __future__ import annotations

import gzip
import json
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from sandbox import Scenario
from sandbox.scenario import ScenarioError
from tests.sandbox.helpers import fetch, header, header_all


class EchoApp(BaseHTTPRequestHandler):
    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.path == "/moved":
            self._send(302, b"", [("Location", "/elsewhere")])
        elif self.path == "/already-gzipped":
            self._send(200, gzip.compress(b"gz" * 500, mtime=0), [("Content-Encoding", "gzip")])
        elif self.path == "/page":
            self._send(200, b"<p>page</p>" * 200, [("Content-Type", "text/html; charset=utf-8")])
        else:
            seen = {
                "method": self.command,
                "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": body.decode(),
            }
            extra = [("Content-Type", "application/json"), ("Set-Cookie", "sessionid=x; Secure; HttpOnly")]
            self._send(201 if self.command == "POST" else 200, json.dumps(seen).encode(), extra)

    do_GET = do_POST = do_HEAD = _answer

    def _send(self, status: int, body: bytes, headers: list[tuple[str, str]]) -> None:
        self.send_response(status)
        self.send_header("Server", "gunicorn")
        self.send_header("X-From-App", "yes")
        for key, value in headers:
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def app_port():
    server = ThreadingHTTPServer(("127.0.0.1", 0), EchoApp)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def sb(sandbox_scenario, app_port):
    upstream = f"http://127.0.0.1:{app_port}"
    return sandbox_scenario(
        {
            "name": "upstream",
            "hosts": [
                {
                    "name": "www.proxied.test",
                    "upstream": upstream,
                    "https_redirect": 301,
                    "http2": True,
                    "compress": True,
                    "headers": {
                        "Server": "cloudflare",
                        "CF-Ray": "8e6f1c2a9b3d4e5f-AMS",
                        "X-From-App": "edge",
                    },
                    "routes": [{"path": "/edge-only", "body": "answered at the edge"}],
                },
                {"name": "plain.proxied.test", "upstream": upstream},
                # Nothing listens on port 9 of loopback: the proxy answers 502 for it.
                {"name": "down.proxied.test", "upstream": "http://127.0.0.1:9"},
            ],
        }
    )


def seen(body: bytes) -> dict:
    return json.loads(body)


def test_requests_reach_the_app_with_host_and_forwarding_headers(sb):
    status, headers, body = fetch(
        sb, "www.proxied.test", "/api/v1/things?page=2", headers={"X-Forwarded-For": "203.0.113.9"}
    )
    assert status == 200
    request = seen(body)
    assert request["path"] == "/api/v1/things?page=2"
    assert request["headers"]["host"] == "www.proxied.test"
    assert request["headers"]["x-forwarded-proto"] == "https"
    client, proxy_peer = request["headers"]["x-forwarded-for"].split(", ")
    assert client == "203.0.113.9"
    assert proxy_peer.startswith("127.")
    # The answer is the app's, with the edge's own Server and headers on top.
    assert header(headers, "Server") == "cloudflare"
    assert header(headers, "CF-Ray") == "8e6f1c2a9b3d4e5f-AMS"
    assert header_all(headers, "X-From-App") == ["edge"]
    assert header(headers, "Set-Cookie") == "sessionid=x; Secure; HttpOnly"


def test_plain_http_is_forwarded_as_http(sb):
    status, headers, body = fetch(sb, "plain.proxied.test", "/", scheme="http")
    assert status == 200
    assert seen(body)["headers"]["x-forwarded-proto"] == "http"
    assert seen(body)["headers"]["x-forwarded-for"].startswith("127.")
    assert header(headers, "Server") == "nginx"  # the proxy's, not the app's gunicorn
    assert header(headers, "X-From-App") == "yes"


def test_post_body_and_status_pass_through(sb):
    status, _, body = fetch(
        sb,
        "www.proxied.test",
        "/orders",
        method="POST",
        body=b'{"qty": 2}',
        headers={"Content-Type": "application/json"},
    )
    assert status == 201
    request = seen(body)
    assert (request["method"], request["body"]) == ("POST", '{"qty": 2}')
    assert request["headers"]["content-type"] == "application/json"


def test_app_redirects_come_back_unfollowed(sb):
    status, headers, _ = fetch(sb, "www.proxied.test", "/moved")
    assert (status, header(headers, "Location")) == (302, "/elsewhere")


def test_edge_rules_come_first(sb):
    # http -> https at the edge, and a route of the host, never reach the app.
    status, headers, _ = fetch(sb, "www.proxied.test", "/page?x=1", scheme="http")
    assert (status, header(headers, "Location")) == (301, "https://www.proxied.test/page?x=1")
    assert fetch(sb, "www.proxied.test", "/edge-only")[2] == b"answered at the edge"


def test_compress_compresses_what_the_app_sent_plain_and_keeps_its_own_encoding(sb):
    status, headers, body = fetch(sb, "www.proxied.test", "/page", headers={"Accept-Encoding": "gzip"})
    assert (status, header(headers, "Content-Encoding")) == (200, "gzip")
    assert gzip.decompress(body) == b"<p>page</p>" * 200
    status, headers, body = fetch(
        sb, "www.proxied.test", "/already-gzipped", headers={"Accept-Encoding": "gzip"}
    )
    assert header_all(headers, "Content-Encoding") == ["gzip"]
    assert gzip.decompress(body) == b"gz" * 500
    # Without compress on the host, the app's bytes are left alone.
    _, headers, _ = fetch(sb, "plain.proxied.test", "/page", headers={"Accept-Encoding": "gzip"})
    assert header(headers, "Content-Encoding") is None


def test_http2_clients_are_forwarded_too(sb):
    context = ssl.create_default_context(cafile=sb.ca_pem_path)
    with httpx.Client(http2=True, verify=context, timeout=5) as client:
        response = client.get(
            f"https://{sb.address_of('www.proxied.test')}:{sb.https_port}/h2?q=1",
            headers={"Host": "www.proxied.test"},
            extensions={"sni_hostname": "www.proxied.test"},
        )
    assert response.http_version == "HTTP/2"
    request = response.json()
    assert request["path"] == "/h2?q=1"
    assert request["headers"]["host"] == "www.proxied.test"
    assert request["headers"]["x-forwarded-proto"] == "https"
    assert request["headers"]["x-forwarded-for"].startswith("127.")


def test_an_app_that_does_not_answer_is_a_bad_gateway(sb):
    status, _, body = fetch(sb, "down.proxied.test", "/")
    assert status == 502
    assert b"could not be reached" in body


@pytest.mark.parametrize(
    "upstream",
    [
        "http://10.0.0.5:8000",
        "https://127.0.0.1:8000",
        "http://127.0.0.1",
        "http://127.0.0.1:8000/app",
        "gunicorn",
    ],
)
def test_upstream_must_be_a_local_http_address(upstream):
    with pytest.raises(ScenarioError, match=r"www\.bad\.test: upstream (must be|is an address only)"):
        Scenario.from_dict({"hosts": [{"name": "www.bad.test", "upstream": upstream}]})


def test_a_loopback_upstream_is_kept_as_an_address():
    scenario = Scenario.from_dict({"hosts": [{"name": "www.ok.test", "upstream": "http://localhost:8000/"}]})
    assert scenario.host("www.ok.test").upstream == "http://localhost:8000"
