"""The history of units, containers and shipments as EPCIS 2.0, and the unit timeline."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, select

from tests.epcis import assert_valid_epcis
from tests.factories import as_role, make_batch, make_org, make_product
from unitrace.adapters.clock import FixedClock
from unitrace.domain import epcis
from unitrace.domain.codes import generate_codes
from unitrace.domain.epcis import EventDraft
from unitrace.domain.model import (
    BizStep,
    Disposition,
    EventAction,
    EventType,
    Principal,
    Role,
)
from unitrace.errors import NotFoundError, ValidationError
from unitrace.services import eventlog, history, organizations, serialization, units
from unitrace.services.runtime import Runtime
from unitrace.storage import events as event_store
from unitrace.storage.schema import containers, shipments
from unitrace.storage.schema import units as units_table


@pytest.fixture
def brand(rt: Runtime) -> Principal:
    return make_org(rt)


@pytest.fixture
def codes(rt: Runtime, brand: Principal) -> list[str]:
    batch = make_batch(rt, brand, make_product(rt, brand, gtin="850012345671"))
    serialization.commission_units(rt, brand, batch_id=batch.id, quantity=3)
    return [v.unit.code for v in units.list_units(rt, brand).items]


def _container(rt: Runtime, owner: Principal) -> tuple[int, str]:
    (code,) = generate_codes(1)
    with rt.db.transaction() as conn:
        now = rt.clock()
        row = conn.execute(
            insert(containers).values(
                code=code,
                organization_id=owner.organization_id,
                kind="case",
                custodian_organization_id=owner.organization_id,
                created_at=now,
                updated_at=now,
            )
        )
    return int(row.inserted_primary_key[0]), code  # type: ignore[index]


def _shipment(rt: Runtime, shipper: Principal, receiver: Principal) -> int:
    site = organizations.list_locations(rt, receiver)[0]
    with rt.db.transaction() as conn:
        row = conn.execute(
            insert(shipments).values(
                organization_id=shipper.organization_id,
                number="SHP-1",
                destination_organization_id=receiver.organization_id,
                destination_location_id=site.id,
                created_at=rt.clock(),
            )
        )
    return int(row.inserted_primary_key[0])  # type: ignore[index]


def _record(
    rt: Runtime,
    principal: Principal,
    draft: EventDraft,
    unit_codes: list[str],
    **extra: object,
) -> int:
    with rt.db.transaction() as conn:
        recorded = eventlog.record(
            conn,
            principal,
            draft,
            record_time=rt.clock(),
            unit_ids=select(units_table.c.id).where(units_table.c.code.in_(unit_codes)),
            **extra,  # type: ignore[arg-type]
        )
    return recorded.row_id


def _pack(rt: Runtime, principal: Principal, parent: str, unit_codes: list[str]) -> EventDraft:
    return EventDraft(
        event_type=EventType.AGGREGATION,
        action=EventAction.ADD,
        biz_step=BizStep.PACKING,
        event_time=rt.clock(),
        parent=epcis.container_epc(parent, None),
        epcs=[epcis.unit_epc(c, "00850012345671") for c in unit_codes],
    )


def _ship(rt: Runtime, unit_codes: list[str]) -> EventDraft:
    return EventDraft(
        event_type=EventType.OBJECT,
        action=EventAction.OBSERVE,
        biz_step=BizStep.SHIPPING,
        disposition=Disposition.IN_TRANSIT,
        event_time=rt.clock(),
        epcs=[epcis.unit_epc(c, "00850012345671") for c in unit_codes],
    )


def test_a_new_units_history_is_its_commissioning_as_valid_epcis(
    rt: Runtime, brand: Principal, codes: list[str]
) -> None:
    events = history.unit_history(rt, brand, codes[0].lower())

    assert [e["bizStep"] for e in events] == ["commissioning"]
    assert len(events[0]["epcList"]) == 3
    assert epcis.unit_epc(codes[0], "00850012345671") in events[0]["epcList"]
    assert events[0]["eventID"] == epcis.event_id(
        {k: v for k, v in events[0].items() if k not in ("eventID", "recordTime")}
    )
    assert_valid_epcis(history.unit_epcis_document(rt, brand, codes[0]))


def test_a_units_history_lists_only_its_own_events_oldest_first(
    rt: Runtime, brand: Principal, codes: list[str], clock: FixedClock
) -> None:
    _, case = _container(rt, brand)
    clock.advance(minutes=5)
    _record(rt, brand, _pack(rt, brand, case, codes[:2]), codes[:2])
    clock.advance(minutes=5)
    _record(rt, brand, _ship(rt, codes[2:]), codes[2:])

    packed = history.unit_history(rt, brand, codes[0])
    shipped = history.unit_history(rt, brand, codes[2])

    assert [e["bizStep"] for e in packed] == ["commissioning", "packing"]
    assert [e["bizStep"] for e in shipped] == ["commissioning", "shipping"]
    document = history.unit_epcis_document(rt, brand, codes[0])
    assert document["creationDate"] == epcis.format_time(clock.now)
    assert_valid_epcis(document)


def test_a_declared_error_is_exported_with_its_declaration_and_marked_on_the_timeline(
    rt: Runtime, brand: Principal, codes: list[str], clock: FixedClock
) -> None:
    row_id = _record(rt, brand, _ship(rt, codes), codes)
    clock.advance(minutes=1)
    with rt.db.transaction() as conn:
        original = event_store.get_event_row(conn, brand.organization_id, row_id)
        assert original is not None
        declaration = epcis.error_declaration(clock.now, "did_not_occur", [])
        eventlog.declare_error(conn, brand, original, declaration, record_time=clock.now)

    events = history.unit_history(rt, brand, codes[1])
    entries = history.timeline(rt, brand, codes[1])

    assert events[2]["errorDeclaration"]["reason"] == "did_not_occur"
    assert events[2]["eventID"] == events[1]["eventID"]
    assert [e.declared_in_error for e in entries] == [False, True, False]
    assert entries[2].summary == "Declared in error (did_not_occur): Shipped"
    assert_valid_epcis(history.unit_epcis_document(rt, brand, codes[1]))


def test_the_timeline_says_when_what_who_and_where(
    rt: Runtime, brand: Principal, clock: FixedClock
) -> None:
    site = organizations.list_locations(rt, brand)[0]
    batch = make_batch(rt, brand)
    serialization.commission_units(rt, brand, batch_id=batch.id, quantity=2, location_id=site.id)
    code = units.list_units(rt, brand).items[0].unit.code

    (entry,) = history.timeline(rt, as_role(brand, Role.VIEWER), code)

    org = organizations.get_my_organization(rt, brand)
    assert entry.summary == "Commissioned 2 units"
    assert (entry.biz_step, entry.disposition) == ("commissioning", "active")
    assert (entry.organization_name, entry.location_name) == (org.name, site.name)
    assert entry.event_time == clock.now
    assert entry.event_id.startswith("ni:///sha-256;")
    assert not entry.declared_in_error


def test_another_organizations_unit_is_not_found_like_an_unknown_one(
    rt: Runtime, brand: Principal, codes: list[str]
) -> None:
    stranger = make_org(rt)

    with pytest.raises(NotFoundError) as theirs:
        history.unit_history(rt, stranger, codes[0])
    with pytest.raises(NotFoundError) as unknown:
        history.unit_epcis_document(rt, stranger, generate_codes(1)[0])

    assert type(theirs.value) is type(unknown.value)
    with pytest.raises(ValidationError):
        history.timeline(rt, brand, "not-a-code")


def test_a_containers_history_is_its_events_and_is_private(
    rt: Runtime, brand: Principal, codes: list[str]
) -> None:
    container_id, case = _container(rt, brand)
    packing = _pack(rt, brand, case, codes)
    _record(rt, brand, packing, codes, container_ids=select(containers.c.id).where(
        containers.c.id == container_id
    ))  # fmt: skip

    events = history.container_history(rt, brand, case.lower())

    assert [(e["type"], e["parentID"]) for e in events] == [
        ("AggregationEvent", epcis.container_epc(case, None))
    ]
    assert_valid_epcis(history.container_epcis_document(rt, brand, case))
    with pytest.raises(NotFoundError):
        history.container_history(rt, make_org(rt), case)


def test_a_shipments_events_are_visible_to_shipper_and_receiver_only(
    rt: Runtime, brand: Principal, codes: list[str]
) -> None:
    receiver = make_org(rt)
    shipment_id = _shipment(rt, brand, receiver)
    _record(rt, brand, _ship(rt, codes), codes, shipment_id=shipment_id)
    _record(rt, brand, _ship(rt, codes[:1]), codes[:1])  # another shipment's event

    sent = history.shipment_epcis_document(rt, brand, shipment_id)
    received = history.shipment_epcis_document(rt, receiver, shipment_id)

    assert len(sent["epcisBody"]["eventList"]) == 1
    assert received["epcisBody"] == sent["epcisBody"]
    assert_valid_epcis(sent)
    with pytest.raises(NotFoundError):
        history.shipment_epcis_document(rt, make_org(rt), shipment_id)
    with pytest.raises(NotFoundError):
        history.shipment_epcis_document(rt, brand, shipment_id + 1)
