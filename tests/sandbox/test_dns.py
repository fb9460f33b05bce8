"""The authoritative DNS server, queried directly with dnspython."""

import dns.exception
import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import pytest

from tests.sandbox.helpers import answer_values, dns_query


@pytest.fixture(scope="module")
def sb(sandbox_scenario):
    return sandbox_scenario("netlab")


def test_record_types_and_ttls(sb):
    mx = dns_query(sb, "lab.test", "MX")
    assert sorted(answer_values(mx, "MX")) == ["10 mx1.lab.test.", "20 mx2.lab.test."]
    caa = dns_query(sb, "lab.test", "CAA")
    assert '0 issue "letsencrypt.org"' in answer_values(caa, "CAA")
    aaaa = dns_query(sb, "www.lab.test", "AAAA")
    assert answer_values(aaaa, "AAAA") == ["2001:db8::80"]
    high = dns_query(sb, "high-ttl.lab.test", "A")
    assert high.answer[0].ttl == 172800
    assert dns_query(sb, "www.lab.test", "A").answer[0].ttl == 300


def test_ns_and_soa_at_apex(sb):
    ns = answer_values(dns_query(sb, "lab.test", "NS"), "NS")
    assert sorted(ns) == [
        "ns1.lab.test.",
        "ns2.labdns.test.",
        "ns3.labdns.test.",
        "ns4.labdns.test.",
        "ns5.labdns.test.",
    ]
    soa = dns_query(sb, "lab.test", "SOA").answer[0][0]
    assert soa.serial == 2026112801
    # Nameserver names resolve to their own addresses.
    assert answer_values(dns_query(sb, "ns2.labdns.test", "A")) == ["127.77.54.1"]


def test_long_and_multi_string_txt(sb):
    long_txt = dns_query(sb, "long-txt.lab.test", "TXT").answer[0][0]
    assert len(long_txt.strings) == 2 and len(long_txt.strings[0]) == 255
    assert b"".join(long_txt.strings).startswith(b"v=DKIM1; k=rsa; p=MIIB")
    multi = dns_query(sb, "multi-txt.lab.test", "TXT").answer[0][0]
    assert multi.strings == (b"v=spf1 ", b"ip4:198.51.100.0/24 ", b"-all")


def test_cname_chain_followed(sb):
    response = dns_query(sb, "chain1.lab.test", "A")
    assert answer_values(response, "CNAME") == ["chain2.lab.test.", "chain3.lab.test.", "www.lab.test."]
    assert answer_values(response, "A") == [sb.address_of("www.lab.test")]


def test_nxdomain_versus_nodata(sb):
    nx = dns_query(sb, "missing.lab.test", "A")
    assert nx.rcode() == dns.rcode.NXDOMAIN
    assert nx.authority and nx.authority[0].rdtype == dns.rdatatype.SOA
    nodata = dns_query(sb, "txt-only.lab.test", "A")
    assert nodata.rcode() == dns.rcode.NOERROR and not nodata.answer
    assert nodata.authority[0].rdtype == dns.rdatatype.SOA
    empty_non_terminal = dns_query(sb, "b.deep.lab.test", "A")
    assert empty_non_terminal.rcode() == dns.rcode.NOERROR and not empty_non_terminal.answer


def test_dangling_cname_and_cname_loop(sb):
    dangling = dns_query(sb, "dangling.lab.test", "A")
    assert dangling.rcode() == dns.rcode.NXDOMAIN
    assert answer_values(dangling, "CNAME") == ["gone.lab.test."]
    external = dns_query(sb, "dangling-external.lab.test", "A")
    assert external.rcode() == dns.rcode.NXDOMAIN
    assert dns_query(sb, "loop1.lab.test", "A").rcode() == dns.rcode.SERVFAIL


def test_failure_names(sb):
    assert dns_query(sb, "servfail.lab.test", "A").rcode() == dns.rcode.SERVFAIL
    assert dns_query(sb, "refused.lab.test", "A").rcode() == dns.rcode.REFUSED
    with pytest.raises(dns.exception.Timeout):
        dns_query(sb, "timeout.lab.test", "A", timeout=0.3)
    with pytest.raises(dns.exception.Timeout):
        dns_query(sb, "timeout.lab.test", "A", tcp=True, timeout=0.3)


def test_names_outside_the_sandbox_are_refused_and_unknown_test_names_do_not_exist(sb):
    assert dns_query(sb, "example.com", "A").rcode() == dns.rcode.REFUSED
    assert dns_query(sb, "nowhere.test", "A").rcode() == dns.rcode.NXDOMAIN


def test_private_answers_for_ssrf_tests(sb):
    assert answer_values(dns_query(sb, "private10.lab.test")) == ["10.0.0.5"]
    assert answer_values(dns_query(sb, "private192.lab.test")) == ["192.168.1.1"]
    assert answer_values(dns_query(sb, "metadata.lab.test")) == ["169.254.169.254"]
    assert answer_values(dns_query(sb, "loopback.lab.test")) == ["127.0.0.1"]
    assert answer_values(dns_query(sb, "mapped.lab.test", "AAAA"), "AAAA") == ["::ffff:10.0.0.5"]


def test_rebinding_name_alternates(sb):
    answers = [answer_values(dns_query(sb, "rebind.lab.test"))[0] for _ in range(4)]
    assert set(answers) == {"127.77.2.1", "127.0.0.1"}
    assert answers[0] != answers[1] and answers[0] == answers[2]
    assert dns_query(sb, "rebind.lab.test").answer[0].ttl == 0


def test_tcp_answers_like_udp(sb):
    udp = dns_query(sb, "lab.test", "MX")
    tcp = dns_query(sb, "lab.test", "MX", tcp=True)
    assert sorted(answer_values(udp, "MX")) == sorted(answer_values(tcp, "MX"))


def test_each_nameserver_answers_with_its_own_view(sb):
    ns1 = dns_query(sb, "www.lab.test", server=sb.address_of("ns1.lab.test"))
    assert ns1.flags & dns.flags.AA and not ns1.flags & dns.flags.RA
    assert answer_values(ns1) == [sb.address_of("www.lab.test")]
    ns2 = dns_query(sb, "www.lab.test", server=sb.address_of("ns2.labdns.test"))
    assert answer_values(ns2) == ["127.77.9.9"]
    serial1 = dns_query(sb, "lab.test", "SOA", server="127.77.53.1").answer[0][0].serial
    serial2 = dns_query(sb, "lab.test", "SOA", server="127.77.54.1").answer[0][0].serial
    assert (serial1, serial2) == (2026112801, 2026112700)


def test_lame_nameservers(sb):
    lame = dns_query(sb, "www.lab.test", server="127.77.55.1")
    assert lame.rcode() == dns.rcode.NOERROR and not lame.flags & dns.flags.AA
    refused = dns_query(sb, "www.lab.test", server="127.77.56.1")
    assert refused.rcode() == dns.rcode.REFUSED
    with pytest.raises(dns.exception.Timeout):
        dns_query(sb, "www.lab.test", server="127.77.57.1", timeout=0.3)
    # A nameserver is not authoritative for zones it is not listed for.
    other = dns_query(sb, "sandbox.test", "SOA", server="127.77.53.1")
    assert other.rcode() == dns.rcode.REFUSED


def test_large_udp_answer_is_truncated_and_complete_over_tcp(sandbox_scenario):
    values = [f"{i:02d}" + "x" * 200 for i in range(10)]
    big = sandbox_scenario(
        {
            "name": "big-dns",
            "zones": {"big.test": {"records": [{"name": "many", "type": "TXT", "values": values}]}},
        }
    )
    query = dns.message.make_query("many.big.test", "TXT", use_edns=False)  # 512-byte UDP limit
    udp = dns.query.udp(query, "127.0.0.1", port=big.dns_port, timeout=2)
    assert udp.flags & dns.flags.TC and not udp.answer
    tcp = dns_query(big, "many.big.test", "TXT", tcp=True)
    assert len(tcp.answer[0]) == 10


def test_undeclared_child_delegation_gives_a_referral(sandbox_scenario):
    child = sandbox_scenario(
        {
            "name": "delegation",
            "zones": {
                "parent.test": {
                    "nameservers": [{"name": "ns1.parent.test", "address": "127.77.70.1"}],
                    "records": [
                        {"name": "eu", "type": "NS", "values": ["ns.eu.parent.test."]},
                        {"name": "ns.eu", "type": "A", "value": "127.77.70.2"},
                    ],
                }
            },
        }
    )
    referral = dns_query(child, "shop.eu.parent.test", server="127.77.70.1")
    assert referral.rcode() == dns.rcode.NOERROR and not referral.answer
    assert not referral.flags & dns.flags.AA
    assert answer_values_of(referral.authority, "NS") == ["ns.eu.parent.test."]
    assert answer_values_of(referral.additional, "A") == ["127.77.70.2"]
    # The resolver has nobody to ask for the child zone.
    assert dns_query(child, "shop.eu.parent.test").rcode() == dns.rcode.SERVFAIL


def answer_values_of(section, rdtype: str) -> list[str]:
    wanted = dns.rdatatype.from_text(rdtype)
    return [rd.to_text() for rrset in section if rrset.rdtype == wanted for rd in rrset]
