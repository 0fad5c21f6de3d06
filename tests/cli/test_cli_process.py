"""The installed command as a real process: ``python -m unitrace`` on a fresh SQLite file."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from unitrace.services.demo import DEMO_LOGINS, DEMO_PASSWORD

DEMO_ORG = DEMO_LOGINS[0].organization


def _env(tmp_path: Path, database: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("UNITRACE_")}
    env |= {"UNITRACE_DATABASE_URL": f"sqlite:///{database}", "UNITRACE_DATA_DIR": str(tmp_path)}
    return env


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter and module, fixed arguments
        [sys.executable, "-m", "unitrace", *args],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_a_fresh_install_migrates_loads_the_demo_and_finds_a_unit(tmp_path: Path) -> None:
    env = _env(tmp_path, tmp_path / "fresh.db")

    upgrade = _run(env, "db", "upgrade")
    demo = _run(env, "demo", "load", "--if-empty", "--units-per-batch", "5")
    listed = _run(env, "units", "list", "--org", DEMO_ORG, "--json")

    assert upgrade.returncode == 0, upgrade.stderr
    assert "Upgraded: (empty database) → " in upgrade.stdout
    assert demo.returncode == 0, demo.stderr
    assert "Demo data loaded: 10 serialized units." in demo.stdout
    assert DEMO_PASSWORD in demo.stdout
    page = json.loads(listed.stdout)
    assert page["total"] == 10
    code = page["items"][0]["code"]
    shown = _run(env, "units", "show", code, "--org", DEMO_ORG, "--json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["code"] == code
    again = _run(env, "demo", "load", "--if-empty")
    assert "The database already has data; demo not loaded." in again.stdout
    assert _run(env, "db", "upgrade").returncode == 0


def test_errors_are_one_line_and_debug_shows_the_traceback(
    tmp_path: Path, sqlite_template: Path
) -> None:
    database = tmp_path / "migrated.db"
    shutil.copy(sqlite_template, database)
    env = _env(tmp_path, database)

    plain = _run(env, "units", "list", "--org", "Nobody")
    debug = _run(env, "--debug", "units", "list", "--org", "Nobody")

    assert (plain.returncode, plain.stdout) == (1, "")
    assert plain.stderr == "Error: no organization is named 'Nobody'\n"
    assert debug.returncode == 1
    assert "Traceback (most recent call last)" in debug.stderr
    assert "unitrace.errors.NotFoundError: no organization is named 'Nobody'" in debug.stderr


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_serve_prints_the_urls_and_demo_logins_then_serves_the_app(tmp_path: Path) -> None:
    env = _env(tmp_path, tmp_path / "served.db")
    assert _run(env, "db", "upgrade").returncode == 0
    assert _run(env, "demo", "load", "--units-per-batch", "1").returncode == 0
    port = _free_port()
    server = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "unitrace", "serve", "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        status = _wait_for(f"http://127.0.0.1:{port}/docs")
    finally:
        server.terminate()
        stdout, _ = server.communicate(timeout=30)

    assert status == 200
    assert f"App:      http://127.0.0.1:{port}/" in stdout
    assert f"API docs: http://127.0.0.1:{port}/docs" in stdout
    assert all(login.email in stdout for login in DEMO_LOGINS)
    assert DEMO_PASSWORD in stdout


def _wait_for(url: str, seconds: float = 30) -> int | None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            return httpx.get(url, timeout=1).status_code
        except httpx.TransportError:
            time.sleep(0.1)
    return None
