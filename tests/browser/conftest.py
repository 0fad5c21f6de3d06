"""Browser fixtures: a real uvicorn server on demo data, and Debian's Chromium via Playwright.

The server and the browser start once per session (on SQLite only) to keep the suite
fast; every test gets a fresh browser context, so cookies never leak between tests.
Screenshots go to ``test-artifacts/screenshots/`` (kept by CI as artifacts).
"""

from __future__ import annotations

import datetime as dt
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from unitrace.adapters.clock import FixedClock
from unitrace.config import Settings
from unitrace.domain.model import Principal
from unitrace.services import access
from unitrace.services.demo import DEMO_LOGINS, DEMO_PASSWORD, load_demo
from unitrace.services.runtime import Runtime, build_runtime
from unitrace.web.app import create_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_MISSING = (
    "Chromium not found: install it with `apt-get install chromium` to run the browser tests"
)
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
BRAND_ADMIN = DEMO_LOGINS[0].email
NOW = dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.UTC)  # as in tests/conftest.py


@pytest.fixture(scope="session", autouse=True)
def _require_chromium() -> None:
    if not CHROMIUM.is_file():
        pytest.skip(CHROMIUM_MISSING)


@pytest.fixture(scope="session")
def demo_rt(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    """A runtime on a migrated SQLite copy holding the demo market (50 units per batch)."""
    base = tmp_path_factory.mktemp("browser")
    shutil.copy(sqlite_template, base / "unitrace.db")
    settings = Settings(
        database_url=f"sqlite:///{base / 'unitrace.db'}",
        data_dir=base / "data",
        resolver_base_url="https://id.example.test",
    )
    runtime = build_runtime(settings, clock=FixedClock(NOW))
    load_demo(runtime, units_per_batch=50)
    yield runtime
    runtime.close()


@pytest.fixture(scope="session")
def demo_brand(demo_rt: Runtime) -> Principal:
    """The demo brand's admin, for arranging data through the services."""
    user = access.authenticate_password(demo_rt, email=BRAND_ADMIN, password=DEMO_PASSWORD)
    return access.principal_for_user(user)


@pytest.fixture(scope="session")
def base_url(demo_rt: Runtime) -> Iterator[str]:
    """A real HTTP server (uvicorn in a thread) on a free loopback port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(create_app(runtime=demo_rt), log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _context(browser: Browser, base_url: str, *, phone: bool) -> BrowserContext:
    context = browser.new_context(
        base_url=base_url,
        viewport=PHONE if phone else DESKTOP,
        is_mobile=phone,
        has_touch=phone,
        device_scale_factor=1,
    )
    context.set_default_timeout(10_000)
    return context


@pytest.fixture
def page(browser: Browser, base_url: str) -> Iterator[Page]:
    """A desktop-sized page (1280 wide) in a fresh context."""
    context = _context(browser, base_url, phone=False)
    yield context.new_page()
    context.close()


@pytest.fixture
def phone(browser: Browser, base_url: str) -> Iterator[Page]:
    """A phone-sized page (390×844) in a fresh context."""
    context = _context(browser, base_url, phone=True)
    yield context.new_page()
    context.close()


@pytest.fixture
def screenshot() -> Callable[[Page, str], Path]:
    """``screenshot(page, name)`` saves a full-page PNG under test-artifacts/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def save(target: Page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        target.screenshot(path=str(path), full_page=True)
        return path

    return save
