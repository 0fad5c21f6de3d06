"""Helpers shared by the benchmarks: a fresh migrated database with one released batch."""

from __future__ import annotations

import datetime as dt
import resource
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from unitrace.config import Settings
from unitrace.domain.model import (
    Analyte,
    AnalyteKind,
    Batch,
    LabStatus,
    LocationKind,
    OrganizationKind,
    Principal,
    Role,
)
from unitrace.services import access, catalog, organizations
from unitrace.services.runtime import Runtime, build_runtime, upgrade_database


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextmanager
def sqlite_runtime(max_quantity: int = 1_000_000) -> Iterator[tuple[Runtime, Path]]:
    with tempfile.TemporaryDirectory(prefix="unitrace-bench-") as tmp:
        path = Path(tmp) / "bench.db"
        settings = Settings(
            database_url=f"sqlite:///{path}",
            data_dir=Path(tmp) / "data",
            max_commission_quantity=max_quantity,
        )
        rt = build_runtime(settings)
        upgrade_database(rt)
        try:
            yield rt, Path(tmp)
        finally:
            rt.close()


@contextmanager
def postgres_runtime(server_url: str, max_quantity: int = 1_000_000) -> Iterator[Runtime]:
    url = make_url(server_url.replace("postgresql://", "postgresql+psycopg://", 1))
    name = "unitrace_bench"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    with tempfile.TemporaryDirectory(prefix="unitrace-bench-") as tmp:
        settings = Settings(
            database_url=url.set(database=name).render_as_string(hide_password=False),
            data_dir=Path(tmp),
            max_commission_quantity=max_quantity,
        )
        rt = build_runtime(settings)
        upgrade_database(rt)
        try:
            yield rt
        finally:
            rt.close()
            with admin.connect() as conn:
                conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            admin.dispose()


def released_batch(rt: Runtime) -> tuple[Principal, Batch]:
    org = organizations.create_organization(
        rt,
        organizations.OrganizationDraft("Bench Brand", OrganizationKind.BRAND, "LIC-BENCH", "CA"),
    )
    organizations.create_location(
        rt,
        None,
        organizations.LocationDraft("Plant", LocationKind.FACILITY),
        organization_id=org.id,
    )
    user = access.create_user(
        rt,
        None,
        organization_id=org.id,
        email="bench@example.test",
        name="Bench",
        password="bench-password-123",
        role=Role.ADMIN,
    )
    principal = access.principal_for_user(user)
    product = catalog.create_product(
        rt, principal, catalog.ProductDraft(name="Bench Flower", category="flower")
    )
    today = rt.clock().date()
    batch = catalog.create_batch(
        rt,
        principal,
        catalog.BatchDraft(
            product_id=product.id,
            lot_number="BENCH-1",
            produced_on=today - dt.timedelta(days=3),
            lab=catalog.LabResultsDraft(
                status=LabStatus.PASSED,
                lab_name="Bench Lab",
                tested_on=today - dt.timedelta(days=1),
                analytes=(Analyte(AnalyteKind.CANNABINOID, "total_thc", Decimal("20"), "%"),),
            ),
        ),
    )
    return principal, batch
