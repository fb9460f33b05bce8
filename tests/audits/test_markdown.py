"""audits.markdown: the one way the report puts text from the audited site into Markdown."""

from __future__ import annotations

import re

import pytest

from audits.markdown import md_code, md_code_block, md_text


def code_span_content(span: str) -> str:
    """Read a code span back the CommonMark way (spec 6.1)."""
    opening = re.match(r"`+", span).group(0)
    assert span.endswith(opening) and len(span) > 2 * len(opening)
    inner = span[len(opening) : -len(opening)]
    assert not re.search(rf"(?<!`){opening}(?!`)", inner), "the span would close early"
    if inner.startswith(" ") and inner.endswith(" ") and inner.strip(" "):
        inner = inner[1:-1]
    return inner


@pytest.mark.parametrize(
    "value",
    [
        "nginx",
        "[click](http://evil)",
        "<script>alert(1)</script>",
        "a`b",
        "a``b```c",
        "`starts with a backtick",
        "ends with a backtick`",
        "`",
        "``",
        " spaced ",
        "a|b",
        "\\`escaped?\\`",
    ],
)
def test_code_span_reads_back_exactly(value):
    span = md_code(value)
    assert "\n" not in span
    assert code_span_content(span) == value


def test_code_span_is_one_line():
    assert code_span_content(md_code("v=spf1\n# Heading\r\n- item")) == "v=spf1 # Heading - item"
    assert md_code("") == "` `"


def test_code_block_fence_is_longer_than_any_backtick_run_inside():
    lines = md_code_block(["```", "x ```` y", "plain"], indent="     ")
    fence = "`````"
    assert lines == [f"     {fence}", "     ```", "     x ```` y", "     plain", f"     {fence}"]
    assert md_code_block(["no backticks"]) == ["```", "no backticks", "```"]


def test_code_block_splits_every_kind_of_line_break():
    assert md_code_block(["a\rb\u2028c"]) == ["```", "a", "b", "c", "```"]


@pytest.mark.parametrize(
    "value, expected",
    [
        ("shop.test", "shop.test"),
        ("Domain and DNS", "Domain and DNS"),
        ("[click](http://evil)", r"\[click\](http://evil)"),
        ("<script>", r"\<script\>"),
        ("a|b", r"a\|b"),
        ("*bold* _em_ ~~s~~", r"\*bold\* \_em\_ \~\~s\~\~"),
        ("`code`", r"\`code\`"),
        ("back\\slash", "back\\\\slash"),
        ("&lt;b&gt;", r"\&lt;b\&gt;"),
        ("line\n# Heading\r\n- item", "line # Heading - item"),
    ],
)
def test_inline_text_is_escaped(value, expected):
    assert md_text(value) == expected
