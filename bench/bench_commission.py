"""Benchmark: commission 1,000,000 units through the service layer.

Prints name=value lines. The baseline, measured in the same run, is the bare minimum a
database needs for the same rows: a plain ``sqlite3`` ``executemany`` of
``(code TEXT PRIMARY KEY, batch_id INTEGER)`` rows (and plain ``COPY`` on PostgreSQL).
The last two lines are ``commission_units_per_s`` and ``commission_vs_raw_insert``.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import tempfile
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).parent))

from _common import peak_rss_mb, postgres_runtime, released_batch, sqlite_runtime, timed
from unitrace.domain.codes import generate_codes
from unitrace.services.serialization import commission_units

N = int(os.environ.get("UNITRACE_BENCH_UNITS", "1000000"))


def raw_sqlite_insert(codes: list[str], directory: Path) -> float:
    conn = sqlite3.connect(directory / "raw.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE raw (code TEXT PRIMARY KEY, batch_id INTEGER)")

    def insert() -> None:
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO raw VALUES (?, ?)", ((c, 1) for c in codes))
        conn.execute("COMMIT")

    seconds = timed(insert)
    conn.close()
    return seconds


def raw_postgres_copy(codes: list[str], url: str) -> float:
    with psycopg.connect(url.replace("+psycopg", "")) as conn:
        conn.execute("CREATE TEMPORARY TABLE raw (code text PRIMARY KEY, batch_id integer)")

        def copy() -> None:
            with conn.cursor().copy("COPY raw (code, batch_id) FROM STDIN") as cp:
                cp.write("\t1\n".join(codes) + "\t1\n")
            conn.commit()

        return timed(copy)


def bench_postgres(server_url: str) -> None:
    with postgres_runtime(server_url) as rt:
        principal, batch = released_batch(rt)
        seconds = timed(lambda: commission_units(rt, principal, batch_id=batch.id, quantity=N))
        baseline = raw_postgres_copy(generate_codes(N), rt.settings.sqlalchemy_url)
    print(f"pg_commission_seconds={seconds:.3f}")
    print(f"pg_raw_copy_rows_per_s={N / baseline:,.0f}")
    print(f"pg_commission_units_per_s={N / seconds:,.0f}")
    print(f"pg_commission_vs_raw_copy={seconds / baseline:.2f}")


def bench_sqlite() -> None:
    with sqlite_runtime() as (rt, _tmp):
        principal, batch = released_batch(rt)
        seconds = timed(lambda: commission_units(rt, principal, batch_id=batch.id, quantity=N))
        rss = peak_rss_mb()
    codes = generate_codes(N)
    with tempfile.TemporaryDirectory(prefix="unitrace-raw-") as tmp:
        baseline = raw_sqlite_insert(codes, Path(tmp))
    print(f"commission_seconds={seconds:.3f}")
    print(f"commission_peak_rss_mb={rss:.0f}")
    print(f"raw_insert_rows_per_s={N / baseline:,.0f}")
    print(f"commission_units_per_s={N / seconds:,.0f}")
    print(f"commission_vs_raw_insert={seconds / baseline:.2f}")


def main() -> None:
    print(f"units={N:,}")
    pg_url = os.environ.get("UNITRACE_BENCH_POSTGRES_URL")
    if pg_url:
        bench_postgres(pg_url)
    bench_sqlite()


if __name__ == "__main__":
    main()
