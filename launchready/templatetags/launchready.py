"""Template helpers: ``{% load launchready %}``."""

from __future__ import annotations

import functools
import uuid

from django import template
from django.template import TemplateDoesNotExist
from django.template.loader import select_template
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from launchready import fragments

register = template.Library()

# Stands for the reader's CSRF token in a kept block (letters only: never escaped).
CSRF_PLACEHOLDER = "launchreadycsrftokenplaceholder"


@register.simple_tag(takes_context=True)
def nav_current(context, url: str, exact: bool = False) -> str:
    """``aria-current="page"`` when the current page is ``url`` (or below it, unless exact)."""
    request = context.get("request")
    if request is None:
        return ""
    path = request.path
    if path == url or (not exact and path.startswith(url)):
        return format_html('aria-current="{}"', "page")
    return ""


@register.filter
def budget(ms: int | None) -> str:
    return "" if ms is None else f"{ms:,} ms"


@register.simple_tag(takes_context=True)
def include_first(context, *names: str) -> str:
    """Render the first of ``names`` that exists, or nothing.

    This is how other apps plug into core pages without editing them: e.g. the site
    page renders ``{% include_first "audits/site_audit_panel.html" "sites/_audit_panel.html" %}``,
    so an app template ``audits/templates/audits/site_audit_panel.html`` replaces the
    placeholder as soon as it exists.
    """
    try:
        template = select_template(list(names))
    except TemplateDoesNotExist:
        return ""
    # In the page's own context, as {% include %} does: rendering it anew ran every context
    # processor again for each card (50 site cards: half the workspace overview's time).
    with context.push():
        return template.template.render(context)


@register.tag
def workspace_fragment(parser, token) -> WorkspaceFragmentNode:
    """``{% workspace_fragment "name" part … %}…{% endworkspace_fragment %}``: the block drawn
    once per workspace version (``launchready.fragments``) and kept ``fragments.TTL``, shared by
    every member with the same role (and the same parts) whatever page or browser draws it.

    Its forms work for every reader: the block is drawn with a placeholder for the CSRF token,
    which is replaced by the reader's own token when the block is shown. Context: ``workspace``
    and ``membership`` (a workspace page's).
    """
    bits = token.split_contents()
    if len(bits) < 2:
        raise template.TemplateSyntaxError("workspace_fragment needs a name")
    nodelist = parser.parse(("endworkspace_fragment",))
    parser.delete_first_token()
    return WorkspaceFragmentNode(nodelist, [parser.compile_filter(bit) for bit in bits[1:]])


class WorkspaceFragmentNode(template.Node):
    def __init__(self, nodelist, parts) -> None:
        self.nodelist = nodelist
        self.parts = parts

    def render(self, context) -> str:
        name, *parts = (str(part.resolve(context)) for part in self.parts)
        workspace, membership = context["workspace"], context["membership"]

        def draw() -> str:
            with context.push(csrf_token=CSRF_PLACEHOLDER):
                return self.nodelist.render(context)

        parts += [membership.role, timezone.localdate().isoformat()]
        html = str(fragments.cached(name, workspace.pk, tuple(parts), draw))
        if CSRF_PLACEHOLDER in html:
            html = html.replace(CSRF_PLACEHOLDER, str(context.get("csrf_token", "")))
        return mark_safe(html)  # noqa: S308 - the block's own output, escaped when it was drawn


@register.simple_tag
def uuid_url(name: str, **uuids: object) -> str:
    """``{% uuid_url "handover_document" workspace=w.uuid site=s.uuid %}``: ``{% url %}`` for
    a URL whose arguments are all UUIDs, reversed once per process and filled in by string
    replacement: a list of 50 sites with 5 links each reversed 250 URLs (half its drawing)."""
    names = tuple(sorted(uuids))
    path = _uuid_url_pattern(name, names, get_script_prefix())
    for i, key in enumerate(names):
        path = path.replace(str(uuid.UUID(int=i + 1)), str(uuids[key]))
    return path


@functools.lru_cache(maxsize=256)
def _uuid_url_pattern(name: str, names: tuple[str, ...], script_prefix: str) -> str:
    return reverse(name, kwargs={key: uuid.UUID(int=i + 1) for i, key in enumerate(names)})
