"""Transactions as services open them, on a real database of each kind."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text
from sqlalchemy.exc import InvalidRequestError

from unitrace.services.runtime import Runtime


def _count(rt: Runtime) -> int:
    with rt.db.read() as conn:
        return int(conn.execute(text("SELECT count(*) FROM organizations")).scalar_one())


def _insert(conn: object, name: str) -> None:
    conn.execute(  # type: ignore[attr-defined]
        text(
            "INSERT INTO organizations (name, kind, license_number, market, created_at) "
            "VALUES (:n, 'brand', 'L', 'CA', CURRENT_TIMESTAMP)"
        ),
        {"n": name},
    )


def _failing_write(rt: Runtime) -> None:
    with rt.db.transaction() as conn:
        _insert(conn, "dropped")
        raise RuntimeError("boom")


def _nested_write(rt: Runtime) -> None:
    with rt.db.transaction() as outer:
        _insert(outer, "outer")
        with rt.db.transaction():
            pass


def test_a_transaction_commits_at_the_end_and_rolls_back_when_it_raises(rt: Runtime) -> None:
    with rt.db.transaction() as conn:
        _insert(conn, "kept")
    with pytest.raises(RuntimeError):
        _failing_write(rt)
    assert _count(rt) == 1
    with rt.db.transaction() as conn:  # the connection is usable after a rollback
        _insert(conn, "again")
    assert _count(rt) == 2


def test_on_sqlite_a_write_opened_inside_another_fails_at_once_instead_of_waiting(
    rt: Runtime,
) -> None:
    # SQLite has one writer: a second write transaction in the same thread could only wait
    # for the first forever, so it is refused on the spot (and the outer one rolls back).
    if rt.db.dialect != "sqlite":
        pytest.skip("PostgreSQL runs independent transactions side by side")
    with pytest.raises(InvalidRequestError):
        _nested_write(rt)
    assert _count(rt) == 0


def test_concurrent_writers_from_many_threads_all_commit(rt: Runtime) -> None:
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            for i in range(10):
                with rt.db.transaction() as conn:
                    _insert(conn, f"org {n}-{i}")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert _count(rt) == 80
