"""The httpx clients for API calls keep every guarantee of fetch(), against the sandbox.

A refused address is refused before any connection, on the first request and on
every redirect, whoever follows the redirect (the layer or httpx); a rebinding name
is connected to only at the address vetted; a request that succeeds reaches the
sandbox's recorder once, with our User-Agent.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket

import pytest

from launchready.net import ErrorKind, NetConfig, RequestFailed, api_client, api_error, async_api_client

pytestmark = pytest.mark.sandbox


def test_a_json_post_reaches_the_recorder_once(lab, config) -> None:
    before = len(lab.webhook_requests)
    with api_client(config=config) as client:
        response = client.post("https://hooks.sandbox.test/hook?x=1", json={"event": "test"})
    assert response.status_code == 200 and response.json() == {"ok": True}
    assert len(lab.webhook_requests) == before + 1
    request = lab.webhook_requests[before]
    assert request.method == "POST" and (request.path, request.query) == ("/hook", "x=1")
    assert request.json() == {"event": "test"}
    assert request.headers["User-Agent"] == config.user_agent
    chain = response.extensions["launchready_fetch"]
    assert chain.final.address == lab.address_of("hooks.sandbox.test") and chain.final.tls_version


def test_a_webhook_to_a_private_address_is_refused_without_a_connection(lab, config) -> None:
    before = len(lab.webhook_requests)
    with api_client(config=config) as client, pytest.raises(RequestFailed) as refused:
        client.post("https://loopback.lab.test/hook", json={"event": "test"})
    error = refused.value.error
    assert error.kind == ErrorKind.BLOCKED and api_error(refused.value) is error
    assert error.message == (
        "loopback.lab.test resolves to 127.0.0.1, a loopback address (this machine); "
        "Launch Ready only connects to public addresses."
    )
    assert [hop.address for hop in refused.value.result.hops] == [None]  # nothing was connected to
    with api_client(config=config) as client, pytest.raises(RequestFailed) as literal:
        client.post("http://169.254.169.254/latest/meta-data/", content=b"x")
    assert literal.value.error.kind == ErrorKind.BLOCKED and literal.value.result.hops == ()
    assert len(lab.webhook_requests) == before


@pytest.mark.parametrize("followed_by", ["the layer", "httpx"])
def test_a_redirect_to_a_private_address_is_refused(lab, config, followed_by: str) -> None:
    layer_follows = followed_by == "the layer"
    with (
        api_client(config=config, follow_redirects=layer_follows) as client,
        pytest.raises(RequestFailed) as refused,
    ):
        client.get("https://www.lab.test/redirect/private", follow_redirects=not layer_follows)
    error = refused.value.error
    assert error.kind == ErrorKind.BLOCKED
    assert "private10.lab.test resolves to 10.0.0.5" in error.message
    if layer_follows:  # the layer names the redirect that led there
        assert error.message.startswith("https://www.lab.test/redirect/private redirects to ")
        first = refused.value.result.hops[0]
        assert (first.status, first.address) == (302, lab.address_of("www.lab.test"))


def test_without_following_a_redirect_is_the_answer(config) -> None:
    with api_client(config=config) as client:
        response = client.get("https://www.lab.test/redirect/private")
    assert response.status_code == 302 and response.headers["location"]


def test_a_rebinding_name_is_only_reached_at_the_vetted_address(lab, config) -> None:
    """rebind.lab.test alternates 127.77.2.1 and 127.0.0.1 on every query (TTL 0)."""

    async def attempts() -> list[object]:
        outcomes: list[object] = []
        async with async_api_client(config=config) as client:
            for _ in range(8):
                try:
                    outcomes.append(await client.get("https://rebind.lab.test/"))
                except RequestFailed as exc:
                    outcomes.append(exc)
        return outcomes

    outcomes = asyncio.run(attempts())
    answered = [o for o in outcomes if not isinstance(o, RequestFailed)]
    refused = [o for o in outcomes if isinstance(o, RequestFailed)]
    assert answered and refused  # both answers really came back
    for response in answered:
        assert response.content == b"rebinding target"
        assert response.extensions["launchready_fetch"].final.address == "127.77.2.1"
    for exc in refused:
        assert exc.error.kind == ErrorKind.BLOCKED and "127.0.0.1" in exc.error.message
        assert all(hop.address is None for hop in exc.result.hops)


def test_caps_on_time_and_size_are_the_layers(lab, config) -> None:
    with api_client(config=config, timeout=5) as client, pytest.raises(RequestFailed) as slow:
        client.get("https://www.lab.test/slow", timeout=0.3)  # httpx's per-phase timeout
    assert slow.value.error.kind == ErrorKind.READ_TIMEOUT
    assert slow.value.error.message == "www.lab.test stopped answering for 300 ms."
    with api_client(config=config, max_body_bytes=100_000) as client, pytest.raises(RequestFailed) as big:
        client.get("https://www.lab.test/endless")
    assert (
        big.value.error.message
        == "www.lab.test answered with more than 100,000 bytes; the answer was not read."
    )


def test_gzip_is_decoded_once(config) -> None:
    with api_client(config=config) as client:
        response = client.get("https://www.lab.test/gzip")
    assert response.content == b"compress me compress me compress me compress me"
    assert "content-encoding" not in response.headers


def test_an_invalid_url_is_a_sentence(config) -> None:
    with api_client(config=config) as client, pytest.raises(RequestFailed) as refused:
        client.post("https://hooks.sandbox.test:22/hook")
    assert refused.value.error.kind == ErrorKind.BLOCKED
    assert "port 22 is not one of the web ports" in refused.value.error.message


def test_text_is_storable_and_absurd_json_nesting_is_a_value_error() -> None:
    """A raw loopback server (as in test_http_protocol.py) answers what no sandbox host would."""
    address = "127.77.250.3"
    with socket.socket() as sock:
        sock.bind((address, 0))
        port = sock.getsockname()[1]
    answers = iter([b"NUL \x00 here", b"[" * 100_000 + b"]" * 100_000])

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        body = next(answers)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
        await writer.drain()
        writer.close()

    async def main() -> tuple[str, Exception | None]:
        server = await asyncio.start_server(handle, address, port)
        config = NetConfig(allowed_networks=(ipaddress.ip_network("127.77.0.0/16"),), port_map={80: port})
        try:
            async with async_api_client(config=config) as client:
                text = (await client.get(f"http://{address}/")).text
                nested = await client.get(f"http://{address}/")
                try:
                    nested.json()
                except ValueError as exc:
                    return text, exc
                return text, None
        finally:
            server.close()

    text, error = asyncio.run(main())
    assert text == "NUL \ufffd here"
    assert isinstance(error, ValueError)
