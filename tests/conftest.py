"""Shared fixtures: real databases (a migrated SQLite file, and PostgreSQL when
``UNITRACE_TEST_POSTGRES_URL`` is set), a runtime with a fixed clock, and factories."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from unitrace.adapters.clock import FixedClock
from unitrace.adapters.files import FileStore
from unitrace.config import Settings
from unitrace.services.runtime import Runtime
from unitrace.storage import migrate
from unitrace.storage.engine import Database
from unitrace.storage.schema import metadata

settings.register_profile("ci", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci")

POSTGRES_URL = os.environ.get("UNITRACE_TEST_POSTGRES_URL")
NOW = dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.UTC)
BACKENDS = ["sqlite", *(["postgresql"] if POSTGRES_URL else [])]


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def _pg_url(url: str) -> str:
    return (
        url.replace("postgresql://", "postgresql+psycopg://", 1)
        if "+" not in url.split(":")[0]
        else url
    )


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once per session; each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    db = Database.from_url(f"sqlite:///{path}")
    migrate.upgrade(db)
    db.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A database of this worker's own on the test server, migrated once per session."""
    assert POSTGRES_URL, "UNITRACE_TEST_POSTGRES_URL is not set"
    admin_url = make_url(_pg_url(POSTGRES_URL))
    name = f"unitrace_test_{os.getpid()}_{_worker()}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    db = Database.from_url(url)
    migrate.upgrade(db)
    db.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate_all(db: Database) -> None:
    """Empty every table the test wrote to and restart every sequence it used. Only those:
    a TRUNCATE costs per table (about 140 ms for all of them, most of which a test never
    touches), a look at each table and at the sequences a few milliseconds."""
    probe = " UNION ALL ".join(
        f"SELECT '{t.name}' WHERE EXISTS (SELECT 1 FROM {t.name})"  # noqa: S608 - our names
        for t in metadata.sorted_tables
    )
    with db.transaction() as conn:
        written = list(conn.execute(text(probe)).scalars())
        if written:
            # The event log refuses TRUNCATE through its triggers; a test reset, like a DBA,
            # may switch triggers off for its own transaction.
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            conn.execute(text(f"TRUNCATE {', '.join(written)} RESTART IDENTITY CASCADE"))
        # ids taken by rows rolled back or deleted: the next test starts from 1 again
        conn.execute(
            text(
                "SELECT setval(format('%I.%I', schemaname, sequencename), 1, false) "
                "FROM pg_sequences WHERE last_value IS NOT NULL"
            )
        )


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of a freshly migrated, empty database for one test, on each backend."""
    if request.param == "sqlite":
        path = tmp_path / "unitrace.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    url: str = request.getfixturevalue("postgres_database")
    yield url
    db = Database.from_url(url)
    _truncate_all(db)
    db.dispose()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def app_settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=db_url,
        data_dir=tmp_path / "data",
        resolver_base_url="https://id.example.test",
        max_commission_quantity=100_000,
    )


@pytest.fixture
def rt(app_settings: Settings, clock: FixedClock) -> Iterator[Runtime]:
    runtime = Runtime(
        settings=app_settings,
        db=Database.from_url(app_settings.sqlalchemy_url),
        files=FileStore(app_settings.data_dir / "files"),
        clock=clock,
    )
    yield runtime
    runtime.close()
