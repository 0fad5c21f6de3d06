"""Benchmark: preview, activate and report a recall of one batch of 100,000 units in a
database of 1,000,000 units, on SQLite.

The recalled batch is spread the way a real one is: part still at the brand, part in
transit, part on retailers' shelves across stores, part already sold (the distribution is
written with set-based SQL, which is test setup here, not what is measured).

Baselines, in the same run, on a bare ``sqlite3`` connection to the same file: a GROUP BY
of the batch's units by disposition (what a preview costs at the least) and an UPDATE of
the batch's units to ``recalled``, committed (what flagging them costs at the least).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _common import peak_rss_mb, released_batch, sqlite_runtime, timed
from unitrace.domain.model import LocationKind, OrganizationKind
from unitrace.domain.recalls import Scope
from unitrace.services import catalog, organizations, recalls
from unitrace.services.recalls import RecallDraft
from unitrace.services.serialization import commission_units

TOTAL = 1_000_000
RECALLED = 100_000
STORES = 20
TARGETS_MS = {"preview": 300, "activate": 2_000, "report": 500}


def spread(path: Path, batch_id: int, retailer_id: int, stores: list[int]) -> None:
    """Put the batch's units where a real batch is a few weeks after release."""
    raw = sqlite3.connect(path, isolation_level=None)
    raw.execute("BEGIN IMMEDIATE")
    ids = [
        r[0]
        for r in raw.execute("SELECT id FROM units WHERE batch_id = ? ORDER BY id", (batch_id,))
    ]
    n = len(ids)
    shelf, sold, transit = (
        ids[: n * 4 // 10],
        ids[n * 4 // 10 : n * 6 // 10],
        ids[n * 6 // 10 : n * 7 // 10],
    )
    for group, disposition in ((shelf, "sellable_accessible"), (sold, "retail_sold")):
        raw.executemany(
            "UPDATE units SET disposition = ?, custodian_organization_id = ?, location_id = ?, "
            "sold_at = CASE WHEN ? = 'retail_sold' THEN updated_at END WHERE id = ?",
            (
                (disposition, retailer_id, stores[i % len(stores)], disposition, unit_id)
                for i, unit_id in enumerate(group)
            ),
        )
    raw.executemany(
        "UPDATE units SET disposition = 'in_transit', shipment_id = 1 WHERE id = ?",
        ((unit_id,) for unit_id in transit),
    )
    raw.execute("COMMIT")
    raw.close()


def main() -> None:
    with sqlite_runtime() as (rt, tmp):
        brand, background = released_batch(rt)
        commission_units(rt, brand, batch_id=background.id, quantity=TOTAL - RECALLED)
        target = catalog.create_batch(
            rt,
            brand,
            catalog.BatchDraft(
                product_id=background.product_id,
                lot_number="BENCH-RECALL",
                produced_on=rt.clock().date() - dt.timedelta(days=2),
                lab=background.lab,
            ),
        )
        commission_units(rt, brand, batch_id=target.id, quantity=RECALLED)
        retailer = organizations.create_organization(
            rt,
            organizations.OrganizationDraft(
                "Bench Retail", OrganizationKind.RETAILER, "LIC-BENCH-R", "CA"
            ),
        )
        stores = [
            organizations.create_location(
                rt,
                None,
                organizations.LocationDraft(f"Store {i}", LocationKind.STORE, city=f"City {i}"),
                organization_id=retailer.id,
            ).id
            for i in range(STORES)
        ]
        spread(tmp / "bench.db", target.id, retailer.id, stores)

        draft = RecallDraft(
            title="Bench recall",
            reason="Failed microbial retest",
            severity="I",
            scope=Scope(batch_ids=(target.id,)),
            retailer_instructions="Pull and quarantine.",
            consumer_instructions="Do not consume.",
        )
        recall = recalls.create_recall(rt, brand, draft)
        recalls.preview(rt, brand, recall.id)  # warm: imports, statement compilation
        previews = [timed(lambda: recalls.preview(rt, brand, recall.id)) for _ in range(3)]
        preview = recalls.preview(rt, brand, recall.id)

        started = time.perf_counter()
        activation = recalls.activate(rt, brand, recall.id)
        activate_s = time.perf_counter() - started
        reports = [timed(lambda: recalls.report(rt, brand, recall.id)) for _ in range(3)]
        report = recalls.report(rt, brand, recall.id)

        raw = sqlite3.connect(tmp / "bench.db", isolation_level=None)
        other = raw.execute("SELECT id FROM batches WHERE id = ?", (background.id,)).fetchone()[0]

        def raw_preview() -> None:
            raw.execute(
                "SELECT disposition, custodian_organization_id, location_id, count(*) "
                "FROM units WHERE batch_id = ? GROUP BY 1, 2, 3",
                (target.id,),
            ).fetchall()

        def raw_flag() -> None:
            raw.execute("BEGIN IMMEDIATE")
            raw.execute(
                "UPDATE units SET disposition = 'recalled', previous_disposition = disposition "
                "WHERE id IN (SELECT id FROM units WHERE batch_id = ? ORDER BY id LIMIT ?)",
                (other, RECALLED),
            )
            raw.execute("ROLLBACK")

        raw_preview_s = min(timed(raw_preview) for _ in range(3))
        raw_flag_s = timed(raw_flag)
        raw.close()

    figures = {
        "preview": min(previews) * 1000,
        "activate": activate_s * 1000,
        "report": min(reports) * 1000,
    }
    print(f"units={TOTAL:,} recalled_batch={RECALLED:,} stores={STORES}")
    print(
        f"in_scope={preview.total:,} will_recall={preview.will_recall:,} "
        f"flagged={activation.flagged:,} progress={report.progress.share:.0%}"
    )
    print(f"raw_group_by_ms={raw_preview_s * 1000:.1f}")
    print(f"raw_flag_100k_ms={raw_flag_s * 1000:.1f}")
    print(f"recall_preview_100k_ms={figures['preview']:.1f}")
    print(f"recall_activate_100k_ms={figures['activate']:.1f}")
    print(f"recall_report_100k_ms={figures['report']:.1f}")
    print(f"preview_vs_raw_group_by={figures['preview'] / (raw_preview_s * 1000):.1f}")
    print(f"activate_vs_raw_flag={figures['activate'] / (raw_flag_s * 1000):.1f}")
    print(f"peak_rss_mb={peak_rss_mb():.0f}")
    met = all(figures[k] <= TARGETS_MS[k] for k in TARGETS_MS)
    print(
        f"recall_target_met={'yes' if met else 'NO'} "
        "(preview <= 300 ms, activate <= 2,000 ms, report <= 500 ms)"
    )


if __name__ == "__main__":
    main()
