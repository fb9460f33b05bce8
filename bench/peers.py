"""``python -m bench peers``: testssl.sh, sslyze and checkdmarc beside our own checks.

The sandbox scenario ``peers_lab`` stages TLS hosts (a valid certificate, expired, wrong
host, self-signed, leaf without its intermediate, TLS 1.0 allowed, TLS 1.3 only) and mail
zones (good, p=none, +all without DMARC, SPF over 10 lookups, two SPF records with a bad
DMARC policy, nothing at all). In one run, each peer answers its questions about them
and so does the matching subset of our audit:

* testssl.sh and sslyze against our TLS stage (``tls.probe_tls`` on the same hosts):
  TLS 1.0, 1.1 and 1.3 accepted, and whether the certificate is trusted for the name;
* checkdmarc against our email probe (``probe_email`` on the same domains): SPF and
  DMARC found, valid, the SPF ``all`` qualifier, its DNS lookups, the DMARC policy, MX.

Each entry of ``peers`` gives the tool, the questions, its seconds (the process as a
user would run it), ours (the same questions in this process), and every answer that
differs. A peer that is not installed is listed with ``missing`` (its reason) instead of
failing the benchmark. The Python peers are installed from ``requirements/peers.txt``
into virtualenvs of their own under ``var/peers/``; testssl.sh is the Debian package.
They reach only loopback: the sandbox's DNS port is given to checkdmarc through its
Python API (its CLI takes nameserver addresses on port 53 only), and the Python peers
run under an audit hook that refuses any socket to an address outside 127.0.0.0/8.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

from bench.audit import sandbox_process, setup_django

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "sandbox" / "scenarios" / "peers_lab.yaml"
REQUIREMENTS = ROOT / "requirements" / "peers.txt"
PEERS_DIR = ROOT / "var" / "peers"
TLS_QUESTIONS = ["TLS 1.0 accepted", "TLS 1.1 accepted", "TLS 1.3 accepted", "certificate trusted"]
MAIL_QUESTIONS = [
    "SPF found",
    "SPF valid",
    "SPF all qualifier",
    "SPF DNS lookups",
    "DMARC found",
    "DMARC valid",
    "DMARC policy",
    "MX hosts",
]
PEER_TIMEOUT_S = 300

# Run inside a peer's virtualenv: refuse sockets to anything but loopback, then run the
# peer. argv: mode ("sslyze" or "checkdmarc"), then the mode's arguments.
DRIVER = r"""
import ipaddress, json, sys, time

def loopback_only(event, args):
    if event in ("socket.connect", "socket.sendto", "socket.sendmsg") and args:
        address = args[-1] if event != "socket.connect" else args[1]
        host = address[0] if isinstance(address, tuple) else None
        if host is not None:
            try:
                if not ipaddress.ip_address(host).is_loopback:
                    raise PermissionError(f"peer benchmark: {host} is not loopback")
            except ValueError:
                raise PermissionError(f"peer benchmark: {host} is not an address")

sys.addaudithook(loopback_only)
mode, rest = sys.argv[1], sys.argv[2:]
if mode == "sslyze":
    from sslyze.__main__ import main
    sys.argv = ["sslyze", *rest]
    main()
else:
    import dns.nameserver, checkdmarc
    ip, port, domains = rest[0], int(rest[1]), rest[2:]
    started = time.perf_counter()
    results = checkdmarc.check_domains(
        domains, nameservers=[dns.nameserver.Do53Nameserver(ip, port)], timeout=2.0
    )
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "results": json.loads(checkdmarc.results_to_json(results))}))
"""


# --- the peers' installation ---------------------------------------------------------


def requirement_lines(path: Path = REQUIREMENTS) -> list[str]:
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line]


def python_peer(requirement: str, command: str) -> tuple[Path | None, str]:
    """The interpreter of a virtualenv holding ``requirement`` (created on first use),
    or None and the reason it could not be installed."""
    name = requirement.split("==", 1)[0]
    venv = PEERS_DIR / name
    python = venv / "bin" / "python"
    stamp = venv / "installed.txt"
    if stamp.exists() and stamp.read_text().strip() == requirement and (venv / "bin" / command).exists():
        return python, ""
    shutil.rmtree(venv, ignore_errors=True)
    steps = [
        [sys.executable, "-m", "venv", str(venv)],
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", requirement],
    ]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
            return None, f"{requirement} could not be installed into {venv}: {tail[0]}"
    stamp.write_text(requirement + "\n")
    return python, ""


def _peer_process(command: list[str]) -> subprocess.CompletedProcess:
    """Run a peer; one that hangs is stopped after ``PEER_TIMEOUT_S`` and reported."""
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=PEER_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(command, -1, "", f"stopped after {PEER_TIMEOUT_S} s")


def testssl_command() -> str | None:
    return shutil.which("testssl") or shutil.which("testssl.sh")


# --- normalising each tool's answers (pure) ------------------------------------------


def _offered(finding: str | None) -> bool | None:
    if not finding:
        return None
    text = finding.lower()
    if text.startswith("not offered"):
        return False
    if text.startswith("offered"):
        return True
    return None


def testssl_answers(entries: list[dict]) -> dict[str, object]:
    """testssl.sh's JSON (``--jsonfile``) for one host → our questions."""
    by_id: dict[str, dict] = {}
    for entry in entries:
        key = entry.get("id", "").split(" <", 1)[0]  # "cert_trust <hostCert#1>": the first cert
        by_id.setdefault(key, entry)

    def finding(key: str) -> str:
        return str(by_id.get(key, {}).get("finding", ""))

    problems = []
    if not finding("cert_chain_of_trust").lower().startswith("passed"):
        problems.append(f"chain of trust: {finding('cert_chain_of_trust') or 'not tested'}")
    if "expired" in finding("cert_expirationStatus").lower():
        problems.append(f"expiration: {finding('cert_expirationStatus')}")
    trust = finding("cert_trust")
    if not trust.lower().startswith("ok"):
        problems.append(f"name: {trust or 'not tested'}")
    return {
        "TLS 1.0 accepted": _offered(finding("TLS1")),
        "TLS 1.1 accepted": _offered(finding("TLS1_1")),
        "TLS 1.3 accepted": _offered(finding("TLS1_3")),
        "certificate trusted": None if "cert_chain_of_trust" not in by_id else not problems,
        "why": "; ".join(problems),
    }


def sslyze_answers(scan: dict) -> dict[str, object]:
    """One entry of sslyze's ``server_scan_results`` → our questions."""
    result = scan.get("scan_result") or {}

    def supported(key: str) -> bool | None:
        attempt = result.get(key) or {}
        if attempt.get("status") != "COMPLETED" or not attempt.get("result"):
            return None
        return bool(attempt["result"].get("is_tls_version_supported"))

    trusted, why = None, ""
    info = result.get("certificate_info") or {}
    if info.get("status") == "COMPLETED" and info.get("result"):
        deployment = info["result"]["certificate_deployments"][0]
        custom = [
            p
            for p in deployment.get("path_validation_results", [])
            if p.get("trust_store", {}).get("name") == "Supplied CA file"
        ]
        if custom:
            trusted = bool(custom[0].get("was_validation_successful"))
            why = custom[0].get("validation_error") or ""
    elif info.get("error_reason"):
        why = str(info["error_reason"])
    return {
        "TLS 1.0 accepted": supported("tls_1_0_cipher_suites"),
        "TLS 1.1 accepted": supported("tls_1_1_cipher_suites"),
        "TLS 1.3 accepted": supported("tls_1_3_cipher_suites"),
        "certificate trusted": trusted,
        "why": why,
    }


def checkdmarc_answers(result: dict) -> dict[str, object]:
    """One domain of checkdmarc's JSON → our mail questions."""
    spf = result.get("spf") or {}
    dmarc = result.get("dmarc") or {}
    mx = result.get("mx") or {}
    parsed = spf.get("parsed") or {}
    all_mechanism = {"pass": "+", "fail": "-", "softfail": "~", "neutral": "?"}.get(
        str(parsed.get("all", "")), ""
    )
    tags = dmarc.get("tags") or {}
    policy = (tags.get("p") or {}).get("value", "") if dmarc.get("valid") else ""
    return {
        "SPF found": bool(spf.get("record")),
        "SPF valid": bool(spf.get("valid")),
        "SPF all qualifier": all_mechanism if spf.get("valid") else "",
        "SPF DNS lookups": spf.get("dns_lookups") if spf.get("valid") else None,
        "DMARC found": bool(dmarc.get("record")),
        "DMARC valid": bool(dmarc.get("valid")),
        "DMARC policy": policy,
        "MX hosts": sorted(h.get("hostname", "").rstrip(".") for h in mx.get("hosts", [])),
        "why": "; ".join(str(x) for x in (spf.get("error"), dmarc.get("error")) if x),
    }


def our_tls_answers(facts) -> dict[str, object]:
    """Our ``TlsFacts`` → the same questions."""
    trusted = None
    if facts.unavailable is None:
        trusted = bool(facts.handshake_ok and not facts.verify_errors and not facts.error)
    return {
        "TLS 1.0 accepted": facts.tls10,
        "TLS 1.1 accepted": facts.tls11,
        "TLS 1.3 accepted": facts.tls13,
        "certificate trusted": trusted,
        "why": "; ".join(x for x in (facts.error, facts.protocol_reason) if x),
    }


def our_mail_answers(facts) -> dict[str, object]:
    """Our ``EmailFacts`` → the same questions."""
    spf, dmarc, mx = facts.spf, facts.dmarc, facts.mx
    spf_valid = bool(spf and len(spf.records) == 1 and not spf.error and spf.lookup_count <= 10)
    dmarc_valid = bool(dmarc and len(dmarc.records) == 1 and not dmarc.errors and not dmarc.inherited_from)
    return {
        "SPF found": bool(spf and spf.records),
        "SPF valid": spf_valid,
        "SPF all qualifier": spf.all_qualifier if spf and spf_valid else "",
        "SPF DNS lookups": spf.lookup_count if spf and spf_valid else None,
        "DMARC found": bool(dmarc and dmarc.records and not dmarc.inherited_from),
        "DMARC valid": dmarc_valid,
        "DMARC policy": dmarc.policy if dmarc and dmarc_valid else "",
        "MX hosts": sorted(h.split()[-1].rstrip(".") for h in (mx.hosts if mx else [])),
        "why": "; ".join(
            [
                *(x for x in [spf.error if spf else ""] if x),
                *([f"{len(spf.records)} SPF records"] if spf and len(spf.records) > 1 else []),
                *([f"{spf.lookup_count} DNS lookups (limit 10)"] if spf and spf.lookup_count > 10 else []),
                *(dmarc.errors if dmarc else []),
            ]
        ),
    }


def differences(
    tool: str, questions: list[str], theirs: dict[str, dict], ours: dict[str, dict]
) -> list[dict[str, object]]:
    """Every (subject, question) where the tool and we answer differently."""
    found = []
    for subject in sorted(set(theirs) | set(ours)):
        a, b = theirs.get(subject, {}), ours.get(subject, {})
        for question in questions:
            if a.get(question) != b.get(question):
                found.append(
                    {
                        "subject": subject,
                        "question": question,
                        tool: a.get(question),
                        "ours": b.get(question),
                        f"{tool}_why": a.get("why", ""),
                        "ours_why": b.get("why", ""),
                    }
                )
    return found


# --- running the peers -----------------------------------------------------------------


def _https_port(sandbox_settings: dict) -> int:
    mapping = dict(pair.split(":") for pair in sandbox_settings["LAUNCHREADY_PORT_MAP"].split(","))
    return int(mapping["443"])


def run_testssl(hosts: dict[str, str], port: int, ca_file: str, workdir: Path) -> dict:
    command = testssl_command()
    if command is None:
        return {"missing": "testssl.sh is not installed (Debian: apt-get install -y testssl.sh)"}

    def one(host: str) -> tuple[str, list[dict], str]:
        out = workdir / f"testssl-{host}.json"
        done = _peer_process(
            [
                command,
                *("--quiet", "--color", "0", "--warnings", "off", "--nodns", "none"),
                *("--ip", hosts[host], "--add-ca", ca_file, "--jsonfile", str(out), "-p", "-S"),
                f"{host}:{port}",
            ],
        )
        entries = json.loads(out.read_text()) if out.exists() and out.stat().st_size else []
        return host, entries, "" if entries else (done.stderr or done.stdout).strip()[-300:]

    # One process per host, all at once: testssl.sh scans one host per process.
    started = time.perf_counter()
    with ThreadPoolExecutor(len(hosts)) as pool:
        scans = list(pool.map(one, hosts))
    seconds = time.perf_counter() - started
    failed = {host: error for host, entries, error in scans if not entries}
    return {
        "seconds": seconds,
        "answers": {host: testssl_answers(entries) for host, entries, _ in scans if entries},
        "errors": failed,
    }


def run_sslyze(hosts: dict[str, str], port: int, ca_file: str, workdir: Path) -> dict:
    python, reason = python_peer(_requirement("sslyze"), "sslyze")
    if python is None:
        return {"missing": reason}
    out = workdir / "sslyze.json"
    started = time.perf_counter()
    done = _peer_process(
        [
            str(python),
            "-c",
            DRIVER,
            "sslyze",
            "--quiet",
            f"--json_out={out}",
            *("--certinfo", f"--certinfo_ca_file={ca_file}"),
            *("--tlsv1", "--tlsv1_1", "--tlsv1_3"),
            *(f"{host}:{port}{{{address}}}" for host, address in hosts.items()),
        ],
    )
    seconds = time.perf_counter() - started
    if not out.exists():
        return {"seconds": seconds, "answers": {}, "errors": {"*": (done.stderr or done.stdout)[-300:]}}
    report = json.loads(out.read_text())
    return {
        "seconds": seconds,
        "answers": {
            s["server_location"]["hostname"]: sslyze_answers(s) for s in report["server_scan_results"]
        },
        "errors": {},
    }


def run_checkdmarc(domains: list[str], dns_server: str) -> dict:
    python, reason = python_peer(_requirement("checkdmarc"), "checkdmarc")
    if python is None:
        return {"missing": reason}
    ip, port = dns_server.rsplit(":", 1)
    started = time.perf_counter()
    done = _peer_process(
        [str(python), "-c", DRIVER, "checkdmarc", ip, port, *domains],
    )
    seconds = time.perf_counter() - started
    try:
        report = json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return {"seconds": seconds, "answers": {}, "errors": {"*": (done.stderr or done.stdout)[-300:]}}
    results = report["results"] if isinstance(report["results"], list) else [report["results"]]
    return {
        "seconds": seconds,
        "inside_seconds": report["seconds"],
        "answers": {r["domain"]: checkdmarc_answers(r) for r in results},
        "errors": {},
    }


def _requirement(name: str) -> str:
    for line in requirement_lines():
        if line.split("==", 1)[0].lower() == name:
            return line
    raise KeyError(f"{name} is not in {REQUIREMENTS}")


def _entry(
    tool: str, questions: list[str], subjects: list[str], peer: dict, ours: dict, ours_seconds: float
) -> dict:
    entry: dict[str, object] = {
        "tool": tool,
        "questions": questions,
        "subjects": subjects,
        "ours_seconds": round(ours_seconds, 3),
    }
    if "missing" in peer:
        return {**entry, "seconds": None, "missing": peer["missing"], "differences": []}
    entry["seconds"] = round(peer["seconds"], 3)
    if "inside_seconds" in peer:
        entry["seconds_without_startup"] = round(peer["inside_seconds"], 3)
    entry["ratio"] = round(peer["seconds"] / ours_seconds, 1) if ours_seconds else None
    entry["answered"] = len(peer["answers"])
    if peer["errors"]:
        entry["errors"] = peer["errors"]
    entry["differences"] = differences(tool, questions, peer["answers"], ours)
    entry["answers"] = peer["answers"]
    return entry


def run(args: list[str]) -> list[dict]:
    setup_django()
    from django.test import override_settings

    from audits.engine import default_options
    from audits.facts import SiteDeclaration
    from audits.probes import ProbeRun, tls
    from audits.probes.email import probe_email
    from launchready import net
    from sandbox import load_scenario

    data = yaml.safe_load(SCENARIO.read_text())
    declared = {h["name"] for h in data["hosts"]}
    domains = [zone for zone in data["zones"] if zone.startswith("mail-")]
    # The addresses the sandbox gives each TLS host (the peers connect to them directly).
    addresses = {h.name: h.address for h in load_scenario(str(SCENARIO)).hosts if h.name in declared}
    with (
        sandbox_process(data) as sandbox_settings,
        override_settings(**sandbox_settings),
        tempfile.TemporaryDirectory() as tmp,
    ):
        port = _https_port(sandbox_settings)
        ca_file = sandbox_settings["LAUNCHREADY_CA_BUNDLE"]
        dns_server = sandbox_settings["LAUNCHREADY_DNS_SERVERS"][0]
        config = net.NetConfig.from_settings()

        async def our_tls() -> list:
            run = ProbeRun(SiteDeclaration(domain="tls-peers.test"), options=default_options())
            return await tls.probe_tls(run, list(addresses))

        async def our_mail() -> list:
            return list(await asyncio.gather(*(probe_email(d, config=config) for d in domains)))

        asyncio.run(our_tls())  # warm imports and the resolver, as for the peers' first run
        # Ours first, then each peer, then ours again: the best of ours is the figure.
        tls_times, mail_times = [], []
        for _ in range(2):
            t0 = time.perf_counter()
            tls_facts = asyncio.run(our_tls())
            tls_times.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            mail_facts = asyncio.run(our_mail())
            mail_times.append(time.perf_counter() - t0)
            if len(tls_times) == 1:
                peers_tls = {
                    "testssl.sh": run_testssl(addresses, port, ca_file, Path(tmp)),
                    "sslyze": run_sslyze(addresses, port, ca_file, Path(tmp)),
                }
                peer_mail = run_checkdmarc(domains, dns_server)
        ours_tls = {f.host: our_tls_answers(f) for f in tls_facts}
        ours_mail = {f.domain: our_mail_answers(f) for f in mail_facts}
    entries = [
        _entry(tool, TLS_QUESTIONS, list(addresses), peer, ours_tls, min(tls_times))
        for tool, peer in peers_tls.items()
    ]
    entries.append(_entry("checkdmarc", MAIL_QUESTIONS, domains, peer_mail, ours_mail, min(mail_times)))
    measured = [e for e in entries if e["seconds"] is not None]
    ours_total = sum(e["ours_seconds"] for e in measured)
    theirs_total = sum(e["seconds"] for e in measured)
    return [
        {
            "name": "peers",
            "value": round(ours_total, 3),
            "unit": "s",
            "baseline": round(theirs_total, 3),
            "ratio": round(ours_total / theirs_total, 4) if theirs_total else None,
            "peers": entries,
            "ours": {"tls": ours_tls, "mail": ours_mail},
            "load_average": [round(x, 2) for x in os.getloadavg()],
            "note": "value: our seconds for the questions of every peer that ran; baseline: theirs",
        }
    ]
