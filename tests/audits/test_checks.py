"""The catalogue is the public contract of CHECKS.md: same ids, stages and default severities."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from audits.checks import CATALOGUE, Severity, Stage, checks_for_stage, get_check

CHECKS_MD = Path(__file__).resolve().parents[2].parent / "shared" / "CHECKS.md"


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


@pytest.mark.skipif(not CHECKS_MD.exists(), reason=f"{CHECKS_MD} is not present in this checkout")
def test_catalogue_matches_checks_md_exactly() -> None:
    contract = parse_checks_md(CHECKS_MD.read_text(encoding="utf-8"))
    ours = {c.id: (str(c.stage), str(c.severity)) for c in CATALOGUE.values()}
    assert len(contract) > 80
    assert ours == contract


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
