"""The demo data set behind `make run`."""

from __future__ import annotations

from unitrace.domain.model import OrganizationKind
from unitrace.services import access, catalog, demo, organizations, units
from unitrace.services.runtime import Runtime


def test_the_demo_loads_a_complete_market_once(rt: Runtime) -> None:
    summary = demo.load_demo(rt, units_per_batch=100)
    assert summary.loaded and summary.units == 200
    kinds = sorted(o.kind for o in organizations.list_organizations(rt))
    assert kinds == sorted(
        [OrganizationKind.BRAND, OrganizationKind.DISTRIBUTOR] + [OrganizationKind.RETAILER] * 2
    )
    brand = access.principal_for_user(
        access.authenticate_password(
            rt, email=demo.DEMO_LOGINS[0].email, password=demo.DEMO_PASSWORD
        )
    )
    batches = catalog.list_batches(rt, brand)
    assert batches.total == 3
    assert sum(b.released for b in batches.items) == 2
    assert all(b.coa is not None for b in batches.items if b.released)
    assert units.list_units(rt, brand, limit=1).total == 200
    again = demo.load_demo(rt, if_empty=True)
    assert not again.loaded
    assert units.list_units(rt, brand, limit=1).total == 200
