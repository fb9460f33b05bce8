"""DNS against the sandbox's authoritative server: every answer kind, TTLs, CNAME chains, direct NS queries."""

from __future__ import annotations

import pytest

from launchready.net import DnsStatus, ErrorKind, query_nameserver, resolve

pytestmark = pytest.mark.sandbox


def test_a_record_with_ttl(lab, config, run) -> None:
    answer = run(resolve("www.lab.test", "A", config=config))
    assert answer.status == DnsStatus.OK and answer.ok
    assert answer.records == (lab.address_of("www.lab.test"),)
    assert answer.ttl == 300
    assert answer.error is None
    assert answer.nameserver.startswith("127.0.0.1")


def test_cname_chain_is_followed_and_recorded(lab, config, run) -> None:
    answer = run(resolve("chain1.lab.test", "A", config=config))
    assert answer.ok
    assert answer.cname_chain == ("chain1.lab.test", "chain2.lab.test", "chain3.lab.test", "www.lab.test")
    assert answer.canonical_name == "www.lab.test"
    assert answer.records == (lab.address_of("www.lab.test"),)


def test_nxdomain(config, run) -> None:
    answer = run(resolve("no-such-name.lab.test", "A", config=config))
    assert answer.status == DnsStatus.NXDOMAIN
    assert answer.error.kind == ErrorKind.DNS_NXDOMAIN
    assert answer.error.message == "no-such-name.lab.test does not exist (NXDOMAIN)."


def test_dangling_cname_names_its_target(config, run) -> None:
    answer = run(resolve("dangling.lab.test", "A", config=config))
    assert answer.status == DnsStatus.NXDOMAIN
    assert answer.cname_chain == ("dangling.lab.test", "gone.lab.test")
    assert "points (CNAME) to gone.lab.test, which does not exist" in answer.error.message


def test_nodata_is_not_nxdomain(config, run) -> None:
    answer = run(resolve("txt-only.lab.test", "A", config=config))
    assert answer.status == DnsStatus.NODATA
    assert answer.error.kind == ErrorKind.DNS_NODATA
    assert answer.error.message == "txt-only.lab.test has no A record."
    assert answer.records == ()


def test_empty_non_terminal_is_nodata(config, run) -> None:
    assert run(resolve("b.deep.lab.test", "A", config=config)).status == DnsStatus.NODATA


def test_servfail(config, run) -> None:
    answer = run(resolve("servfail.lab.test", "A", config=config))
    assert answer.status == DnsStatus.SERVFAIL
    assert "(SERVFAIL)" in answer.error.message


def test_refused(config, run) -> None:
    answer = run(resolve("refused.lab.test", "A", config=config))
    assert answer.status == DnsStatus.REFUSED
    assert answer.error.kind == ErrorKind.DNS_REFUSED


def test_timeout_is_bounded(config, run) -> None:
    answer = run(resolve("timeout.lab.test", "A", config=config, timeout=0.8))
    assert answer.status == DnsStatus.TIMEOUT
    assert answer.error.message == "The DNS lookup for timeout.lab.test timed out after 800 ms."
    assert answer.elapsed_ms < 3000


def test_txt_multi_string_is_joined_and_kept(config, run) -> None:
    answer = run(resolve("multi-txt.lab.test", "TXT", config=config))
    assert answer.records == ("v=spf1 ip4:198.51.100.0/24 -all",)
    assert answer.txt_strings == (("v=spf1 ", "ip4:198.51.100.0/24 ", "-all"),)


def test_long_txt_over_255_bytes(config, run) -> None:
    answer = run(resolve("long-txt.lab.test", "TXT", config=config))
    assert answer.ok and len(answer.records[0]) > 255
    assert answer.records[0].startswith("v=DKIM1; k=rsa; p=")


def test_mx_caa_and_high_ttl(config, run) -> None:
    mx = run(resolve("lab.test", "MX", config=config))
    assert sorted(mx.records) == ["10 mx1.lab.test", "20 mx2.lab.test"]
    caa = run(resolve("lab.test", "CAA", config=config))
    assert '0 issue "letsencrypt.org"' in caa.records
    assert run(resolve("high-ttl.lab.test", "A", config=config)).ttl == 172800


def test_resolve_does_not_vet_addresses(config, run) -> None:
    # Facts are facts: the audit reports a private answer (dns.private_address); only connecting is refused.
    assert run(resolve("private10.lab.test", "A", config=config)).records == ("10.0.0.5",)


def test_invalid_name_is_an_answer_not_an_exception(config, run) -> None:
    answer = run(resolve("a" * 70 + ".lab.test", "A", config=config))
    assert answer.status == DnsStatus.ERROR
    assert "not a valid domain name" in answer.error.message


# --- direct nameserver queries (lame / disagreeing NS checks) ---------------------------------


def test_authoritative_nameserver_reports_aa_and_serial(lab, config, run) -> None:
    answer = run(query_nameserver(lab.address_of("ns1.lab.test"), "lab.test", "SOA", config=config))
    assert answer.ok and answer.rcode == "NOERROR"
    assert answer.authoritative is True
    assert answer.soa_serial == 2026112801
    assert answer.port == lab.dns_port  # LAUNCHREADY_PORT_MAP 53 → sandbox port, inside allowed networks


def test_disagreeing_nameserver(lab, config, run) -> None:
    ns1, ns2 = lab.address_of("ns1.lab.test"), lab.address_of("ns2.labdns.test")
    first = run(query_nameserver(ns1, "lab.test", "SOA", config=config))
    second = run(query_nameserver(ns2, "lab.test", "SOA", config=config))
    assert (first.soa_serial, second.soa_serial) == (2026112801, 2026112700)
    www1 = run(query_nameserver(ns1, "www.lab.test", "A", config=config))
    www2 = run(query_nameserver(ns2, "www.lab.test", "A", config=config))
    assert www1.records != www2.records == ("127.77.9.9",)


def test_lame_nameserver_answers_without_aa(lab, config, run) -> None:
    answer = run(query_nameserver(lab.address_of("ns3.labdns.test"), "lab.test", "SOA", config=config))
    assert answer.rcode == "NOERROR"
    assert answer.authoritative is False


def test_refusing_nameserver(lab, config, run) -> None:
    answer = run(query_nameserver(lab.address_of("ns4.labdns.test"), "lab.test", "SOA", config=config))
    assert answer.status == DnsStatus.REFUSED and answer.rcode == "REFUSED"
    assert (
        answer.error.message
        == f"The nameserver {lab.address_of('ns4.labdns.test')} refused to answer for lab.test (REFUSED)."
    )


def test_silent_nameserver_times_out(lab, config, run) -> None:
    answer = run(
        query_nameserver(lab.address_of("ns5.labdns.test"), "lab.test", "SOA", config=config, timeout=0.5)
    )
    assert answer.status == DnsStatus.TIMEOUT
    assert answer.rcode == ""
    assert "did not answer for lab.test within 500 ms" in answer.error.message


def test_nameserver_nxdomain_and_nodata(lab, config, run) -> None:
    ns1 = lab.address_of("ns1.lab.test")
    assert run(query_nameserver(ns1, "missing.lab.test", "A", config=config)).status == DnsStatus.NXDOMAIN
    nodata = run(query_nameserver(ns1, "txt-only.lab.test", "A", config=config))
    assert nodata.status == DnsStatus.NODATA and nodata.soa_serial == 2026112801


def test_nameserver_over_tcp(lab, config, run) -> None:
    answer = run(query_nameserver(lab.address_of("ns1.lab.test"), "lab.test", "SOA", config=config, tcp=True))
    assert answer.ok and answer.authoritative


@pytest.mark.parametrize("address", ["127.0.0.1", "10.0.0.53", "169.254.169.254", "::1"])
def test_private_nameserver_addresses_are_not_queried(config, run, address: str) -> None:
    answer = run(query_nameserver(address, "lab.test", "SOA", config=config))
    assert answer.status == DnsStatus.BLOCKED
    assert answer.error.kind == ErrorKind.BLOCKED
    # Not sent: no wait for an answer (a sent query would wait up to the 5 s DNS timeout).
    assert answer.elapsed_ms < 1000


def test_any_query_lists_every_record_set_at_a_name(lab, config, run) -> None:
    from launchready.net import query_nameserver, resolve

    replies = []
    for ns_name in run(resolve("lab.test", "NS", config=config)).records:
        ns = run(resolve(ns_name.rstrip("."), "A", config=config))
        replies.append(run(query_nameserver(ns.records[0], "www.lab.test", "ANY", config=config)))
    reply = next(r for r in replies if r.ok)  # some of the lab's nameservers are lame on purpose
    assert ("www.lab.test", "A") in reply.answer_types
    assert all(owner == "www.lab.test" for owner, _ in reply.answer_types)
