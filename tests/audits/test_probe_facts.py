"""The probes' pure conversions from network-layer results to facts (no network)."""

from __future__ import annotations

from audits.facts import DnsStatus
from audits.findings import Status
from audits.probes.dns import contactable
from audits.probes.tls import tls_fact
from audits.rules import evaluate
from launchready import net
from tests.audits.factories import NOW, good_facts, host, replace

HOST = "internal.example.com"
BLOCKED = net.NetError(
    net.ErrorKind.BLOCKED,
    f"{HOST} resolves to 10.0.0.5, a private network address; Launch Ready only connects to public addresses.",
)
REFUSED = net.NetError(net.ErrorKind.CONNECTION_REFUSED, f"{HOST} refused the connection.")


def _protocols(reason: str) -> net.TlsProtocolSupport:
    unknown = net.ProtocolProbe(None, reason)
    return net.TlsProtocolSupport(
        host=HOST, port=443, tls1_0=unknown, tls1_1=unknown, tls1_2=unknown, tls1_3=unknown
    )


def _handshake(error: net.NetError) -> net.TlsResult:
    return net.TlsResult(host=HOST, port=443, error=error, reason_message=error.message)


def _handshake_findings(fact):
    facts = replace(good_facts(), tls=[fact])
    return [f for f in evaluate(facts, NOW, ["tls.handshake_failed"]).findings if f.subject == HOST]


def test_a_host_the_guard_refused_is_unavailable_not_a_failed_handshake() -> None:
    fact = tls_fact(HOST, _handshake(BLOCKED), _protocols(BLOCKED.message))
    assert fact.unavailable is not None and "private network address" in fact.unavailable.reason
    (finding,) = _handshake_findings(fact)
    assert finding.status == Status.INCONCLUSIVE
    assert "private network address" in finding.evidence


def test_a_refused_connection_on_443_is_a_failed_handshake() -> None:
    fact = tls_fact(HOST, _handshake(REFUSED), _protocols(REFUSED.message))
    assert fact.unavailable is None and not fact.handshake_ok
    (finding,) = _handshake_findings(fact)
    assert finding.status == Status.FAIL and "refused the connection" in finding.evidence


def test_only_names_with_a_contactable_address_are_probed_beyond_dns() -> None:
    hosts = [
        host("www.example.com", "93.184.216.34"),
        host("internal.example.com", "10.0.0.5"),
        host("local.example.com", "127.0.0.1", "::1"),
        host("mixed.example.com", "10.0.0.6", "93.184.216.35"),
        host("app.example.com", status=DnsStatus.NXDOMAIN),
    ]
    assert contactable(hosts, net.NetConfig()) == ["www.example.com", "mixed.example.com"]
