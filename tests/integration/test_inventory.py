"""Inventory counts on a real database: the worked store of tests/inventory_data.py, counted,
closed, resolved through the normal operations, and its accuracy over time."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.factories import make_location, make_org
from tests.integration.test_retail import chain_ok
from tests.inventory_data import Store, stocked_store
from unitrace.adapters.clock import FixedClock
from unitrace.domain.lifecycle import Operation
from unitrace.domain.model import Disposition, OrganizationKind
from unitrace.errors import (
    ConflictError,
    NotFoundError,
    OperationRefusedError,
    PermissionDeniedError,
    ValidationError,
)
from unitrace.services import containers, history, inventory, retail, units
from unitrace.services.runtime import Runtime


def _count_north(rt: Runtime, s: Store) -> int:
    c = s.c
    count = inventory.start_count(rt, s.retailer, location_id=s.north, note="monthly")
    first = inventory.add_scans(
        rt,
        s.retailer,
        count.id,
        # the case (c[0:4]), c[4] twice in two forms, c[5]
        scans=[s.case, c[4], f"https://id.example.test/{c[4].lower()}", f" {c[5]}\r"],
        area="shelf A",
    )
    assert (first.added, first.repeated, first.unknown, first.scanned) == (6, 0, (), 6)
    second = inventory.add_scans(
        rt,
        s.retailer,
        count.id,
        scans=[c[0], c[6], c[8], c[9], c[10], c[11], c[12], s.never_issued],
        area="back room",
    )
    # c[0] was in the case; c[11] (another retailer's) and c[12] (the brand's) are
    # reported exactly like the code nobody issued
    assert second.unknown == (c[11], c[12], s.never_issued)
    assert (second.added, second.repeated, second.scanned) == (7, 1, 13)
    return count.id


def test_a_closed_count_lists_exactly_the_missing_unexpected_and_misplaced_units(
    rt: Runtime,
) -> None:
    s = stocked_store(rt)
    c = s.c
    count_id = _count_north(rt, s)
    detail = inventory.close_count(rt, s.retailer, count_id)

    view = detail.count
    assert (view.status, view.scanned, view.matched) == ("closed", 13, 6)
    assert (view.missing, view.unexpected, view.wrong_location) == (1, 6, 1)
    assert view.accuracy == round(6 / 14, 4)
    found = {(d.code, d.kind, d.reason) for d in detail.differences}
    assert found == {
        (c[7], "missing", "not_scanned"),
        (c[8], "wrong_location", "at_another_location"),
        (c[6], "unexpected", "sold"),
        (c[9], "unexpected", "not_received"),
        (c[10], "unexpected", "not_received"),
        (c[11], "unexpected", "unknown"),
        (c[12], "unexpected", "unknown"),
        (s.never_issued, "unexpected", "unknown"),
    }
    by_code = {d.code: d for d in detail.differences}
    assert by_code[c[8]].location_id == s.south
    assert by_code[c[9]].shipment_id == s.shipment_id
    assert by_code[c[7]].choices == ("stolen", "lost", "found", "noted")
    assert by_code[c[9]].choices == ("received", "noted")
    assert by_code[c[8]].choices == ("moved_here", "noted")
    assert by_code[c[6]].choices == ("noted",)
    # nothing about another organization's unit shows: it reads as a code nobody issued
    for code in (c[11], c[12], s.never_issued):
        d = by_code[code]
        assert (d.product_name, d.disposition, d.location_id, d.shipment_id) == (
            None, None, None, None,
        )  # fmt: skip
    # the frozen figures do not move when the stock does
    with pytest.raises(ConflictError, match="closed"):
        inventory.add_scans(rt, s.retailer, count_id, scans=[c[7]])
    with pytest.raises(ConflictError, match="closed"):
        inventory.close_count(rt, s.retailer, count_id)
    assert inventory.get_count(rt, s.retailer, count_id).differences == detail.differences


def test_resolutions_record_the_normal_events_and_happen_once(rt: Runtime) -> None:
    s = stocked_store(rt)
    c = s.c
    count_id = _count_north(rt, s)
    with pytest.raises(ConflictError, match="open: close it first"):
        inventory.resolve(rt, s.retailer, count_id, code=c[7], resolution="stolen")
    inventory.close_count(rt, s.retailer, count_id)

    stolen = inventory.resolve(rt, s.retailer, count_id, code=c[7], resolution="stolen")
    assert stolen.event_id is not None and not stolen.replayed
    assert units.get_unit(rt, s.retailer, c[7]).unit.disposition is Disposition.STOLEN
    last = history.timeline(rt, s.retailer, c[7])[-1]
    assert (last.event_id, last.disposition) == (stolen.event_id, "stolen")
    again = inventory.resolve(rt, s.retailer, count_id, code=c[7].lower(), resolution="stolen")
    assert (again.replayed, again.event_id) == (True, stolen.event_id)
    with pytest.raises(ConflictError, match="already resolved as stolen"):
        inventory.resolve(rt, s.retailer, count_id, code=c[7], resolution="found")

    # receiving one unit of the shipment receives every unit of it the count found
    received = inventory.resolve(rt, s.retailer, count_id, code=c[9], resolution="received")
    assert {d.code for d in received.differences} == {c[9], c[10]}
    assert {d.resolution for d in received.differences} == {"received"}
    for code in (c[9], c[10]):
        unit = units.get_unit(rt, s.retailer, code).unit
        assert (unit.disposition, unit.location_id) == (Disposition.SELLABLE_ACCESSIBLE, s.north)
        assert unit.custodian_organization_id == s.retailer.organization_id
        step = history.timeline(rt, s.retailer, code)[-1]
        assert (step.event_id, step.biz_step) == (received.event_id, "receiving")
    twice = inventory.resolve(rt, s.retailer, count_id, code=c[10], resolution="received")
    assert twice.replayed

    with pytest.raises(ValidationError, match="can be resolved as moved_here, noted; not stolen"):
        inventory.resolve(rt, s.retailer, count_id, code=c[8], resolution="stolen")
    with pytest.raises(ValidationError, match="say why"):
        inventory.resolve(rt, s.retailer, count_id, code=c[8], resolution="noted")
    noted = inventory.resolve(
        rt, s.retailer, count_id, code=c[8], resolution="noted", note="taken to south today"
    )
    assert noted.event_id is None
    assert units.get_unit(rt, s.retailer, c[8]).unit.location_id == s.south  # unchanged
    with pytest.raises(NotFoundError, match="not a difference"):
        inventory.resolve(rt, s.retailer, count_id, code=c[0], resolution="found")
    with pytest.raises(ValidationError, match="can be resolved as noted; not lost"):
        inventory.resolve(rt, s.retailer, count_id, code=c[6], resolution="lost")
    with pytest.raises(ValidationError, match="one of"):
        inventory.resolve(rt, s.retailer, count_id, code=c[6], resolution="gone")

    detail = inventory.get_count(rt, s.retailer, count_id)
    resolved = {d.code: (d.resolution, d.resolved_by) for d in detail.differences if d.resolution}
    who = s.retailer.display
    assert resolved == {
        c[7]: ("stolen", who), c[9]: ("received", who), c[10]: ("received", who),
        c[8]: ("noted", who),
    }  # fmt: skip
    assert detail.count.resolved == 4
    assert next(d for d in detail.differences if d.code == c[8]).choices == ()


def test_a_resolution_the_lifecycle_refuses_changes_nothing(rt: Runtime) -> None:
    s = stocked_store(rt)
    retail.change_disposition(rt, s.retailer, operation=Operation.MARK_DAMAGED, codes=[s.c[5]])
    count = inventory.start_count(rt, s.retailer, location_id=s.north)
    inventory.add_scans(rt, s.retailer, count.id, scans=[s.case, s.c[4], s.c[7]])
    detail = inventory.close_count(rt, s.retailer, count.id)
    assert [d.code for d in detail.differences if d.kind == "missing"] == [s.c[5]]
    # c[5] is damaged: on hand, but the lifecycle does not let it be reported stolen
    with pytest.raises(OperationRefusedError):
        inventory.resolve(rt, s.retailer, count.id, code=s.c[5], resolution="stolen")
    after = inventory.get_count(rt, s.retailer, count.id)
    assert next(d for d in after.differences if d.code == s.c[5]).resolution is None
    unit = units.get_unit(rt, s.retailer, s.c[5]).unit
    assert unit.disposition is Disposition.DAMAGED
    found = inventory.resolve(rt, s.retailer, count.id, code=s.c[5], resolution="found")
    assert found.differences[0].resolution == "found"


def test_an_unreadable_scan_refuses_the_batch_and_adds_nothing(rt: Runtime) -> None:
    s = stocked_store(rt)
    count = inventory.start_count(rt, s.retailer, location_id=s.north)
    with pytest.raises(ValidationError, match="scan 2 is not readable"):
        inventory.add_scans(rt, s.retailer, count.id, scans=[s.c[0], "not a code"])
    assert inventory.get_count(rt, s.retailer, count.id).count.scanned == 0
    with pytest.raises(ValidationError, match="area"):
        inventory.add_scans(rt, s.retailer, count.id, scans=[s.c[0]], area="x" * 101)


def test_counts_belong_to_the_counting_organization(rt: Runtime) -> None:
    s = stocked_store(rt)
    count = inventory.start_count(rt, s.retailer, location_id=s.north)
    with pytest.raises(NotFoundError, match=f"inventory count {count.id} not found"):
        inventory.get_count(rt, s.other_retailer, count.id)
    with pytest.raises(NotFoundError):
        inventory.add_scans(rt, s.other_retailer, count.id, scans=[s.c[0]])
    with pytest.raises(NotFoundError, match="location"):
        inventory.start_count(rt, s.other_retailer, location_id=s.north)
    # a case of the brand's (never shipped) is an unknown code to the retailer: its units
    # are not counted, and nothing about them is shown
    (box,) = containers.create_containers(rt, s.brand, kind="case")
    containers.pack(rt, s.brand, container=box.code, items=[s.c[12]])
    batch = inventory.add_scans(rt, s.retailer, count.id, scans=[box.code])
    assert (batch.added, batch.unknown, batch.scanned) == (1, (box.code,), 1)
    closed = inventory.close_count(rt, s.retailer, count.id)
    unknown = [d for d in closed.differences if d.kind == "unexpected"]
    assert [(d.code, d.reason, d.product_name) for d in unknown] == [(box.code, "unknown", None)]
    lab = make_org(rt, kind=OrganizationKind.LAB)
    with pytest.raises(PermissionDeniedError, match="no stock to count"):
        inventory.start_count(rt, lab, location_id=make_location(rt, lab))
    assert inventory.list_counts(rt, s.other_retailer).total == 0


def test_accuracy_over_time_lists_closed_counts_per_store(rt: Runtime, clock: FixedClock) -> None:
    s = stocked_store(rt)
    first = _count_north(rt, s)
    inventory.close_count(rt, s.retailer, first)
    clock.advance(days=7)
    second = inventory.start_count(rt, s.retailer, location_id=s.north)
    # everything believed here now (c[0:6] and c[7]), scanned: a perfect count
    inventory.add_scans(rt, s.retailer, second.id, scans=[s.case, *s.c[4:6], s.c[7]])
    inventory.close_count(rt, s.retailer, second.id)
    south = inventory.start_count(rt, s.retailer, location_id=s.south)
    inventory.close_count(rt, s.retailer, south.id)  # nothing scanned: c[8] is missing
    still_open = inventory.start_count(rt, s.retailer, location_id=s.north)

    history_north = inventory.accuracy_history(rt, s.retailer, location_id=s.north)
    assert [(v.id, v.accuracy) for v in history_north] == [
        (first, round(6 / 14, 4)), (second.id, 1.0),
    ]  # fmt: skip
    recent = inventory.accuracy_history(rt, s.retailer, since=clock.now - dt.timedelta(days=1))
    assert [(v.id, v.location_id, v.accuracy) for v in recent] == [
        (second.id, s.north, 1.0), (south.id, s.south, 0.0),
    ]  # fmt: skip
    page = inventory.list_counts(rt, s.retailer, location_id=s.north)
    assert [v.id for v in page.items] == [still_open.id, second.id, first]
    assert page.items[0].accuracy is None
    with pytest.raises(ValidationError, match="until must be after since"):
        inventory.accuracy_history(rt, s.retailer, since=clock.now, until=clock.now)


def test_what_is_believed_present_is_taken_when_the_count_closes(rt: Runtime) -> None:
    s = stocked_store(rt)
    count = inventory.start_count(rt, s.retailer, location_id=s.north)
    inventory.add_scans(rt, s.retailer, count.id, scans=[s.case, s.c[4], s.c[5], s.c[7]])
    retail.sell(rt, s.retailer, location_id=s.north, codes=[s.c[4]])  # after its scan
    detail = inventory.close_count(rt, s.retailer, count.id)
    assert [(d.code, d.kind, d.reason) for d in detail.differences] == [
        (s.c[4], "unexpected", "sold")
    ]
    assert (detail.count.matched, detail.count.accuracy) == (6, round(6 / 7, 4))


def _last_event(rt: Runtime, s: Store, code: str) -> dict[str, Any]:
    return history.unit_history(rt, s.retailer, code)[-1]


def _epc(code: str) -> str:
    return f"urn:unitrace:unit:{code}"


def _states(rt: Runtime, s: Store) -> dict[str, tuple[Disposition, int | None]]:
    out = {}
    for code in s.c[:9]:  # the units the retailer holds
        unit = units.get_unit(rt, s.retailer, code).unit
        out[code] = (unit.disposition, unit.location_id)
    return out


def test_closing_a_count_records_one_cycle_counting_event_of_the_units_found_in_place(
    rt: Runtime,
) -> None:
    s = stocked_store(rt)
    c = s.c
    count_id = _count_north(rt, s)
    before = _states(rt, s)
    detail = inventory.close_count(rt, s.retailer, count_id)

    assert _states(rt, s) == before  # the count changes no unit
    assert detail.count.event_id is not None
    where = f"urn:unitrace:location:{s.north}"
    for code in c[0:6]:  # the six matched units, and only they
        event = _last_event(rt, s, code)
        assert event["eventID"] == detail.count.event_id
    event = _last_event(rt, s, c[0])
    assert (event["type"], event["action"], event["bizStep"]) == (
        "ObjectEvent", "OBSERVE", "cycle_counting",
    )  # fmt: skip
    assert "disposition" not in event
    assert event["readPoint"] == {"id": where}
    assert event["bizLocation"] == {"id": where}
    assert sorted(event["epcList"]) == sorted(_epc(code) for code in c[0:6])
    for code in (c[7], c[8], c[9]):  # missing, elsewhere, not received: not in it
        assert all(e["eventID"] != detail.count.event_id for e in _unit_history(rt, s, code))
    assert inventory.get_count(rt, s.retailer, count_id).count.event_id == event["eventID"]
    chain_ok(rt, s.retailer)
    # a count that finds nothing in place records nothing
    empty = inventory.start_count(rt, s.retailer, location_id=s.south)
    assert inventory.close_count(rt, s.retailer, empty.id).count.event_id is None


def _unit_history(rt: Runtime, s: Store, code: str) -> list[dict[str, Any]]:
    viewer = s.brand if code in s.c[9:11] else s.retailer  # in transit: still the brand's
    return history.unit_history(rt, viewer, code)


def test_a_missing_unit_marked_lost_is_found_again_by_a_later_count(
    rt: Runtime, clock: FixedClock
) -> None:
    s = stocked_store(rt)
    c = s.c
    count_id = _count_north(rt, s)
    inventory.close_count(rt, s.retailer, count_id)

    lost = inventory.resolve(rt, s.retailer, count_id, code=c[7], resolution="lost")
    unit = units.get_unit(rt, s.retailer, c[7]).unit
    assert (unit.disposition, unit.location_id) == (Disposition.UNKNOWN, s.north)
    event = _last_event(rt, s, c[7])
    assert (event["eventID"], event["bizStep"], event["disposition"]) == (
        lost.event_id, "stock_taking", "unknown",
    )  # fmt: skip
    assert (event["action"], event["epcList"]) == ("OBSERVE", [_epc(c[7])])
    assert lost.differences[0].resolution == "lost"
    with pytest.raises(OperationRefusedError, match="marked lost"):
        retail.sell(rt, s.retailer, location_id=s.north, codes=[c[7]])

    # a later count scans it: it is unexpected, lost, and can be found
    clock.advance(days=1)
    later = inventory.start_count(rt, s.retailer, location_id=s.north)
    inventory.add_scans(rt, s.retailer, later.id, scans=[c[7]])
    closed = inventory.close_count(rt, s.retailer, later.id)
    (difference,) = [d for d in closed.differences if d.code == c[7]]
    assert (difference.kind, difference.reason, difference.choices) == (
        "unexpected", "lost", ("found", "noted"),
    )  # fmt: skip
    found = inventory.resolve(rt, s.retailer, later.id, code=c[7], resolution="found")
    unit = units.get_unit(rt, s.retailer, c[7]).unit
    assert (unit.disposition, unit.location_id) == (Disposition.SELLABLE_ACCESSIBLE, s.north)
    event = _last_event(rt, s, c[7])  # found where it was lost: one event
    assert (event["eventID"], event["bizStep"], event["disposition"]) == (
        found.event_id, "stock_taking", "sellable_accessible",
    )  # fmt: skip
    retail.sell(rt, s.retailer, location_id=s.north, codes=[c[7]])
    chain_ok(rt, s.retailer)


def test_a_unit_lost_at_one_store_and_found_at_another_is_moved_there(rt: Runtime) -> None:
    s = stocked_store(rt)
    retail.change_disposition(rt, s.retailer, operation=Operation.MARK_LOST, codes=[s.c[8]])
    count = inventory.start_count(rt, s.retailer, location_id=s.north)
    inventory.add_scans(rt, s.retailer, count.id, scans=[s.c[8]])
    inventory.close_count(rt, s.retailer, count.id)
    found = inventory.resolve(rt, s.retailer, count.id, code=s.c[8], resolution="found")

    unit = units.get_unit(rt, s.retailer, s.c[8]).unit
    assert (unit.disposition, unit.location_id) == (Disposition.SELLABLE_ACCESSIBLE, s.north)
    *_, marked, moved = history.unit_history(rt, s.retailer, s.c[8])
    assert (marked["eventID"], marked["bizStep"]) == (found.event_id, "stock_taking")
    assert (moved["bizStep"], moved["bizLocation"]) == (
        "cycle_counting", {"id": f"urn:unitrace:location:{s.north}"},
    )  # fmt: skip
    chain_ok(rt, s.retailer)


def test_a_wrong_location_unit_moved_here_is_relocated_through_one_event(rt: Runtime) -> None:
    s = stocked_store(rt)
    c = s.c
    count_id = _count_north(rt, s)
    inventory.close_count(rt, s.retailer, count_id)

    moved = inventory.resolve(rt, s.retailer, count_id, code=c[8], resolution="moved_here")
    assert moved.differences[0].resolution == "moved_here"
    unit = units.get_unit(rt, s.retailer, c[8]).unit
    assert (unit.disposition, unit.location_id) == (Disposition.SELLABLE_ACCESSIBLE, s.north)
    event = _last_event(rt, s, c[8])
    where = {"id": f"urn:unitrace:location:{s.north}"}
    assert (event["eventID"], event["action"], event["bizStep"]) == (
        moved.event_id, "OBSERVE", "cycle_counting",
    )  # fmt: skip
    assert (event["readPoint"], event["bizLocation"]) == (where, where)
    assert "disposition" not in event
    assert event["epcList"] == [_epc(c[8])]
    again = inventory.resolve(rt, s.retailer, count_id, code=c[8], resolution="moved_here")
    assert (again.replayed, again.event_id) == (True, moved.event_id)
    retail.sell(rt, s.retailer, location_id=s.north, codes=[c[8]])  # on sale here now
    chain_ok(rt, s.retailer)


def test_a_lost_resolution_the_lifecycle_refuses_changes_nothing(rt: Runtime) -> None:
    s = stocked_store(rt)
    retail.change_disposition(rt, s.retailer, operation=Operation.MARK_DAMAGED, codes=[s.c[5]])
    count = inventory.start_count(rt, s.retailer, location_id=s.north)
    inventory.add_scans(rt, s.retailer, count.id, scans=[s.case, s.c[4], s.c[7]])
    inventory.close_count(rt, s.retailer, count.id)
    # damaged stock found again would go back on sale: it cannot be marked lost
    with pytest.raises(OperationRefusedError, match="damaged"):
        inventory.resolve(rt, s.retailer, count.id, code=s.c[5], resolution="lost")
    assert units.get_unit(rt, s.retailer, s.c[5]).unit.disposition is Disposition.DAMAGED
    after = inventory.get_count(rt, s.retailer, count.id)
    assert next(d for d in after.differences if d.code == s.c[5]).resolution is None
