"""What a DMARC report may cost: hostile ones are refused within their first elements or
by the ratio of elements to compressed bytes, real ones (even large, repetitive ones)
still pass, and work done in the worker processes stops at its CPU allowance.
"""

from __future__ import annotations

import gzip
import io
import zipfile

import pytest

from audits.inbound import workers
from audits.inbound.reports import ReportError, parse_report, read_report, read_report_message

from .test_reports import report_mail, report_xml
from .workload import add, crash, spin

LIMIT = 20 * 1024 * 1024


def with_records(records: str | bytes, report_id: str = "r-1") -> bytes:
    body = records.encode() if isinstance(records, str) else records
    return report_xml(report_id).replace(b"</feedback>", body + b"</feedback>")


def record(ip: str, padding: str = "") -> str:
    """A record as the large reporters write them (indented, one empty <domain>)."""
    return f"""
 <record>
  <row>
   <source_ip>{ip}</source_ip>
   <count>1</count>
   <policy_evaluated>
    <disposition>none</disposition>
    <dkim>fail</dkim>
    <spf>fail</spf>
   </policy_evaluated>
  </row>
  <identifiers>
   <header_from>shop.test</header_from>
  </identifiers>
  <auth_results>
   <spf>
    <domain></domain>
    <result>none</result>
   </spf>
  </auth_results>{padding}
 </record>"""


def sequential(count: int) -> str:
    return "".join(record(f"12.{20 + i // 65536}.{i // 256 % 256}.{i % 256}") for i in range(count))


def zipped(data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("report.xml", data)
    return buffer.getvalue()


@pytest.mark.parametrize("pack", [gzip.compress, zipped, lambda data: data], ids=["gzip", "zip", "xml"])
def test_a_large_repetitive_real_report_still_passes(pack) -> None:
    # 5,000 records that differ only in their source address compress ~4 elements per
    # byte: the most compressible a real report gets.
    report = read_report(pack(with_records(sequential(5_000))), LIMIT)
    assert len(report.rows) == 5_002
    assert report.rows[-1].source_ip == "12.20.19.135"


@pytest.mark.parametrize(
    "padding",
    [b"<a/>" * 200_000, b"<policy_published/>" * 200_000, b"<version>1.0</version>" * 200_000],
    ids=["unknown", "repeated-policy", "repeated-version"],
)
def test_padding_beside_the_records_is_refused_within_the_first_elements(padding: bytes) -> None:
    with pytest.raises(ReportError, match="not part of a DMARC report") as exc:
        parse_report(with_records(padding))
    assert exc.value.elements <= 1_000


def test_records_full_of_empty_elements_are_refused_within_the_first_elements() -> None:
    junk = record("192.0.2.1", "<x/>" * 900)
    with pytest.raises(ReportError, match="empty elements") as exc:
        parse_report(with_records(junk * 100))
    assert exc.value.elements <= 5_000


def test_the_issue_bomb_costs_a_few_hundred_elements() -> None:
    bomb = gzip.compress(b"<feedback>" + b"<a/>" * 2_100_000 + b"</feedback>", 9)
    assert len(bomb) < 9_000
    with pytest.raises(ReportError, match="not part of a DMARC report") as exc:
        read_report(bomb, LIMIT)
    assert exc.value.elements <= 1_000


def test_elements_are_capped_relative_to_the_compressed_size() -> None:
    # Records whose extra elements have content pass every per-element check, but 100 of
    # them with 900 elements each gzip to ~1.3 KB (68 elements per byte; real reports
    # reach ~4, identical real records ~10).
    padded = "<record><row><source_ip>192.0.2.1</source_ip><count>1</count></row>" + "<i>1</i>" * 900
    xml = with_records((padded + "</record>") * 100)
    compressed = gzip.compress(xml)
    with pytest.raises(ReportError, match="far more XML elements than") as exc:
        read_report(compressed, LIMIT)
    assert exc.value.elements <= 5_000 + 16 * len(compressed) + 1
    # The same document sent uncompressed costs what its size says: it is read.
    assert len(read_report(xml, LIMIT).rows) == 102


def test_a_report_message_is_read_in_one_go() -> None:
    batch = read_report_message(report_mail(gzip.compress(report_xml("r-9"))), LIMIT)
    assert batch.refusal == "" and [r.report_id for r in batch.reports] == ["r-9"]
    bomb = read_report_message(report_mail(gzip.compress(with_records(b"<a/>" * 5_000))), LIMIT)
    assert bomb.reports == [] and "not part of a DMARC report" in bomb.refusal
    assert "No DMARC report" in read_report_message(b"From: a@b.test\r\n\r\nhello\r\n", LIMIT).refusal
    assert "exactly one From" in read_report_message(b"Subject: x\r\n\r\nhello\r\n", LIMIT).refusal


@pytest.fixture
def pool():
    pool = workers.CpuPool(1)
    yield pool
    pool.close()


def test_worker_stops_at_its_cpu_allowance(pool) -> None:
    with pytest.raises(workers.CpuLimitExceeded):
        pool.call(0.3, spin)
    assert pool.call(5, add, 2, 3) == 5  # the worker is still there and usable


def test_a_heavy_report_is_stopped_at_its_cpu_allowance(pool) -> None:
    xml = with_records(sequential(20_000))  # ~1 s of CPU to read here
    with pytest.raises(workers.CpuLimitExceeded):
        pool.call(0.2, read_report, gzip.compress(xml), LIMIT)


def test_a_lost_worker_is_replaced(pool) -> None:
    with pytest.raises(workers.WorkerLost):
        pool.call(5, crash)
    assert pool.call(5, add, 1, 1) == 2
