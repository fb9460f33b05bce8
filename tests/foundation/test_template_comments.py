"""Django's ``{# … #}`` comments end at the line's end: one that spans lines is printed on
the page as text. Comments over several lines use ``{% comment %}``."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SKIP = {".venv", "var", "node_modules", ".git"}
UNCLOSED = re.compile(r"\{#(?![^\n]*#\})")


def template_files() -> list[Path]:
    return [
        p
        for p in ROOT.rglob("*.html")
        if not set(p.relative_to(ROOT).parts) & SKIP and "templates" in p.parts
    ]


def test_no_comment_tag_spans_lines() -> None:
    files = template_files()
    assert len(files) > 50  # the scan sees the project's templates
    problems = [
        f"{path.relative_to(ROOT)}:{text.count(chr(10), 0, match.start()) + 1}"
        for path in files
        for text in [path.read_text(encoding="utf-8")]
        for match in UNCLOSED.finditer(text)
    ]
    assert problems == [], "Use {% comment %} for comments over several lines:\n" + "\n".join(problems)


def test_the_scan_finds_a_comment_over_two_lines() -> None:
    assert UNCLOSED.search("{# one line #}\n{# two\n lines #}")
    assert not UNCLOSED.search("{# one line #} <p>{# another #}</p>")
