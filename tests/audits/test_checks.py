"""The catalogue is the public contract of CHECKS.md: same ids, stages and default severities
(new ids may be added, none renamed or removed); docs/CHECKS.md publishes it in the
repository; its texts are templates without placeholders and explain their jargon."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from audits.checks import (
    CATALOGUE,
    PUBLISHED_FILE,
    TEMPLATE_FIELDS,
    Severity,
    Stage,
    checks_for_stage,
    fill,
    get_check,
    gloss_line,
    glossary,
    glossed_terms,
    render_markdown,
    template_values,
)

ROOT = Path(__file__).resolve().parents[2]
CHECKS_MD = ROOT.parent / "shared" / "CHECKS.md"


def parse_checks_md(text: str) -> dict[str, tuple[str, str]]:
    """{check id: (stage, default severity)} from the markdown tables under '## stage: …'."""
    result: dict[str, tuple[str, str]] = {}
    stage = None
    for line in text.splitlines():
        if heading := re.match(r"^## (\w+):", line):
            stage = heading.group(1)
        elif row := re.match(r"^\|\s*([a-z]+\.[a-z0-9_]+)\s*\|\s*([a-z]+)", line):
            result[row.group(1)] = (stage, row.group(2))
    return result


def test_parser_reads_a_table() -> None:
    sample = "## dns: x\n| id | default severity | fails when |\n|---|---|---|\n| dns.a_b | blocker < 7 days, high | y |\n"
    assert parse_checks_md(sample) == {"dns.a_b": ("dns", "blocker")}


def shared_contract() -> str:
    """The text of ../shared/CHECKS.md. Outside CI a checkout without it skips the
    comparison; in CI (``CI`` set, as .ci/run does) its absence is an error, so the
    contract test can never pass without having compared anything."""
    if not CHECKS_MD.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHECKS_MD} is missing: CI must compare the catalogue with the contract")
        pytest.skip(f"{CHECKS_MD} is not present in this checkout")
    return CHECKS_MD.read_text(encoding="utf-8")


def test_catalogue_keeps_every_id_of_checks_md() -> None:
    contract = parse_checks_md(shared_contract())
    ours = {c.id: (str(c.stage), str(c.severity)) for c in CATALOGUE.values()}
    assert len(contract) > 80
    # Extend, never rename or remove: every contract id is ours with its stage and severity.
    assert {cid: ours.get(cid) for cid in contract} == contract


def test_fails_when_matches_checks_md() -> None:
    rows = {}
    for line in shared_contract().splitlines():
        if m := re.match(r"^\|\s*([a-z]+\.[a-z0-9_]+)\s*\|([^|]*)\|(.*)\|\s*$", line):
            rows[m.group(1)] = (m.group(2).strip(), m.group(3).strip())
    for cid, (severity, fails_when) in rows.items():
        check = get_check(cid)
        assert (check.severity_detail or str(check.severity), check.fails_when) == (severity, fails_when), cid


def test_missing_contract_fails_in_ci(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(sys.modules[__name__], "CHECKS_MD", tmp_path / "CHECKS.md")
    monkeypatch.setenv("CI", "1")
    with pytest.raises(pytest.fail.Exception, match="CI must compare"):
        shared_contract()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception):
        shared_contract()


def test_published_catalogue_is_up_to_date() -> None:
    assert PUBLISHED_FILE == ROOT / "docs" / "CHECKS.md"
    assert PUBLISHED_FILE.exists(), "run: python -m audits.checks --write"
    assert PUBLISHED_FILE.read_text(encoding="utf-8") == render_markdown(), (
        "docs/CHECKS.md is stale: run python -m audits.checks --write"
    )


def test_published_catalogue_lists_every_check_with_its_stage_and_severity() -> None:
    published = parse_checks_md(PUBLISHED_FILE.read_text(encoding="utf-8"))
    assert published == {c.id: (str(c.stage), str(c.severity)) for c in CATALOGUE.values()}
    assert "| SPF | a DNS record listing" in PUBLISHED_FILE.read_text(encoding="utf-8")


def test_markdown_command_prints_the_catalogue() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "audits.checks", "--markdown"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout == render_markdown()


def test_every_check_says_when_it_fails() -> None:
    assert [c.id for c in CATALOGUE.values() if not c.fails_when] == []


# Words that stand for the founder's own names: a fix must use the store's instead.
PLACEHOLDERS = re.compile(
    r"yourdomain|your-domain|your-site|yoursite|mystore|example\.(?:com|org|net)|xxx|\$\{"
    # <your domain>, <selector>, <address you read> (not Apache's <VirtualHost> nor HTML's <head>).
    r"|<(?:your|my|their|domain|selector|canonical|host|site|address|name)[a-z _-]*>",
    re.I,
)
# Braces a web server's own syntax uses in a fix (Caddy's {uri}, IIS's {R:1}, {HTTPS}).
SERVER_SYNTAX = {"uri"}


def _all_fix_texts() -> list[tuple[str, str]]:
    texts = []
    for check in CATALOGUE.values():
        texts.append((f"{check.id} fix", check.fix))
        texts += [(f"{check.id} provider_fix.{k}", v) for k, v in check.provider_fix.items()]
        texts += [(f"{check.id} server_fix.{k}", v) for k, v in check.server_fix.items()]
        texts += [(f"{check.id} {name}", getattr(check, name)) for name in ("title", "impact")]
    return texts


def test_no_placeholder_is_left_in_the_catalogue() -> None:
    leftovers = [(where, m.group(0)) for where, text in _all_fix_texts() for m in PLACEHOLDERS.finditer(text)]
    assert leftovers == []


def test_every_template_name_is_one_the_findings_fill() -> None:
    unknown = [
        (where, name)
        for where, text in _all_fix_texts()
        for name in re.findall(r"\{([a-z_]+)\}", text)
        if name not in TEMPLATE_FIELDS | SERVER_SYNTAX
    ]
    assert unknown == []


def test_placeholder_scan_catches_the_old_texts() -> None:
    old = "Publish a TXT record at _dmarc: `v=DMARC1; p=none; rua=mailto:dmarc@yourdomain`"
    assert PLACEHOLDERS.search(old)
    assert PLACEHOLDERS.search("https://<canonical host>${path}")


def test_fill_puts_the_store_names_in_and_leaves_server_syntax() -> None:
    values = template_values("mystore.com", "www.mystore.com", subject="s1._domainkey.mystore.com")
    assert fill("`_dmarc.{domain}` and {domain_dashed}", values) == "`_dmarc.mystore.com` and mystore-com"
    assert fill("redir https://{canonical_host}{uri} permanent", values) == (
        "redir https://www.mystore.com{uri} permanent"
    )
    assert fill("at `{subject}`", values) == "at `s1._domainkey.mystore.com`"
    assert fill("{ deny all; }", values) == "{ deny all; }"


def test_dmarc_fix_uses_the_store_domain() -> None:
    text = fill(get_check("email.dmarc_missing").fix, template_values("mystore.com"))
    assert "`_dmarc.mystore.com`" in text and "rua=mailto:dmarc@mystore.com" in text


def test_server_fix_is_used_when_no_provider_fix_fits() -> None:
    check = get_check("exposure.directory_listing")
    assert "Options -Indexes" in check.fix_for([], "apache")
    assert "autoindex" not in check.fix_for([], "apache")
    assert "autoindex off" in check.fix_for([], "nginx")
    assert "browse" in check.fix_for([], "caddy")
    assert "Directory Browsing" in check.fix_for([], "iis")
    assert check.fix_for([], None) == check.fix == check.fix_for([], "unknown-server")


def test_provider_fix_comes_before_server_fix() -> None:
    check = get_check("http.hsts_missing")
    assert check.fix_for(["cloudflare"], "nginx").startswith("Cloudflare")
    assert "add_header Strict-Transport-Security" in check.fix_for(["heroku"], "nginx")


@pytest.mark.parametrize("server", ["nginx", "apache", "caddy", "iis"])
def test_header_checks_have_steps_for_each_common_server(server) -> None:
    for cid in (
        "http.hsts_missing",
        "http.nosniff_missing",
        "exposure.directory_listing",
        "http.version_leak",
    ):
        assert server in get_check(cid).server_fix, cid


def test_glossary_explains_the_jargon_of_the_issue() -> None:
    for term in ("p95", "NXDOMAIN", "permerror", "CAA", "clientTransferProhibited", "HSTS", "DMARC", "SPF"):
        assert glossary()[term], term


def test_glossed_terms_match_whole_words_as_written() -> None:
    assert glossed_terms("No SPF record; v=spf1 -all") == ["SPF"]
    assert glossed_terms("v=spf1 include:_spf.google.com") == []
    assert glossed_terms("TLS-RPT and MTA-STS") == ["MTA-STS", "TLS-RPT"]
    assert "TLS" not in glossed_terms("TLS-RPT only")


def test_gloss_line_explains_each_term_once() -> None:
    line = gloss_line("No DMARC policy", "DMARC record at _dmarc", "p95 840 ms")
    assert line.count("DMARC is ") == 1 and "p95 is the time" in line
    assert "\n" not in line
    assert gloss_line("Nothing technical here") == ""


@pytest.mark.parametrize("check", sorted(CATALOGUE))
def test_every_check_has_founder_texts(check) -> None:
    entry = get_check(check)
    assert entry.title and entry.impact and entry.fix
    assert not entry.title.endswith(".")
    assert re.fullmatch(r"[a-z]+\.[a-z0-9_]+", check)


def test_provider_fix_is_preferred_in_the_given_order() -> None:
    check = get_check("http.hsts_missing")
    assert check.fix_for(["cloudflare", "netlify"]).startswith("Cloudflare")
    assert check.fix_for(["heroku", "netlify"]).startswith("Add `Strict-Transport-Security")
    assert check.fix_for([]) == check.fix


def test_unknown_check_id_fails_loudly() -> None:
    with pytest.raises(KeyError):
        get_check("http.hsts_mising")


def test_severity_and_stage_order() -> None:
    assert [s.rank for s in Severity] == [0, 1, 2, 3, 4]
    assert Severity.HIGH.at_least("medium") and not Severity.LOW.at_least(Severity.MEDIUM)
    assert {c.stage for c in checks_for_stage(Stage.EMAIL)} == {Stage.EMAIL}


def test_spf_invalid_speaks_of_every_permerror_not_only_syntax() -> None:
    # The check also fires when an include: names a domain without an SPF record.
    check = get_check("email.spf_invalid")
    assert "syntax" not in check.title.lower()
    assert "include:" in check.fix and "permerror" in check.impact
