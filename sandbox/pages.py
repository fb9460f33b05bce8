"""Generated HTML pages and content types for sandbox routes."""

from __future__ import annotations

import html as html_lib
import mimetypes

from .scenario import Route


def content_type(route: Route | None, path: str) -> str:
    if route is not None and route.content_type:
        return route.content_type
    guessed, _ = mimetypes.guess_type(path)
    if guessed and not path.endswith("/"):
        return guessed
    return "text/html; charset=utf-8"


def substitute(text: str, host: str, scheme: str, path: str) -> str:
    return text.replace("{{host}}", host).replace("{{scheme}}", scheme).replace("{{path}}", path)


def render_html(spec: dict, host: str, scheme: str, path: str = "/") -> str:
    """A small, realistic storefront page with subresources from a route's ``html`` key."""
    esc = html_lib.escape
    title = esc(str(spec.get("title", host)))
    head = [f'<meta charset="utf-8"><title>{title}</title>']
    head.append('<meta name="viewport" content="width=device-width, initial-scale=1">')
    for name, value in (spec.get("meta") or {}).items():
        head.append(f'<meta name="{esc(name)}" content="{esc(str(value))}">')
    for href in spec.get("stylesheets") or []:
        head.append(f'<link rel="stylesheet" href="{esc(href)}">')
    for script in spec.get("scripts") or []:
        if isinstance(script, str):
            script = {"src": script}
        attrs = "".join(f" {flag}" for flag in ("async", "defer") if script.get(flag))
        if script.get("inline"):
            head.append(f"<script{attrs}>{script['inline']}</script>")
        else:
            head.append(f'<script src="{esc(script["src"])}"{attrs}></script>')
    if spec.get("head"):
        head.append(str(spec["head"]))
    body = [f"<h1>{title}</h1>"]
    for href in spec.get("links") or []:
        body.append(f'<a href="{esc(href)}">{esc(href)}</a>')
    for src in spec.get("images") or []:
        body.append(f'<img src="{esc(src)}" alt="">')
    if spec.get("body"):
        body.append(str(spec["body"]))
    lang = esc(str(spec.get("lang", "en")))
    page = f'<!doctype html>\n<html lang="{lang}">\n<head>\n{chr(10).join(head)}\n</head>\n<body>\n'
    page += "\n".join(body) + "\n</body>\n</html>\n"
    return substitute(page, host, scheme, path)
