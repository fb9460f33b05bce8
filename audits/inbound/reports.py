"""DMARC aggregate reports (RFC 7489 §7.2, appendix C): unpack and parse, defensively.

Why not parsedmarc: it pulls Elasticsearch, OpenSearch, Kafka, Microsoft Graph and
Gmail API clients and does its own reverse-DNS and GeoIP lookups (outside the network
layer). A report is one small XML document; the standard library plus defusedxml
parse it, with hard limits that refuse hostile input cleanly:

* compressed input is read in chunks and refused as soon as it decompresses past
  ``INBOUND_MAX_REPORT_BYTES`` (zip bombs, gzip bombs), whatever sizes a zip header claims;
* defusedxml refuses DTDs, entity declarations and external references (billion laughs,
  XXE) before anything is expanded;
* the document is streamed, records are dropped as soon as they are read, and the
  number of records, of elements, of elements inside one record and the nesting depth
  are capped (20 MB of empty elements would otherwise take ~500 MB as a tree);
* what costs CPU is the number of elements (~2 µs each), and 8 KB of gzip inflates to
  2 million empty ones. So a report is refused as soon as it shows what no real report
  does: more than a few elements beside its records that are not part of a report,
  mostly empty elements, or far more elements than its compressed size allows (real
  reports, even thousands of records differing only in their address, compress to at
  most ~4 elements per byte). The 8 KB bomb is refused after ~100 elements.

The receiver reads report messages in worker processes with a CPU-time allowance
(``workers``), so whatever slips through these checks costs a bounded amount of CPU
and never holds up other mail.
"""

from __future__ import annotations

import gzip
import io
import ipaddress
import logging
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from xml.etree.ElementTree import Element, ParseError

import defusedxml
import defusedxml.ElementTree

from .mime import MessageRefused, read_message, report_attachments

logger = logging.getLogger(__name__)

CHUNK = 64 * 1024
MAX_RECORDS = 50_000
MAX_ELEMENTS = MAX_RECORDS * 40  # a record is ~20 elements; CPU stays at a few seconds at most
MAX_CHILD_ELEMENTS = 1_000  # elements inside one record (or the metadata): real ones hold < 50
MAX_DEPTH = 12  # feedback/record/auth_results/dkim/domain is 5 deep
MAX_ZIP_MEMBERS = 10
# Elements allowed per byte of the attachment as received: 4 times the densest real
# report (sequential source addresses), 1.6 times identical real records; the 8 KB bomb has 250.
ELEMENTS_PER_COMPRESSED_BYTE = 16
ELEMENT_ALLOWANCE = 5_000  # on top of that, for small reports
MAX_PADDING = 100  # top-level elements other than records and one of each header part
EMPTY_ALLOWANCE = 1_000  # empty elements tolerated before "mostly empty" is judged
TOP_LEVEL_ONCE = {"version", "report_metadata", "policy_published", "extension"}


class ReportError(ValueError):
    """The input is not a usable DMARC report; the message says why, for the sender or the founder."""

    elements = 0  # XML elements read when the report was refused


@dataclass(frozen=True)
class ReportRow:
    source_ip: str
    count: int
    disposition: str = ""
    dkim: str = ""  # policy_evaluated: pass means aligned DKIM pass
    spf: str = ""  # policy_evaluated: pass means aligned SPF pass
    header_from: str = ""
    dkim_domains: list[str] = field(default_factory=list)  # auth_results, "domain=result"
    spf_domains: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class AggregateReport:
    org_name: str
    report_id: str
    begin: datetime
    end: datetime
    policy_domain: str
    policy_p: str = ""
    rows: list[ReportRow] = field(default_factory=list)

    @property
    def message_count(self) -> int:
        return sum(r.count for r in self.rows)


def unpack(data: bytes, max_bytes: int, filename: str = "") -> bytes:
    """The XML inside ``data`` (raw XML, gzip or zip), at most ``max_bytes`` of it."""
    if data[:2] == b"\x1f\x8b":
        return _gunzip(data, max_bytes)
    if data[:4] == b"PK\x03\x04":
        return _unzip(data, max_bytes)
    if len(data) > max_bytes:
        raise ReportError(f"The report is larger than {max_bytes // (1024 * 1024)} MB.")
    if data.lstrip()[:1] != b"<":
        raise ReportError(f"“{filename or 'the attachment'}” is not XML, gzip or zip.")
    return data


def _read_capped(stream: io.BufferedIOBase, max_bytes: int) -> bytes:
    out = bytearray()
    while chunk := stream.read(CHUNK):
        out += chunk
        if len(out) > max_bytes:
            raise ReportError(
                f"The report decompresses to more than {max_bytes // (1024 * 1024)} MB; refused as a compression bomb."
            )
    return bytes(out)


def _gunzip(data: bytes, max_bytes: int) -> bytes:
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
            return _read_capped(stream, max_bytes)  # type: ignore[arg-type]
    except (OSError, EOFError, gzip.BadGzipFile, zlib.error) as exc:  # zlib.error is not an OSError
        raise ReportError(f"The gzip file is damaged ({exc}).") from None


def _unzip(data: bytes, max_bytes: int) -> bytes:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise ReportError(f"The zip file is damaged ({exc}).") from None
    with archive:
        # zipfile cuts a name at its first NUL: "\x00.xml" is read as "", on which
        # ZipInfo.is_dir() raises IndexError. No real report tool names a file so.
        if any(not m.filename for m in archive.infolist()):
            raise ReportError("The zip file is damaged (a file in it has no name).")
        members = [m for m in archive.infolist() if not m.is_dir()]
        if not members or len(members) > MAX_ZIP_MEMBERS:
            raise ReportError("A report zip must hold one XML file.")
        xml_members = [m for m in members if m.filename.lower().endswith(".xml")] or members[:1]
        member = xml_members[0]
        if member.flag_bits & 0x1:
            raise ReportError("The zip file is encrypted.")
        if member.file_size > max_bytes:
            raise ReportError(
                f"The report decompresses to more than {max_bytes // (1024 * 1024)} MB; refused as a compression bomb."
            )
        try:
            with archive.open(member) as stream:
                return _read_capped(stream, max_bytes)  # type: ignore[arg-type]
        except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, zlib.error) as exc:
            raise ReportError(f"The zip file is damaged ({exc}).") from None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(el: Element | None, name: str) -> Element | None:
    if el is None:
        return None
    return next((c for c in el if _local(c.tag) == name), None)


def _children(el: Element | None, name: str) -> list[Element]:
    return [c for c in el if _local(c.tag) == name] if el is not None else []


def _text(el: Element | None, *path: str) -> str:
    for name in path:
        el = _child(el, name)
    return (el.text or "").strip() if el is not None else ""


@dataclass(frozen=True)
class ReportBatch:
    """What one report message held: the reports read, and why reading stopped ("" if it did not)."""

    reports: list[AggregateReport] = field(default_factory=list)
    refusal: str = ""


def read_report_message(raw: bytes, max_bytes: int) -> ReportBatch:
    """Every report attached to a received message (the receiver's worker processes run this)."""
    try:
        message = read_message(raw)
    except MessageRefused as exc:
        return ReportBatch(refusal=str(exc))
    attachments = report_attachments(message)
    if not attachments:
        return ReportBatch(refusal="No DMARC report (xml, gzip or zip) attached")
    reports = []
    for name, data in attachments:
        try:
            reports.append(read_report(data, max_bytes, name))
        except ReportError as exc:
            return ReportBatch(reports, str(exc))
    return ReportBatch(reports)


def read_report(data: bytes, max_bytes: int, filename: str = "") -> AggregateReport:
    """The report in an attachment as received (XML, gzip or zip), with elements capped
    relative to its size there."""
    cap = ELEMENT_ALLOWANCE + ELEMENTS_PER_COMPRESSED_BYTE * len(data)
    return parse_report(unpack(data, max_bytes, filename), max_elements=cap)


def parse_report(xml: bytes, max_elements: int | None = None) -> AggregateReport:
    """Parse the XML of an aggregate report; ``ReportError`` for anything unusable.

    Streamed: each <record> becomes a row and is dropped from the tree as soon as it is
    read, and anything else at the top level is dropped unread (and refused beyond a
    few), so memory follows the size of one record, not of the document (20 MB of
    ``<r/>`` would be ~500 MB as a tree). ``max_elements`` lowers the element cap (``read_report`` derives it from the
    compressed size).
    """
    cap = MAX_ELEMENTS if max_elements is None else min(max_elements, MAX_ELEMENTS)
    events = defusedxml.ElementTree.iterparse(
        io.BytesIO(xml), events=("start", "end"), forbid_dtd=True, forbid_entities=True, forbid_external=True
    )
    root: Element | None = None
    depth = elements = in_child = padding = empty = 0
    kept: dict[str, Element] = {}
    seen: set[str] = set()
    rows: list[ReportRow] = []
    try:
        for event, el in events:
            if event == "start":
                elements += 1
                depth += 1
                if root is None:
                    root = el
                    if _local(root.tag) != "feedback":
                        raise ReportError("The XML is not a DMARC aggregate report (no <feedback> root).")
                if depth > 2:
                    in_child += 1
                    if in_child > MAX_CHILD_ELEMENTS or depth > MAX_DEPTH:
                        raise ReportError(
                            "A part of the report is nested or repeated far beyond any real report."
                        )
                if elements > cap:
                    if cap < MAX_ELEMENTS:
                        raise ReportError(
                            "The report has far more XML elements than a real report of its compressed "
                            "size; refused as a compression bomb."
                        )
                    raise ReportError(f"The report has more than {MAX_ELEMENTS:,} XML elements.")
                continue
            depth -= 1
            if depth == 0:
                continue
            if not len(el) and not (el.text and not el.text.isspace()):
                empty += 1
                if empty > EMPTY_ALLOWANCE and empty * 2 > elements:
                    raise ReportError(
                        "The report is mostly empty elements, which no real report is; refused."
                    )
            if depth != 1 or root is None:
                continue
            in_child = 0  # a direct child of <feedback> ends here
            name = _local(el.tag)
            if name == "record":
                if len(rows) >= MAX_RECORDS:
                    raise ReportError(f"The report has more than {MAX_RECORDS:,} records.")
                rows.append(_row(el))
            elif name in TOP_LEVEL_ONCE and name not in seen:
                seen.add(name)
                if name in ("report_metadata", "policy_published"):
                    kept[name] = el
                    continue
            else:
                padding += 1
                if padding > MAX_PADDING:
                    raise ReportError(
                        "The report is padded with elements that are not part of a DMARC report; refused."
                    )
            root.remove(el)
    except ReportError as exc:
        exc.elements = elements
        raise
    except (defusedxml.DTDForbidden, defusedxml.EntitiesForbidden, defusedxml.ExternalReferenceForbidden):
        raise ReportError(
            "The report declares a DTD or XML entities, which reports never need; refused."
        ) from None
    except ParseError as exc:
        raise ReportError(f"The report is not well-formed XML ({exc}).") from None
    if root is None:
        raise ReportError("The report is empty.")
    metadata = kept.get("report_metadata")
    policy = kept.get("policy_published")
    org_name = _text(metadata, "org_name")
    report_id = _text(metadata, "report_id")
    domain = _text(policy, "domain").lower().rstrip(".")
    if not org_name or not report_id or not domain:
        raise ReportError("The report lacks its org_name, report_id or policy domain.")
    begin, end = _date(_text(metadata, "date_range", "begin")), _date(_text(metadata, "date_range", "end"))
    return AggregateReport(
        org_name=org_name[:255],
        report_id=report_id[:255],
        begin=begin,
        end=end,
        policy_domain=domain,
        policy_p=_text(policy, "p").lower()[:12],
        rows=rows,
    )


def _date(value: str) -> datetime:
    try:
        return datetime.fromtimestamp(int(value), tz=UTC)
    except (ValueError, OverflowError, OSError):
        raise ReportError(f"The report's date range “{value[:20]}” is not a timestamp.") from None


def _row(record: Element) -> ReportRow:
    row = _child(record, "row")
    ip = _text(row, "source_ip")
    try:
        ip = str(ipaddress.ip_address(ip))
    except ValueError:
        raise ReportError(f"A record has an invalid source_ip “{ip[:45]}”.") from None
    count_text = _text(row, "count")
    if not (count_text.isascii() and count_text.isdigit()):  # "²".isdigit() is True
        raise ReportError(f"A record has an invalid count “{count_text[:20]}”.")
    evaluated = _child(row, "policy_evaluated")
    auth = _child(record, "auth_results")
    return ReportRow(
        source_ip=ip,
        count=min(int(count_text), 2**31 - 1),
        disposition=_text(evaluated, "disposition").lower()[:12],
        dkim=_text(evaluated, "dkim").lower()[:10],
        spf=_text(evaluated, "spf").lower()[:10],
        header_from=_text(record, "identifiers", "header_from").lower()[:253],
        dkim_domains=[
            f"{_text(d, 'domain').lower()}={_text(d, 'result').lower()}" for d in _children(auth, "dkim")
        ],
        spf_domains=[
            f"{_text(s, 'domain').lower()}={_text(s, 'result').lower()}" for s in _children(auth, "spf")
        ],
    )
