"""Benchmark: sell-through by product and store for a brand with 10,000,000 units and their
events, on SQLite (and on PostgreSQL when ``UNITRACE_BENCH_POSTGRES_URL`` is set).

Setup (not measured): the units are commissioned through the service, 200 batches of 40
products; then set-based SQL writes what a year of trade leaves in the log: each batch
delivered to 20 of 100 stores of 5 retailers in 4 waves (16,000 receiving events), 70 % of
the units sold over the following two months in one sale event per store and day (the
shape of POS uploads), the rest on the shelves; every receipt and sale queued for the
rollups as the event log queues them. That is about 27,000,000 event memberships.

Measured: folding the whole year into the daily figures (the one-off cost a fresh upgrade
pays on the first report); the report by product and store once folded (``sellthru_10m_ms``,
the target: ≤ 2 s on SQLite, ≤ 1 s on PostgreSQL); the Reports page over HTTP (≤ 1 s); one
more sale through the service and the report after it (the incremental fold). Baseline in
the same run: the same counts straight from the event log (``sell_through_from_log``).
"""

from __future__ import annotations

import os
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from _common import peak_rss_mb, postgres_runtime, released_batch, sqlite_runtime, timed
from unitrace.config import Settings
from unitrace.domain.model import LocationKind, OrganizationKind, Principal, Role
from unitrace.services import access, analytics, catalog, organizations, retail
from unitrace.services.runtime import Runtime, build_runtime, upgrade_database
from unitrace.services.serialization import commission_units
from unitrace.storage import sellthrough
from unitrace.web.app import create_app

UNITS = int(os.environ.get("UNITRACE_BENCH_UNITS", "10000000"))
BATCHES, PRODUCTS, STORES, RETAILERS = 200, 40, 100, 5
TARGET_MS = {"sqlite": 2_000, "postgresql": 1_000}
PAGE_TARGET_MS = 1_000
KEPT_PG = "unitrace_bench_sellthrough"
PASSWORD = "bench-password-123"  # noqa: S105 - the throwaway bench user of _common


def build(rt: Runtime) -> tuple[Principal, Principal, list[int], list[str]]:
    """The brand, a retailer's admin, the stores, and one unsold code per store."""
    brand, first = released_batch(rt)
    products = [first.product_id] + [
        catalog.create_product(
            rt, brand, catalog.ProductDraft(name=f"Bench Product {i:02d}", category="flower")
        ).id
        for i in range(1, PRODUCTS)
    ]
    batches = [first.id]
    for i in range(1, BATCHES):
        draft = catalog.BatchDraft(
            product_id=products[i % PRODUCTS],
            lot_number=f"BENCH-{i:03d}",
            produced_on=first.produced_on,
            lab=first.lab,
        )
        batches.append(catalog.create_batch(rt, brand, draft).id)
    per_batch = UNITS // BATCHES
    started = time.perf_counter()
    for batch_id in batches:
        commission_units(rt, brand, batch_id=batch_id, quantity=per_batch)
    print(f"# commissioned {per_batch * BATCHES:,} units in {time.perf_counter() - started:.0f} s")
    stores: list[int] = []
    admin: Principal | None = None
    for r in range(RETAILERS):
        retailer = organizations.create_organization(
            rt,
            organizations.OrganizationDraft(
                f"Bench Retail {r}", OrganizationKind.RETAILER, f"LIC-BR-{r}", "CA"
            ),
        )
        for s in range(STORES // RETAILERS):
            draft = organizations.LocationDraft(f"Store {r}-{s}", LocationKind.STORE, city="X")
            stores.append(
                organizations.create_location(rt, None, draft, organization_id=retailer.id).id
            )
        if admin is None:
            user = access.create_user(
                rt,
                None,
                organization_id=retailer.id,
                email="retail@example.test",
                name="Retail",
                password=PASSWORD,
                role=Role.ADMIN,
            )
            admin = access.principal_for_user(user)
    if admin is None:
        raise SystemExit("no retailer was created")
    started = time.perf_counter()
    unsold = trade(rt, brand, batches, stores)
    if rt.db.dialect == "postgresql":
        # as autovacuum would have by now: the visibility map lets index-only scans (the
        # units on hand) skip the rows the bulk update just rewrote
        with rt.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM (ANALYZE) units"))
    print(f"# wrote the year's receipts and sales in {time.perf_counter() - started:.0f} s")
    return brand, admin, stores, unsold


def _times(dialect: str) -> tuple[str, str]:
    """SQL for the receipt and sale times of a plan row, as the dialect stores times."""
    if dialect == "sqlite":
        day = "strftime('%Y-%m-%d %H:%M:%S.000000', '2026-01-05 10:00:00', '+' || {} || ' days')"
        return day.format("p.recv_day"), day.format("p.sale_day")
    day = "(TIMESTAMPTZ '2026-01-05 10:00:00+00' + make_interval(days => CAST({} AS INTEGER)))"
    return day.format("p.recv_day"), day.format("p.sale_day")


def trade(rt: Runtime, brand: Principal, batches: list[int], stores: list[int]) -> list[str]:
    """Receipts and sales of a year, written set-based (setup, not measured)."""
    org = brand.organization_id
    received_at, sold_at = _times(rt.db.dialect)
    statements = [
        "CREATE TABLE bench_batches (batch_id INTEGER PRIMARY KEY, b INTEGER, first_id BIGINT)",
        "CREATE TABLE bench_stores (ix INTEGER PRIMARY KEY, location_id INTEGER, "
        "retailer_id INTEGER)",
    ]
    with rt.db.transaction() as conn:
        for statement in statements:
            conn.execute(text(statement))
        conn.execute(
            text(
                "INSERT INTO bench_batches SELECT batch_id, 0, MIN(id) FROM units GROUP BY batch_id"
            )
        )
        for b, batch_id in enumerate(batches):
            conn.execute(
                text("UPDATE bench_batches SET b = :b WHERE batch_id = :id"),
                {"b": b, "id": batch_id},
            )
        conn.execute(
            text(
                "INSERT INTO bench_stores SELECT :ix, l.id, l.organization_id FROM locations l "
                "WHERE l.id = :id"
            ),
            [{"ix": i, "id": s} for i, s in enumerate(stores)],
        )
        # each unit: its store (one of 20 per batch), delivery wave, and sale day if sold
        conn.execute(
            text(
                "CREATE TABLE bench_plan AS SELECT u.id AS unit_id, bb.b AS b, "
                "(u.id - bb.first_id) % 20 AS slot, ((u.id - bb.first_id) / 20) % 4 AS wave, "
                "(bb.b * 13 + (u.id - bb.first_id) % 20) % 100 AS store_ix, "
                "(bb.b % 240) + (((u.id - bb.first_id) / 20) % 4) * 7 AS recv_day, "
                "CASE WHEN (u.id - bb.first_id) % 10 < 7 THEN (bb.b % 240) "
                "+ (((u.id - bb.first_id) / 20) % 4) * 7 + 1 + ((u.id - bb.first_id) * 37) % 60 "
                "END AS sale_day "
                "FROM units u JOIN bench_batches bb ON bb.batch_id = u.batch_id"
            )
        )
        conn.execute(text("CREATE UNIQUE INDEX bench_plan_unit ON bench_plan (unit_id)"))
        receipt_id = "(1000000 + p.b * 80 + p.slot * 4 + p.wave)"
        sale_id = "(2000000 + p.store_ix * 1000 + p.sale_day)"
        common = (
            "event_id, organization_id, event_type, action, biz_step, disposition, event_time, "
            "record_time, read_point_id, biz_location_id, quantity, details, document, "
            "members_in_what"
        )
        for ident, when, step, disposition, where in (
            (receipt_id, received_at, "receiving", "sellable_accessible", "TRUE"),
            (sale_id, sold_at, "retail_selling", "retail_sold", "p.sale_day IS NOT NULL"),
        ):
            conn.execute(
                text(
                    f"INSERT INTO events (id, {common}) "
                    f"SELECT DISTINCT {ident}, 'bench-' || {ident}, s.retailer_id, 'ObjectEvent', "
                    f"'OBSERVE', '{step}', '{disposition}', {when}, {when}, s.location_id, "
                    "s.location_id, 0, '{}', '{}', FALSE "
                    "FROM bench_plan p JOIN bench_stores s ON s.ix = p.store_ix "
                    f"WHERE {where}"
                )
            )
            conn.execute(
                text(
                    f"INSERT INTO event_units (unit_id, event_row_id) SELECT p.unit_id, {ident} "
                    f"FROM bench_plan p WHERE {where}"
                )
            )
        conn.execute(
            text(
                "INSERT INTO analytics_pending (event_row_id, claimed) SELECT id, FALSE "
                "FROM events WHERE event_id LIKE 'bench-%'"
            )
        )
        conn.execute(
            text(
                "UPDATE units SET disposition = CASE WHEN p.sale_day IS NULL "
                "THEN 'sellable_accessible' ELSE 'retail_sold' END, location_id = s.location_id, "
                "custodian_organization_id = s.retailer_id "
                "FROM bench_plan p JOIN bench_stores s ON s.ix = p.store_ix "
                "WHERE p.unit_id = units.id"
            )
        )
        unsold = [
            row[0]
            for row in conn.execute(
                text(
                    "SELECT MIN(u.code) FROM units u JOIN bench_plan p ON p.unit_id = u.id "
                    "WHERE p.sale_day IS NULL AND p.store_ix = 0 AND u.organization_id = :org"
                ),
                {"org": org},
            )
        ]
        for table in ("bench_plan", "bench_batches", "bench_stores"):
            conn.execute(text(f"DROP TABLE {table}"))
        # a live database has its planner statistics; a bulk load must gather them itself
        conn.execute(text("ANALYZE"))
    return unsold


def page_ms(rt: Runtime, email: str) -> list[float]:
    app = create_app(rt.settings, runtime=rt)
    with TestClient(app, follow_redirects=False) as client:
        login = client.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', login.text)
        if token is None:
            raise SystemExit("the login page has no CSRF token")
        answer = client.post(
            "/login",
            data={"email": email, "password": PASSWORD, "next": "/", "csrf_token": token[1]},
        )
        if answer.status_code != 303:
            raise SystemExit(f"could not log in: {answer.status_code}")
        runs = []
        for _ in range(3):
            started = time.perf_counter()
            page = client.get("/reports?period=month")
            runs.append((time.perf_counter() - started) * 1000)
            if page.status_code != 200 or 'data-testid="sell-through"' not in page.text:
                raise SystemExit(f"the Reports page failed: {page.status_code}")
        return runs


def existing(rt: Runtime) -> tuple[Principal, Principal, list[int], list[str]]:
    """The parties of a database an earlier run built (``UNITRACE_BENCH_DB``)."""
    brand, retailer = (
        access.principal_for_user(access.authenticate_password(rt, email=email, password=PASSWORD))
        for email in ("bench@example.test", "retail@example.test")
    )
    with rt.db.read() as conn:
        stores = list(
            conn.execute(
                text("SELECT id FROM locations WHERE kind = 'store' ORDER BY id")
            ).scalars()
        )
        unsold = list(
            conn.execute(
                text(
                    "SELECT MIN(code) FROM units WHERE location_id = :store "
                    "AND disposition = 'sellable_accessible'"
                ),
                {"store": stores[0]},
            ).scalars()
        )
    return brand, retailer, stores, unsold


def run(rt: Runtime, label: str, *, reuse: bool = False) -> None:
    dialect = rt.db.dialect
    brand, retailer, stores, unsold = existing(rt) if reuse else build(rt)
    fold_s = timed(lambda: analytics.refresh(rt))
    rows: list[Any] = []
    runs = []
    for _ in range(3):
        started = time.perf_counter()
        rows = analytics.sell_through(rt, brand)
        runs.append((time.perf_counter() - started) * 1000)
    query_ms = statistics.median(runs)
    with rt.db.read() as conn:
        started = time.perf_counter()
        baseline = sellthrough.sell_through_from_log(conn, owner_id=brand.organization_id)
        baseline_ms = (time.perf_counter() - started) * 1000
        facts = conn.execute(text("SELECT COUNT(*) FROM sales_daily")).scalar_one()
    got = {(r.product_id, r.store_id): (r.supplied, r.sold, r.returned) for r in rows}
    want = {(r["product_id"], r["store_id"]): (r["supplied"], r["sold"], 0) for r in baseline}
    if got != want:
        raise SystemExit("the rollups differ from the event log")
    supplied = sum(r.supplied for r in rows)
    page = statistics.median(page_ms(rt, "bench@example.test"))
    retail.sell(rt, retailer, location_id=stores[0], codes=unsold[:1])
    started = time.perf_counter()
    after = analytics.sell_through(rt, brand)
    after_ms = (time.perf_counter() - started) * 1000
    if sum(r.sold for r in after) != sum(r.sold for r in rows) + 1:
        raise SystemExit("the sale after the fold was not counted")
    print(f"# {label}: {supplied:,} units supplied, {len(rows):,} product×store rows, "
          f"{facts:,} daily fact rows")  # fmt: skip
    print(f"sellthru_fold_10m_s[{dialect}]={fold_s:.1f}")
    print(f"sellthru_10m_ms[{dialect}]={query_ms:.0f}  (target ≤ {TARGET_MS[dialect]:,})")
    print(f"sellthru_from_log_10m_ms[{dialect}]={baseline_ms:.0f}")
    print(f"sellthru_speedup_vs_log[{dialect}]={baseline_ms / query_ms:.1f}x")
    print(f"reports_page_10m_ms[{dialect}]={page:.0f}  (target ≤ {PAGE_TARGET_MS:,})")
    print(f"sellthru_after_one_sale_ms[{dialect}]={after_ms:.0f}")
    print(f"peak_rss_mb={peak_rss_mb():.0f}")


def main() -> None:
    kept = os.environ.get("UNITRACE_BENCH_DB")  # build once into this file, then reuse it
    if kept:
        path = Path(kept)
        settings = Settings(
            database_url=f"sqlite:///{path}",
            data_dir=path.parent / "bench-data",
            max_commission_quantity=UNITS,
        )
        reuse = path.exists()
        rt = build_runtime(settings)
        upgrade_database(rt)
        try:
            run(rt, "SQLite", reuse=reuse)
        finally:
            rt.close()
    else:
        with sqlite_runtime(max_quantity=UNITS) as (rt, _):
            run(rt, "SQLite")
    server = os.environ.get("UNITRACE_BENCH_POSTGRES_URL")
    if server and kept:  # keep the database too, under a name of its own
        url = make_url(server.replace("postgresql://", "postgresql+psycopg://", 1))
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            reuse = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": KEPT_PG}
            ).first()
            if not reuse:
                conn.execute(text(f"CREATE DATABASE {KEPT_PG}"))
        admin.dispose()
        settings = Settings(
            database_url=url.set(database=KEPT_PG).render_as_string(hide_password=False),
            data_dir=Path(kept).parent / "bench-data-pg",
            max_commission_quantity=UNITS,
        )
        rt = build_runtime(settings)
        upgrade_database(rt)
        try:
            run(rt, "PostgreSQL", reuse=reuse is not None)
        finally:
            rt.close()
    elif server:
        with postgres_runtime(server, max_quantity=UNITS) as rt:
            run(rt, "PostgreSQL")


if __name__ == "__main__":
    main()
