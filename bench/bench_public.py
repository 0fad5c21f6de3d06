"""Benchmark: public verification over HTTP, as phones hit it (wrk, 32 connections).

On a SQLite database of 1,000,000 units, ``unitrace`` runs under uvicorn (one process,
uvloop + httptools, access log off, as behind a logging proxy) and wrk asks for random
existing codes, each request from its own client address (X-Forwarded-For from the
trusted local proxy), so the per-client rate limits see consumers, not one flood.

Rates are measured at saturation (every connection sends its next request as soon as the
answer arrives), and p99 both at saturation and at the target loads (5,000 JSON and 2,500 page
requests/s offered, paced by the script). Baseline, in the same run and on the same file:
a bare Starlette endpoint running the same lookup statement with the same server settings.
Then an enumeration attack (random codes from one address) runs alongside the consumers:
their p99 is compared with their p99 alone. Every figure includes the scan-log write (the
server's writer thread).

Needs ``wrk`` (``apt-get install wrk``); the script installs it when it can.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _common import released_batch, sqlite_runtime
from unitrace.services.serialization import commission_units, iter_commissioned_codes

UNITS = int(os.environ.get("UNITRACE_BENCH_UNITS", "1000000"))
SAMPLE = 100_000
DURATION = os.environ.get("UNITRACE_BENCH_DURATION", "10s")
CONNECTIONS = 32
HERE = Path(__file__).parent
WRK = HERE / "wrk"

WORKERS = int(os.environ.get("UNITRACE_BENCH_WORKERS", "2"))  # one per core here
JSON_RATE = 5_000  # the targets: p99 at this offered load
HTML_RATE = 2_500
WRK_THREADS = int(os.environ.get("UNITRACE_BENCH_WRK_THREADS", "2"))

BARE_APP = """
import json, os, sqlite3
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route
from unitrace.storage.public import _LOOKUP

SQL = str(_LOOKUP)
db = sqlite3.connect(os.environ["BENCH_DB"], check_same_thread=False)

async def lookup(request):
    row = db.execute(SQL.replace(":code", "?"), (request.path_params["code"],)).fetchone()
    body = json.dumps({"found": row is not None, "disposition": row[3] if row else None})
    return Response(body, 200 if row else 404, media_type="application/json")

app = Starlette(routes=[Route("/{code}", lookup)])
"""

UNITRACE_APP = """
import os
from unitrace.config import Settings
from unitrace.web.app import create_app

app = create_app(Settings(database_url="sqlite:///" + os.environ["BENCH_DB"],
                          data_dir=os.environ["BENCH_DATA"], access_log=False))
"""


def _ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    root = [] if os.geteuid() == 0 else ["sudo"]
    subprocess.run([*root, "apt-get", "update", "-qq"], check=False)  # noqa: S603 - fixed args
    subprocess.run([*root, "apt-get", "install", "-y", "-qq", "wrk"], check=False)  # noqa: S603
    found = shutil.which("wrk")
    if not found:
        sys.exit("wrk is needed for this benchmark: apt-get install wrk")
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``source`` (defining ``app``) under uvicorn, as ``unitrace serve`` runs it."""

    def __init__(self, name: str, source: str, folder: Path, env: dict[str, str]) -> None:
        self.port = _free_port()
        (folder / f"{name}.py").write_text(source)
        self.proc = subprocess.Popen(  # noqa: S603 - our own server
            [
                sys.executable,
                "-m",
                "uvicorn",
                f"{name}:app",
                "--app-dir",
                str(folder),
                "--port",
                str(self.port),
                "--workers",
                str(WORKERS),
                "--log-level",
                "warning",
                "--no-access-log",
                "--proxy-headers",
                "--forwarded-allow-ips",
                "127.0.0.1",
                "--loop",
                "uvloop",
                "--http",
                "httptools",
            ],
            env={**os.environ, **env},
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                time.sleep(1.0 if WORKERS > 1 else 0)  # let every worker come up
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("the server did not start")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.proc.terminate()  # SIGTERM: uvicorn shuts down, the scan log is written
        self.proc.wait(timeout=60)


def wrk(
    url: str, script: str, *, connections: int = CONNECTIONS, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    return subprocess.Popen(  # noqa: S603 - wrk, fixed arguments
        [
            _ensure_wrk(),
            f"-t{WRK_THREADS}",
            f"-c{connections}",
            f"-d{DURATION}",
            "--latency",
            "-s",
            str(WRK / script),
            url,
        ],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


def figures(proc: subprocess.Popen[str]) -> tuple[float, float]:
    """(requests/s, p99 in ms) from wrk's report."""
    out, _ = proc.communicate()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
    p99 = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    return rps, p99


def run(url: str, script: str, **kw: object) -> tuple[float, float]:
    return figures(wrk(url, script, **kw))  # type: ignore[arg-type]


def main() -> None:
    _ensure_wrk()
    with sqlite_runtime() as (rt, tmp):
        principal, batch = released_batch(rt)
        started = time.perf_counter()
        result = commission_units(rt, principal, batch_id=batch.id, quantity=UNITS)
        codes = list(iter_commissioned_codes(rt, principal, event_id=result.event_id))
        print(f"units={UNITS:,} commissioned in {time.perf_counter() - started:.1f} s")
        codes_file = tmp / "codes.txt"
        codes_file.write_text("\n".join(random.sample(codes, min(SAMPLE, len(codes)))) + "\n")
        rt.close()
        db = str(tmp / "bench.db")
        consumers_json = {"CODES": str(codes_file), "ACCEPT": "application/json"}
        consumers_html = {"CODES": str(codes_file), "ACCEPT": "text/html"}

        env = {"BENCH_DB": db, "BENCH_DATA": str(tmp / "data")}
        bare = Server("bare_app", BARE_APP, tmp, env)
        try:
            run(bare.url, "scan.lua", env=consumers_json)  # warm-up
            bare_rps, bare_p99 = run(bare.url, "scan.lua", env=consumers_json)
        finally:
            bare.stop()

        server = Server("unitrace_app", UNITRACE_APP, tmp, env)
        try:
            run(server.url, "scan.lua", env=consumers_json)  # warm-up: caches, page cache
            json_rps, json_p99 = run(server.url, "scan.lua", env=consumers_json)
            html_rps, html_p99 = run(server.url, "scan.lua", env=consumers_html)
            paced = {"RATE": str(JSON_RATE), "CONNECTIONS": str(CONNECTIONS)}
            json_paced_rps, json_paced_p99 = run(server.url, "scan.lua", env=consumers_json | paced)
            paced = {"RATE": str(HTML_RATE), "CONNECTIONS": str(CONNECTIONS)}
            html_paced_rps, html_paced_p99 = run(server.url, "scan.lua", env=consumers_html | paced)
            half = CONNECTIONS // 2
            _, calm_p99 = run(server.url, "scan.lua", connections=half, env=consumers_json)
            attack = wrk(server.url, "enumerate.lua", connections=half)
            legit = wrk(server.url, "scan.lua", connections=half, env=consumers_json)
            _, attacked_p99 = figures(legit)
            attack_rps, _ = figures(attack)
        finally:
            server.stop()
        import sqlite3

        with sqlite3.connect(db) as conn:
            logged = conn.execute("SELECT count(*) FROM public_scans").fetchone()[0]

    print(
        f"wrk: {CONNECTIONS} connections, {DURATION}, random existing codes, {UNITS:,} units; "
        f"both servers: uvicorn, {WORKERS} worker process(es)"
    )
    print(f"bare_starlette_rps={bare_rps:,.0f}")
    print(f"bare_starlette_p99_ms={bare_p99:.1f}")
    print(f"verify_json_rps={json_rps:,.0f}")
    print(f"verify_json_p99_ms={json_p99:.1f}")
    print(f"verify_html_rps={html_rps:,.0f}")
    print(f"verify_html_p99_ms={html_p99:.1f}")
    print(f"verify_json_vs_bare={bare_rps / json_rps:.2f}")
    print(f"verify_json_p99_ms_at_{JSON_RATE}_rps={json_paced_p99:.1f}")
    print(f"verify_json_served_rps_at_{JSON_RATE}_rps={json_paced_rps:,.0f}")
    print(f"verify_html_p99_ms_at_{HTML_RATE}_rps={html_paced_p99:.1f}")
    print(f"verify_html_served_rps_at_{HTML_RATE}_rps={html_paced_rps:,.0f}")
    print(f"legit_p99_ms_alone={calm_p99:.1f} (16 connections)")
    print(
        f"legit_p99_ms_under_enumeration={attacked_p99:.1f} "
        f"(attacker: {attack_rps:,.0f} req/s, all 429)"
    )
    print(f"legit_p99_under_attack_vs_alone={attacked_p99 / calm_p99:.2f}")
    print(f"scans_logged={logged:,}")


if __name__ == "__main__":
    main()
