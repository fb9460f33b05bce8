"""``python -m bench audit``: is a full audit as fast as its slowest dependency allows?

A sandbox store with 5 hosts and 6 critical routes, 50 ms of latency on every
response, audited with 20 samples per route. The baseline, measured in the same run,
is the longest single chain of dependent probes run alone: the slowest route's 20
sequential samples, or DNS followed by the TLS probes of the hosts it names.
``ratio`` = audit wall time / longest chain (goal ≤ 1.5).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import yaml

LATENCY_MS = 50
SAMPLES = 20
ROUTES = ["/", "/collections/all", "/products/tee", "/cart", "/account/login", "/api/orders"]
ROUTE_NAMES = ["home", "listing", "product", "cart", "login", "order"]


def store_page(title: str) -> dict:
    """A storefront page with a stylesheet, a script and an image, as the sandbox serves it."""
    return {
        "title": title,
        "stylesheets": ["/static/app.css"],
        "scripts": [{"src": "/static/app.js", "defer": True}],
        "images": ["/static/hero.png"],
    }


SECURE_HEADERS = {
    "Strict-Transport-Security": "max-age=31536000",
    "Content-Security-Policy": "default-src 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


def scenario() -> dict:
    page = store_page("Bench Store")
    secure = SECURE_HEADERS
    routes = [{"path": p, "html": page, "latency": LATENCY_MS} for p in ROUTES if p != "/api/orders"]
    routes.append(
        {"path": "/api/orders", "body": "[]", "content_type": "application/json", "latency": LATENCY_MS}
    )
    routes.append({"path": "/static/*", "body": "x" * 2048, "latency": LATENCY_MS, "compress": True})
    return {
        "name": "bench_store",
        "zones": {
            "bench-store.test": {
                "records": [
                    {"name": "@", "type": "CAA", "value": '0 issue "letsencrypt.org"'},
                ]
            }
        },
        "hosts": [
            {
                "name": "www.bench-store.test",
                "headers": secure,
                "https_redirect": 301,
                "latency": LATENCY_MS,
                "routes": routes,
            },
            {
                "name": "bench-store.test",
                "redirect_to": "https://www.bench-store.test",
                "latency": LATENCY_MS,
            },
            {"name": "api.bench-store.test", "headers": secure, "latency": LATENCY_MS, "routes": routes},
            {
                "name": "shop.bench-store.test",
                "redirect_to": "https://www.bench-store.test",
                "latency": LATENCY_MS,
            },
            {"name": "status.bench-store.test", "headers": secure, "latency": LATENCY_MS, "routes": routes},
        ],
        "registrations": {"bench-store.test": {"expires": "+365d"}},
    }


@contextlib.contextmanager
def sandbox_process(data: dict, children: list | None = None) -> Iterator[dict]:
    """Run ``manage.py sandbox`` on ``data`` in a child process; yield its settings.
    ``children``, when given, receives the child's ``Popen`` (to read its CPU time)."""
    root = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory() as tmp:
        scenario_path = Path(tmp) / f"{data['name']}.yaml"
        scenario_path.write_text(yaml.safe_dump(data))
        env_path = Path(tmp) / "sandbox.env"
        child = subprocess.Popen(
            [sys.executable, "manage.py", "sandbox", str(scenario_path), "--env-file", str(env_path)],
            cwd=root,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "DEBUG": "true"},
        )
        if children is not None:
            children.append(child)
        try:
            deadline = time.monotonic() + 30
            while not env_path.exists() or not env_path.read_text().strip():
                if child.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the sandbox did not start")
                time.sleep(0.05)
            time.sleep(0.1)
            values = {}
            for line in env_path.read_text().splitlines():
                key, _, value = line.removeprefix("export ").partition("=")
                values[key.strip()] = value.strip().strip("'\"")
            yield {
                "LAUNCHREADY_DNS_SERVERS": values["LAUNCHREADY_DNS_SERVERS"].split(","),
                "LAUNCHREADY_CA_BUNDLE": values["LAUNCHREADY_CA_BUNDLE"],
                "LAUNCHREADY_ALLOWED_TARGET_NETWORKS": values["LAUNCHREADY_ALLOWED_TARGET_NETWORKS"].split(
                    ","
                ),
                "LAUNCHREADY_PORT_MAP": values["LAUNCHREADY_PORT_MAP"],
                "LAUNCHREADY_RDAP_URL": values["LAUNCHREADY_RDAP_URL"],
            }
        finally:
            child.send_signal(signal.SIGINT)
            try:
                child.wait(10)
            except subprocess.TimeoutExpired:
                child.kill()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux ``/proc``; 0.0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "launchready.settings")
    os.environ.setdefault("DEBUG", "true")
    import django

    django.setup()


def measure(data: dict, site, chain_route: int, *, samples: int = SAMPLES, rounds: int = 3) -> dict:
    """Audit ``site`` on the sandbox ``data`` (best of ``rounds``) and, in the same run,
    the longest dependent chain alone: the route ``site.routes[chain_route]``'s
    ``samples`` sequential samples, or DNS followed by the TLS probes of the hosts it
    names. Returns the figures shared by ``audit`` and ``audit_large``."""
    from django.test import override_settings

    from audits.engine import audit_async, default_options
    from audits.probes import ProbeRun, dns, performance, tls

    # The sandbox runs in its own process so that its servers do not compete with the
    # audit for this process's interpreter lock.
    children: list[subprocess.Popen] = []
    with sandbox_process(data, children) as sandbox_settings, override_settings(**sandbox_settings):
        sandbox_pid = children[0].pid
        # For interleaved runs with and without: BENCH_EXPOSURE_KEEP_ALIVE=0 reads the exposure
        # paths on a fresh connection each (as before keep-alive), BENCH_EXPOSURE_CONNECTIONS
        # sets the connections per host, BENCH_SAMPLES_KEEP_ALIVE=0 takes each route sample on
        # a fresh connection, BENCH_SIDE_LOOP=0 probes everything on the audit's own loop
        # instead of putting all but the store's own host on the side loop (probes/side.py).
        defaults = default_options()
        exposure = {
            "exposure_keep_alive": os.environ.get("BENCH_EXPOSURE_KEEP_ALIVE", "1") != "0",
            "exposure_connections": int(
                os.environ.get("BENCH_EXPOSURE_CONNECTIONS", defaults.exposure_connections)
            ),
            "samples_keep_alive": os.environ.get("BENCH_SAMPLES_KEEP_ALIVE", "1") != "0",
            "side_loop": os.environ.get("BENCH_SIDE_LOOP", "1") != "0",
            "other_hosts_in_flight": defaults.other_hosts_in_flight,
        }
        options = default_options(samples=samples, **exposure)
        warm = default_options(samples=2, **exposure)
        asyncio.run(audit_async(site, options=warm))  # warm caches and imports

        # Best of three for both sides: the machine is shared, noise only ever adds time.
        walls, cpus, sandbox_cpus = [], [], []
        for _ in range(rounds):
            started, cpu_started = time.perf_counter(), time.process_time()
            sandbox_started = cpu_seconds(sandbox_pid)
            outcome = asyncio.run(audit_async(site, options=options))
            walls.append(time.perf_counter() - started)
            cpus.append(time.process_time() - cpu_started)
            sandbox_cpus.append(cpu_seconds(sandbox_pid) - sandbox_started)
        wall = min(walls)

        # The baseline: each dependent chain alone, in the same run.
        spec = site.routes[chain_route]

        async def route_alone() -> float:
            # The chain as the audit takes it: on kept-alive connections unless they are off.
            run = ProbeRun(
                site,
                options=default_options(samples=samples, samples_keep_alive=exposure["samples_keep_alive"]),
            )
            t0 = time.perf_counter()
            await performance.route_timing(run, spec.name, f"https://{site.canonical_host}{spec.path}", spec)
            return time.perf_counter() - t0

        async def dns_then_tls() -> float:
            run = ProbeRun(site, options=default_options())
            t0 = time.perf_counter()
            found = await dns.probe_dns(run)
            await tls.probe_tls(run, [h.name for h in found.hosts if h.resolves])
            return time.perf_counter() - t0

        route_chain = min(asyncio.run(route_alone()) for _ in range(rounds))
        dns_chain = min(asyncio.run(dns_then_tls()) for _ in range(rounds))
        longest = max(route_chain, dns_chain)
    return {
        "value": round(wall, 3),
        "unit": "s",
        "baseline": round(longest, 3),
        "ratio": round(wall / longest, 3),
        "wall_s": round(wall, 3),
        "longest_chain_s": round(longest, 3),
        "sum_probes_s": round(outcome.sum_probes_s, 3),
        "walls_s": [round(w, 3) for w in walls],
        "audit_cpu_s": [round(c, 3) for c in cpus],  # in this process, per audit
        "sandbox_cpu_s": [round(c, 3) for c in sandbox_cpus],  # the servers' process, per audit
        "route_chain_s": round(route_chain, 3),
        "dns_tls_chain_s": round(dns_chain, 3),
        "requests": outcome.requests,
        "findings": len(outcome.evaluation.findings),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        **exposure,
    }


def run(args: list[str]) -> list[dict]:
    setup_django()
    from audits.facts import RouteSpec, SiteDeclaration

    site = SiteDeclaration(
        domain="bench-store.test",
        canonical="www",
        routes=[
            RouteSpec(name=n, path=p, kind="api" if p.startswith("/api/") else "page")
            for n, p in zip(ROUTE_NAMES, ROUTES, strict=True)
        ],
    )
    figures = measure(scenario(), site, chain_route=ROUTE_NAMES.index("cart"))
    return [
        {
            "name": "audit",
            **figures,
            "hosts": 5,
            "routes": len(ROUTES),
            "samples": SAMPLES,
            "latency_ms": LATENCY_MS,
            "goal": "ratio <= 1.5",
        }
    ]
