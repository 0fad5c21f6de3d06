"""Statements for the hottest write paths, compiled once and run on the driver's cursor.

A one-row statement through SQLAlchemy Core costs ~100 µs of Python (coercion, cache key,
result set-up) against ~10 µs in the driver. The paths that run once per sale or per event
(the event log, the sale itself) use :class:`Prepared`: a Core statement compiled once per
dialect to its SQL string and parameter order, then executed straight on the DB-API cursor.
Parameters are bound by name; the caller passes values the driver takes as they are
(:func:`db_time` for timestamps).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler


class _Plan:
    """A statement compiled for one dialect, and how to lay out its parameters."""

    __slots__ = ("constants", "pick", "positional", "sql")

    def __init__(self, sql: str, order: tuple[str, ...] | None, constants: dict[str, Any]):
        self.sql = sql
        # values written into the statement (literals); None for the caller's placeholders
        self.constants = constants
        self.positional = order is not None  # sqlite3 takes a tuple, psycopg a mapping
        names = order or ()
        if len(names) == 1:
            only = names[0]
            self.pick: Callable[[dict[str, Any]], tuple[Any, ...]] = lambda m: (m[only],)
        else:
            self.pick = itemgetter(*names) if names else (lambda m: ())

    def args(self, params: dict[str, Any]) -> Any:
        merged = {**self.constants, **params}
        return self.pick(merged) if self.positional else merged


class Prepared:
    """One Core statement, compiled once per dialect, run on the raw cursor."""

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._plans: dict[str, _Plan] = {}

    def _plan(self, conn: Connection) -> _Plan:
        plan = self._plans.get(conn.dialect.name)
        if plan is None:
            compiled = self.statement.compile(dialect=conn.dialect)
            assert isinstance(compiled, SQLCompiler)  # noqa: S101 - a SQL statement compiles so
            order = tuple(compiled.positiontup or ()) if compiled.positional else None
            # constants written into the statement (literal values) travel as parameters too
            constants = dict(compiled.params)
            plan = _Plan(str(compiled), order, constants)
            self._plans[conn.dialect.name] = plan
        return plan

    def run(self, conn: Connection, **params: Any) -> Any:
        """Execute with ``params`` inside the connection's transaction; the driver cursor.

        The caller reads what it needs (``fetchone``, ``rowcount``) and closes the cursor.
        """
        plan = self._plan(conn)
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        cursor.execute(plan.sql, plan.args(params))
        return cursor

    def one(self, conn: Connection, **params: Any) -> Any:
        """The first row (a tuple) or None."""
        cursor = self.run(conn, **params)
        try:
            return cursor.fetchone()
        finally:
            cursor.close()

    def count(self, conn: Connection, **params: Any) -> int:
        """The number of rows the statement changed."""
        cursor = self.run(conn, **params)
        try:
            return int(cursor.rowcount)
        finally:
            cursor.close()

    def many(self, conn: Connection, rows: list[dict[str, Any]]) -> None:
        """``executemany`` of the statement over ``rows`` (for small explicit lists)."""
        plan = self._plan(conn)
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.executemany(plan.sql, [plan.args(r) for r in rows])
        finally:
            cursor.close()


def db_time(conn: Connection, value: dt.datetime) -> Any:
    """A timestamp as the driver should receive it (what ``UTCDateTime`` would bind)."""
    if value.tzinfo is None:
        raise ValueError(f"timestamps must be timezone-aware datetimes, got {value!r}")
    utc = value.astimezone(dt.UTC)
    if conn.dialect.name == "sqlite":  # SQLAlchemy's layout, always with microseconds
        return utc.replace(tzinfo=None).isoformat(" ", timespec="microseconds")
    return utc


def db_date(conn: Connection, value: dt.date) -> Any:
    """A date as the driver should receive it (SQLite stores ISO text)."""
    return value.isoformat() if conn.dialect.name == "sqlite" else value


def db_bool(conn: Connection, value: bool) -> Any:
    return int(value) if conn.dialect.name == "sqlite" else value


def time_from_db(value: Any) -> dt.datetime | None:
    """A timestamp read through the raw cursor, as an aware UTC datetime."""
    if value is None:
        return None
    if isinstance(value, str):  # SQLite hands back the stored text
        value = dt.datetime.fromisoformat(value)
    stamp: dt.datetime = value
    return stamp.replace(tzinfo=dt.UTC) if stamp.tzinfo is None else stamp.astimezone(dt.UTC)


def date_from_db(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))
