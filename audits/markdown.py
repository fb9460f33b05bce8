"""Text from the audited site, made safe to put in Markdown.

The report (``audits.report_text``: the web export and the CLI's text output) quotes what
a store sent back: TXT records, ``Server`` headers, cookie names, page titles, URLs. Any
of it can be hostile (``[click](http://evil)``, ``<script>``, a line starting with ``#``,
a ``|`` that opens a table), so every such value goes through one of these:

- ``md_code`` — a one-line code span (subjects, one-line evidence): shown exactly, never
  read as Markdown, links or HTML;
- ``md_code_block`` — a fenced block (evidence of several lines);
- ``md_text`` — inline prose, with every character Markdown (CommonMark and GitHub's
  tables, strikethrough and autolinks) could read as syntax escaped.

Texts we wrote ourselves (the catalogue's titles, impacts and fixes) are authored Markdown
and are not escaped. Both code forms follow CommonMark: a code span's delimiter and a
fence are longer than any run of backticks inside them, so the content cannot close them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_BACKTICKS = re.compile(r"`+")
# Backslash escapes for ASCII punctuation that can start syntax in the middle of a line:
# emphasis, code, links and images, raw HTML and autolinks, entities, tables,
# strikethrough. Line-start syntax (#, >, -, +, 1.) cannot occur: the text is kept on one
# line and always follows text of ours.
_INLINE_SPECIALS = re.compile(r"([\\`*_\[\]<>&|~])")


def _one_line(value: object) -> str:
    """Every kind of line break (\\r, \\n, U+2028…) becomes a space: a value never starts a line."""
    return " ".join(str(value).splitlines())


def _longest_backtick_run(text: str) -> int:
    return max((len(run) for run in _BACKTICKS.findall(text)), default=0)


def md_text(value: object) -> str:
    """Inline text, escaped: it reads as the same characters and never as Markdown."""
    return _INLINE_SPECIALS.sub(r"\\\1", _one_line(value))


def md_code(value: object) -> str:
    """A code span showing ``value`` exactly (on one line)."""
    text = _one_line(value)
    if not text:
        return "` `"
    delimiter = "`" * (_longest_backtick_run(text) + 1)
    # A space on each side keeps a backtick at either end apart from the delimiter, and
    # keeps spaces at both ends (CommonMark strips one space from each side).
    if text.strip(" ") and (text[0] in "` " or text[-1] in "` "):
        text = f" {text} "
    return f"{delimiter}{text}{delimiter}"


def md_code_block(lines: Iterable[object], *, indent: str = "") -> list[str]:
    """A fenced code block of ``lines`` (each may hold line breaks), indented by ``indent``
    to sit inside a list item. The fence is longer than any backtick run in the content."""
    content = [line for value in lines for line in str(value).splitlines()]
    fence = "`" * max(3, max((_longest_backtick_run(line) for line in content), default=0) + 1)
    return [f"{indent}{fence}", *(f"{indent}{line}" if line else "" for line in content), f"{indent}{fence}"]
