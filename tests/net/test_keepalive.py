"""Session: kept-alive connections, counted where they arrive (the sandbox's connection log),
closed whenever the last answer did not end cleanly, and never a way around the SSRF guard."""

from __future__ import annotations

import asyncio

import pytest

from launchready.net import ErrorKind, NetConfig, Session, fetch

pytestmark = pytest.mark.sandbox

SCENARIO = {
    "name": "keepalive_lab",
    "zones": {"alive.test": {"records": [{"name": "private", "type": "A", "value": "10.0.0.5"}]}},
    "hosts": [
        {
            "name": "keep.alive.test",
            "routes": [
                {"path": "/a", "body": "page a"},
                {"path": "/b", "body": "page b"},
                {"path": "/close", "body": "closing", "headers": {"Connection": "close"}},
                {"path": "/big", "body": "x" * 5000},
                {"path": "/endless", "endless": True},
                {"path": "/same", "redirect": "/a", "status": 302},
                {"path": "/other", "redirect": "https://other.alive.test/", "status": 301},
                {"path": "/private", "redirect": "http://private.alive.test/", "status": 302},
            ],
        },
        {"name": "other.alive.test", "routes": [{"path": "/", "body": "other host"}]},
        {
            "name": "a.shared.alive.test",
            "address": "127.77.61.1",
            "routes": [{"path": "/", "body": "site A"}],
        },
        {
            "name": "b.shared.alive.test",
            "address": "127.77.61.1",
            "routes": [{"path": "/", "body": "site B"}],
        },
    ],
}


@pytest.fixture(scope="module")
def sb(sandbox_scenario):
    return sandbox_scenario(SCENARIO)


@pytest.fixture
def config(sb) -> NetConfig:
    sb.clear_http_requests()
    return NetConfig.from_settings(connect_timeout=3, read_timeout=3, total_timeout=10)


def seen(sb) -> list[tuple[str, str, int]]:
    """(host, path, connection number) of each request the sandbox received, in order."""
    return [(r.host, r.path, r.connection) for r in sb.http_requests]


def connections(sb) -> int:
    return len({r.connection for r in sb.http_requests})


async def in_session(config: NetConfig, *urls: str, **kwargs) -> tuple[list, Session]:
    async with Session(config) as session:
        results = [await session.fetch(url, **kwargs) for url in urls]
    return results, session


def test_requests_to_one_host_share_one_connection(sb, config) -> None:
    urls = ["https://keep.alive.test/a", "https://keep.alive.test/b", "https://keep.alive.test/a"]
    results, session = asyncio.run(in_session(config, *urls))
    assert [r.body for r in results] == [b"page a", b"page b", b"page a"]
    assert [(host, path) for host, path, _ in seen(sb)] == [
        ("keep.alive.test", p) for p in ("/a", "/b", "/a")
    ]
    assert connections(sb) == 1
    assert (session.connections_opened, session.requests_reused) == (1, 2)
    assert [r.final.reused_connection for r in results] == [False, True, True]
    # A reused connection has no connect or TLS phase of its own, but still says what it is.
    assert results[1].timings.tls_ms is None and results[1].final.tls_version.startswith("TLS")
    assert results[1].final.address == sb.address_of("keep.alive.test")


def test_without_a_session_every_request_opens_its_own_connection(sb, config) -> None:
    async def three() -> list:
        return [await fetch(f"https://keep.alive.test/{p}", config=config) for p in "aba"]

    results = asyncio.run(three())
    assert all(r.ok for r in results)
    assert connections(sb) == 3  # the monitoring checks measure a fresh connection on purpose


def test_an_answer_saying_connection_close_ends_the_connection(sb, config) -> None:
    urls = ["https://keep.alive.test/close", "https://keep.alive.test/close", "https://keep.alive.test/a"]
    results, session = asyncio.run(in_session(config, *urls))
    assert [r.body for r in results] == [b"closing", b"closing", b"page a"]
    assert connections(sb) == 3 and session.requests_reused == 0


def test_a_body_over_the_cap_closes_the_connection_and_the_cap_is_per_request(sb, config) -> None:
    urls = ["https://keep.alive.test/big", "https://keep.alive.test/a", "https://keep.alive.test/big"]

    async def go() -> tuple[list, Session]:
        async with Session(config) as session:
            capped = await session.fetch(urls[0], max_body_bytes=1000)
            rest = [await session.fetch(url) for url in urls[1:]]
        return [capped, *rest], session

    (capped, a, big), session = asyncio.run(go())
    assert capped.body_truncated and len(capped.body) == 1000
    assert a.body == b"page a" and not a.final.reused_connection
    assert big.body == b"x" * 5000 and not big.body_truncated and big.final.reused_connection
    assert connections(sb) == 2


def test_an_endless_body_is_capped_and_its_connection_not_reused(sb, config) -> None:
    urls = ["https://keep.alive.test/endless", "https://keep.alive.test/a"]
    (endless, a), session = asyncio.run(in_session(config, *urls, max_body_bytes=100_000))
    assert endless.body_truncated and len(endless.body) == 100_000
    assert a.body == b"page a" and connections(sb) == 2


def test_redirects_reuse_the_same_hosts_connection_and_open_one_for_another_host(sb, config) -> None:
    urls = [
        "https://keep.alive.test/same",  # 302 to /a on the same host: one connection
        "https://keep.alive.test/other",  # 301 to other.alive.test: its own connection
        "https://other.alive.test/",
        "https://keep.alive.test/b",
    ]
    results, session = asyncio.run(in_session(config, *urls))
    assert [r.body for r in results] == [b"page a", b"other host", b"other host", b"page b"]
    by_host: dict[str, set[int]] = {}
    for host, _path, number in seen(sb):
        by_host.setdefault(host, set()).add(number)
    assert len(by_host["keep.alive.test"]) == 1 and len(by_host["other.alive.test"]) == 1
    assert by_host["keep.alive.test"] != by_host["other.alive.test"]
    assert [h.address for h in results[1].hops] == [
        sb.address_of("keep.alive.test"),
        sb.address_of("other.alive.test"),
    ]
    assert (session.connections_opened, session.requests_reused) == (2, 4)


def test_two_names_on_one_address_never_share_a_connection(sb, config) -> None:
    urls = ["https://a.shared.alive.test/", "https://b.shared.alive.test/", "https://a.shared.alive.test/"]
    results, _ = asyncio.run(in_session(config, *urls))
    assert [r.body for r in results] == [b"site A", b"site B", b"site A"]
    numbers = [number for _, _, number in seen(sb)]
    assert numbers[0] == numbers[2] != numbers[1]


def test_the_guard_still_refuses_a_redirect_to_a_private_address_on_a_reused_connection(sb, config) -> None:
    urls = ["https://keep.alive.test/a", "https://keep.alive.test/private", "http://private.alive.test/"]
    (first, redirected, direct), session = asyncio.run(in_session(config, *urls))
    assert first.ok
    assert redirected.hops[0].reused_connection and redirected.hops[0].status == 302
    assert redirected.error.kind == ErrorKind.BLOCKED
    assert "redirects to http://private.alive.test/, which was not followed" in redirected.error.message
    assert direct.error.kind == ErrorKind.BLOCKED and all(h.address is None for h in direct.hops)
    assert connections(sb) == 1 and session.connections_opened == 1


def test_a_post_is_never_sent_on_a_kept_alive_connection(sb, config) -> None:
    async def go() -> list:
        async with Session(config) as session:
            first = await session.fetch("https://keep.alive.test/a")
            post = await session.fetch("https://keep.alive.test/a", method="POST", body=b"x")
            return [first, post]

    first, post = asyncio.run(go())
    assert first.ok and post.status is not None and not post.final.reused_connection
    assert connections(sb) == 2
