"""Benchmark: validate and apply a 1,000,000-row sales CSV (a POS export) on SQLite.

The units are commissioned, then put on the shelves of 20 stores with one set-based UPDATE
(test setup, not what is measured). The file mixes the forms a POS writes: short URLs and bare
codes, times with offsets, prices. Baseline, in the same run: ``csv.reader`` over the same file
plus a bare ``sqlite3`` ``executemany`` UPDATE of the same units by code, committed — the least
any import of this file costs.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _common import peak_rss_mb, released_batch, sqlite_runtime, timed
from unitrace.config import Settings
from unitrace.domain.model import LocationKind, OrganizationKind, Role
from unitrace.services import access, organizations
from unitrace.services.imports import run_import
from unitrace.services.runtime import build_runtime
from unitrace.services.serialization import commission_units
from unitrace.storage import access as access_store

ROWS = int(os.environ.get("UNITRACE_BENCH_ROWS", "1000000"))
STORES = 20


def main() -> None:
    with sqlite_runtime() as (rt, tmp):
        brand, batch = released_batch(rt)
        commission_units(rt, brand, batch_id=batch.id, quantity=ROWS)
        shop = organizations.create_organization(
            rt,
            organizations.OrganizationDraft(
                "Bench Retail", OrganizationKind.RETAILER, "LIC-BENCH-R", "CA"
            ),
        )
        stores = [
            organizations.create_location(
                rt,
                None,
                organizations.LocationDraft(f"Store {i}", LocationKind.STORE, city="Fresno"),
                organization_id=shop.id,
            ).id
            for i in range(STORES)
        ]
        user = access.create_user(
            rt,
            None,
            organization_id=shop.id,
            email="pos@example.test",
            name="POS",
            password="bench-password-123",
            role=Role.ADMIN,
        )
        raw = sqlite3.connect(tmp / "bench.db", isolation_level=None)
        raw.execute("BEGIN IMMEDIATE")
        raw.execute(
            "UPDATE units SET disposition = 'sellable_accessible', "
            f"custodian_organization_id = ?, location_id = {stores[0]} + (id % {STORES})",
            (shop.id,),
        )
        raw.execute("COMMIT")
        rows = raw.execute("SELECT code, location_id FROM units ORDER BY id").fetchall()
        names = {s: f"Store {i}" for i, s in enumerate(stores)}
        start = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=-8)))
        path = Path(tempfile.mkdtemp(prefix="unitrace-bench-")) / "sales.csv"
        with path.open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(["code", "store", "sold_at", "price"])
            for i, (code, location) in enumerate(rows):
                shown = f"{rt.settings.resolver_base_url}/{code}" if i % 2 else code.lower()
                sold = start + dt.timedelta(seconds=i * 2)
                writer.writerow([shown, names[location], sold.isoformat(), f"{10 + i % 40}.99"])
        size_mb = path.stat().st_size / 1e6

        def raw_import() -> None:
            with path.open(newline="", encoding="utf-8") as f:
                reader = csv.reader(f)
                next(reader)
                codes = [(r[0].rsplit("/", 1)[-1].upper(),) for r in reader]
            raw.execute("BEGIN IMMEDIATE")
            raw.executemany("UPDATE units SET updated_at = updated_at WHERE code = ?", codes)
            raw.execute("ROLLBACK")

        baseline_s = timed(raw_import)
        raw.close()
        rt.close()
        # The import runs in a process of its own, so its peak memory is its own.
        child = subprocess.run(  # noqa: S603 - this very script
            [
                sys.executable,
                __file__,
                "--import",
                str(tmp / "bench.db"),
                str(path),
                str(shop.id),
                str(user.id),
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        figures = dict(line.split("=", 1) for line in child.stdout.split())
        path.unlink()
    import_s = float(figures["import_s"])
    peak = float(figures["peak_rss_mb"])
    print(f"rows={ROWS:,} file_mb={size_mb:.1f} stores={STORES} events={figures['events']}")
    print(f"raw_parse_and_update_s={baseline_s:.2f}")
    print(f"import_sales_s={import_s:.2f}")
    print(f"import_sales_rows_per_s={ROWS / import_s:,.0f}")
    print(f"import_vs_raw={import_s / baseline_s:.1f}")
    print(f"reupload_same_file_ms={float(figures['again_s']) * 1000:.0f}")
    print(f"import_peak_rss_mb={peak:.0f}")
    met = import_s <= 15 * ROWS / 1_000_000 and peak <= 500
    print(f"import_target_met={'yes' if met else 'NO'} (1,000,000 rows <= 15 s, <= 500 MB)")


def run_child(db: str, csv_path: str, organization_id: int, user_id: int) -> None:
    """The measured part: one import of the file, then the same file again."""
    settings = Settings(
        database_url=f"sqlite:///{db}",
        data_dir=Path(db).parent / "data",
        import_max_rows=max(ROWS, 1_000_000),
    )
    rt = build_runtime(settings)
    with rt.db.read() as conn:
        user = access_store.get_user(conn, organization_id, user_id)
    retailer = access.principal_for_user(user)
    with open(csv_path, "rb") as f:
        started = time.perf_counter()
        result = run_import(rt, retailer, "sales", f, filename="sales.csv")
        import_s = time.perf_counter() - started
    if result.status != "applied":
        raise RuntimeError(f"import failed: {result.problems[:3]}")
    with open(csv_path, "rb") as f:
        again_s = timed(lambda: run_import(rt, retailer, "sales", f, filename="sales.csv"))
    rt.close()
    print(f"import_s={import_s:.3f} again_s={again_s:.4f} events={len(result.result['events'])}")
    print(f"peak_rss_mb={peak_rss_mb():.0f}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--import"]:
        run_child(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    else:
        main()
