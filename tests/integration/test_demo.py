"""The demo data set behind `make run`."""

from __future__ import annotations

from unitrace.domain.model import Disposition, OrganizationKind, Role
from unitrace.services import (
    access,
    audit,
    catalog,
    demo,
    organizations,
    recalls,
    shipments,
    units,
)
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


def test_the_demo_moves_units_through_the_supply_chain(rt: Runtime) -> None:
    demo.load_demo(rt, units_per_batch=100)
    logins = {
        login.organization: access.principal_for_user(
            access.authenticate_password(rt, email=login.email, password=demo.DEMO_PASSWORD)
        )
        for login in demo.DEMO_LOGINS
        if login.role is Role.ADMIN
    }
    riverside = logins["Riverside Cannabis Co."]
    incoming = shipments.list_shipments(rt, riverside, direction="incoming").items
    assert [s.status for s in incoming] == ["shipped"]  # waiting at /receiving
    high_street = logins["High Street Dispensary"]
    statuses = sorted(
        s.status for s in shipments.list_shipments(rt, high_street, direction="incoming").items
    )
    assert statuses == ["received", "received_with_discrepancies"]
    sold = units.list_units(rt, high_street, disposition=Disposition.RETAIL_SOLD, limit=1)
    assert sold.total == 8  # baskets of 1, 2, 1 and 4, one sale in Davis; one unit returned
    brand = logins["Green Valley Farms"]
    active, draft = sorted(recalls.list_recalls(rt, brand).items, key=lambda r: r.status)
    assert (active.status, draft.status) == ("active", "draft")
    report = recalls.report(rt, brand, active.id)
    assert report.counts["sold"] == 1 and report.counts["at_holder"] > 0
    assert recalls.held(rt, high_street)[0].recall_id == active.id
    assert recalls.preview(rt, brand, draft.id).total > 0
    for principal in logins.values():
        assert audit.verify_chain(rt, principal).ok
