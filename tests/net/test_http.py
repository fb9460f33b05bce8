"""fetch() against the sandbox: redirect chains, timings, caps on body and time, Host/SNI, concurrency."""

from __future__ import annotations

import asyncio
import time

import pytest

from launchready.net import ErrorKind, NetConfig, fetch

pytestmark = pytest.mark.sandbox


def test_redirect_chain_is_recorded_exactly(lab, config, run) -> None:
    result = run(fetch("https://www.lab.test/redirect/1", config=config))
    assert result.ok, result.error
    assert [(h.url, h.status, h.location) for h in result.hops] == [
        ("https://www.lab.test/redirect/1", 301, "/redirect/2"),
        ("https://www.lab.test/redirect/2", 302, "/redirect/3"),
        ("https://www.lab.test/redirect/3", 308, "https://valid.lab.test/"),
        ("https://valid.lab.test/", 200, None),
    ]
    assert result.final_url == "https://valid.lab.test/"
    assert result.status == 200 and result.body == b"valid"
    assert result.hops[0].address == lab.address_of("www.lab.test")
    assert result.hops[-1].address == lab.address_of("valid.lab.test")
    assert all(h.port == lab.https_port for h in result.hops)  # port map applied inside the sandbox
    assert all(h.tls_version and h.tls_version.startswith("TLS") for h in result.hops)
    assert result.hops[0].header("location") == "/redirect/2"


def test_phase_timings(config, run) -> None:
    result = run(fetch("https://www.lab.test/fast", config=config))
    t = result.timings
    assert result.ok
    assert t.dns_ms is not None and t.connect_ms is not None and t.tls_ms is not None
    assert t.ttfb_ms >= 15  # the route waits 20 ms before answering
    assert t.total_ms >= t.dns_ms + t.connect_ms + t.tls_ms + t.ttfb_ms
    assert result.elapsed_ms >= t.total_ms


def test_http_has_no_tls_phase(config, run) -> None:
    result = run(fetch("http://http-only.lab.test/", config=config))
    assert result.ok and result.body == b"plain http"
    assert result.timings.tls_ms is None and result.final.tls_version is None


def test_redirect_loop_is_detected(config, run) -> None:
    result = run(fetch("https://www.lab.test/loop-a", config=config))
    assert result.error.kind == ErrorKind.REDIRECT_LOOP
    assert [h.status for h in result.hops] == [301, 301]
    assert (
        "https://www.lab.test/loop-a → https://www.lab.test/loop-b → https://www.lab.test/loop-a"
        in result.error.message
    )


def test_self_redirect_is_a_loop(config, run) -> None:
    result = run(fetch("https://www.lab.test/loop", config=config))
    assert result.error.kind == ErrorKind.REDIRECT_LOOP and len(result.hops) == 1


def test_redirect_cap(config, run) -> None:
    result = run(fetch("https://www.lab.test/redirect/1", config=config, max_redirects=2))
    assert result.error.kind == ErrorKind.TOO_MANY_REDIRECTS
    assert len(result.hops) == 3
    assert "more than 2 times" in result.error.message


def test_redirects_not_followed_on_request(config, run) -> None:
    result = run(fetch("https://www.lab.test/redirect/1", config=config, follow_redirects=False))
    assert result.ok and result.status == 301 and len(result.hops) == 1
    assert result.final.location == "/redirect/2"


def test_https_to_http_downgrade_is_visible_in_the_chain(config, run) -> None:
    result = run(fetch("https://www.lab.test/redirect/http", config=config))
    assert [h.url.split(":")[0] for h in result.hops] == ["https", "http"]
    assert result.body == b"plain http"


def test_error_statuses_are_results_not_errors(config, run) -> None:
    result = run(fetch("https://www.lab.test/status/503", config=config))
    assert result.ok and result.status == 503
    assert result.header("Retry-After") == "30"


def test_gzip_is_requested_and_decoded(config, run) -> None:
    result = run(fetch("https://www.lab.test/gzip", config=config))
    assert result.content_encoding == "gzip"
    assert result.body == b"compress me compress me compress me compress me"
    assert result.body_bytes_read < len(result.body)  # what came over the wire was compressed


def test_repeated_headers_are_kept(config, run) -> None:
    result = run(fetch("https://www.lab.test/cookies", config=config))
    cookies = result.final.header_all("set-cookie")
    assert cookies == ["sessionid=abc123; Path=/; Secure; HttpOnly; SameSite=Lax", "tracking=1; Path=/"]


def test_host_header_and_sni_pick_the_site_on_a_shared_address(lab, config, run) -> None:
    assert lab.address_of("shared-a.lab.test") == lab.address_of("shared-b.lab.test")
    a = run(fetch("https://shared-a.lab.test/", config=config))
    assert a.ok and a.body == b"site A"
    b = run(fetch("https://shared-b.lab.test/", config=config))  # its certificate is expired
    assert b.error.kind == ErrorKind.TLS_CERTIFICATE
    assert b.error.message.startswith("The certificate for shared-b.lab.test expired on ")


def test_reading_past_a_refused_certificate(lab, config, run) -> None:
    result = run(fetch("https://shared-b.lab.test/", config=config, verify_certificate=False))
    assert result.ok and result.status == 200
    assert result.hops[0].address == lab.address_of("shared-b.lab.test")
    # The guard still applies: skipping verification never opens a refused address.
    blocked = run(fetch("https://127.0.0.1/", config=config, verify_certificate=False))
    assert blocked.error.kind == ErrorKind.BLOCKED


def test_post_and_head(config, run) -> None:
    created = run(fetch("https://www.lab.test/post-only", method="POST", body=b"x=1", config=config))
    assert created.status == 201 and created.body == b"created"
    head = run(fetch("https://www.lab.test/", method="HEAD", config=config))
    assert head.status == 200 and head.body == b""


def test_user_agent_and_headers_reach_the_server(lab, config, run) -> None:
    before = len(lab.webhook_requests)
    result = run(fetch("https://hooks.sandbox.test/probe?x=1", headers={"X-Check": "yes"}, config=config))
    assert result.ok, result.error
    request = lab.webhook_requests[before]
    assert request.headers["User-Agent"] == config.user_agent
    assert request.headers["X-Check"] == "yes"
    assert request.host == "hooks.sandbox.test"
    assert (request.path, request.query) == ("/probe", "x=1")


def test_header_injection_is_refused(config, run) -> None:
    result = run(fetch("https://www.lab.test/", headers={"X-Evil": "a\r\nHost: other"}, config=config))
    assert result.error.kind == ErrorKind.INVALID_URL and result.hops == ()


# --- caps ---------------------------------------------------------------------------------------


def test_endless_body_is_capped(config, run) -> None:
    result = run(fetch("https://www.lab.test/endless", config=config, max_body_bytes=300_000))
    assert result.ok and result.status == 200
    assert result.body_truncated is True
    assert result.body_bytes_read == 300_000 == len(result.body)


def test_body_cap_from_settings(lab, settings, run) -> None:
    settings.LAUNCHREADY_MAX_BODY_BYTES = 100_000
    result = run(fetch("https://www.lab.test/endless"))
    assert result.body_truncated and result.body_bytes_read == 100_000


def test_trickling_body_hits_the_total_time_cap(config, run) -> None:
    started = time.monotonic()
    result = run(fetch("https://www.lab.test/trickle", config=config, timeout=1.0))
    elapsed = time.monotonic() - started
    assert result.error.kind == ErrorKind.TOTAL_TIMEOUT
    assert result.error.message == "www.lab.test did not answer in full within 1 s."
    assert result.status == 200  # what was learned before the cap is kept
    assert 0 < result.body_bytes_read < 1000
    # Without the cap the trickle (one byte per 100 ms) would take minutes: a margin of
    # nine seconds over the 1 s cap holds on a loaded machine and still proves the cap.
    assert elapsed < 10


def test_slow_first_byte_hits_the_read_cap(lab, run) -> None:
    config = NetConfig.from_settings(read_timeout=0.3)
    result = run(fetch("https://www.lab.test/slow", config=config))
    assert result.error.kind == ErrorKind.READ_TIMEOUT
    assert result.error.message == "www.lab.test stopped answering for 300 ms."
    assert result.final.timings.connect_ms is not None and result.status is None


def test_connection_refused(lab, config, run) -> None:
    result = run(fetch("http://https-only.lab.test/", config=config))  # nothing listens for http there
    assert result.error.kind in (ErrorKind.CONNECTION_REFUSED, ErrorKind.CONNECT_ERROR), result.error


def test_nxdomain_host(config, run) -> None:
    result = run(fetch("https://nowhere.lab.test/", config=config))
    assert result.error.kind == ErrorKind.DNS_NXDOMAIN
    assert result.error.message == "nowhere.lab.test does not exist (NXDOMAIN)."


def test_two_hundred_fetches_run_concurrently(lab, run) -> None:
    """Each request waits 1.5 s at the server; run one after another they would take five minutes."""
    config = NetConfig.from_settings(read_timeout=20, total_timeout=30)

    async def many():
        started = time.monotonic()
        results = await asyncio.gather(
            *(fetch("https://www.lab.test/slow", config=config) for _ in range(200))
        )
        return results, time.monotonic() - started

    results, elapsed = run(many())
    assert all(r.ok and r.status == 200 for r in results), [r.error for r in results if not r.ok][:3]
    # Structure, not wall-clock: every request had started before the first one finished.
    first_end = min(r.final.started_at + r.final.timings.total_ms / 1000 for r in results)
    last_start = max(r.final.started_at for r in results)
    assert last_start < first_end
    slowest = max(r.final.timings.total_ms for r in results) / 1000
    # Far from sequential (300 s), with room for a loaded machine's 200 TLS handshakes.
    assert elapsed < 200 * 1.5 / 4
    print(f"200 parallel fetches: {elapsed:.2f} s wall, slowest single fetch {slowest:.2f} s")


def test_vetted_addresses_are_reused_for_their_ttl(lab, config, run) -> None:
    from launchready.net.transport import clear_address_cache

    clear_address_cache()
    first = run(fetch("https://valid.lab.test/", config=config))
    second = run(fetch("https://valid.lab.test/", config=config))
    assert first.timings.dns_ms > 0 and second.timings.dns_ms == 0.0
    assert first.final.address == second.final.address == lab.address_of("valid.lab.test")


def test_cached_addresses_are_vetted_again_under_another_config(lab, config, run) -> None:
    from launchready.net.transport import clear_address_cache

    clear_address_cache()
    assert run(fetch("https://valid.lab.test/", config=config)).ok
    production = NetConfig.from_settings(allowed_networks=())  # same resolvers, no exemption
    result = run(fetch("https://valid.lab.test/", config=production))
    assert result.error.kind == ErrorKind.BLOCKED
