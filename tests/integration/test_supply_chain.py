"""Containers, shipments and scan-and-receive through the services, on both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from tests.factories import first_location, make_batch, make_location, make_org, make_product
from unitrace.adapters.clock import FixedClock
from unitrace.domain.lifecycle import Operation
from unitrace.domain.model import Disposition, OrganizationKind, Principal
from unitrace.errors import ConflictError, NotFoundError, OperationRefusedError, ValidationError
from unitrace.services import audit, containers, retail, serialization, shipments, webhooks
from unitrace.services.runtime import Runtime
from unitrace.storage.schema import events, shipment_units, units


def commission(rt: Runtime, brand: Principal, quantity: int, gtin: str | None = None) -> list[str]:
    product = make_product(rt, brand, gtin=gtin) if gtin else make_product(rt, brand)
    batch = make_batch(rt, brand, product)
    result = serialization.commission_units(rt, brand, batch_id=batch.id, quantity=quantity)
    return sorted(serialization.iter_commissioned_codes(rt, brand, event_id=result.event_id))


def state(rt: Runtime, codes: list[str]) -> dict[str, tuple[str, int, int | None]]:
    with rt.db.read() as conn:
        rows = conn.execute(
            select(
                units.c.code,
                units.c.disposition,
                units.c.custodian_organization_id,
                units.c.location_id,
            ).where(units.c.code.in_(codes))
        ).all()
    return {r.code: (r.disposition, r.custodian_organization_id, r.location_id) for r in rows}


def pallet_of_cases(
    rt: Runtime, brand: Principal, codes: list[str], per_case: int
) -> tuple[str, list[str]]:
    cases = [
        containers.create_containers(rt, brand, kind="case")[0].code
        for _ in range(len(codes) // per_case)
    ]
    for i, case in enumerate(cases):
        containers.pack(rt, brand, container=case, items=codes[i * per_case : (i + 1) * per_case])
    pallet = containers.create_containers(rt, brand, kind="pallet")[0].code
    containers.pack(rt, brand, container=pallet, items=cases)
    return pallet, cases


@pytest.fixture
def parties(rt: Runtime) -> tuple[Principal, Principal, int]:
    brand = make_org(rt)
    retailer = make_org(rt, kind=OrganizationKind.RETAILER)
    store = make_location(rt, retailer)
    return brand, retailer, store


def test_a_pallet_ships_and_is_received_with_one_scan_each(
    rt: Runtime, parties: tuple[Principal, Principal, int]
) -> None:
    brand, retailer, store = parties
    codes = commission(rt, brand, 24)
    pallet, cases = pallet_of_cases(rt, brand, codes, 6)
    assert containers.get_container(rt, brand, pallet).total_units == 24

    draft = shipments.create_shipment(
        rt,
        brand,
        destination_organization_id=retailer.organization_id,
        destination_location_id=store,
        items=[f"https://id.example.test/{pallet.lower()}\r\n"],
    )
    assert draft.status == "draft" and draft.items == (pallet,)
    shipped = shipments.ship(rt, brand, draft.id)
    assert shipped.status == "shipped" and shipped.unit_count == 24
    assert {s[0] for s in state(rt, codes).values()} == {"in_transit"}
    assert {s[1] for s in state(rt, codes).values()} == {brand.organization_id}

    outcome = shipments.scan(rt, retailer, pallet)  # finds the shipment by itself
    assert (outcome.result, outcome.units, outcome.shipment_id) == ("expected", 24, draft.id)
    again = shipments.scan(rt, retailer, cases[0], shipment_id=draft.id)
    assert again.result == "duplicate"

    report = shipments.complete_receipt(rt, retailer, draft.id)
    assert (report.status, report.received, report.missing) == ("received", 24, 0)
    assert set(state(rt, codes).values()) == {
        ("sellable_accessible", retailer.organization_id, store)
    }
    # the pallet and its cases changed hands too, still nested
    view = containers.get_container(rt, retailer, pallet)
    assert view.custodian_organization_id == retailer.organization_id
    assert set(view.children) == set(cases) and view.total_units == 24


def test_missing_unexpected_and_rejected_items_are_reported_never_silently_received(
    rt: Runtime, parties: tuple[Principal, Principal, int]
) -> None:
    brand, retailer, store = parties
    codes = commission(rt, brand, 12)
    case_a = containers.create_containers(rt, brand, kind="case")[0].code
    case_b = containers.create_containers(rt, brand, kind="case")[0].code
    containers.pack(rt, brand, container=case_a, items=codes[:4])
    containers.pack(rt, brand, container=case_b, items=codes[4:8])
    first = shipments.create_shipment(
        rt,
        brand,
        destination_organization_id=retailer.organization_id,
        destination_location_id=store,
        items=[case_a, case_b, codes[8], codes[9]],
    )
    shipments.ship(rt, brand, first.id)
    other = shipments.create_shipment(
        rt,
        brand,
        destination_organization_id=retailer.organization_id,
        destination_location_id=store,
        items=[codes[10]],
    )
    shipments.ship(rt, brand, other.id)

    report = shipments.receive(
        rt,
        retailer,
        first.id,
        scans=[case_a, codes[8].lower(), codes[10], "garbage!!", codes[11]],
        reject=[codes[8]],
    )
    assert report.status == "received_with_discrepancies"
    assert report.received == 4  # case A only
    assert report.rejected == 1 and report.rejected_codes == (codes[8],)
    assert report.missing == 5  # case B (4) and the loose codes[9]
    assert set(report.missing_codes) == {*codes[4:8], codes[9]}
    assert report.unexpected == (codes[10],)  # on the other shipment
    # garbage and a unit never shipped to the retailer are unknown, indistinguishably
    assert len(report.unknown) == 2
    after = state(rt, codes)
    assert all(after[c][0] == "sellable_accessible" for c in codes[:4])
    assert all(after[c] == ("in_transit", brand.organization_id, None) for c in codes[4:11])
    assert after[codes[11]][0] == "active"

    # the shipper calls the rest back: missing and rejected units return to stock
    voided = shipments.void_shipment(rt, brand, first.id, reason="lost case")
    assert voided.manifest == {"received": 4, "voided": 6}
    after = state(rt, codes)
    assert all(
        after[c][0] == "active" and after[c][1] == brand.organization_id for c in codes[4:10]
    )
    assert after[codes[10]][0] == "in_transit"


def test_a_shipment_can_be_voided_before_receipt_and_units_return_as_they_were(
    rt: Runtime, parties: tuple[Principal, Principal, int]
) -> None:
    brand, retailer, store = parties
    codes = commission(rt, brand, 3)
    draft = shipments.create_shipment(
        rt,
        brand,
        destination_organization_id=retailer.organization_id,
        destination_location_id=store,
        items=codes,
    )
    shipments.ship(rt, brand, draft.id)
    voided = shipments.void_shipment(rt, brand, draft.id)
    assert voided.status == "voided"
    assert {s[0] for s in state(rt, codes).values()} == {"active"}
    with pytest.raises(ConflictError):
        shipments.receive(rt, retailer, draft.id, scans=codes)
    with rt.db.read() as conn:
        steps = conn.execute(
            select(events.c.biz_step).where(events.c.shipment_id == draft.id).order_by(events.c.id)
        ).scalars()
        assert list(steps) == ["shipping", "void_shipping"]


def test_rules_refuse_specific_items_and_change_nothing(
    rt: Runtime, parties: tuple[Principal, Principal, int]
) -> None:
    brand, retailer, store = parties
    codes = commission(rt, brand, 4)
    case = containers.create_containers(rt, brand, kind="case")[0].code
    containers.pack(rt, brand, container=case, items=codes[:2])
    with pytest.raises(OperationRefusedError) as refused:
        shipments.create_shipment(
            rt,
            brand,
            destination_organization_id=retailer.organization_id,
            destination_location_id=store,
            items=[codes[0]],
        )
    assert refused.value.details[0]["reason"] == "packed"
    # a retailer cannot ship; another organization's code is a plain 404
    with pytest.raises(OperationRefusedError):
        shipments.create_shipment(
            rt,
            retailer,
            destination_organization_id=brand.organization_id,
            destination_location_id=first_location(rt, brand),
        )
    with pytest.raises(NotFoundError):
        containers.pack(rt, retailer, container=case, items=[codes[3]])
    # a container never ends up inside itself
    pallet = containers.create_containers(rt, brand, kind="pallet")[0].code
    containers.pack(rt, brand, container=pallet, items=[case])
    with pytest.raises(OperationRefusedError) as cycle:
        containers.pack(rt, brand, container=case, items=[pallet])
    assert cycle.value.details[0]["reason"] == "cycle"
    with pytest.raises(ValidationError):
        containers.pack(rt, brand, container=case, items=["not a code at all"])


def test_repacking_keeps_lineage_on_the_unit_timeline(
    rt: Runtime, parties: tuple[Principal, Principal, int]
) -> None:
    brand, _retailer, _store = parties
    codes = commission(rt, brand, 2)
    first = containers.create_containers(rt, brand, kind="case")[0].code
    second = containers.create_containers(rt, brand, kind="case")[0].code
    containers.pack(rt, brand, container=first, items=codes)
    moved = containers.pack(rt, brand, container=second, items=[codes[0]])
    assert moved.repacked_from == (first,)
    assert containers.get_container(rt, brand, first).units == (codes[1],)
    assert containers.get_container(rt, brand, second).units == (codes[0],)
    with rt.db.read() as conn:
        unit_id = conn.execute(select(units.c.id).where(units.c.code == codes[0])).scalar_one()
        steps = conn.execute(
            text(
                "SELECT e.biz_step, e.document FROM events e JOIN event_units m "
                "ON m.event_row_id = e.id WHERE m.unit_id = :u ORDER BY e.id"
            ),
            {"u": unit_id},
        ).all()
    assert [s.biz_step for s in steps] == ["packing", "unpacking", "packing"]
    assert first.lower() not in steps[2].document.lower()
    assert second in steps[2].document


def test_the_manifest_is_the_flattened_contents_at_ship_time(
    rt: Runtime, parties: tuple[Principal, Principal, int]
) -> None:
    brand, retailer, store = parties
    codes = commission(rt, brand, 8)
    pallet, _cases = pallet_of_cases(rt, brand, codes, 4)
    draft = shipments.create_shipment(
        rt,
        brand,
        destination_organization_id=retailer.organization_id,
        destination_location_id=store,
        items=[pallet],
    )
    shipments.ship(rt, brand, draft.id)
    with rt.db.read() as conn:
        manifest = conn.execute(
            select(units.c.code)
            .join(shipment_units, shipment_units.c.unit_id == units.c.id)
            .where(shipment_units.c.shipment_id == draft.id)
        ).scalars()
        assert sorted(manifest) == codes
    assert Disposition.IN_TRANSIT.value in {s[0] for s in state(rt, codes).values()}


def test_a_case_and_a_loose_unit_scanned_together_and_a_rejected_case(
    rt: Runtime, parties: tuple[Principal, Principal, int]
) -> None:
    brand, retailer, store = parties
    codes = commission(rt, brand, 7, gtin="09506000134352")
    kept = containers.create_containers(rt, brand, kind="case")[0].code
    refused = containers.create_containers(rt, brand, kind="case")[0].code
    containers.pack(rt, brand, container=kept, items=codes[:3])
    containers.pack(rt, brand, container=refused, items=codes[3:6])
    draft = shipments.create_shipment(
        rt,
        brand,
        destination_organization_id=retailer.organization_id,
        destination_location_id=store,
        items=[kept, refused, codes[6]],
    )
    shipments.ship(rt, brand, draft.id)
    link = f"https://shop.example/01/09506000134352/21/{codes[6].lower()}"
    report = shipments.receive(
        rt, retailer, draft.id, scans=[kept, link, refused], reject=[refused]
    )
    assert (report.received, report.rejected, report.missing) == (4, 3, 0)
    assert set(report.rejected_codes) == set(codes[3:6])
    after = state(rt, codes)
    assert {after[c][0] for c in [*codes[:3], codes[6]]} == {"sellable_accessible"}
    assert {after[c][0] for c in codes[3:6]} == {"in_transit"}


def test_shipping_and_receiving_notify_both_parties_webhooks(
    rt: Runtime, parties: tuple[Principal, Principal, int]
) -> None:
    brand, retailer, store = parties
    hooks = {
        p.organization_id: webhooks.create_webhook(
            rt,
            p,
            url="https://hooks.example.test/unitrace",
            topics=["shipment.shipped", "shipment.received"],
        ).webhook.id
        for p in (brand, retailer)
    }
    codes = commission(rt, brand, 2)
    draft = shipments.create_shipment(
        rt,
        brand,
        destination_organization_id=retailer.organization_id,
        destination_location_id=store,
        items=codes,
    )
    shipments.ship(rt, brand, draft.id)
    shipments.receive(rt, retailer, draft.id, scans=codes[:1])
    for principal in (brand, retailer):
        deliveries, total = webhooks.list_deliveries(
            rt, principal, webhook_id=hooks[principal.organization_id]
        )
        assert total == 2
        by_topic = {d.topic: d.payload for d in deliveries}
        assert by_topic["shipment.shipped"]["shipment"]["number"] == draft.number
        assert by_topic["shipment.shipped"]["units"] == 2
        received = by_topic["shipment.received"]
        assert (received["status"], received["received"]) == ("received_with_discrepancies", 1)


def test_a_mistaken_receipt_is_undone_by_error_declaration_and_received_again(
    rt: Runtime, parties: tuple[Principal, Principal, int], clock: FixedClock
) -> None:
    brand, retailer, store = parties
    codes = commission(rt, brand, 6)
    case = containers.create_containers(rt, brand, kind="case")[0].code
    containers.pack(rt, brand, container=case, items=codes[:4])
    draft = shipments.create_shipment(
        rt,
        brand,
        destination_organization_id=retailer.organization_id,
        destination_location_id=store,
        items=[case, codes[4], codes[5]],
    )
    shipments.ship(rt, brand, draft.id)
    first = shipments.receive(rt, retailer, draft.id, scans=[case, codes[4]])
    assert (first.received, first.missing) == (5, 1)

    clock.advance(minutes=5)
    undone = shipments.undo_receipt(rt, retailer, draft.id, reason="wrong store")
    assert undone.status == "shipped" and undone.manifest == {"in_transit": 6}
    after = state(rt, codes)
    assert set(after.values()) == {("in_transit", brand.organization_id, None)}
    assert containers.get_container(rt, brand, case).custodian_organization_id == (
        brand.organization_id
    )
    with rt.db.read() as conn:
        rows = conn.execute(
            select(events.c.event_id, events.c.disposition, events.c.error_declaration)
            .where(events.c.shipment_id == draft.id, events.c.biz_step == "receiving")
            .order_by(events.c.id)
        ).all()
    receipt, corrective, declaration = rows
    assert declaration.event_id == receipt.event_id  # the declaration repeats the event's ID
    assert corrective.disposition == "in_transit"
    assert corrective.event_id in declaration.error_declaration
    assert audit.verify_chain(rt, retailer).ok

    again = shipments.receive(rt, retailer, draft.id, scans=[case, codes[4], codes[5]])
    assert (again.status, again.received) == ("received", 6)
    # a unit sold since cannot be taken back with its receipt; too late is too late
    retail.sell(rt, retailer, location_id=store, codes=[codes[5]])
    with pytest.raises(OperationRefusedError) as sold:
        shipments.undo_receipt(rt, retailer, draft.id)
    assert sold.value.details[0]["reason"] == "already_sold"
    clock.advance(days=2)
    with pytest.raises(OperationRefusedError) as late:
        shipments.undo_receipt(rt, retailer, draft.id)
    assert late.value.details[0]["reason"] == "undo_window_passed"
    with pytest.raises(NotFoundError):
        shipments.undo_receipt(rt, brand, draft.id)


def test_a_case_holding_a_damaged_unit_does_not_ship_and_nothing_moves(
    rt: Runtime, parties: tuple[Principal, Principal, int]
) -> None:
    brand, retailer, store = parties
    codes = commission(rt, brand, 3)
    case = containers.create_containers(rt, brand, kind="case")[0].code
    containers.pack(rt, brand, container=case, items=codes)
    retail.change_disposition(rt, brand, operation=Operation.MARK_DAMAGED, codes=[codes[1]])
    draft = shipments.create_shipment(
        rt,
        brand,
        destination_organization_id=retailer.organization_id,
        destination_location_id=store,
        items=[case],
    )
    before = state(rt, codes)
    with pytest.raises(OperationRefusedError) as refused:
        shipments.ship(rt, brand, draft.id)
    assert [(d["code"], d["reason"]) for d in refused.value.details] == [(codes[1], "damaged")]
    assert state(rt, codes) == before
    assert shipments.get_shipment(rt, brand, draft.id).status == "draft"
