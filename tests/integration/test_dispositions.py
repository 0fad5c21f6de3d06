"""Disposition changes (destroy, decommission, stolen, damaged, expired, quarantine, restock)
on units named one by one or by the cases and pallets holding them, on real databases."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from tests.factories import make_org
from tests.integration.test_retail import (
    add_store,
    chain_ok,
    commission,
    events_of,
    facility_of,
    reasons,
    set_units,
    stock,
    unit_row,
    units_snapshot,
)
from unitrace.domain.lifecycle import Operation
from unitrace.domain.model import OrganizationKind, Principal
from unitrace.domain.recalls import Scope
from unitrace.errors import NotFoundError, OperationRefusedError, ValidationError
from unitrace.services import containers, recalls, retail
from unitrace.services.runtime import Runtime


@dataclass
class Shelf:
    brand: Principal
    retailer: Principal
    store: int
    codes: list[str]  # the brand's units, on the retailer's store shelf


def on_shelf(rt: Runtime, n: int) -> Shelf:
    brand = make_org(rt)
    retailer = make_org(rt, kind=OrganizationKind.RETAILER)
    store = add_store(rt, retailer, "Store")
    codes = commission(rt, brand, n)
    stock(rt, codes, retailer, store)
    return Shelf(brand, retailer, store, codes)


def _case_of(rt: Runtime, holder: Principal, codes: list[str]) -> str:
    (case,) = containers.create_containers(rt, holder, kind="case")
    containers.pack(rt, holder, container=case.code, items=codes)
    return case.code


def test_destroying_a_case_destroys_every_unit_inside_with_one_delete_event(
    rt: Runtime,
) -> None:
    brand = make_org(rt)
    codes = commission(rt, brand, 4)
    case = _case_of(rt, brand, codes[:3])

    result = retail.change_disposition(
        rt, brand, operation=Operation.DESTROY, codes=[case, codes[3]], reason="water damage"
    )

    assert result.units == 4
    assert result.disposition == "destroyed"
    for code in codes:
        row = unit_row(rt, code)
        assert row["disposition"] == "destroyed"
        assert row["previous_disposition"] == "active"
        assert row["parent_container_id"] is None
    (event,) = events_of(rt, codes[0], "destroying")
    assert event["event_id"] == result.event_id
    assert (event["event_type"], event["action"]) == ("ObjectEvent", "DELETE")
    assert json.loads(event["details"])["reason"] == "water damage"
    assert len(json.loads(event["document"])["epcList"]) == 4
    chain_ok(rt, brand)


def test_a_regulator_may_destroy_units_it_does_not_hold(rt: Runtime) -> None:
    brand = make_org(rt)
    regulator = make_org(rt, kind=OrganizationKind.REGULATOR)
    codes = commission(rt, brand, 2)
    retail.change_disposition(rt, regulator, operation=Operation.DESTROY, codes=codes)
    assert {unit_row(rt, c)["disposition"] for c in codes} == {"destroyed"}
    # but not mark them damaged: that is for the holder, and they stay invisible to it
    more = commission(rt, brand, 1)
    with pytest.raises(NotFoundError):
        retail.change_disposition(rt, regulator, operation=Operation.MARK_DAMAGED, codes=more)


def test_only_the_brand_may_decommission(rt: Runtime) -> None:
    brand = make_org(rt)
    retailer = make_org(rt, kind=OrganizationKind.RETAILER)
    store = add_store(rt, retailer, "Store")
    held, own = commission(rt, brand, 2)
    stock(rt, [held], retailer, store)
    with pytest.raises(OperationRefusedError) as refused:
        retail.change_disposition(rt, retailer, operation=Operation.DECOMMISSION, codes=[held])
    assert reasons(refused) == {held: "kind_not_permitted"}
    retail.change_disposition(rt, brand, operation=Operation.DECOMMISSION, codes=[own])
    assert unit_row(rt, own)["disposition"] == "inactive"
    (event,) = events_of(rt, own, "decommissioning")
    assert (event["action"], event["disposition"]) == ("DELETE", "inactive")


def test_every_refused_unit_is_named_and_nothing_changes(rt: Runtime) -> None:
    shelf = on_shelf(rt, 3)
    brand, retailer, store = shelf.brand, shelf.retailer, shelf.store
    ok, sold, destroyed = shelf.codes
    retail.sell(rt, retailer, location_id=store, codes=[sold])
    set_units(rt, [destroyed], disposition="destroyed")
    before = units_snapshot(rt)

    with pytest.raises(OperationRefusedError) as refused:
        retail.change_disposition(
            rt, retailer, operation=Operation.MARK_DAMAGED, codes=[ok, sold, destroyed]
        )
    assert reasons(refused) == {sold: "already_sold", destroyed: "destroyed"}
    with pytest.raises(OperationRefusedError) as not_theirs:
        retail.change_disposition(rt, brand, operation=Operation.MARK_STOLEN, codes=[ok])
    assert reasons(not_theirs) == {ok: "not_custodian"}
    assert units_snapshot(rt) == before


def test_stolen_damaged_and_expired_record_their_step_and_disposition(rt: Runtime) -> None:
    brand = make_org(rt)
    stolen, damaged, expired = commission(rt, brand, 3)
    set_units(rt, [stolen], disposition="in_transit")  # a truck is lost: still the shipper's
    cases = (
        (Operation.MARK_STOLEN, stolen, "other", "stolen"),
        (Operation.MARK_DAMAGED, damaged, "inspecting", "damaged"),
        (Operation.EXPIRE, expired, "inspecting", "expired"),
    )
    for operation, code, step, disposition in cases:
        retail.change_disposition(rt, brand, operation=operation, codes=[code])
        assert unit_row(rt, code)["disposition"] == disposition
        (event,) = events_of(rt, code, step)
        assert (event["action"], event["disposition"]) == ("OBSERVE", disposition)
    chain_ok(rt, brand)


def test_quarantined_stock_is_restocked_only_at_a_store(rt: Runtime) -> None:
    brand = make_org(rt)
    retailer = make_org(rt, kind=OrganizationKind.RETAILER)
    store = add_store(rt, retailer, "Store")
    at_store, in_back = commission(rt, brand, 2)
    stock(rt, [at_store], retailer, store)
    stock(rt, [in_back], retailer, facility_of(rt, retailer))
    both = [at_store, in_back]
    retail.change_disposition(rt, retailer, operation=Operation.QUARANTINE, codes=both)
    assert {unit_row(rt, c)["disposition"] for c in both} == {"non_sellable_other"}
    with pytest.raises(OperationRefusedError) as refused:
        retail.change_disposition(rt, retailer, operation=Operation.QUARANTINE, codes=[at_store])
    assert reasons(refused) == {at_store: "already_quarantined"}

    with pytest.raises(OperationRefusedError) as not_at_store:
        retail.change_disposition(rt, retailer, operation=Operation.RESTOCK, codes=both)
    assert reasons(not_at_store) == {in_back: "not_at_store"}
    assert unit_row(rt, at_store)["disposition"] == "non_sellable_other"

    retail.change_disposition(rt, retailer, operation=Operation.RESTOCK, codes=[at_store])
    assert unit_row(rt, at_store)["disposition"] == "sellable_accessible"
    assert retail.sell(rt, retailer, location_id=store, codes=[at_store]).codes == (at_store,)


def test_operations_that_are_not_disposition_changes_are_rejected(rt: Runtime) -> None:
    brand = make_org(rt)
    code = commission(rt, brand, 1)[0]
    with pytest.raises(ValidationError):
        retail.change_disposition(rt, brand, operation=Operation.SELL, codes=[code])
    with pytest.raises(ValidationError):
        retail.change_disposition(
            rt, brand, operation=Operation.DESTROY, codes=[code], reason="x" * 501
        )


def test_units_found_again_go_back_to_what_they_were_when_lost(rt: Runtime) -> None:
    """A quarantined unit found in a count stays set apart; one event per disposition."""
    shelf = on_shelf(rt, 3)
    brand, retailer, store = shelf.brand, shelf.retailer, shelf.store
    on_sale, quarantined, also_on_sale = shelf.codes
    retail.change_disposition(rt, retailer, operation=Operation.QUARANTINE, codes=[quarantined])
    lost = [on_sale, quarantined, also_on_sale]
    retail.change_disposition(rt, retailer, operation=Operation.MARK_LOST, codes=lost)
    assert {unit_row(rt, c)["disposition"] for c in lost} == {"unknown"}

    found = retail.change_disposition(rt, retailer, operation=Operation.MARK_FOUND, codes=lost)
    assert (found.disposition, found.units) == ("several", 3)
    assert found.dispositions == {"non_sellable_other": 1, "sellable_accessible": 2}
    assert [unit_row(rt, c)["disposition"] for c in lost] == [
        "sellable_accessible",
        "non_sellable_other",
        "sellable_accessible",
    ]
    assert len(found.event_ids) == 2 and found.event_id == found.event_ids[0]
    by_code = {c: events_of(rt, c, "stock_taking")[-1] for c in lost}
    assert {e["event_id"] for e in by_code.values()} == set(found.event_ids)
    assert by_code[on_sale]["event_id"] == by_code[also_on_sale]["event_id"]
    assert (by_code[quarantined]["disposition"], by_code[on_sale]["disposition"]) == (
        "non_sellable_other",
        "sellable_accessible",
    )
    with pytest.raises(OperationRefusedError) as quarantine_kept:
        retail.sell(rt, retailer, location_id=store, codes=[quarantined])
    assert reasons(quarantine_kept) == {quarantined: "not_sellable"}
    chain_ok(rt, brand)


def test_a_lost_unit_recalled_and_released_is_found_again_as_it_was(rt: Runtime) -> None:
    shelf = on_shelf(rt, 1)
    brand, retailer, (code,) = shelf.brand, shelf.retailer, shelf.codes
    retail.change_disposition(rt, retailer, operation=Operation.MARK_LOST, codes=[code])
    draft = recalls.RecallDraft("Seals", "damaged seals", "III", Scope(unit_codes=(code,)))
    recall = recalls.create_recall(rt, brand, draft)
    assert recalls.activate(rt, brand, recall.id).units == 1
    recalls.release(rt, brand, recall.id, reason="false alarm", codes=[code])
    assert unit_row(rt, code)["disposition"] == "unknown"
    found = retail.change_disposition(rt, retailer, operation=Operation.MARK_FOUND, codes=[code])
    assert (found.disposition, found.dispositions) == (
        "sellable_accessible",
        {"sellable_accessible": 1},
    )
