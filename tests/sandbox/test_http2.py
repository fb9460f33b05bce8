"""HTTP/2 on hosts that offer it by ALPN; HTTP/1.1 elsewhere."""

import socket
import ssl

import httpx
import pytest


@pytest.fixture(scope="module")
def sb(sandbox_scenario):
    return sandbox_scenario("netlab")


def request(
    client: httpx.Client, sb, host: str, path: str = "/", method: str = "GET", headers=None, **kwargs
):
    url = f"https://{sb.address_of(host)}:{sb.https_port}{path}"
    headers = {"Host": host, **(headers or {})}
    return client.request(method, url, headers=headers, extensions={"sni_hostname": host}, **kwargs)


@pytest.fixture
def client(sb):
    with httpx.Client(http2=True, verify=ssl.create_default_context(cafile=sb.ca_pem_path), timeout=5) as c:
        yield c


def alpn(sb, host: str) -> str | None:
    ctx = ssl.create_default_context(cafile=sb.ca_pem_path)
    ctx.set_alpn_protocols(["h2", "http/1.1"])
    with socket.create_connection((sb.address_of(host), sb.https_port), timeout=5) as sock:
        with ctx.wrap_socket(sock, server_hostname=host) as tls:
            return tls.selected_alpn_protocol()


def test_alpn_follows_the_host_setting(sb):
    assert alpn(sb, "h2.lab.test") == "h2"
    assert alpn(sb, "valid.lab.test") == "http/1.1"


def test_same_answers_over_http2(sb, client):
    response = request(client, sb, "h2.lab.test")
    assert response.http_version == "HTTP/2"
    assert (response.status_code, response.content) == (200, b"over h2")
    assert response.headers["server"] == "nginx" and "date" in response.headers
    assert request(client, sb, "h2.lab.test", "/missing").status_code == 404
    posted = request(client, sb, "h2.lab.test", "/echo", method="POST", content=b"x" * 200_000)
    assert (posted.status_code, posted.content) == (200, b"posted")
    compressed = request(client, sb, "h2.lab.test", "/big", headers={"Accept-Encoding": "gzip"})
    assert compressed.headers["content-encoding"] == "gzip"
    assert compressed.content == b"0123456789abcdef"  # decoded by the client


def test_http1_clients_still_work_on_an_h2_host(sb):
    with httpx.Client(verify=ssl.create_default_context(cafile=sb.ca_pem_path), timeout=5) as c:
        response = request(c, sb, "h2.lab.test")
    assert response.http_version == "HTTP/1.1" and response.content == b"over h2"


def test_endless_body_over_http2_respects_flow_control(sb, client):
    url = f"https://{sb.address_of('h2.lab.test')}:{sb.https_port}/endless"
    received = 0
    with client.stream(
        "GET", url, headers={"Host": "h2.lab.test"}, extensions={"sni_hostname": "h2.lab.test"}
    ) as r:
        assert r.http_version == "HTTP/2"
        for chunk in r.iter_bytes():
            received += len(chunk)
            if received > 2_000_000:
                break
    assert received > 2_000_000
    assert request(client, sb, "h2.lab.test").status_code == 200  # connection still usable
