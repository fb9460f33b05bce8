"""The readable parts of a received message, made safe to show in the site page.

The HTML part is sanitised with nh3 (Rust's ammonia): scripts, styles that load
things, event handlers, forms and frames go; images keep only inline ``data:`` and
``cid:`` sources (a remote image is a tracking pixel that would tell the sender who
looked). Links stay, inert (``rel="noopener noreferrer"``); the page shows the result
in a sandboxed iframe at mobile width as a second line of defence.
"""

from __future__ import annotations

import logging
import re
from email.message import EmailMessage, Message

import nh3

logger = logging.getLogger(__name__)

MAX_PART_CHARS = 500_000
ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "center", "code", "div", "em", "font", "h1", "h2",
    "h3", "h4", "h5", "h6", "hr", "i", "img", "li", "ol", "p", "pre", "s", "small", "span", "strong",
    "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
}  # fmt: skip
COMMON_ATTRIBUTES = {
    "align",
    "valign",
    "width",
    "height",
    "style",
    "bgcolor",
    "color",
    "border",
    "dir",
    "title",
}
ALLOWED_ATTRIBUTES = {
    "*": COMMON_ATTRIBUTES,
    "a": {"href"},
    "img": {"src", "alt"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
    "table": {"cellpadding", "cellspacing"},
    "font": {"face", "size"},
}
# CSS that can fetch: url(), image-set() (which takes bare strings), image(), src(),
# @import, IE's expression()/behavior. A backslash is refused outright because CSS
# escapes spell any of these in disguise (``u\\72 l(`` is ``url(``).
_REMOTE_CSS = re.compile(
    r"\\|(?:url|image-set|image|src|cross-fade|element|expression)\s*\(|@import|behavior\s*:",
    re.IGNORECASE,
)
LINK_SCHEMES = ("http:", "https:", "mailto:", "#")


def _attribute_filter(tag: str, attribute: str, value: str) -> str | None:
    lowered = value.strip().lower()
    if attribute == "src":
        return value if lowered.startswith(("data:image/", "cid:")) else None
    if attribute == "href":
        # data: stays allowed for images only; a data: link would open a page we did not sanitise.
        return value if lowered.startswith(LINK_SCHEMES) else None
    if attribute == "style" and _REMOTE_CSS.search(value):
        return None
    return value


def sanitize_html(html: str) -> str:
    """Email HTML with nothing that runs or loads from the network."""
    return nh3.clean(
        html[:MAX_PART_CHARS],
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        attribute_filter=_attribute_filter,
        url_schemes={"http", "https", "mailto", "data", "cid"},
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def readable_parts(message: Message) -> tuple[str, str]:
    """(sanitised HTML, plain text) of the message; either may be empty."""
    html = text = ""
    if isinstance(message, EmailMessage):
        html_part = message.get_body(preferencelist=("html",))
        text_part = message.get_body(preferencelist=("plain",))
    else:  # a legacy Message: walk it
        html_part = next((p for p in message.walk() if p.get_content_type() == "text/html"), None)
        text_part = next((p for p in message.walk() if p.get_content_type() == "text/plain"), None)
    if html_part is not None:
        html = sanitize_html(_decode(html_part))
    if text_part is not None:
        text = _decode(text_part)[:MAX_PART_CHARS]
    return html, text


def _decode(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, errors="replace")
    except LookupError:
        return payload.decode("utf-8", errors="replace")
