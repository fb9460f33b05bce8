"""Service endpoints of the sandbox: RDAP, the webhook receiver and the SMTP receiver."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import threading
from dataclasses import dataclass, field
from urllib.parse import parse_qs

from multidict import CIMultiDict

from .exchange import Exchange, Reply
from .scenario import Registration, Scenario

logger = logging.getLogger(__name__)

RDAP_CONFORMANCE = [
    "rdap_level_0",
    "icann_rdap_response_profile_1",
    "icann_rdap_technical_implementation_guide_1",
]


@dataclass
class WebhookRequest:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    host: str
    received_at: dt.datetime

    def json(self):
        return json.loads(self.body or b"null")


@dataclass
class SmtpMessage:
    mail_from: str
    rcpt_tos: list[str]
    peer: tuple
    data: bytes
    received_at: dt.datetime


@dataclass
class Recorder:
    """What the receivers saw; appended from the sandbox thread, read from tests."""

    webhook_requests: list[WebhookRequest] = field(default_factory=list)
    smtp_messages: list[SmtpMessage] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def clear(self) -> None:
        with self.lock:
            self.webhook_requests.clear()
            self.smtp_messages.clear()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def resolve_date(value: str, now: dt.datetime | None = None) -> str:
    """``+365d`` / ``-900d`` relative to now, or an ISO date / date-time, as RFC 3339 UTC."""
    now = now or _now()
    match = re.fullmatch(r"([+-]\d+)d", value.strip())
    if match:
        when = now + dt.timedelta(days=int(match.group(1)))
    else:
        when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def rdap_status(value: str) -> str:
    """EPP codes (clientTransferProhibited) become RDAP values (client transfer prohibited)."""
    if value == "ok":
        return "active"
    return re.sub(r"(?<!^)(?=[A-Z])", " ", value).lower()


def rdap_domain(reg: Registration, base_url: str) -> dict:
    events = []
    if reg.registered:
        events.append({"eventAction": "registration", "eventDate": resolve_date(reg.registered)})
    if reg.expires:
        events.append({"eventAction": "expiration", "eventDate": resolve_date(reg.expires)})
    events.append({"eventAction": "last changed", "eventDate": resolve_date(reg.updated or "-30d")})
    events.append({"eventAction": "last update of RDAP database", "eventDate": resolve_date("+0d")})
    self_url = f"{base_url}domain/{reg.domain}"
    return {
        "objectClassName": "domain",
        "rdapConformance": RDAP_CONFORMANCE,
        "handle": reg.domain.upper().replace(".", "-") + "-SANDBOX",
        "ldhName": reg.domain,
        "status": [rdap_status(s) for s in reg.status],
        "events": events,
        "entities": [
            {
                "objectClassName": "entity",
                "handle": reg.registrar_iana_id,
                "roles": ["registrar"],
                "publicIds": [{"type": "IANA Registrar ID", "identifier": reg.registrar_iana_id}],
                "vcardArray": ["vcard", [["version", {}, "text", "4.0"], ["fn", {}, "text", reg.registrar]]],
            }
        ],
        "nameservers": [{"objectClassName": "nameserver", "ldhName": ns} for ns in reg.nameservers],
        "secureDNS": {"delegationSigned": False},
        "links": [{"value": self_url, "rel": "self", "href": self_url, "type": "application/rdap+json"}],
        "notices": [{"title": "Sandbox", "description": ["Test data from the Launch Ready sandbox."]}],
    }


def _rdap_json(payload: dict, status: int = 200) -> Reply:
    headers = CIMultiDict({"Content-Type": "application/rdap+json", "Access-Control-Allow-Origin": "*"})
    return Reply(status, headers, json.dumps(payload, indent=1).encode())


def rdap_reply(scenario: Scenario, exchange: Exchange) -> Reply:
    """``GET /rdap/domain/<name>`` for the scenario's registrations."""
    match = re.fullmatch(r"/rdap/domain/([^/]+)", exchange.path)
    if not match:
        return _rdap_json({"errorCode": 400, "title": "Only /rdap/domain/<name> is served"}, 400)
    name = match.group(1).lower().rstrip(".")
    reg = scenario.registrations.get(name)
    if reg is None:
        return _rdap_json(
            {"errorCode": 404, "title": "Not Found", "description": [f"{name} is not registered"]}, 404
        )
    base_url = f"{exchange.scheme}://{exchange.host}/rdap/"
    return _rdap_json(rdap_domain(reg, base_url))


def webhook_reply(scenario: Scenario, recorder: Recorder, exchange: Exchange) -> Reply:
    """Record the request; answer ``/status/<code>`` paths with that code."""
    record = WebhookRequest(
        method=exchange.method,
        path=exchange.path,
        query=exchange.query_string,
        headers=dict(exchange.headers),
        body=exchange.body,
        host=exchange.host,
        received_at=_now(),
    )
    with recorder.lock:
        recorder.webhook_requests.append(record)
    match = re.search(r"/status/(\d{3})(?:/|$)", exchange.path)
    status = int(match.group(1)) if match else scenario.webhook_status
    headers = CIMultiDict({"Content-Type": "application/json", "Server": "nginx"})
    if status == 429:
        headers["Retry-After"] = "1"
    if 200 <= status < 300 and exchange.method == "POST":
        # Answer like the real services do, so senders that read the body see familiar shapes.
        if exchange.path.endswith("/Messages.json"):
            return Reply(
                201, headers, json.dumps(_twilio_message(exchange, len(recorder.webhook_requests))).encode()
            )
        if exchange.path.startswith("/services/"):
            headers["Content-Type"] = "text/plain; charset=utf-8"
            return Reply(200, headers, b"ok")
    return Reply(status, headers, json.dumps({"ok": 200 <= status < 300}).encode())


def _twilio_message(exchange: Exchange, serial: int) -> dict:
    form = {k: v[0] for k, v in parse_qs(exchange.body.decode(errors="replace")).items()}
    account = re.search(r"/Accounts/([^/]+)/", exchange.path)
    return {
        "sid": f"SM{serial:032x}",
        "account_sid": account.group(1) if account else "",
        "status": "queued",
        "to": form.get("To", ""),
        "from": form.get("From", ""),
        "body": form.get("Body", ""),
        "num_segments": "1",
        "error_code": None,
    }


class SmtpHandler:
    """aiosmtpd handler that keeps every message."""

    def __init__(self, recorder: Recorder):
        self.recorder = recorder

    async def handle_DATA(self, server, session, envelope) -> str:  # aiosmtpd hook name
        message = SmtpMessage(
            mail_from=envelope.mail_from,
            rcpt_tos=list(envelope.rcpt_tos),
            peer=tuple(session.peer) if session.peer else (),
            data=envelope.original_content or envelope.content,
            received_at=_now(),
        )
        with self.recorder.lock:
            self.recorder.smtp_messages.append(message)
        return "250 Message accepted for delivery"
