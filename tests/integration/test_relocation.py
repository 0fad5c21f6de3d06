"""Moving stock between an organization's own locations, on real databases: one UPDATE, one
cycle_counting event at the new location, the disposition as it was; all or nothing."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from tests.factories import make_org
from tests.integration.test_retail import (
    GTIN,
    add_store,
    chain_ok,
    commission,
    events_of,
    reasons,
    set_units,
    stock,
    unit_row,
    units_snapshot,
)
from unitrace.domain import epcis
from unitrace.domain.lifecycle import Operation
from unitrace.domain.model import OrganizationKind, Principal
from unitrace.errors import NotFoundError, OperationRefusedError, ValidationError
from unitrace.services import containers, history, relocation, retail
from unitrace.services.runtime import Runtime
from unitrace.storage.schema import containers as containers_table


@dataclass(frozen=True)
class Shops:
    brand: Principal
    retailer: Principal
    north: int
    south: int
    codes: list[str]


@pytest.fixture
def shops(rt: Runtime) -> Shops:
    brand = make_org(rt)
    retailer = make_org(rt, kind=OrganizationKind.RETAILER)
    north, south = add_store(rt, retailer, "North"), add_store(rt, retailer, "South")
    codes = commission(rt, brand, 6, gtin=GTIN)
    stock(rt, codes, retailer, north)
    return Shops(brand, retailer, north, south, codes)


def test_units_move_to_another_store_with_one_event_listing_every_unit(
    rt: Runtime, shops: Shops
) -> None:
    c = shops.codes
    retail.change_disposition(rt, shops.retailer, operation=Operation.QUARANTINE, codes=[c[2]])

    moved = relocation.relocate(
        rt, shops.retailer, codes=c[0:3], location_id=shops.south, reason="stock balancing"
    )

    assert (moved.units, moved.codes, moved.location_id) == (3, tuple(c[0:3]), shops.south)
    assert moved.location_name == "South"
    kept = ["sellable_accessible", "sellable_accessible", "non_sellable_other"]
    for code, disposition in zip(c[0:3], kept, strict=True):
        row = unit_row(rt, code)
        assert (row["location_id"], row["disposition"]) == (shops.south, disposition)
    assert unit_row(rt, c[3])["location_id"] == shops.north
    (row,) = events_of(rt, c[0], "cycle_counting")
    assert (row["event_id"], row["action"], row["disposition"]) == (
        moved.event_id, "OBSERVE", None,
    )  # fmt: skip
    assert (row["read_point_id"], row["biz_location_id"], row["quantity"]) == (
        shops.south, shops.south, 3,
    )  # fmt: skip
    event = history.unit_history(rt, shops.retailer, c[1])[-1]
    assert event["eventID"] == moved.event_id
    assert sorted(event["epcList"]) == sorted(epcis.unit_epc(code, GTIN) for code in c[0:3])
    assert event["bizLocation"] == {"id": f"urn:unitrace:location:{shops.south}"}
    assert "disposition" not in event
    retail.sell(rt, shops.retailer, location_id=shops.south, codes=[c[0]])  # on sale there
    chain_ok(rt, shops.retailer)


def test_a_case_moves_with_everything_inside(rt: Runtime, shops: Shops) -> None:
    c = shops.codes
    (case,) = containers.create_containers(rt, shops.retailer, kind="case")
    containers.pack(rt, shops.retailer, container=case.code, items=c[0:4])

    moved = relocation.relocate(rt, shops.retailer, codes=[case.code], location_id=shops.south)

    assert moved.units == 4
    assert {unit_row(rt, code)["location_id"] for code in c[0:4]} == {shops.south}
    with rt.db.read() as conn:
        where = conn.execute(
            select(containers_table.c.location_id).where(containers_table.c.code == case.code)
        ).scalar_one()
    assert where == shops.south
    assert history.container_history(rt, shops.retailer, case.code)[-1]["eventID"] == (
        moved.event_id
    )
    # a unit inside a case moves with its case, not alone
    with pytest.raises(OperationRefusedError) as packed:
        relocation.relocate(rt, shops.retailer, codes=[c[0]], location_id=shops.north)
    assert reasons(packed) == {c[0]: "packed"}


def test_a_refused_move_names_every_unit_and_changes_nothing(rt: Runtime, shops: Shops) -> None:
    c = shops.codes
    retail.sell(rt, shops.retailer, location_id=shops.north, codes=[c[1]])
    retail.change_disposition(rt, shops.retailer, operation=Operation.MARK_LOST, codes=[c[2]])
    set_units(rt, [c[3]], shipment_id=999)  # on a shipment not yet received
    before = units_snapshot(rt)

    with pytest.raises(OperationRefusedError) as refused:
        relocation.relocate(rt, shops.retailer, codes=c[0:4], location_id=shops.south)
    assert reasons(refused) == {c[1]: "already_sold", c[2]: "lost", c[3]: "on_shipment"}
    with pytest.raises(OperationRefusedError) as here:
        relocation.relocate(rt, shops.retailer, codes=[c[0]], location_id=shops.north)
    assert reasons(here) == {c[0]: "already_here"}
    assert units_snapshot(rt) == before
    assert events_of(rt, c[0], "cycle_counting") == []


def test_only_the_holder_moves_units_and_only_to_its_own_locations(
    rt: Runtime, shops: Shops
) -> None:
    c = shops.codes
    other = make_org(rt, kind=OrganizationKind.RETAILER)
    elsewhere = add_store(rt, other, "Elsewhere")
    before = units_snapshot(rt)
    with pytest.raises(NotFoundError, match=f"location {elsewhere} not found"):
        relocation.relocate(rt, shops.retailer, codes=[c[0]], location_id=elsewhere)
    with pytest.raises(NotFoundError, match=f"not found: {c[0]}"):  # not theirs to see
        relocation.relocate(rt, other, codes=[c[0]], location_id=elsewhere)
    brand_store = add_store(rt, shops.brand, "Brand shop")
    with pytest.raises(OperationRefusedError) as owner:  # the owner does not hold them
        relocation.relocate(rt, shops.brand, codes=[c[0]], location_id=brand_store)
    assert reasons(owner) == {c[0]: "not_custodian"}
    with pytest.raises(ValidationError, match="reason has at most 500"):
        relocation.relocate(
            rt, shops.retailer, codes=[c[0]], location_id=shops.south, reason="x" * 501
        )
    lab = make_org(rt, kind=OrganizationKind.LAB)
    with pytest.raises(NotFoundError):
        relocation.relocate(rt, lab, codes=[c[0]], location_id=shops.south)
    assert units_snapshot(rt) == before
