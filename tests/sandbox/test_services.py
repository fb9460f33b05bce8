"""RDAP, the webhook receiver and the SMTP receiver, on the demo_broken scenario."""

import datetime as dt
import http.client
import json
import smtplib

import pytest

from sandbox.services import rdap_status, resolve_date
from tests.sandbox.helpers import fetch


@pytest.fixture(scope="module")
def sb(sandbox_scenario):
    return sandbox_scenario("demo_broken")


def rdap(sb, domain: str):
    conn = http.client.HTTPConnection("127.77.0.2", sb.http_port, timeout=5)
    try:
        conn.request("GET", f"/rdap/domain/{domain}", headers={"Host": "127.77.0.2"})
        response = conn.getresponse()
        return response.status, response.getheader("Content-Type"), json.loads(response.read())
    finally:
        conn.close()


def test_rdap_domain_with_expiry_and_status(sb):
    assert sb.env["LAUNCHREADY_RDAP_URL"] == "http://127.77.0.2/rdap/"
    status, content_type, body = rdap(sb, "broken-store.test")
    assert status == 200 and content_type == "application/rdap+json"
    assert body["objectClassName"] == "domain" and body["ldhName"] == "broken-store.test"
    events = {e["eventAction"]: e["eventDate"] for e in body["events"]}
    expires = dt.datetime.fromisoformat(events["expiration"].replace("Z", "+00:00"))
    assert dt.timedelta(days=4) < expires - dt.datetime.now(dt.UTC) <= dt.timedelta(days=5)
    assert "registration" in events
    assert body["status"] == ["active"]  # no transfer lock
    registrar = body["entities"][0]
    assert registrar["roles"] == ["registrar"]
    assert registrar["vcardArray"][1][1][3] == "Bargain Domains LLC"
    assert [ns["ldhName"] for ns in body["nameservers"]] == ["ns1.cheapdns.test"]


def test_rdap_unknown_domain_is_404(sb):
    status, _, body = rdap(sb, "unknown-domain.test")
    assert status == 404 and body["errorCode"] == 404


def test_rdap_helpers():
    assert rdap_status("clientTransferProhibited") == "client transfer prohibited"
    assert rdap_status("ok") == "active"
    assert resolve_date("2027-03-01") == "2027-03-01T00:00:00Z"
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    assert resolve_date("+5d", now) == "2026-01-06T00:00:00Z"


def test_webhook_receiver_records_requests_and_answers_status(sb):
    before = len(sb.webhook_requests)
    payload = json.dumps({"text": "Launch Ready alert"}).encode()
    status, _, _ = fetch(
        sb,
        "hooks.sandbox.test",
        "/slack/T000/B000",
        method="POST",
        body=payload,
        headers={"Content-Type": "application/json"},
    )
    assert status == 200
    for code in (500, 429, 410):
        assert fetch(sb, "hooks.sandbox.test", f"/status/{code}", method="POST", body=b"{}")[0] == code
    recorded = sb.webhook_requests[before:]
    assert [r.path for r in recorded] == ["/slack/T000/B000", "/status/500", "/status/429", "/status/410"]
    first = recorded[0]
    assert first.method == "POST" and first.json() == {"text": "Launch Ready alert"}
    assert first.headers["Content-Type"] == "application/json"


def test_smtp_receiver_records_messages(sb):
    before = len(sb.smtp_messages)
    with smtplib.SMTP("127.0.0.1", int(sb.env["SANDBOX_SMTP_PORT"]), timeout=5) as client:
        client.sendmail(
            "alerts@launchready.test",
            ["founder@broken-store.test"],
            b"Subject: Test\r\nFrom: alerts@launchready.test\r\n\r\nHello from the sandbox.\r\n",
        )
    message = sb.smtp_messages[before]
    assert message.mail_from == "alerts@launchready.test"
    assert message.rcpt_tos == ["founder@broken-store.test"]
    assert b"Hello from the sandbox." in message.data


def test_webhook_receiver_answers_like_slack_and_twilio(sb):
    status, headers, body = fetch(
        sb, "hooks.sandbox.test", "/services/T1/B2/secret", method="POST", body=b'{"text": "x"}'
    )
    assert (status, body) == (200, b"ok")
    form = b"From=%2B15005550006&To=%2B31612345678&Body=DOWN"
    status, _, body = fetch(
        sb,
        "hooks.sandbox.test",
        "/twilio/2010-04-01/Accounts/AC123/Messages.json",
        method="POST",
        body=form,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    message = json.loads(body)
    assert status == 201
    assert message["sid"].startswith("SM") and message["status"] == "queued"
    assert (message["account_sid"], message["to"], message["body"]) == ("AC123", "+31612345678", "DOWN")
    # A failing Twilio: the status path wins over the service shape.
    assert (
        fetch(sb, "hooks.sandbox.test", "/status/503/2010-04-01/Accounts/AC1/Messages.json", method="POST")[0]
        == 503
    )
