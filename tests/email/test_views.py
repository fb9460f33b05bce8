"""Email deliverability pages: access rules, addresses, the test message and uploads."""

from __future__ import annotations

import gzip

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from audits.email_models import DmarcReport, InboundAddress, TestMessage

from .test_reports import BOMB, report_xml

pytestmark = pytest.mark.django_db


def url(name: str, site) -> str:
    return reverse(name, kwargs={"workspace": site.workspace.uuid, "site": site.uuid})


@pytest.fixture
def message(site) -> TestMessage:
    return TestMessage.objects.create(
        site=site,
        expires_at=TestMessage.default_expiry(),
        peer_ip="192.0.2.10",
        mail_from="bounce@shop.example.com",
        header_from="orders@shop.example.com",
        subject="Your order #1001",
        spf_result="pass",
        spf_reason="shop.example.com matched “ip4:192.0.2.10”.",
        dkim_result="fail",
        dkim_reason="d=shop.example.com s=s1: fail (body changed)",
        dmarc_result="pass",
        dmarc_reason="SPF passed for shop.example.com, aligned with shop.example.com.",
        authentication_results="Authentication-Results: inbound; spf=pass",
        html="<p>Thanks!</p>",
    )


def test_overview_for_member_and_viewer_404_for_stranger(
    client_as, member, viewer, stranger, site, message
) -> None:
    page = client_as(member).get(url("email_overview", site))
    assert page.status_code == 200
    assert b"fails authentication" in page.content and b"Get my test address" in page.content
    viewer_page = client_as(viewer).get(url("email_overview", site))
    assert viewer_page.status_code == 200 and b"Get my test address" not in viewer_page.content
    assert client_as(stranger).get(url("email_overview", site)).status_code == 404


def test_addresses_created_by_members_only(client_as, member, viewer, site) -> None:
    assert client_as(viewer).post(url("email_test_address_create", site)).status_code == 403
    assert not InboundAddress.objects.exists()
    assert client_as(member).post(url("email_test_address_create", site)).status_code == 302
    assert client_as(member).post(url("email_report_address_create", site)).status_code == 302
    check = InboundAddress.objects.get(kind="check")
    dmarc = InboundAddress.objects.get(kind="dmarc")
    assert check.site == site and dmarc.workspace == site.workspace
    page = client_as(member).get(url("email_overview", site))
    assert check.address.encode() in page.content and f"rua=mailto:{dmarc.address}".encode() in page.content
    # Asking again keeps the same addresses.
    client_as(member).post(url("email_test_address_create", site))
    assert InboundAddress.objects.count() == 2


def test_test_message_detail_and_sandboxed_html(client_as, viewer, site, message) -> None:
    detail = client_as(viewer).get(url("email_test_message", site))
    assert detail.status_code == 200 and b"Authentication-Results: inbound" in detail.content
    assert b'sandbox=""' in detail.content and b'width="375"' in detail.content
    html = client_as(viewer).get(url("email_test_message_html", site))
    assert html.status_code == 200 and b"<p>Thanks!</p>" in html.content
    assert html["Content-Security-Policy"].startswith("default-src 'none'")
    assert html["X-Frame-Options"] == "SAMEORIGIN"


def test_no_test_message_yet(client_as, member, site) -> None:
    page = client_as(member).get(url("email_test_message", site))
    assert page.status_code == 200 and b"Get my test address" in page.content
    assert b"No HTML part" in client_as(member).get(url("email_test_message_html", site)).content


def test_report_upload(client_as, member, viewer, site) -> None:
    site.domain = "shop.test"
    site.save()
    # A report of the last day: the page sums up the last 7 days from the real clock.
    fresh = report_xml(end=timezone.now().replace(microsecond=0))
    upload = SimpleUploadedFile("report.xml.gz", gzip.compress(fresh), content_type="application/gzip")
    assert client_as(viewer).post(url("email_report_upload", site), {"report": upload}).status_code == 403
    upload.seek(0)
    response = client_as(member).post(url("email_report_upload", site), {"report": upload})
    assert response.status_code == 302
    report = DmarcReport.objects.get()
    assert report.source == "upload" and report.site == site and report.message_count == 1540
    page = client_as(member).get(url("email_overview", site))
    assert b"Klaviyo sent 1,240 messages" in page.content and b"kl._domainkey" in page.content


def test_hostile_upload_refused_with_reason(client_as, member, site) -> None:
    bomb = SimpleUploadedFile("bomb.xml.gz", gzip.compress(BOMB), content_type="application/gzip")
    response = client_as(member).post(url("email_report_upload", site), {"report": bomb})
    assert response.status_code == 200 and b"compression bomb" in response.content
    assert not DmarcReport.objects.exists()


def test_retention_purge(site, message) -> None:
    from audits.inbound.tasks import purge_expired_inbound

    TestMessage.objects.filter(pk=message.pk).update(
        expires_at=timezone.now() - timezone.timedelta(minutes=1)
    )
    assert purge_expired_inbound() == {"messages": 1, "reports": 0}
    assert not TestMessage.objects.exists()


def test_expired_test_message_is_not_shown_before_the_purge_runs(client_as, member, site, message) -> None:
    TestMessage.objects.filter(pk=message.pk).update(
        expires_at=timezone.now() - timezone.timedelta(minutes=1)
    )
    overview = client_as(member).get(url("email_overview", site))
    assert b"fails authentication" not in overview.content
    assert b"Authentication-Results" not in client_as(member).get(url("email_test_message", site)).content
    assert b"Thanks!" not in client_as(member).get(url("email_test_message_html", site)).content


def test_fresh_test_message_says_when_in_words(client_as, member, site, message) -> None:
    overview = client_as(member).get(url("email_overview", site))
    assert (
        b"0\xc2\xa0minutes ago" not in overview.content
        and b"Last test message received now" in overview.content
    )


def test_test_message_results_are_explained_in_plain_words(client_as, member, site, message) -> None:
    page = client_as(member).get(url("email_overview", site)).content.decode()
    assert "DKIM is a signature" in page and "likely to put your order emails in spam" in page


def test_upload_with_a_non_ascii_digit_count_is_refused_not_a_server_error(client_as, member, site) -> None:
    xml = report_xml().replace(b"<count>1240", "<count>\u00b2".encode())
    upload = SimpleUploadedFile("report.xml", xml, content_type="text/xml")
    response = client_as(member).post(url("email_report_upload", site), {"report": upload})
    assert response.status_code == 200 and b"invalid count" in response.content
    assert not DmarcReport.objects.exists()


def test_report_address_comes_with_the_record_to_publish(client_as, member, site) -> None:
    client_as(member).post(url("email_report_address_create", site))
    address = InboundAddress.objects.get(kind="dmarc").address
    page = client_as(member).get(url("email_overview", site)).content.decode()
    assert f"_dmarc.{site.domain}" in page
    assert f"v=DMARC1; p=none; rua=mailto:{address}" in page
