"""``python -m bench NAME [--json]`` or ``python -m bench all``.

Each benchmark is a module in this package with ``run(args) -> list[dict]``; each
dict carries at least ``name``, ``value``, ``unit``, ``baseline`` and ``ratio``.
Register a new one with one line in ``BENCHMARKS``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
import sys
import time

BENCHMARKS: dict[str, str] = {
    "audit": "bench.audit",
    "audit_large": "bench.audit_large",
    "peers": "bench.peers",
    "monitoring": "bench.monitoring",
    "monitoring_scale": "bench.monitoring_scale",
    "rollups": "bench.rollups",
    "dashboard": "bench.dashboard",
    "reports": "bench.reports",
    "first_verdict": "bench.first_verdict",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("name", choices=[*BENCHMARKS, "all"])
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    args, rest = parser.parse_known_args(argv)
    if args.json:
        # stdout carries one JSON object per line: the product's own logs (stdout) stay quiet.
        os.environ.setdefault("LOG_LEVEL", "WARNING")
    if args.name == "all":
        # Each benchmark in its own process: they configure Django (database, settings)
        # differently, and a process can only be set up once.
        status = 0
        seconds: dict[str, float] = {}
        started = time.perf_counter()
        for name in BENCHMARKS:
            command = [sys.executable, "-m", "bench", name, *(["--json"] if args.json else []), *rest]
            began = time.perf_counter()
            status = max(status, subprocess.run(command, check=False).returncode)
            seconds[name] = round(time.perf_counter() - began, 1)
        total = round(time.perf_counter() - started, 1)
        # The run's own length (goal: under ten minutes with the data sets built), per benchmark.
        summary = {"name": "all", "value": total, "unit": "s", "baseline": None, "ratio": None}
        summary |= {"seconds": seconds, "failed": status != 0, "goals": {"value": "< 600"}}
        if args.json:
            print(json.dumps(summary), flush=True)
        else:
            print(f"all: {total} s ({', '.join(f'{k} {v} s' for k, v in seconds.items())})")
        return status
    for name in [args.name]:
        module = importlib.import_module(BENCHMARKS[name])
        for result in module.run(rest):
            if args.json:
                print(json.dumps(result), flush=True)
            else:
                print(f"{result['name']}: {result['value']} {result['unit']} (ratio {result['ratio']})")
                for key, value in result.items():
                    if key not in ("name", "value", "unit", "ratio"):
                        print(f"  {key}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
