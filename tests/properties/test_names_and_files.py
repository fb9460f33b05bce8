"""Properties of what founders paste and what mail servers send: domain names, .env files
and DMARC aggregate reports (XML, gzip, zip).

``normalize_domain`` answers a normalised name or a ``ValidationError`` with a sentence;
``parse_env`` never raises and never hands back a value; a report is read or refused
with a ``ReportError``, and a compression bomb never decompresses past the cap.
"""

from __future__ import annotations

import gzip
import io
import tracemalloc
import zipfile

from django.core.exceptions import ValidationError
from hypothesis import example, given
from hypothesis import strategies as st

from audits.inbound import reports
from handover import envfile
from launchready import domains

from .strategies import PROPERTY, any_text, budget, built_from

DOMAIN_WORDS = [
    "https://",
    "http://",
    "HTTP://",
    "ftp://",
    "shop",
    "Shop",
    "example",
    "com",
    "co.uk",
    "xn--",
    "xn--zz",
    "xn--bcher-kva",
    "bücher",
    "ß",
    "ﬃ",
    "\u200d",
    "\u0301",
    "٣",
    "localhost",
    "127.0.0.1",
    "0x7f.1",
    "[::1]",
    "::1",
    "user:pw@",
    "@",
    ":",
    ":443",
    ":99999",
    ":",
    "/",
    "?q=1",
    "#frag",
    "-",
    "--",
    "_",
    ".",
    "..",
    " ",
    "\t",
    "a" * 64,
    "9",
    "\x00",
]
domain_texts = st.one_of(any_text, built_from(DOMAIN_WORDS, ["", ".", "-", "/"], 16))


@PROPERTY
@given(domain_texts)
def test_domain_normalisation_answers_a_name_or_a_sentence(text):
    try:
        name = domains.normalize_domain(text)
    except ValidationError as exc:
        assert exc.messages and all(m.strip() for m in exc.messages)
        return
    assert name == name.lower() and name.isascii() and len(name) <= 253
    assert "." in name and ".." not in name
    assert domains.normalize_domain(name) == name  # idempotent


@PROPERTY
@given(domain_texts, domain_texts)
def test_domain_helpers_never_raise(a, b):
    assert isinstance(domains.hostname_under(a, b), bool)
    assert isinstance(domains.subdomain_label(a, b), str)
    assert isinstance(domains.registered_domain(a), str)
    assert isinstance(domains.rdap_domain_url(a), str)
    try:
        host, port = domains.split_host_port(a)
    except ValueError as exc:
        assert str(exc)
    else:
        assert host and 0 < port < 65536


rdap_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True)
    | st.text(max_size=30)
    | st.sampled_from(["expiration", "registrar", "fn", "2026-13-45T00:00:00Z", "2027-01-01T00:00:00Z"]),
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.dictionaries(
            st.sampled_from(
                ["events", "eventAction", "eventDate", "entities", "roles", "vcardArray", "status"]
            )
            | st.text(max_size=8),
            inner,
            max_size=5,
        )
    ),
    max_leaves=30,
)


@PROPERTY
@given(rdap_json)
def test_rdap_reader_raises_only_value_error(document):
    try:
        registration = domains.parse_rdap(document)
    except ValueError as exc:
        assert str(exc)
    else:
        assert registration.expires_at is None or registration.expires_at.tzinfo is not None


ENV_WORDS = [
    "export ",
    "NAME",
    "STRIPE_SECRET_KEY",
    "DATABASE_URL",
    "=",
    "==",
    '"',
    "'",
    "`",
    "#",
    "# ",
    "\\",
    "sk_live_abc123DEF456ghi789",
    "postgres://u:p@h/db",
    "(required)",
    "(optional)",
    "Optional:",
    "---",
    " #",
    "\n",
    "\r\n",
    "\r",
    "é",
    "\x00",
    "\u2028",
    "1NAME",
    "name with space",
]
env_texts = st.one_of(any_text, built_from(ENV_WORDS, ["", " ", "\n", "=", '"'], 60))


@PROPERTY
@given(env_texts)
def test_env_import_never_raises_and_never_keeps_a_value(text):
    parsed = envfile.parse_env(text)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for variable in parsed.variables:
        assert envfile.NAME_RE.fullmatch(variable.name)
        assert 1 <= variable.line <= len(lines)
        assert len(variable.purpose) <= envfile.PURPOSE_MAX_LENGTH
        assert envfile.secret_reason(variable.purpose) is None
    assert parsed.discarded_values <= len(lines)
    assert isinstance(envfile.secret_reason(text), str | None)


# --- DMARC aggregate reports ------------------------------------------------------------

REPORT_WORDS = [
    "<?xml version='1.0'?>",
    "<feedback>",
    "</feedback>",
    "<report_metadata>",
    "</report_metadata>",
    "<org_name>x</org_name>",
    "<report_id>1</report_id>",
    "<date_range><begin>1</begin><end>2</end></date_range>",
    "<begin>99999999999999999999</begin>",
    "<policy_published><domain>shop.test</domain><p>none</p></policy_published>",
    "<record>",
    "</record>",
    "<row>",
    "</row>",
    "<source_ip>192.0.2.1</source_ip>",
    "<source_ip>::1</source_ip>",
    "<source_ip>999.1.1.1</source_ip>",
    "<count>1</count>",
    "<count>²</count>",
    "<count>" + "9" * 5000 + "</count>",
    "<policy_evaluated><disposition>none</disposition><dkim>pass</dkim><spf>fail</spf></policy_evaluated>",
    "<identifiers><header_from>shop.test</header_from></identifiers>",
    "<auth_results><dkim><domain>shop.test</domain><result>pass</result></dkim></auth_results>",
    "<!DOCTYPE feedback [<!ENTITY a 'aaaa'>]>",
    "&a;",
    "<r/>",
    "<x:feedback xmlns:x='urn:x'>",
    "<",
    ">",
]
xml_texts = built_from(REPORT_WORDS, ["", "\n", " "], 50).map(str.encode)
report_bytes = st.one_of(st.binary(max_size=3000), xml_texts)
MAX_BYTES = 1024 * 1024


def gzipped(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def zipped(data: bytes, name: str = "report.xml") -> bytes:
    """A zip holding ``data`` under ``name`` exactly as given, NUL bytes included (zipfile
    cuts a name at its first NUL when writing, a hostile sender's tool need not)."""
    stand_in = name.replace("\x00", "_")  # same length and encoding, then patched back in
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(stand_in, data)
    raw = bytearray(out.getvalue())
    if stand_in != name:
        encoded = name.encode("ascii" if name.isascii() else "utf-8")
        central = raw.rfind(b"PK\x01\x02")
        for start in (30, central + 46):  # the name in the local header and the central directory
            raw[start : start + len(encoded)] = encoded
    return bytes(raw)


def _read(data: bytes, name: str) -> None:
    try:
        report = reports.read_report(data, MAX_BYTES, name)
    except reports.ReportError as exc:
        assert str(exc)
    else:
        assert report.org_name and report.report_id and report.policy_domain
        assert all(0 <= row.count < 2**31 for row in report.rows)


@PROPERTY
@given(report_bytes, st.sampled_from(["xml", "gzip", "zip", "cut gzip", "cut zip"]), st.text(max_size=20))
# Found with PROPERTY_EXAMPLES=5000: a member named "\x00" is read as "" and zipfile's
# is_dir() raised IndexError on it.
@example(data=b"<feedback/>", packing="zip", name="\x00")
@example(data=b"<feedback/>", packing="zip", name="\x00.xml")
def test_report_reader_raises_only_report_error(data, packing, name):
    if packing == "gzip":
        data = gzipped(data)
    elif packing == "zip":
        data = zipped(data, name or "r.xml")
    elif packing == "cut gzip":
        data = gzipped(data)[: len(data) // 2]
    elif packing == "cut zip":
        data = zipped(data)[:-10]
    _read(data, name)


@PROPERTY
@given(st.binary(max_size=3000))
def test_report_reader_refuses_damaged_archives(tail):
    for data in (b"\x1f\x8b" + tail, b"PK\x03\x04" + tail):
        _read(data, "r.gz")


def _message(attachment: bytes, filename: str) -> bytes:
    from email.message import EmailMessage

    message = EmailMessage()
    message["From"] = "reports@receiver.test"
    message["To"] = "dmarc@launchready.test"
    message["Subject"] = "Report domain: shop.test"
    message.set_content("report attached")
    # A header cannot carry a line break as it is (the email library refuses to write one):
    # such a name is sent RFC 2231-encoded, as a hostile sender would, so it still reaches
    # the reader.
    breaks_lines = len(f"x{filename}x".splitlines()) > 1
    name: str | tuple[str, str, str] = ("utf-8", "", filename) if breaks_lines else filename
    message.add_attachment(attachment, maintype="application", subtype="gzip", filename=name)
    return message.as_bytes()


@budget(60)
@given(report_bytes, st.text(max_size=30), st.binary(max_size=500))
@example(b"<feedback/>", "\r", b"")  # a name with a line break (the helper once failed on it)
@example(b"<feedback/>", "r\u2028.xml.gz", b"")
def test_report_message_reader_never_raises(data, filename, junk):
    for raw in (_message(gzipped(data), filename or "r.xml.gz"), junk, _message(data, "r.xml")[:-7]):
        batch = reports.read_report_message(raw, MAX_BYTES)
        assert batch.reports or batch.refusal


@budget(10)
@given(st.sampled_from([b"\0", b"<r/>", b"<feedback>" + b"<r/>" * 10]), st.integers(4, 40))
def test_compression_bombs_stay_within_memory(unit, megabytes):
    """A bomb that inflates to ``megabytes`` MB is refused without holding it: peak memory
    stays a small multiple of the cap, whatever the decompressed size."""
    payload = unit * (megabytes * 1024 * 1024 // len(unit))
    for data in (gzipped(payload), zipped(payload)):
        tracemalloc.start()
        try:
            _read(data, "bomb.xml.gz")
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak < 4 * MAX_BYTES + 2 * len(data) + 2**20, peak
