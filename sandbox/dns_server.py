"""Authoritative DNS for the sandbox zones, over UDP and TCP (asyncio + dnspython).

Two kinds of listener share one port number:

* the *resolver* address (127.0.0.1) answers for every zone from the primary data, the
  way a recursive resolver would after following the delegations (AA and RA set);
* each nameserver address (127.77.x.y) answers only for the zones it is listed for,
  with its own view: a different SOA serial, overridden records, or a lame behaviour
  (no AA bit, REFUSED, or silence) so the network layer can query each NS directly.
"""

from __future__ import annotations

import asyncio
import logging
import struct
from dataclasses import dataclass, field

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.TXT
import dns.rrset

from .scenario import Record, Scenario, Zone

logger = logging.getLogger(__name__)

RESOLVER_VIEW = "resolver"
MAX_CNAME_CHAIN = 8


@dataclass
class RRSpec:
    ttl: int
    rdatas: list
    alternate: bool = False
    counter: int = 0

    def current(self) -> list:
        if not self.alternate or not self.rdatas:
            return self.rdatas
        choice = self.rdatas[self.counter % len(self.rdatas)]
        self.counter += 1
        return [choice]


@dataclass
class ZoneView:
    name: str
    origin: dns.name.Name
    nodes: dict[str, dict[int, RRSpec]] = field(default_factory=dict)
    behaviours: dict[str, str] = field(default_factory=dict)
    server_behaviour: str = "ok"
    negative_ttl: int = 300
    delay_ms: int = 0  # answers for this zone wait this long (a slow server)

    def soa_rrset(self) -> dns.rrset.RRset:
        spec = self.nodes[self.name][dns.rdatatype.SOA]
        return _rrset(self.name, dns.rdatatype.SOA, spec.ttl, spec.rdatas)

    def delegation_for(self, name: str) -> str | None:
        """The closest name at or above ``name`` (below the apex) holding NS records."""
        while name != self.name and name.endswith("." + self.name):
            node = self.nodes.get(name)
            if node is not None and dns.rdatatype.NS in node:
                return name
            name = name.split(".", 1)[1]
        return None

    def name_exists(self, name: str) -> bool:
        if name in self.nodes:
            return True
        suffix = "." + name
        return any(n.endswith(suffix) for n in self.nodes)  # empty non-terminal

    def wildcard_for(self, name: str) -> dict[int, RRSpec] | None:
        """RFC 4592: the ``*`` node below the closest existing ancestor of a name that does
        not exist, whose records answer for that name (owner name: the name asked)."""
        while name != self.name and name.endswith("." + self.name):
            name = name.split(".", 1)[1]
            if name == self.name or self.name_exists(name):
                return self.nodes.get("*." + name)
        return None


def _rrset(name: str, rdtype: int, ttl: int, rdatas: list) -> dns.rrset.RRset:
    rrset = dns.rrset.RRset(dns.name.from_text(name), dns.rdataclass.IN, rdtype)
    for rd in rdatas:
        rrset.add(rd, ttl)
    return rrset


def _txt_rdata(value) -> dns.rdata.Rdata:
    pieces = value if isinstance(value, list) else [value]
    strings: list[bytes] = []
    for piece in pieces:
        raw = str(piece).encode()
        # A single string longer than 255 bytes is split into 255-byte strings, as DNS requires.
        strings.extend(raw[i : i + 255] for i in range(0, max(len(raw), 1), 255))
    return dns.rdtypes.ANY.TXT.TXT(dns.rdataclass.IN, dns.rdatatype.TXT, strings)


def _rdata(record: Record, value, origin: dns.name.Name) -> dns.rdata.Rdata:
    if record.rtype == "TXT":
        return _txt_rdata(value)
    return dns.rdata.from_text(dns.rdataclass.IN, record.rtype, str(value), origin=origin, relativize=False)


def _add_records(view: ZoneView, records: list[Record], default_ttl: int, replace: bool) -> None:
    grouped: dict[tuple[str, str], list[Record]] = {}
    for record in records:
        grouped.setdefault((record.name, record.rtype), []).append(record)
    for (name, rtype), group in grouped.items():
        rdtype = dns.rdatatype.from_text(rtype)
        node = view.nodes.setdefault(name, {})
        rdatas = [_rdata(r, v, view.origin) for r in group for v in r.values]
        ttl = next((r.ttl for r in group if r.ttl is not None), default_ttl)
        if replace or rdtype not in node:
            node[rdtype] = RRSpec(ttl=ttl, rdatas=rdatas, alternate=any(r.alternate for r in group))
        else:
            node[rdtype].rdatas.extend(rdatas)


def build_view(zone: Zone, nameserver=None) -> ZoneView:
    """The zone as one server sees it (``nameserver`` None: the primary data)."""
    origin = dns.name.from_text(zone.name)
    view = ZoneView(name=zone.name, origin=origin, behaviours=dict(zone.behaviours), delay_ms=zone.delay_ms)
    view.negative_ttl = min(zone.ttl, 300)
    _add_records(view, zone.records, zone.ttl, replace=False)
    apex = view.nodes.setdefault(zone.name, {})
    ns_names = [ns.name for ns in zone.nameservers]
    if dns.rdatatype.NS not in apex:
        ns_rdatas = [dns.rdata.from_text("IN", "NS", n + ".") for n in ns_names]
        apex[dns.rdatatype.NS] = RRSpec(ttl=max(zone.ttl, 3600), rdatas=ns_rdatas)
    serial = zone.serial
    if nameserver is not None:
        view.server_behaviour = nameserver.behaviour
        if nameserver.serial is not None:
            serial = nameserver.serial
        _add_records(view, nameserver.records, zone.ttl, replace=True)
    mname = ns_names[0] if ns_names else "ns." + zone.name
    soa_text = f"{mname}. hostmaster.{zone.name}. {serial} 7200 3600 1209600 {view.negative_ttl}"
    apex[dns.rdatatype.SOA] = RRSpec(ttl=zone.ttl, rdatas=[dns.rdata.from_text("IN", "SOA", soa_text)])
    return view


class DnsData:
    """All views, keyed by listening address (the resolver view under RESOLVER_VIEW)."""

    def __init__(self, scenario: Scenario):
        self.views: dict[str, list[ZoneView]] = {RESOLVER_VIEW: []}
        for zone in scenario.zones.values():
            self.views[RESOLVER_VIEW].append(build_view(zone))
            for ns in zone.nameservers:
                self.views.setdefault(ns.address, []).append(build_view(zone, ns))

    @property
    def nameserver_addresses(self) -> list[str]:
        return [a for a in self.views if a != RESOLVER_VIEW]

    def delay_s(self, wire: bytes, view_key: str) -> float:
        """How long the listener waits before answering ``wire`` (a zone with ``delay_ms``)."""
        try:
            query = dns.message.from_wire(wire)
            qname = query.question[0].name.to_text(omit_final_dot=True).lower()
        except (dns.exception.DNSException, IndexError):
            return 0.0
        zone = _find_zone(self.views.get(view_key, []), qname)
        return zone.delay_ms / 1000 if zone is not None else 0.0

    def answer(self, query: dns.message.Message, view_key: str) -> dns.message.Message | None:
        """The response to ``query`` on the listener ``view_key``; None means stay silent."""
        response = dns.message.make_response(query)
        resolver = view_key == RESOLVER_VIEW
        response.flags &= ~dns.flags.AA
        if resolver:
            response.flags |= dns.flags.RA
        if query.opcode() != dns.opcode.QUERY or len(query.question) != 1:
            response.set_rcode(dns.rcode.NOTIMP if query.opcode() != dns.opcode.QUERY else dns.rcode.FORMERR)
            return response
        question = query.question[0]
        qname = question.name.to_text(omit_final_dot=True).lower()
        views = self.views.get(view_key, [])
        zone = _find_zone(views, qname)
        if zone is None:
            # The resolver knows the whole .test tree exists only as far as our zones go.
            in_test = resolver and (qname == "test" or qname.endswith(".test"))
            response.set_rcode(dns.rcode.NXDOMAIN if in_test else dns.rcode.REFUSED)
            return response
        if zone.server_behaviour == "timeout":
            return None
        if zone.server_behaviour == "refused":
            response.set_rcode(dns.rcode.REFUSED)
            return response
        authoritative = zone.server_behaviour != "lame"
        return self._resolve(response, views, zone, qname, question.rdtype, authoritative, resolver)

    def _resolve(self, response, views, zone, qname, qtype, authoritative, resolver):
        for _ in range(MAX_CNAME_CHAIN):
            behaviour = zone.behaviours.get(qname)
            if behaviour == "timeout":
                return None
            if behaviour in ("servfail", "refused"):
                response.answer.clear()
                response.set_rcode(dns.rcode.SERVFAIL if behaviour == "servfail" else dns.rcode.REFUSED)
                return response
            cut = zone.delegation_for(qname)
            if cut is not None:
                return self._referral(response, zone, cut, resolver)
            if authoritative:
                response.flags |= dns.flags.AA
            node = zone.nodes.get(qname)
            if node is None and not zone.name_exists(qname):
                node = zone.wildcard_for(qname)
            if node is None:
                if not zone.name_exists(qname):
                    response.set_rcode(dns.rcode.NXDOMAIN)
                response.authority.append(zone.soa_rrset())
                return response
            cname = node.get(dns.rdatatype.CNAME)
            if cname is not None and qtype not in (dns.rdatatype.CNAME, dns.rdatatype.ANY):
                rdatas = cname.current()
                response.answer.append(_rrset(qname, dns.rdatatype.CNAME, cname.ttl, rdatas))
                target = rdatas[0].target.to_text(omit_final_dot=True).lower()
                next_zone = _find_zone(views, target)
                if next_zone is None:
                    # Outside our data: a resolver would say the target does not exist.
                    if resolver and target.endswith(".test"):
                        response.set_rcode(dns.rcode.NXDOMAIN)
                    return response
                if next_zone is not zone and not resolver:
                    return response  # an authoritative server only follows within its zones
                zone, qname = next_zone, target
                continue
            wanted = list(node) if qtype == dns.rdatatype.ANY else [qtype]
            for rdtype in wanted:
                spec = node.get(rdtype)
                if spec is not None:
                    response.answer.append(_rrset(qname, rdtype, spec.ttl, spec.current()))
            if not response.answer or all(rr.rdtype == dns.rdatatype.CNAME for rr in response.answer):
                response.authority.append(zone.soa_rrset())
            return response
        response.set_rcode(dns.rcode.SERVFAIL)  # CNAME loop
        return response

    @staticmethod
    def _referral(response, zone: ZoneView, cut: str, resolver: bool):
        """A name below a delegation the scenario did not declare as a zone of its own."""
        if resolver:
            # A resolver would ask the child's servers; the sandbox has none for it.
            response.set_rcode(dns.rcode.SERVFAIL)
            return response
        response.flags &= ~dns.flags.AA
        ns_spec = zone.nodes[cut][dns.rdatatype.NS]
        response.authority.append(_rrset(cut, dns.rdatatype.NS, ns_spec.ttl, ns_spec.rdatas))
        for rd in ns_spec.rdatas:
            target = rd.target.to_text(omit_final_dot=True).lower()
            glue = zone.nodes.get(target, {}).get(dns.rdatatype.A)
            if glue is not None:
                response.additional.append(_rrset(target, dns.rdatatype.A, glue.ttl, glue.rdatas))
        return response


def _find_zone(views: list[ZoneView], qname: str) -> ZoneView | None:
    best = None
    for view in views:
        if (qname == view.name or qname.endswith("." + view.name)) and (
            best is None or len(view.name) > len(best.name)
        ):
            best = view
    return best


def encode(query: dns.message.Message, response: dns.message.Message, udp: bool) -> bytes:
    max_size = 65535
    if udp:
        max_size = max(query.payload, 512) if query.edns >= 0 else 512
    try:
        return response.to_wire(max_size=max_size)
    except dns.exception.TooBig:
        response.answer.clear()
        response.authority.clear()
        response.additional.clear()
        response.flags |= dns.flags.TC
        return response.to_wire(max_size=max_size)


def handle_wire(data: DnsData, wire: bytes, view_key: str, udp: bool) -> bytes | None:
    try:
        query = dns.message.from_wire(wire)
    except dns.exception.DNSException:
        if len(wire) >= 2:
            # FORMERR with the client's id so it does not wait for a timeout.
            return wire[:2] + struct.pack("!HHHHH", 0x8001, 0, 0, 0, 0)
        return None
    response = data.answer(query, view_key)
    if response is None:
        return None
    return encode(query, response, udp)


class DnsUdpProtocol(asyncio.DatagramProtocol):
    def __init__(self, data: DnsData, view_key: str):
        self.data = data
        self.view_key = view_key
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport

    def datagram_received(self, wire: bytes, addr) -> None:
        delay = self.data.delay_s(wire, self.view_key)
        if delay:
            asyncio.get_running_loop().call_later(delay, self._answer, wire, addr)
            return
        self._answer(wire, addr)

    def _answer(self, wire: bytes, addr) -> None:
        try:
            reply = handle_wire(self.data, wire, self.view_key, udp=True)
        except Exception:  # a bad scenario must not kill the listener
            logger.exception("DNS handler failed")
            return
        if reply is not None and self.transport is not None and not self.transport.is_closing():
            self.transport.sendto(reply, addr)


def make_tcp_handler(data: DnsData, view_key: str):
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                header = await reader.readexactly(2)
                (length,) = struct.unpack("!H", header)
                wire = await reader.readexactly(length)
                delay = data.delay_s(wire, view_key)
                if delay:
                    await asyncio.sleep(delay)
                reply = handle_wire(data, wire, view_key, udp=False)
                if reply is None:
                    # Silence: hold the connection until the client gives up.
                    await reader.read()
                    return
                writer.write(struct.pack("!H", len(reply)) + reply)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass  # client gone, or the sandbox is stopping
        except Exception:
            logger.exception("DNS TCP handler failed")
        finally:
            writer.close()

    return handle
