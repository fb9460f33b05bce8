"""Every outbound call goes through launchready.net: no other product module may open sockets,
speak HTTP or TLS, or ask DNS by itself."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# The network layer itself, the sandbox internet, tests and benchmarks may use the raw APIs.
EXEMPT = ("launchready/net/", "sandbox/", "tests/", "bench/")
SKIP_DIRS = {".venv", "venv", "node_modules", "var", "static", ".git", "__pycache__"}

FORBIDDEN_MODULES = {
    "httpx",
    "aiohttp",
    "requests",
    "urllib3",
    "urllib.request",
    "http.client",
    "socket",
    "ssl",
    "smtplib",
    "ftplib",
    "telnetlib",
    "aiosmtplib",
    "pycurl",
    "websockets",
    "dns.resolver",
    "dns.asyncresolver",
    "dns.query",
    "dns.asyncquery",
    "dkim.dnsplug",
    "checkdmarc",  # does its own DNS and HTTP lookups
}
# Raw connection or lookup APIs reached through another object (asyncio loop, dkim, …).
FORBIDDEN_ATTRIBUTES = {
    "open_connection",
    "create_connection",
    "start_tls",
    "sock_connect",
    "create_datagram_endpoint",
    "getaddrinfo",
    "gethostbyname",
    "urlopen",
}
FORBIDDEN_DOTTED = {"dkim.verify", "dkim.dkim_verify", "dkim.arc_verify", "dns.resolver", "dns.query"}


def _forbidden(module: str) -> bool:
    return any(module == name or module.startswith(name + ".") for name in FORBIDDEN_MODULES)


def _dotted(node: ast.AST) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


def violations(source: str, filename: str = "<string>") -> list[str]:
    found: list[str] = []
    tree = ast.parse(source, filename)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [f"import {a.name}" for a in node.names if _forbidden(a.name)]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if _forbidden(node.module):
                found.append(f"from {node.module} import …")
            found += [
                f"from {node.module} import {a.name}"
                for a in node.names
                if _forbidden(f"{node.module}.{a.name}") or a.name in FORBIDDEN_ATTRIBUTES
            ]
        elif isinstance(node, ast.Attribute):
            if node.attr in FORBIDDEN_ATTRIBUTES:
                found.append(f".{node.attr}")
            elif _dotted(node) in FORBIDDEN_DOTTED:
                found.append(_dotted(node))
        elif isinstance(node, ast.Call):
            name = _dotted(node.func)
            if name.endswith(("import_module", "__import__")) and node.args:
                arg = node.args[0]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and _forbidden(arg.value):
                    found.append(f"{name}({arg.value!r})")
    return [f"{filename}:{v}" for v in found]


def product_files() -> list[Path]:
    files = []
    for path in ROOT.rglob("*.py"):
        relative = path.relative_to(ROOT).as_posix()
        if set(path.relative_to(ROOT).parts) & SKIP_DIRS or relative.startswith(EXEMPT):
            continue
        files.append(path)
    return files


def test_scan_covers_the_product() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in product_files()}
    assert "launchready/settings.py" in names and "manage.py" in names
    assert not any(n.startswith(EXEMPT) for n in names)


def test_no_module_outside_the_network_layer_talks_to_the_network() -> None:
    problems = []
    for path in product_files():
        problems += violations(path.read_text(encoding="utf-8"), path.relative_to(ROOT).as_posix())
    assert problems == [], "Use launchready.net instead:\n" + "\n".join(problems)


@pytest.mark.parametrize(
    "snippet",
    [
        "import httpx",
        "import aiohttp.web",
        "import requests",
        "import socket",
        "import ssl",
        "import urllib.request",
        "from urllib.request import urlopen",
        "from urllib import request",
        "from http.client import HTTPSConnection",
        "import dns.resolver",
        "from dns import resolver",
        "from dns import asyncquery",
        "import dns.asyncresolver as r",
        "from dns.query import udp",
        "import checkdmarc",
        "import importlib; importlib.import_module('socket')",
        "__import__('httpx')",
        "import asyncio\nasync def f():\n    await asyncio.open_connection('h', 80)",
        "async def f(loop):\n    await loop.getaddrinfo('h', 80)",
        "from asyncio import open_connection",
        "import dkim\ndkim.verify(b'')",
        "import dns\ndns.resolver.resolve('x')",
    ],
)
def test_the_scanner_catches(snippet: str) -> None:
    assert violations(snippet), snippet


@pytest.mark.parametrize(
    "snippet",
    [
        "from launchready import net",
        "from launchready.net import fetch, resolve",
        "import dns.name",
        "import dns.rdatatype",
        "import dkim.util",
        "from urllib.parse import urlsplit",
        "import ipaddress",
    ],
)
def test_the_scanner_allows(snippet: str) -> None:
    assert violations(snippet) == []


def test_only_the_network_layer_imports_httpx() -> None:
    """API clients get httpx from ``launchready.net.api_client()``, whose transport is the guarded fetch."""
    importers = set()
    for path in ROOT.rglob("*.py"):
        relative = path.relative_to(ROOT).as_posix()
        if set(path.relative_to(ROOT).parts) & SKIP_DIRS or relative.startswith(("tests/", "bench/")):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), relative)
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            if any(name == "httpx" or name.startswith("httpx.") for name in names):
                importers.add(relative)
    assert importers == {"launchready/net/client.py"}
