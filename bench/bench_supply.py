"""Benchmark: ship and receive a pallet of 100 cases x 100 units with one scan each, and
single-unit retail sales through the service layer, on SQLite.

Baselines, in the same run: a bare ``sqlite3`` UPDATE of the same 10,000 units (what moving a
pallet costs the database at the very least), and a bare ``sqlite3`` conditional UPDATE plus
an INSERT per sale, each committed.
"""

from __future__ import annotations

import sqlite3
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _common import released_batch, sqlite_runtime, timed
from unitrace.domain.model import LocationKind, OrganizationKind, Principal, Role
from unitrace.services import access, containers, organizations, retail, shipments
from unitrace.services.runtime import Runtime
from unitrace.services.serialization import commission_units, iter_commissioned_codes

CASES = 100
PER_CASE = 100
PALLETS = 3
BACKGROUND_UNITS = 200_000
SALES = 3_000


def retailer(rt: Runtime) -> tuple[Principal, int]:
    org = organizations.create_organization(
        rt,
        organizations.OrganizationDraft(
            "Bench Dispensary", OrganizationKind.RETAILER, "LIC-BENCH-R", "CA"
        ),
    )
    store = organizations.create_location(
        rt,
        None,
        organizations.LocationDraft("Main Street", LocationKind.STORE, city="Sacramento"),
        organization_id=org.id,
    )
    user = access.create_user(
        rt,
        None,
        organization_id=org.id,
        email="store@example.test",
        name="Store",
        password="bench-password-123",
        role=Role.ADMIN,
    )
    return access.principal_for_user(user), store.id


def build_pallet(rt: Runtime, brand: Principal, codes: list[str], per_case: int = PER_CASE) -> str:
    cases = containers.create_containers(rt, brand, kind="case", count=len(codes) // per_case)
    for i, case in enumerate(cases):
        containers.pack(
            rt, brand, container=case.code, items=codes[i * per_case : (i + 1) * per_case]
        )
    pallet = containers.create_containers(rt, brand, kind="pallet")[0].code
    containers.pack(rt, brand, container=pallet, items=[c.code for c in cases])
    return pallet


def move_pallet(
    rt: Runtime,
    brand: Principal,
    batch_id: int,
    shop: Principal,
    store: int,
    cases: int,
    per_case: int,
) -> tuple[float, float, list[str]]:
    """Build a pallet, then time shipping it and receiving it with one scan (ms each)."""
    result = commission_units(rt, brand, batch_id=batch_id, quantity=cases * per_case)
    codes = list(iter_commissioned_codes(rt, brand, event_id=result.event_id))
    pallet = build_pallet(rt, brand, codes, per_case)
    draft = shipments.create_shipment(
        rt,
        brand,
        destination_organization_id=shop.organization_id,
        destination_location_id=store,
        items=[pallet],
    )
    shipped = 1000 * timed(lambda: shipments.ship(rt, brand, draft.id))
    scan = f"{rt.settings.resolver_base_url}/{pallet.lower()}\n"  # as a scanner types it

    def receive() -> None:
        report = shipments.receive(rt, shop, draft.id, scans=[scan])
        if report.received != cases * per_case:
            raise RuntimeError(f"received {report.received} of {cases * per_case}")

    return shipped, 1000 * timed(receive), codes


def main() -> None:
    with sqlite_runtime() as (rt, tmp):
        brand, batch = released_batch(rt)
        shop, store = retailer(rt)
        commission_units(rt, brand, batch_id=batch.id, quantity=BACKGROUND_UNITS)
        # One small pallet first, untimed: imports and statement compilation happen once.
        _, _, sellable = move_pallet(rt, brand, batch.id, shop, store, cases=2, per_case=5)
        ship_ms: list[float] = []
        receive_ms: list[float] = []
        for _ in range(PALLETS):
            shipped, received, codes = move_pallet(
                rt, brand, batch.id, shop, store, CASES, PER_CASE
            )
            sellable += codes
            ship_ms.append(shipped)
            receive_ms.append(received)

        sellable = sellable[: SALES + 1]
        retail.sell(rt, shop, location_id=store, codes=[sellable.pop()])  # warm up

        def sell_one_by_one() -> None:
            for code in sellable:
                retail.sell(rt, shop, location_id=store, codes=[code])

        sales_s = timed(sell_one_by_one)

        raw = sqlite3.connect(tmp / "bench.db", isolation_level=None)
        ids = [r[0] for r in raw.execute("SELECT id FROM units ORDER BY id DESC LIMIT 10000")]
        marks = ",".join("?" * len(ids))

        def raw_move() -> None:
            raw.execute("BEGIN IMMEDIATE")
            raw.execute(
                f"UPDATE units SET location_id = location_id WHERE id IN ({marks})",
                ids,
            )
            raw.execute("COMMIT")

        baseline_ms = 1000 * min(timed(raw_move) for _ in range(PALLETS))
        raw.execute("CREATE TABLE bench_sales (unit_id INTEGER, at TEXT)")
        to_sell = [
            r[0]
            for r in raw.execute(
                "SELECT id FROM units WHERE disposition = 'sellable_accessible' LIMIT ?",
                (len(sellable),),
            )
        ]

        def raw_sales() -> None:
            for unit_id in to_sell:
                raw.execute("BEGIN IMMEDIATE")
                changed = raw.execute(
                    "UPDATE units SET disposition = 'retail_sold' "
                    "WHERE id = ? AND disposition = 'sellable_accessible'",
                    (unit_id,),
                ).rowcount
                if changed == 1:
                    raw.execute("INSERT INTO bench_sales VALUES (?, datetime('now'))", (unit_id,))
                raw.execute("COMMIT")

        raw_sales_s = timed(raw_sales)
        raw.close()
    print(f"pallet={CASES} cases x {PER_CASE} units, background_units={BACKGROUND_UNITS:,}")
    print(f"raw_update_10k_ms={baseline_ms:.1f}")
    print(f"ship_pallet_10k_ms={statistics.median(ship_ms):.1f} (max {max(ship_ms):.1f})")
    print(f"receive_pallet_10k_ms={statistics.median(receive_ms):.1f} (max {max(receive_ms):.1f})")
    print(f"receive_vs_raw_update={statistics.median(receive_ms) / baseline_ms:.1f}")
    print(f"raw_sales_per_s={len(sellable) / raw_sales_s:,.0f}")
    print(f"sales_per_s={len(sellable) / sales_s:,.0f} (sequential, one unit per sale)")
    print(f"sale_vs_raw_sale={sales_s / raw_sales_s:.1f}")
    worst = max(statistics.median(ship_ms), statistics.median(receive_ms))
    print(f"supply_target_met={'yes' if worst <= 150 else 'NO'} (<= 150 ms per operation)")
    print(f"sales_target_met={'yes' if len(sellable) / sales_s >= 2000 else 'NO'} (>= 2,000/s)")


if __name__ == "__main__":
    main()
