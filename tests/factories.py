"""Test factories: plain functions with defaults that go through the real services.

One shortcut: the admin :func:`make_org` adds gets the password hash of :data:`PASSWORD`
computed once per process. Argon2id costs about 150 ms a hash by design, and nearly every
test makes organizations; ``access.create_user`` is tested for itself."""

from __future__ import annotations

import datetime as dt
import functools
import itertools
from decimal import Decimal
from typing import Any

from unitrace.domain.model import (
    Analyte,
    AnalyteKind,
    Batch,
    LabStatus,
    LocationKind,
    OrganizationKind,
    Panel,
    PanelResult,
    Principal,
    Product,
    Role,
)
from unitrace.services import access, catalog, organizations
from unitrace.services.runtime import Runtime
from unitrace.storage import access as access_store

PASSWORD = "correct horse battery"
_seq = itertools.count(1)


def make_org(
    rt: Runtime,
    *,
    kind: OrganizationKind = OrganizationKind.BRAND,
    name: str | None = None,
    market: str = "CA",
) -> Principal:
    """An organization with a location and an admin user; returns the admin's principal."""
    n = next(_seq)
    org = organizations.create_organization(
        rt,
        organizations.OrganizationDraft(name or f"Org {n}", kind, f"LIC-{n:05d}", market, None),
    )
    organizations.create_location(
        rt,
        None,
        organizations.LocationDraft(f"Site {n}", LocationKind.FACILITY, city="Oakland"),
        organization_id=org.id,
    )
    with rt.db.transaction() as conn:
        user_id = access_store.insert_user(
            conn,
            organization_id=org.id,
            email=f"admin{n}@org{n}.example",
            name=f"Admin {n}",
            password_hash=password_hash(),
            role=Role.ADMIN.value,
            created_at=rt.clock(),
        )
        user = access_store.get_user(conn, org.id, user_id)
    return access.principal_for_user(user)


@functools.cache
def password_hash() -> str:
    """The Argon2id hash of :data:`PASSWORD`, made once."""
    return access.hash_password(PASSWORD)


def make_location(
    rt: Runtime, principal: Principal, kind: LocationKind = LocationKind.STORE, **extra: Any
) -> int:
    """Another location of the principal's organization (a store by default); its id."""
    n = next(_seq)
    location = organizations.create_location(
        rt,
        principal,
        organizations.LocationDraft(f"{kind.value.title()} {n}", kind, city="Sacramento", **extra),
    )
    return location.id


def first_location(rt: Runtime, principal: Principal) -> int:
    """The location every factory-made organization starts with."""
    return organizations.list_locations(rt, principal)[0].id


def as_role(principal: Principal, role: Role) -> Principal:
    return Principal(principal.organization_id, role, principal.user_id, None, principal.display)


def make_product(rt: Runtime, principal: Principal, **overrides: Any) -> Product:
    n = next(_seq)
    values: dict[str, Any] = {
        "name": f"Product {n}",
        "category": "flower",
        "strain": "Blue Dream",
        "net_content": Decimal("3.5"),
        "net_content_unit": "g",
    }
    values.update(overrides)
    return catalog.create_product(rt, principal, catalog.ProductDraft(**values))


def passed_lab(today: dt.date = dt.date(2026, 11, 20)) -> catalog.LabResultsDraft:
    return catalog.LabResultsDraft(
        status=LabStatus.PASSED,
        lab_name="Evergreen Labs",
        tested_on=today,
        analytes=(
            Analyte(AnalyteKind.CANNABINOID, "total_thc", Decimal("21.5"), "%"),
            Analyte(AnalyteKind.CANNABINOID, "total_cbd", Decimal("0.3"), "%"),
            Analyte(AnalyteKind.TERPENE, "myrcene", Decimal("0.8"), "%"),
        ),
        panels=(Panel("microbials", PanelResult.PASS), Panel("pesticides", PanelResult.PASS)),
    )


def make_batch(
    rt: Runtime, principal: Principal, product: Product | None = None, **overrides: Any
) -> Batch:
    product = product or make_product(rt, principal)
    values: dict[str, Any] = {
        "product_id": product.id,
        "lot_number": f"LOT-{next(_seq)}",
        "produced_on": dt.date(2026, 11, 1),
        "expires_on": dt.date(2027, 11, 1),
        "lab": passed_lab(),
    }
    values.update(overrides)
    return catalog.create_batch(rt, principal, catalog.BatchDraft(**values))
