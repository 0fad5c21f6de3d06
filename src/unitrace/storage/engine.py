"""Engines and transactions.

SQLite is tuned for a server: WAL, foreign keys, a busy timeout, and ``BEGIN IMMEDIATE``
for writes so two writers queue instead of failing half-way (the datasette recipe).
PostgreSQL uses a small pool. Transactions are opened by services through
:class:`Database`; a block that raises is rolled back.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import OperationalError

from unitrace.errors import DatabaseUnavailableError


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """Build the engine for ``url`` with unitrace's per-backend settings."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"check_same_thread": False},
            pool_reset_on_return=None,
        )
        _tune_sqlite(engine)
        return engine
    return create_engine(url, echo=echo, pool_size=10, max_overflow=10, pool_pre_ping=True)


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take BEGIN out of pysqlite's hands so we can say IMMEDIATE for writes.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            "PRAGMA journal_mode=WAL",
            "PRAGMA synchronous=NORMAL",
            "PRAGMA foreign_keys=ON",
            "PRAGMA busy_timeout=30000",
            "PRAGMA cache_size=-262144",  # 256 MiB page cache: bulk inserts into random-key indexes
            "PRAGMA temp_store=MEMORY",
        ):
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Straight to the driver: this runs once per transaction, on the lookup hot path.
        write = conn.get_execution_options().get("unitrace_write")
        conn.connection.driver_connection.execute(  # type: ignore[union-attr]
            "BEGIN IMMEDIATE" if write else "BEGIN DEFERRED"
        )


class Database:
    """An engine plus the two ways services open a transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # SQLite has one writer at a time; this process keeps one connection for writing and
        # hands it to one transaction at a time (other processes still queue on SQLite's own
        # lock). It saves a pool checkout and a Connection per write transaction.
        self._writer: Connection | None = None
        self._writer_lock = threading.RLock()  # re-entered, begin() says "already begun"
        self._local = threading.local()
        self._raw_readers: list[Any] = []

    @classmethod
    def from_url(cls, url: str) -> Database:
        return cls(make_engine(url))

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def _connect(self) -> Connection:
        try:
            return self.engine.connect()
        except OperationalError as exc:
            url = self.engine.url.render_as_string(hide_password=True)
            raise DatabaseUnavailableError(
                f"cannot connect to the database at {url}: {exc.orig}"
            ) from exc

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A read-write transaction: committed when the block ends, rolled back if it raises."""
        if self.engine.dialect.name != "sqlite":
            with self._connect() as conn, conn.begin():
                yield conn
            return
        with self._writer_lock:
            writer = self._writer
            if writer is None or writer.closed or writer.invalidated:
                writer = self._connect().execution_options(unitrace_write=True)
                self._writer = writer
            try:
                with writer.begin():
                    yield writer
            except BaseException:
                if writer.invalidated:  # a broken connection is not handed out again
                    self._writer = None
                raise

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only unit of work (one consistent snapshot on PostgreSQL)."""
        with self._connect() as conn, conn.begin():
            yield conn
            # nothing to commit; leaving the block ends the transaction

    @contextmanager
    def single_read(self) -> Iterator[Connection]:
        """A connection for one read-only statement, without an explicit transaction.

        For the hottest lookups only (a unit by code): a single SELECT is consistent on its
        own, and skipping BEGIN/COMMIT halves the cost of a lookup. Storage functions that
        take this connection run exactly one statement.
        """
        with self._connect() as conn:
            yield conn

    def raw_reader(self) -> Any:
        """SQLite only: this thread's own DBAPI connection, kept for the thread's life, for
        single-statement reads on the hottest path (a public scan). It skips the pool
        checkout and the Core result machinery: measured, a third of a scan's cost."""
        raw = getattr(self._local, "raw", None)
        if raw is None:
            raw = self._local.raw = self.engine.raw_connection()
            # Read pages straight from the mapped file: in WAL mode every commit by another
            # connection (the scan log's writer) empties this connection's page cache. Only
            # here: elsewhere mapped pages would count in a bulk job's resident memory.
            raw.execute("PRAGMA mmap_size=1073741824")
            with self._writer_lock:
                self._raw_readers.append(raw)
        return raw

    def dispose(self) -> None:
        with self._writer_lock:
            for raw in self._raw_readers:
                with contextlib.suppress(Exception):  # another thread's connection
                    raw.close()
            self._raw_readers.clear()
            self._local = threading.local()
            if self._writer is not None:
                self._writer.close()
                self._writer = None
        self.engine.dispose()
