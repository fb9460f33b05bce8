"""DMARC aggregate reports: parsing, hostile archives, storage, the summary and the
report address over real SMTP."""

from __future__ import annotations

import email.policy
import gzip
import io
import smtplib
import zipfile
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest
from django.test import override_settings

from audits.email_models import DmarcReport, InboundAddress
from audits.inbound import store
from audits.inbound.receiver import start_receiver
from audits.inbound.reports import ReportError, parse_report, unpack
from launchready.models import Site

from .test_receiver import free_port

LIMIT = 1024 * 1024
NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)


def report_xml(report_id: str = "r-1", domain: str = "shop.test", end: datetime = NOW) -> bytes:
    begin = int((end - timedelta(days=1)).timestamp())
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<feedback>
  <report_metadata><org_name>google.com</org_name><email>noreply-dmarc-support@google.com</email>
    <report_id>{report_id}</report_id><date_range><begin>{begin}</begin><end>{int(end.timestamp())}</end></date_range>
  </report_metadata>
  <policy_published><domain>{domain}</domain><adkim>r</adkim><aspf>r</aspf><p>none</p><pct>100</pct></policy_published>
  <record>
    <row><source_ip>192.0.2.10</source_ip><count>1240</count>
      <policy_evaluated><disposition>none</disposition><dkim>fail</dkim><spf>fail</spf></policy_evaluated></row>
    <identifiers><header_from>{domain}</header_from></identifiers>
    <auth_results><dkim><domain>klaviyomail.com</domain><result>pass</result></dkim>
      <spf><domain>send.klaviyomail.com</domain><result>pass</result></spf></auth_results>
  </record>
  <record>
    <row><source_ip>2001:db8::1</source_ip><count>300</count>
      <policy_evaluated><disposition>none</disposition><dkim>pass</dkim><spf>pass</spf></policy_evaluated></row>
    <identifiers><header_from>{domain}</header_from></identifiers>
    <auth_results><dkim><domain>{domain}</domain><result>pass</result></dkim></auth_results>
  </record>
</feedback>""".encode()


def zipped(data: bytes, name: str = "report.xml") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, data)
    return buffer.getvalue()


def test_parse_plain_gzip_and_zip() -> None:
    for data in (report_xml(), gzip.compress(report_xml()), zipped(report_xml())):
        report = parse_report(unpack(data, LIMIT))
        assert (report.org_name, report.report_id, report.policy_domain) == ("google.com", "r-1", "shop.test")
        assert report.message_count == 1540
        assert report.rows[0].dkim_domains == ["klaviyomail.com=pass"]
        assert report.rows[1].source_ip == "2001:db8::1"


def test_namespaced_report() -> None:
    xml = report_xml().replace(b"<feedback>", b'<feedback xmlns="urn:ietf:params:xml:ns:dmarc-2.0">')
    assert parse_report(xml).report_id == "r-1"


BOMB = b"<feedback>" + b"<a/>" * 10 + b" " * (20 * LIMIT) + b"</feedback>"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (gzip.compress(BOMB), "compression bomb"),
        (zipped(BOMB), "compression bomb"),
        (BOMB, "larger than"),
        (b"\x1f\x8b\x08\x00garbage", "damaged"),
        (b"PK\x03\x04garbage", "damaged"),
        (b"%PDF-1.7 not a report", "not XML"),
    ],
    ids=["gzip-bomb", "zip-bomb", "huge-xml", "bad-gzip", "bad-zip", "not-xml"],
)
def test_hostile_archives_refused(data: bytes, message: str) -> None:
    with pytest.raises(ReportError, match=message):
        unpack(data, LIMIT)


def test_zip_bomb_with_lying_header_is_capped_while_reading() -> None:
    archive = bytearray(zipped(BOMB))
    # Rewrite the declared uncompressed size in the central directory and local header.
    real = len(BOMB).to_bytes(4, "little")
    archive = archive.replace(real, (100).to_bytes(4, "little"))
    with pytest.raises(ReportError):
        unpack(bytes(archive), LIMIT)


@pytest.mark.parametrize(
    "xml",
    [
        b'<?xml version="1.0"?><!DOCTYPE f [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b"<feedback>&b;</feedback>",
        b'<?xml version="1.0"?><!DOCTYPE f [<!ENTITY x SYSTEM "file:///etc/passwd">]><feedback>&x;</feedback>',
    ],
    ids=["billion-laughs", "external-entity"],
)
def test_entity_expansion_refused(xml: bytes) -> None:
    with pytest.raises(ReportError, match="DTD or XML entities"):
        parse_report(xml)


@pytest.mark.parametrize(
    ("xml", "message"),
    [
        (b"<feedback><unclosed></feedback>", "well-formed"),
        (b"<html><body>hi</body></html>", "no <feedback>"),
        (report_xml().replace(b"192.0.2.10", b"not-an-ip"), "source_ip"),
        (report_xml().replace(b"<count>1240", b"<count>-5"), "count"),
        (report_xml().replace(b"<report_id>r-1</report_id>", b""), "report_id"),
    ],
)
def test_malformed_reports_refused(xml: bytes, message: str) -> None:
    with pytest.raises(ReportError, match=message):
        parse_report(xml)


@pytest.mark.django_db
def test_store_dedupes_and_summarises(workspace) -> None:
    site = Site.objects.create(workspace=workspace, domain="shop.test")
    report = parse_report(report_xml())
    stored, created = store.save_report(workspace, report)
    assert created and stored.site == site and stored.message_count == 1540
    assert store.save_report(workspace, report) == (stored, False)
    summary = store.report_summary(site, now=NOW)
    assert (summary.reports, summary.messages, summary.dmarc_pass) == (1, 1540, 300)
    klaviyo = summary.sources[0]
    assert (klaviyo.service, klaviyo.messages, klaviyo.failing) == ("Klaviyo", 1240, 1240)
    assert store.report_summary(site, now=NOW + timedelta(days=30)).reports == 0


@pytest.mark.django_db(transaction=True)
def test_report_address_over_smtp_keeps_good_reports_when_a_bomb_arrives(workspace) -> None:
    Site.objects.create(workspace=workspace, domain="shop.test")
    address = InboundAddress.for_workspace(workspace)
    with override_settings(INBOUND_DOMAIN="inbound.test", INBOUND_MAX_REPORT_BYTES=LIMIT):
        port = free_port()
        controller = start_receiver("127.0.0.1", port)
        try:
            send(port, address.address, report_mail(gzip.compress(report_xml())))
            with pytest.raises(smtplib.SMTPDataError) as exc:
                send(port, address.address, report_mail(gzip.compress(BOMB), "bomb.xml.gz"))
            assert exc.value.smtp_code == 550 and b"compression bomb" in exc.value.smtp_error
            send(port, address.address, report_mail(zipped(report_xml("r-2")), "r.zip"))
        finally:
            controller.stop()
    assert sorted(DmarcReport.objects.values_list("report_id", flat=True)) == ["r-1", "r-2"]


def send(port: int, rcpt: str, data: bytes) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.sendmail("noreply-dmarc-support@google.test", [rcpt], data)


def report_mail(attachment: bytes, filename: str = "google.com!shop.test!1!2.xml.gz") -> bytes:
    msg = EmailMessage()
    msg["From"] = "noreply-dmarc-support@google.test"
    msg["To"] = "dmarc@inbound.test"
    msg["Subject"] = "Report domain: shop.test"
    msg.set_content("This is an aggregate report from google.com.")
    maintype, subtype = ("application", "zip") if filename.endswith(".zip") else ("application", "gzip")
    msg.add_attachment(attachment, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes(policy=email.policy.SMTP)


@pytest.mark.django_db
def test_enrich_facts_remembers_p_none_and_joins_reports(workspace) -> None:
    import dataclasses

    from audits.facts.email import DmarcFacts, EmailFacts

    site = Site.objects.create(workspace=workspace, domain="shop.test")
    store.save_report(workspace, parse_report(report_xml()))
    none = EmailFacts(
        domain="shop.test", dmarc=DmarcFacts(domain="shop.test", records=["v=DMARC1; p=none"], policy="none")
    )
    first = store.enrich_facts(site, none, now=NOW - timedelta(days=70))
    assert first.dmarc_none_since == NOW - timedelta(days=70)
    later = store.enrich_facts(site, none, now=NOW)
    assert later.dmarc_none_since == NOW - timedelta(days=70)  # first seen, not last seen
    assert later.reports.messages == 1540 and later.reports.sources[0].service == "Klaviyo"
    assert later.test_message is None
    tightened = dataclasses.replace(none, dmarc=dataclasses.replace(none.dmarc, policy="quarantine"))
    assert store.enrich_facts(site, tightened, now=NOW).dmarc_none_since is None
    assert store.enrich_facts(site, none, now=NOW).dmarc_none_since == NOW  # the clock restarts


def test_junk_elements_are_streamed_not_kept_in_memory(monkeypatch) -> None:
    import tracemalloc

    # Padding is refused after a few elements now; lift that to see the streaming alone.
    monkeypatch.setattr("audits.inbound.reports.MAX_PADDING", 1_000_000)
    monkeypatch.setattr("audits.inbound.reports.EMPTY_ALLOWANCE", 1_000_000)
    # As a tree, 200,000 empty elements take ~17 MB; streamed, almost nothing.
    xml = report_xml().replace(b"</feedback>", b"<junk/>" * 200_000 + b"</feedback>")
    tracemalloc.start()
    try:
        report = parse_report(xml)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert report.message_count == 1540
    assert peak < 4_000_000


@pytest.mark.parametrize(
    ("junk", "message"),
    [
        (b"<record>" + b"<x/>" * 2_000 + b"</record>", "far beyond any real report"),
        (b"<record>" + b"<x>" * 50 + b"</x>" * 50 + b"</record>", "far beyond any real report"),
    ],
)
def test_oversized_or_deep_records_refused(junk: bytes, message: str) -> None:
    with pytest.raises(ReportError, match=message):
        parse_report(report_xml().replace(b"</feedback>", junk + b"</feedback>"))


def test_too_many_elements_refused(monkeypatch) -> None:
    monkeypatch.setattr("audits.inbound.reports.MAX_ELEMENTS", 1_000)
    records = b"<record><row><source_ip>192.0.2.1</source_ip><count>1</count></row></record>" * 300
    with pytest.raises(ReportError, match="more than 1,000 XML elements"):
        parse_report(report_xml().replace(b"</feedback>", records + b"</feedback>"))


def _damaged(data: bytes, at: int) -> bytes:
    broken = bytearray(data)
    broken[at : at + 10] = b"\xff" * 10
    return bytes(broken)


@pytest.mark.parametrize("kind", ["gzip", "zip"])
def test_damaged_compressed_data_is_a_report_error(kind: str) -> None:
    body = report_xml() + b"<!--" + b"x" * 10_000 + b"-->"
    if kind == "gzip":
        data = _damaged(gzip.compress(body), 20)
    else:
        archive = zipped(body)
        data = _damaged(archive, archive.index(b"report.xml") + 15)
    with pytest.raises(ReportError, match="damaged"):
        unpack(data, LIMIT)
