"""The SSRF guard without any I/O: literal addresses in every notation, schemes, ports, user info."""

from __future__ import annotations

import ipaddress

import pytest

from launchready.net import ALLOWED_PORTS, ErrorKind, NetConfig, NetError, VettedURL, address_problem, vet_url
from launchready.net.guard import InvalidHost, parse_ipv4_like_libc

PLAIN = NetConfig()  # production: no allowed networks

# (url, words the refusal must contain)
REFUSED_URLS: list[tuple[str, str]] = [
    # IPv4 loopback in every notation libc accepts
    ("http://127.0.0.1/", "loopback"),
    ("http://127.0.0.1./", "loopback"),
    ("http://2130706433/", "loopback"),  # decimal
    ("http://0177.0.0.1/", "loopback"),  # octal
    ("http://0177.0000.0000.0001/", "loopback"),
    ("http://017700000001/", "loopback"),  # one octal number
    ("http://0x7f.0.0.1/", "loopback"),  # hex part
    ("http://0x7f.1/", "loopback"),  # hex, two parts
    ("http://0x7F000001/", "loopback"),  # one hex number
    ("http://127.1/", "loopback"),  # short form
    ("http://127.0.1/", "loopback"),
    ("http://0x7f.0x0.0x0.0x1/", "loopback"),
    ("http://127.000.000.001/", "loopback"),
    ("http://１２７.０.０.１/", "loopback"),  # full-width digits (IDNA maps them)
    ("http://127。0。0。1/", "loopback"),  # ideographic full stops
    ("http://127.0.0.1:80/", "loopback"),
    ("https://127.0.0.1:443/", "loopback"),
    ("http://localhost/", "local or internal name"),
    ("http://LOCALHOST./", "local or internal name"),
    ("http://app.localhost/", "local or internal name"),
    ("http://metadata.google.internal/computeMetadata/v1/", "local or internal name"),
    ("http://intranet/", "single-label"),
    # unspecified, private, CGNAT, link-local, metadata
    ("http://0.0.0.0/", "unspecified"),
    ("http://0/", "unspecified"),
    ("http://10.0.0.1/", "private network"),
    ("http://012.0.0.1/", "private network"),  # octal 10.0.0.1
    ("http://172.16.0.1/", "private network"),
    ("http://172.31.255.255/", "private network"),
    ("http://192.168.1.1/", "private network"),
    ("http://3232235777/", "private network"),  # decimal 192.168.1.1
    ("http://0xc0a80101/", "private network"),
    ("http://100.64.0.1/", "carrier-grade NAT"),
    ("http://169.254.1.1/", "link-local"),
    ("http://169.254.169.254/latest/meta-data/", "metadata"),
    ("http://0xa9fea9fe/", "metadata"),  # hex 169.254.169.254
    ("http://2852039166/", "metadata"),  # decimal 169.254.169.254
    ("http://169.254.170.2/v2/credentials", "metadata"),
    ("http://100.100.100.200/latest/meta-data/", "metadata"),
    ("http://192.0.0.192/", "metadata"),
    ("http://168.63.129.16/", "Azure"),
    # reserved, documentation, multicast, broadcast, benchmarking
    ("http://192.0.2.10/", "documentation"),
    ("http://198.51.100.7/", "documentation"),
    ("http://203.0.113.1/", "documentation"),
    ("http://198.18.0.1/", "benchmarking"),
    ("http://224.0.0.1/", "multicast"),
    ("http://239.255.255.250/", "multicast"),
    ("http://240.0.0.1/", "reserved"),
    ("http://255.255.255.255/", "broadcast"),
    ("http://192.0.0.8/", "IETF protocol"),
    # IPv6: bracketed, zone ids, mapped and compatible forms, tunnels, translations
    ("http://[::1]/", "loopback"),
    ("http://[0:0:0:0:0:0:0:1]/", "loopback"),
    ("http://[::]/", "unspecified"),
    ("http://[::ffff:127.0.0.1]/", "IPv4-mapped"),
    ("http://[::ffff:7f00:1]/", "IPv4-mapped"),
    ("http://[::ffff:169.254.169.254]/", "IPv4-mapped"),
    ("http://[::ffff:8.8.8.8]/", "IPv4-mapped"),  # mapped forms are refused even when public
    ("http://[::127.0.0.1]/", "IPv4-compatible"),
    ("http://[::ffff:0:10.0.0.1]/", "IPv4-translated"),
    ("http://[fe80::1]/", "link-local"),
    ("http://[fe80::1%25eth0]/", "link-local"),  # zone id
    ("http://[fc00::1]/", "unique-local"),
    ("http://[fd12:3456:789a::1]/", "unique-local"),
    ("http://[fd00:ec2::254]/latest/meta-data/", "metadata"),
    ("http://[fec0::1]/", "site-local"),
    ("http://[ff02::1]/", "multicast"),
    ("http://[2001:db8::1]/", "documentation"),
    ("http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/", "Teredo"),
    ("http://[64:ff9b::127.0.0.1]/", "embeds 127.0.0.1"),  # NAT64 well-known prefix
    ("http://[64:ff9b::a9fe:a9fe]/", "embeds 169.254.169.254"),
    ("http://[64:ff9b:1::a00:1]/", "embeds 10.0.0.1"),  # local-use NAT64, /96 layout
    ("http://[2002:7f00:1::]/", "embeds 127.0.0.1"),  # 6to4
    ("http://[2002:a9fe:a9fe::1]/", "embeds 169.254.169.254"),
    ("http://[100::1]/", "discard"),
    # schemes, ports, user info
    ("file:///etc/passwd", "only http and https"),
    ("gopher://example.com/", "only http and https"),
    ("ftp://example.com/", "only http and https"),
    ("dict://example.com:11211/", "only http and https"),
    ("javascript:alert(1)", "only http and https"),
    ("http://example.com:22/", "port 22"),
    ("http://example.com:6379/", "port 6379"),
    ("https://example.com:25/", "port 25"),
    ("http://example.com:0/", "port 0"),
    ("http://user@example.com/", "user name or password"),
    ("http://user:pass@example.com/", "user name or password"),
    ("http://example.com@127.0.0.1/", "user name or password"),
    ("http://127.0.0.1%2f@example.com/", "user name or password"),
]

INVALID_URLS = [
    "http://1.2.3.256/",  # looks numeric, out of range: browsers refuse it too
    "http://1.2.3.4.5/",
    "http://09.0.0.1/",  # not octal
    "http://0x7g.0.0.1/",
    "http://exa mple.com/",
    "http://example.com\\@127.0.0.1/",
    "http://%31%32%37.0.0.1/",
    "http://[::1/",
    "http://[zzzz::1]/",
    "http://example.com:99999/",
    "http:///path-only",
    "",
]


@pytest.mark.parametrize(("url", "words"), REFUSED_URLS)
def test_refused_with_a_clear_message(url: str, words: str) -> None:
    result = vet_url(url, PLAIN)
    assert isinstance(result, NetError), f"{url} was allowed: {result}"
    assert result.kind == ErrorKind.BLOCKED
    assert words.lower() in result.message.lower(), result.message
    assert result.message.endswith(".")


@pytest.mark.parametrize("url", INVALID_URLS)
def test_malformed_urls_are_refused(url: str) -> None:
    result = vet_url(url, PLAIN)
    assert isinstance(result, NetError), f"{url!r} was allowed: {result}"
    assert result.kind in (ErrorKind.INVALID_URL, ErrorKind.BLOCKED)
    assert result.message


def test_corpus_is_large_enough() -> None:
    assert len(REFUSED_URLS) + len(INVALID_URLS) >= 50


@pytest.mark.parametrize(
    ("url", "host", "port", "target", "address"),
    [
        ("https://Shop.Example.COM/a?b=1#frag", "shop.example.com", 443, "/a?b=1", None),
        ("http://example.com", "example.com", 80, "/", None),
        ("https://example.com:8443/x", "example.com", 8443, "/x", None),
        ("https://bücher.example/", "xn--bcher-kva.example", 443, "/", None),
        ("https://example.com/caf\u00e9", "example.com", 443, "/caf%C3%A9", None),
        ("http://8.8.8.8/", "8.8.8.8", 80, "/", "8.8.8.8"),
        ("http://134744072/", "8.8.8.8", 80, "/", "8.8.8.8"),  # decimal public address
        ("http://[2606:4700:4700::1111]/", "2606:4700:4700::1111", 80, "/", "2606:4700:4700::1111"),
        (
            "http://[64:ff9b::8.8.8.8]/",
            "64:ff9b::808:808",
            80,
            "/",
            "64:ff9b::808:808",
        ),  # NAT64 of a public address
    ],
)
def test_public_urls_pass(url: str, host: str, port: int, target: str, address: str | None) -> None:
    result = vet_url(url, PLAIN)
    assert isinstance(result, VettedURL), result
    assert (result.host, result.port, result.target, result.address) == (host, port, target, address)


def test_host_header_keeps_non_default_port() -> None:
    assert vet_url("https://example.com:8443/", PLAIN).host_header == "example.com:8443"
    assert vet_url("https://example.com/", PLAIN).host_header == "example.com"
    assert vet_url("http://[2606:4700::1]:8080/", PLAIN).host_header == "[2606:4700::1]:8080"


def test_allowed_ports_are_the_documented_small_set() -> None:
    assert ALLOWED_PORTS == {80, 443, 8080, 8443}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2130706433", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("10.1.2", "10.1.0.2"),  # a.b.c: c fills 16 bits
        ("192.168.257", "192.168.1.1"),
        ("0x", "0.0.0.0"),  # noqa: S104 (an expected parse result, not a bind)
        ("1.2.3.4.", "1.2.3.4"),
    ],
)
def test_ipv4_parsing_matches_inet_aton(text: str, expected: str) -> None:
    assert parse_ipv4_like_libc(text) == ipaddress.IPv4Address(expected)


def test_names_are_not_parsed_as_addresses() -> None:
    assert parse_ipv4_like_libc("example.com") is None
    assert parse_ipv4_like_libc("1.2.3.example") is None
    with pytest.raises(InvalidHost):
        parse_ipv4_like_libc("256.0.0.1")


def test_allowed_networks_are_the_only_way_around() -> None:
    sandbox = NetConfig(allowed_networks=(ipaddress.ip_network("127.77.0.0/16"),))
    assert isinstance(vet_url("http://127.77.1.2/", sandbox), VettedURL)
    assert isinstance(vet_url("http://127.77.1.2/", PLAIN), NetError)
    # Only the listed network: the rest of loopback stays closed, in any notation.
    assert isinstance(vet_url("http://127.1/", sandbox), NetError)
    assert isinstance(vet_url("http://[::ffff:127.77.1.2]/", sandbox), NetError)
    assert address_problem("127.77.1.2", sandbox) is None
    assert "loopback" in address_problem("127.0.0.1", sandbox)


def test_port_map_applies_only_inside_allowed_networks() -> None:
    config = NetConfig(
        allowed_networks=(ipaddress.ip_network("127.77.0.0/16"),), port_map={443: 18443, 53: 15353}
    )
    assert config.map_port("127.77.1.2", 443) == 18443
    assert config.map_port("127.77.1.2", 53) == 15353
    assert config.map_port("127.77.1.2", 80) == 80
    assert config.map_port("93.184.215.14", 443) == 443


def test_from_settings_reads_settings_at_call_time(settings) -> None:
    settings.LAUNCHREADY_ALLOWED_TARGET_NETWORKS = ["127.77.0.0/16"]
    settings.LAUNCHREADY_PORT_MAP = "53:15353,80:18080,443:18443"
    settings.LAUNCHREADY_DNS_SERVERS = ["127.0.0.1:15353", "9.9.9.9"]
    settings.LAUNCHREADY_USER_AGENT = "TestAgent/1"
    config = NetConfig.from_settings()
    assert config.allowed_networks == (ipaddress.ip_network("127.77.0.0/16"),)
    assert config.port_map == {53: 15353, 80: 18080, 443: 18443}
    assert config.dns_servers == (("127.0.0.1", 15353), ("9.9.9.9", 53))
    assert config.user_agent == "TestAgent/1"
    # And vet_url without a config uses them.
    assert isinstance(vet_url("http://127.77.0.9/"), VettedURL)


def test_from_env_builds_without_django() -> None:
    config = NetConfig.from_env(
        {"LAUNCHREADY_DNS_SERVERS": "127.0.0.1:5353", "LAUNCHREADY_ALLOWED_TARGET_NETWORKS": "127.77.0.0/16"}
    )
    assert config.dns_servers == (("127.0.0.1", 5353),)
    assert config.in_allowed_network(ipaddress.ip_address("127.77.3.4"))


def test_local_use_nat64_in_the_rfc6052_48_layout() -> None:
    # 64:ff9b:1::/48 with the IPv4 address split around octet 8: 10.0.0.1 sits in octets 6-7 and 9-10.
    result = vet_url("http://[64:ff9b:1:a00:0:100::]/", PLAIN)
    assert isinstance(result, NetError)
    assert "embeds 10.0.0.1" in result.message
