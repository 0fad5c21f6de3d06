"""Shipments: create, ship, void; and scan-and-receive with a live discrepancy list.

A shipper puts containers and loose units on a draft, then ships it: everything inside goes
``in_transit`` in one UPDATE and the flattened manifest (every unit) is written in one
INSERT … SELECT. The receiver scans codes in any order; one scan of a pallet covers every
unit inside it. Each scan is classified at once against the manifest (expected, unexpected,
already received, duplicate, unknown); completing the receipt receives what was scanned
and expected, lists the rest as missing, and never receives anything unexpected.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import Connection, Select, case, func, literal, select

from unitrace.domain import epcis
from unitrace.domain.codes import ALPHABET
from unitrace.domain.epcis import EventDraft
from unitrace.domain.lifecycle import RULES, Operation, refusal_reason
from unitrace.domain.model import (
    BizStep,
    Disposition,
    EventAction,
    EventType,
    OrganizationKind,
    Page,
    Principal,
    Role,
)
from unitrace.domain.scan import ScanError, parse_scan
from unitrace.errors import ConflictError, NotFoundError, ValidationError
from unitrace.services import eventlog, movement, webhooks
from unitrace.services.access import require
from unitrace.services.catalog import check_page
from unitrace.services.movement import Refusal
from unitrace.services.runtime import Runtime
from unitrace.storage import orgs as org_store
from unitrace.storage import recalls as recall_store
from unitrace.storage import shipments as store
from unitrace.storage import supply
from unitrace.storage.schema import containers, units
from unitrace.storage.supply import Item

_ARRIVING = (Disposition.IN_TRANSIT.value, Disposition.RECALLED.value)
SHIPPER_KINDS = RULES[Operation.SHIP].kinds
RECEIVER_KINDS = RULES[Operation.RECEIVE].kinds
_IN_STOCK = tuple(d.value for d in RULES[Operation.SHIP].sources)
_REPORT_LIMIT = 200  # codes listed per discrepancy kind
DECISIONS = ("accept", "reject")


@dataclass(frozen=True)
class ShipmentView:
    id: int
    number: str
    status: str
    organization_id: int
    shipper_name: str
    destination_organization_id: int
    destination_name: str
    destination_location_id: int
    destination_location_name: str
    source_location_id: int | None
    expected_arrival: dt.date | None
    notes: str
    created_at: dt.datetime
    shipped_at: dt.datetime | None
    received_at: dt.datetime | None
    closed_at: dt.datetime | None
    unit_count: int
    items: tuple[str, ...]
    manifest: dict[str, int] = field(default_factory=dict)  # units by status


@dataclass(frozen=True)
class ScanOutcome:
    raw: str
    result: str  # expected, unexpected, already_received, duplicate, unknown
    code: str | None
    kind: str | None  # unit, case, pallet
    units: int  # units this scan covers on the manifest
    message: str
    shipment_id: int
    scanned_units: int  # expected units scanned so far on this shipment
    expected_units: int  # units on the manifest still in transit


@dataclass(frozen=True)
class ReceiptReport:
    shipment_id: int
    number: str
    status: str
    received: int
    missing: int
    rejected: int
    unexpected: tuple[str, ...]  # raw scans that were not on this shipment
    already_received: tuple[str, ...]
    unknown: tuple[str, ...]
    missing_codes: tuple[str, ...]
    rejected_codes: tuple[str, ...]
    event_id: str | None
    recalled_codes: tuple[str, ...] = ()  # received, but under recall: set apart, not on sale


def _number() -> str:
    return "SH-" + "".join(secrets.choice(ALPHABET) for _ in range(8))


def _view(conn: Connection, row: dict[str, Any]) -> ShipmentView:
    return ShipmentView(
        id=row["id"],
        number=row["number"],
        status=row["status"],
        organization_id=row["organization_id"],
        shipper_name=store.shipper_name(conn, row["organization_id"]),
        destination_organization_id=row["destination_organization_id"],
        destination_name=row["destination_name"],
        destination_location_id=row["destination_location_id"],
        destination_location_name=row["destination_location_name"],
        source_location_id=row["source_location_id"],
        expected_arrival=row["expected_arrival"],
        notes=row["notes"],
        created_at=row["created_at"],
        shipped_at=row["shipped_at"],
        received_at=row["received_at"],
        closed_at=row["closed_at"],
        unit_count=row["unit_count"],
        items=tuple(store.item_codes(conn, row["id"])),
        manifest=store.manifest_counts(conn, row["id"]),
    )


def _shipment(conn: Connection, principal: Principal, shipment_id: int) -> dict[str, Any]:
    """The shipment if the caller ships it, or receives it once it has been shipped."""
    row = store.get_shipment(conn, shipment_id)
    org = principal.organization_id
    if row is None or not (
        row["organization_id"] == org
        or (row["destination_organization_id"] == org and row["status"] != "draft")
    ):
        raise NotFoundError(f"shipment {shipment_id} not found")
    return row


def _own_shipment(conn: Connection, principal: Principal, shipment_id: int) -> dict[str, Any]:
    row = _shipment(conn, principal, shipment_id)
    if row["organization_id"] != principal.organization_id:
        raise NotFoundError(f"shipment {shipment_id} not found")
    return row


def _incoming(conn: Connection, principal: Principal, shipment_id: int) -> dict[str, Any]:
    row = _shipment(conn, principal, shipment_id)
    if row["destination_organization_id"] != principal.organization_id:
        raise NotFoundError(f"shipment {shipment_id} not found")
    return row


def _require_kind(
    conn: Connection, principal: Principal, kinds: frozenset[OrganizationKind], what: str
) -> None:
    kind = movement.organization_kind(conn, principal.organization_id)
    if kind not in kinds:
        allowed = ", ".join(sorted(k.value for k in kinds))
        raise movement.refuse(
            what,
            [Refusal("-", "kind_not_permitted", f"only a {allowed} may {what} ({kind.value})")],
        )


# ---------------------------------------------------------------------------------------
# Drafts


def _check_items(
    conn: Connection, principal: Principal, shipment_id: int, items: Sequence[Item]
) -> None:
    refusals: list[Refusal] = []
    chosen = {i.id for i in items if i.kind == "container"}
    for item in items:
        reason: str | None = None
        detail = ""
        if item.custodian_organization_id != principal.organization_id:
            reason = "not_custodian"
        elif item.kind == "unit" and item.disposition not in _IN_STOCK:
            reason = refusal_reason(Operation.SHIP, Disposition(item.disposition)) or "not_in_stock"
        elif item.kind == "container" and item.disposition != Disposition.ACTIVE.value:
            reason = "not_in_stock"
        elif item.shipment_id is not None:
            reason, detail = "on_another_shipment", "it is already on a shipment in transit"
        elif item.parent_container_id is not None:
            parent = supply.get_container_row(conn, item.parent_container_id)
            above = {item.parent_container_id, *supply.ancestors(conn, item.parent_container_id)}
            if above & chosen:
                reason, detail = (
                    "inside_another_item",
                    f"it is inside {parent.code}, already listed",
                )
            else:
                reason = "packed"
                detail = f"it is packed in {parent.code}: ship {parent.code} or unpack it first"
        if reason is not None:
            refusals.append(Refusal(item.code, reason, detail or movement.reason_message(reason)))
    if refusals:
        raise movement.refuse("put on the shipment", refusals)
    others = store.other_open_shipment(
        conn,
        shipment_id,
        [i.id for i in items if i.kind == "container"],
        [i.id for i in items if i.kind == "unit"],
    )
    if others:
        numbers = [str(store.get_shipment(conn, o)["number"]) for o in others]  # type: ignore[index]
        raise ConflictError(f"some items are already on draft shipment {', '.join(numbers)}")


def create_shipment(
    rt: Runtime,
    principal: Principal,
    *,
    destination_organization_id: int,
    destination_location_id: int,
    items: Sequence[str] = (),
    source_location_id: int | None = None,
    expected_arrival: dt.date | None = None,
    notes: str = "",
) -> ShipmentView:
    """A draft shipment to another organization's location (or one of the shipper's own)."""
    require(principal, Role.OPERATOR)
    if len(notes) > 2000:
        raise ValidationError("notes are limited to 2,000 characters")
    with rt.db.transaction() as conn:
        now = rt.clock()
        _require_kind(conn, principal, SHIPPER_KINDS, "ship")
        movement.location_of(conn, principal.organization_id, source_location_id)
        try:
            destination = org_store.get_organization(conn, destination_organization_id)
            org_store.get_location(conn, destination_organization_id, destination_location_id)
        except NotFoundError as exc:
            raise ValidationError(f"unknown destination: {exc.message}") from exc
        if destination.kind not in RECEIVER_KINDS:
            raise ValidationError(f"a {destination.kind.value} cannot receive shipments")
        shipment_id = store.insert_shipment(
            conn,
            organization_id=principal.organization_id,
            number=_number(),
            status="draft",
            source_location_id=source_location_id,
            destination_organization_id=destination_organization_id,
            destination_location_id=destination_location_id,
            expected_arrival=expected_arrival,
            notes=notes,
            created_at=now,
        )
        if items:
            _add(conn, principal, shipment_id, items)
        return _view(conn, _own_shipment(conn, principal, shipment_id))


def _add(conn: Connection, principal: Principal, shipment_id: int, raw: Sequence[str]) -> None:
    found = movement.resolve(conn, principal, raw)
    boxes, loose = store.item_ids(conn, shipment_id)
    listed = set(boxes) | set(loose)
    new = [i for i in found if i.id not in listed]
    current = supply.find_items(conn, store.item_codes(conn, shipment_id))
    _check_items(conn, principal, shipment_id, [*current.values(), *new])
    store.add_items(
        conn,
        shipment_id,
        [i.id for i in new if i.kind == "container"],
        [i.id for i in new if i.kind == "unit"],
    )


def _draft(conn: Connection, principal: Principal, shipment_id: int) -> dict[str, Any]:
    row = _own_shipment(conn, principal, shipment_id)
    if row["status"] != "draft":
        raise ConflictError(f"shipment {row['number']} is {row['status']}, no longer a draft")
    return row


def add_items(
    rt: Runtime, principal: Principal, shipment_id: int, items: Sequence[str]
) -> ShipmentView:
    require(principal, Role.OPERATOR)
    with rt.db.transaction() as conn:
        _draft(conn, principal, shipment_id)
        _add(conn, principal, shipment_id, items)
        return _view(conn, _own_shipment(conn, principal, shipment_id))


def remove_items(
    rt: Runtime, principal: Principal, shipment_id: int, items: Sequence[str]
) -> ShipmentView:
    require(principal, Role.OPERATOR)
    with rt.db.transaction() as conn:
        _draft(conn, principal, shipment_id)
        found = movement.resolve(conn, principal, items)
        store.remove_items(
            conn,
            shipment_id,
            [i.id for i in found if i.kind == "container"],
            [i.id for i in found if i.kind == "unit"],
        )
        return _view(conn, _own_shipment(conn, principal, shipment_id))


def cancel_shipment(rt: Runtime, principal: Principal, shipment_id: int) -> ShipmentView:
    """Cancel a draft: nothing was shipped, so no event is recorded."""
    require(principal, Role.OPERATOR)
    with rt.db.transaction() as conn:
        _draft(conn, principal, shipment_id)
        store.update_shipment(conn, shipment_id, status="cancelled", closed_at=rt.clock())
        return _view(conn, _own_shipment(conn, principal, shipment_id))


def get_shipment(rt: Runtime, principal: Principal, shipment_id: int) -> ShipmentView:
    with rt.db.read() as conn:
        return _view(conn, _shipment(conn, principal, shipment_id))


def list_shipments(
    rt: Runtime,
    principal: Principal,
    *,
    direction: str = "all",
    status: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page[ShipmentView]:
    check_page(limit, offset)
    if direction not in ("all", "incoming", "outgoing"):
        raise ValidationError("direction is one of all, incoming, outgoing")
    with rt.db.read() as conn:
        rows, total = store.list_shipments(
            conn,
            principal.organization_id,
            direction=direction,
            status=status,
            limit=limit,
            offset=offset,
        )
        views = tuple(_view(conn, r) for r in rows)
    return Page(items=views, total=total, limit=limit, offset=offset)


# ---------------------------------------------------------------------------------------
# Shipping and voiding


def _parties(
    row: dict[str, Any], conn: Connection
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    shipper = epcis.party_uri(row["organization_id"])
    receiver = epcis.party_uri(row["destination_organization_id"])
    dest_gln = supply.location_gln(conn, row["destination_location_id"])
    sources = [("owning_party", shipper), ("possessing_party", shipper)]
    if row["source_location_id"] is not None:
        src_gln = supply.location_gln(conn, row["source_location_id"])
        sources.append(("location", epcis.location_uri(row["source_location_id"], src_gln)))
    destinations = [
        ("owning_party", receiver),
        ("possessing_party", receiver),
        ("location", epcis.location_uri(row["destination_location_id"], dest_gln)),
    ]
    return sources, destinations


def _shipment_event(
    conn: Connection,
    row: dict[str, Any],
    step: BizStep,
    disposition: Disposition | None,
    epcs: Sequence[str],
    *,
    at: int | None,
    now: dt.datetime,
) -> EventDraft:
    """An ObjectEvent about this shipment, seen at location ``at``: what moved, its desadv,
    and the shipper and receiver as source and destination."""
    sources, destinations = _parties(row, conn)
    place = _place(conn, at)
    return EventDraft(
        event_type=EventType.OBJECT,
        action=EventAction.OBSERVE,
        biz_step=step,
        disposition=disposition,
        event_time=now,
        epcs=epcs,
        read_point=place,
        biz_location=place,
        biz_transactions=_transaction(row),
        sources=sources,
        destinations=destinations,
    )


def _transaction(row: dict[str, Any]) -> list[tuple[str, str]]:
    return [("desadv", epcis.shipment_uri(row["organization_id"], row["number"]))]


def _place(conn: Connection, location_id: int | None) -> str | None:
    if location_id is None:
        return None
    return epcis.location_uri(location_id, supply.location_gln(conn, location_id))


def ship(
    rt: Runtime, principal: Principal, shipment_id: int, *, idempotency_key: str | None = None
) -> ShipmentView:
    """Ship a draft: everything on it, at any depth, goes ``in_transit`` in one transaction."""
    require(principal, Role.OPERATOR)
    movement.check_key(idempotency_key)
    body = movement.request_hash({"ship": shipment_id})

    def run() -> ShipmentView:
        with rt.db.transaction() as conn:
            now = rt.clock()
            if (
                movement.claim_or_replay(conn, principal, idempotency_key, "ship", body, now)
                is not None
            ):
                return _view(conn, _own_shipment(conn, principal, shipment_id))
            view = _ship(conn, rt, principal, shipment_id, now)
            movement.store_answer(conn, principal, idempotency_key, {"shipment_id": view.id})
            return view

    return movement.idempotent(rt, principal, idempotency_key, "ship", body, run)


def _ship(
    conn: Connection, rt: Runtime, principal: Principal, shipment_id: int, now: dt.datetime
) -> ShipmentView:
    store.lock_shipment(conn, shipment_id)
    row = _draft(conn, principal, shipment_id)
    boxes, loose = store.item_ids(conn, shipment_id)
    if not boxes and not loose:
        raise ValidationError(f"shipment {row['number']} is empty")
    items = list(supply.find_items(conn, store.item_codes(conn, shipment_id)).values())
    _check_items(conn, principal, shipment_id, items)
    # The recursive container query runs once: it fills the manifest, and from then on the
    # manifest rows (an index range) are the set every later statement works on.
    expected = store.insert_manifest(conn, shipment_id, supply.units_in(boxes, loose))
    unit_set = store.manifest_units(conn, shipment_id, "in_transit")
    org = principal.organization_id
    ok = (
        (units.c.custodian_organization_id == org)
        & units.c.disposition.in_(_IN_STOCK)
        & units.c.shipment_id.is_(None)
    )
    changed = supply.update_units(
        conn,
        unit_set,
        [ok],
        {
            "previous_disposition": units.c.disposition,
            "disposition": Disposition.IN_TRANSIT.value,
            "shipment_id": shipment_id,
            "updated_at": now,
        },
    )
    if changed != expected:
        # Write first, explain only when needed: the units the UPDATE left alone are the
        # ones that may not ship; raising rolls back the ones it changed.
        shipped_now = func.coalesce(units.c.shipment_id, 0) == shipment_id
        offenders = supply.unit_offenders(conn, unit_set, shipped_now)
        if offenders:
            raise movement.refuse(
                "ship", [_unit_refusal(u, principal, Operation.SHIP) for u in offenders]
            )
        raise ConflictError("some units changed while shipping; nothing was shipped, try again")
    box_set = supply.containers_in(boxes)
    supply.update_containers(
        conn,
        box_set,
        [],
        {
            "previous_disposition": containers.c.disposition,
            "disposition": Disposition.IN_TRANSIT.value,
            "shipment_id": shipment_id,
            "updated_at": now,
        },
    )
    draft = _shipment_event(
        conn,
        row,
        BizStep.SHIPPING,
        Disposition.IN_TRANSIT,
        [movement.epc_of(i) for i in items],
        at=row["source_location_id"],
        now=now,
    )
    store.update_shipment(conn, shipment_id, status="shipped", shipped_at=now, unit_count=expected)
    eventlog.record(
        conn,
        principal,
        draft,
        record_time=now,
        unit_ids=unit_set,
        container_ids=box_set,
        read_point_id=row["source_location_id"],
        biz_location_id=row["source_location_id"],
        quantity=expected,
        shipment_id=shipment_id,
    )
    _notify(conn, row, "shipment.shipped", now, {"units": expected})
    return _view(conn, _own_shipment(conn, principal, shipment_id))


def _unit_refusal(unit: Item, principal: Principal, operation: Operation) -> Refusal:
    if unit.custodian_organization_id != principal.organization_id:
        reason = "not_custodian"
    elif unit.shipment_id is not None and unit.disposition != Disposition.IN_TRANSIT.value:
        reason = "on_another_shipment"
    else:
        reason = refusal_reason(operation, Disposition(unit.disposition)) or "not_in_stock"
    return Refusal(unit.code, reason, movement.reason_message(reason))


def _notify(
    conn: Connection, row: dict[str, Any], topic: str, now: dt.datetime, extra: dict[str, Any]
) -> None:
    payload = {
        "shipment": {"id": row["id"], "number": row["number"]},
        "shipper_organization_id": row["organization_id"],
        "destination_organization_id": row["destination_organization_id"],
        "at": epcis.format_time(now),
        **extra,
    }
    webhooks.enqueue(
        conn,
        organization_ids=sorted({row["organization_id"], row["destination_organization_id"]}),
        topic=topic,
        payload=payload,
        at=now,
    )


def void_shipment(
    rt: Runtime, principal: Principal, shipment_id: int, *, reason: str = ""
) -> ShipmentView:
    """Call back what has not been received: those units return to the shipper's stock as
    they were before shipping (a ``void_shipping`` event). A shipment nobody has received
    becomes ``voided``; after a partial receipt the missing or rejected rest comes back."""
    require(principal, Role.OPERATOR)
    with rt.db.transaction() as conn:
        now = rt.clock()
        store.lock_shipment(conn, shipment_id)
        row = _own_shipment(conn, principal, shipment_id)
        if row["status"] not in ("shipped", "rejected", "received_with_discrepancies"):
            raise ConflictError(f"shipment {row['number']} is {row['status']}; nothing to void")
        # Units recalled on the way come back too, and stay recalled.
        unit_set = select(units.c.id).where(
            units.c.shipment_id == shipment_id,
            units.c.disposition.in_(_ARRIVING),
        )
        back = supply.count(conn, unit_set)
        box_set = select(containers.c.id).where(containers.c.shipment_id == shipment_id)
        if back == 0 and supply.count(conn, box_set) == 0:
            raise ConflictError(f"shipment {row['number']} has nothing left in transit")
        top = _top_items(conn, shipment_id)
        membership_units = list(conn.execute(unit_set).scalars())
        membership_boxes = list(conn.execute(box_set).scalars())
        recall_store.restore_before_shipping(
            conn,
            select(units.c.id).where(
                units.c.id.in_(membership_units),
                units.c.disposition == Disposition.RECALLED.value,
            ),
        )
        supply.update_units(
            conn,
            select(units.c.id).where(units.c.id.in_(membership_units)),
            [],
            {
                "disposition": case(
                    (units.c.disposition == Disposition.RECALLED.value, units.c.disposition),
                    else_=units.c.previous_disposition,
                ),
                "previous_disposition": None,
                "shipment_id": None,
                "updated_at": now,
            },
        )
        supply.update_containers(
            conn,
            select(containers.c.id).where(containers.c.id.in_(membership_boxes)),
            [],
            {
                "disposition": containers.c.previous_disposition,
                "previous_disposition": None,
                "shipment_id": None,
                "updated_at": now,
            },
        )
        for status in ("in_transit", "missing", "rejected"):
            store.set_manifest_status(conn, shipment_id, None, status, "voided")
        received = store.manifest_counts(conn, shipment_id).get("received", 0)
        store.update_shipment(
            conn, shipment_id, status="voided" if received == 0 else row["status"], closed_at=now
        )
        draft = _shipment_event(
            conn, row, BizStep.VOID_SHIPPING, None, top, at=row["source_location_id"], now=now
        )
        eventlog.record(
            conn,
            principal,
            draft,
            record_time=now,
            unit_ids=select(units.c.id).where(units.c.id.in_(membership_units)),
            container_ids=select(containers.c.id).where(containers.c.id.in_(membership_boxes)),
            quantity=back,
            shipment_id=shipment_id,
            details={"reason": reason} if reason else None,
        )
        _notify(conn, row, "shipment.voided", now, {"units": back})
        return _view(conn, _own_shipment(conn, principal, shipment_id))


def _top_items(conn: Connection, shipment_id: int) -> list[str]:
    items = supply.find_items(conn, store.item_codes(conn, shipment_id))
    return sorted(movement.epc_of(i) for i in items.values())


# ---------------------------------------------------------------------------------------
# Scan and receive


def _find_incoming(conn: Connection, principal: Principal, item: Item) -> int | None:
    """The shipment to this organization that carries ``item``, if any."""
    if item.shipment_id is None:
        return None
    row = store.get_shipment(conn, item.shipment_id)
    if row and row["destination_organization_id"] == principal.organization_id:
        return int(row["id"])
    return None


def _classify(
    conn: Connection,
    principal: Principal,
    shipment_id: int,
    parsed: Sequence[tuple[str, str | None, str]],
    at: dt.datetime,
) -> list[dict[str, Any]]:
    """Scan rows for ``(raw, key, error)`` entries, classified against the manifest.

    Set-based: one lookup for all codes, one query for what was scanned before, one for the
    manifest status of the scanned units — whatever the number of scans.
    """
    keys = [k for _, k, _ in parsed if k]
    found = movement.lookup(conn, keys, movement.raw_by_key((r, k) for r, k, _ in parsed))
    prior_boxes, prior_units = store.scanned_ids(conn, shipment_id, accepted_only=False)
    covered_units = set(conn.execute(supply.units_in(prior_boxes, prior_units)).scalars())
    covered_boxes = set(conn.execute(supply.containers_in(prior_boxes)).scalars())
    unit_ids = [i.id for i in found.values() if i.kind == "unit"]
    on_manifest = store.manifest_ids(conn, shipment_id, unit_ids)
    rows: list[dict[str, Any]] = []
    org = principal.organization_id
    for index, (raw, key, error) in enumerate(parsed):
        item = found.get(key) if key else None
        base: dict[str, Any] = {
            "shipment_id": shipment_id,
            "raw": raw[:500],
            "scanned_at": at,
            "actor": principal.display[:200],
            "code": item.code if item else None,
            "unit_id": item.id if item and item.kind == "unit" else None,
            "container_id": item.id if item and item.kind == "container" else None,
            "units": 0,
        }
        if item is None or not (
            item.shipment_id == shipment_id
            or movement.visible(item, org)
            or _find_incoming(conn, principal, item) is not None
        ):
            base.update(result="unknown", code=None, unit_id=None, container_id=None)
            base["message"] = error or "unknown code: not on any shipment to you"
        elif (item.kind == "unit" and item.id in covered_units) or (
            item.kind == "container" and item.id in covered_boxes
        ):
            base.update(result="duplicate", message="already scanned")
        elif item.shipment_id == shipment_id:
            inside = (
                supply.units_in([item.id])
                if item.kind == "container"
                else supply.units_in([], [item.id])
            )
            n = supply.count(conn, supply.units_where(inside, units.c.shipment_id == shipment_id))
            message = f"on this shipment: {n} unit(s)"
            held = supply.count(
                conn,
                supply.units_where(
                    inside,
                    units.c.shipment_id == shipment_id,
                    units.c.disposition == Disposition.RECALLED.value,
                ),
            )
            if held:
                message += f"; {held} under recall: set them apart, do not sell"
            base.update(result="expected", units=n, message=message)
            if item.kind == "unit":
                covered_units.add(item.id)
            elif index < len(parsed) - 1:  # later scans in this batch may repeat its contents
                covered_boxes |= set(conn.execute(supply.containers_in([item.id])).scalars())
                covered_units |= set(conn.execute(supply.units_in([item.id])).scalars())
        elif item.kind == "unit" and on_manifest.get(item.id) == "received":
            base.update(result="already_received", message="already received on this shipment")
        elif item.shipment_id is not None:
            base.update(result="unexpected", message="on another shipment: not received here")
        else:
            base.update(result="unexpected", message="not shipped to you: not received here")
        rows.append(base)
    return rows


def _parse_raw(raw: Sequence[str]) -> list[tuple[str, str | None, str]]:
    out: list[tuple[str, str | None, str]] = []
    keys = movement.Keys()
    for text in raw:
        try:
            scan = parse_scan(text)
        except ScanError as exc:
            out.append((text.strip() or text, None, exc.message))
            continue
        out.append((scan.raw, keys(scan), ""))
    return out


def _progress(conn: Connection, shipment_id: int) -> tuple[int, int]:
    boxes, loose = store.scanned_ids(conn, shipment_id, accepted_only=False)
    scanned = (
        supply.count(
            conn,
            supply.units_where(supply.units_in(boxes, loose), units.c.shipment_id == shipment_id),
        )
        if (boxes or loose)
        else 0
    )
    expected = store.manifest_counts(conn, shipment_id).get("in_transit", 0)
    return scanned, expected


def scan(
    rt: Runtime, principal: Principal, raw: str, *, shipment_id: int | None = None
) -> ScanOutcome:
    """Record one receiving scan (raw scanner text) and classify it at once.

    Without ``shipment_id`` the shipment is the one in transit to the caller that carries
    the scanned item.
    """
    require(principal, Role.OPERATOR)
    if len(raw) > 2000:
        raise ValidationError("a scan is at most 2,000 characters")
    with rt.db.transaction() as conn:
        now = rt.clock()
        _require_kind(conn, principal, RECEIVER_KINDS, "receive")
        ((text, key, error),) = _parse_raw([raw])
        if shipment_id is None:
            if key is None:
                raise ValidationError(f"not a code: {error}")
            item = movement.lookup(conn, [key], {key: text}).get(key)
            found = _find_incoming(conn, principal, item) if item else None
            if found is None:
                raise NotFoundError("no shipment in transit to you carries this code")
            shipment_id = found
        row = _incoming(conn, principal, shipment_id)
        if row["status"] != "shipped":
            raise ConflictError(f"shipment {row['number']} is {row['status']}: nothing to receive")
        (scan_row,) = _classify(conn, principal, shipment_id, [(text, key, error)], now)
        message = scan_row.pop("message")
        store.insert_scan(conn, **scan_row)
        scanned, expected = _progress(conn, shipment_id)
        known = movement.lookup(conn, [key], {key: text}) if key and scan_row["code"] else {}
        item = known.get(key) if key else None
        kind = (item.container_kind if item.kind == "container" else "unit") if item else None
        return ScanOutcome(
            raw=text,
            result=scan_row["result"],
            code=scan_row["code"],
            kind=kind,
            units=scan_row["units"],
            message=message,
            shipment_id=shipment_id,
            scanned_units=scanned,
            expected_units=expected,
        )


def scans(rt: Runtime, principal: Principal, shipment_id: int) -> list[dict[str, Any]]:
    """The receiving scans of a shipment, oldest first (for the live discrepancy list)."""
    with rt.db.read() as conn:
        _shipment(conn, principal, shipment_id)
        return store.scans(conn, shipment_id)


def complete_receipt(
    rt: Runtime,
    principal: Principal,
    shipment_id: int,
    *,
    decision: str = "accept",
    reject: Sequence[str] = (),
    idempotency_key: str | None = None,
) -> ReceiptReport:
    """Finish receiving: accept what was scanned (minus ``reject``), or reject the shipment."""
    return receive(
        rt,
        principal,
        shipment_id,
        scans=(),
        decision=decision,
        reject=reject,
        idempotency_key=idempotency_key,
    )


def receive(
    rt: Runtime,
    principal: Principal,
    shipment_id: int,
    *,
    scans: Sequence[str] = (),
    decision: str = "accept",
    reject: Sequence[str] = (),
    idempotency_key: str | None = None,
) -> ReceiptReport:
    """Scan (optionally) and complete a receipt in one transaction.

    ``accept`` receives every expected unit covered by the scans, except those in
    ``reject`` (rejected items stay with the shipper, in transit); expected units nobody
    scanned are ``missing``; unexpected scans are reported and never received. ``reject``
    as the decision refuses the whole shipment.
    """
    require(principal, Role.OPERATOR)
    if decision not in DECISIONS:
        raise ValidationError(f"decision is one of {', '.join(DECISIONS)}; got {decision!r}")
    movement.check_key(idempotency_key)
    body = movement.request_hash(
        {"receive": shipment_id, "scans": list(scans), "decision": decision, "reject": list(reject)}
    )

    def run() -> ReceiptReport:
        with rt.db.transaction() as conn:
            now = rt.clock()
            stored = movement.claim_or_replay(
                conn, principal, idempotency_key, "receive", body, now
            )
            if stored is not None:
                return _report_from(stored)
            report = _receive(conn, rt, principal, shipment_id, scans, decision, reject, now)
            movement.store_answer(conn, principal, idempotency_key, report.__dict__)
            return report

    return movement.idempotent(rt, principal, idempotency_key, "receive", body, run)


def receive_in(
    conn: Connection,
    rt: Runtime,
    principal: Principal,
    shipment_id: int,
    *,
    scans: Sequence[str],
    now: dt.datetime,
) -> ReceiptReport:
    """Scan and accept a receipt inside the caller's transaction (an inventory count's
    resolution records its own row in the same one): the same rules and event as
    :func:`receive` with ``accept``."""
    require(principal, Role.OPERATOR)
    return _receive(conn, rt, principal, shipment_id, scans, "accept", (), now)


def _report_from(stored: dict[str, Any]) -> ReceiptReport:
    values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in stored.items()}
    return ReceiptReport(**values)


def _receive(
    conn: Connection,
    rt: Runtime,
    principal: Principal,
    shipment_id: int,
    raw_scans: Sequence[str],
    decision: str,
    reject: Sequence[str],
    now: dt.datetime,
) -> ReceiptReport:
    _require_kind(conn, principal, RECEIVER_KINDS, "receive")
    store.lock_shipment(conn, shipment_id)
    row = _incoming(conn, principal, shipment_id)
    if row["status"] != "shipped":
        raise ConflictError(f"shipment {row['number']} is {row['status']}: nothing to receive")
    if raw_scans:
        if len(raw_scans) > movement.MAX_ITEMS:
            raise ValidationError(f"at most {movement.MAX_ITEMS:,} scans per request")
        rows = _classify(conn, principal, shipment_id, _parse_raw(raw_scans), now)
        for r in rows:
            r.pop("message")
        store.insert_scans(conn, rows)
    all_scans = store.scans(conn, shipment_id)
    if decision == "reject":
        store.set_manifest_status(conn, shipment_id, None, "in_transit", "rejected")
        store.update_shipment(conn, shipment_id, status="rejected", closed_at=now)
        _notify(conn, row, "shipment.received", now, {"status": "rejected", "received": 0})
        return _report(conn, row, "rejected", 0, all_scans, None)
    if reject:
        _mark_rejected(conn, principal, shipment_id, reject, all_scans, now)
        all_scans = store.scans(conn, shipment_id)
    boxes, loose = store.scanned_ids(conn, shipment_id, accepted_only=True)
    rejected_boxes, rejected_loose = _rejected_ids(all_scans)
    rejected_set = supply.units_in(rejected_boxes, rejected_loose, name="rejected_tree")
    # A unit recalled while in transit is received too: it is here, and it stays recalled.
    on_board = (
        units.c.shipment_id == shipment_id,
        units.c.disposition.in_(_ARRIVING),
    )
    top_boxes, top_loose = store.item_ids(conn, shipment_id)
    if (
        not (rejected_boxes or rejected_loose)
        and set(top_boxes) <= set(boxes)
        and (set(top_loose) <= set(loose))
    ):
        # Everything put on the shipment was scanned (one pallet scan, typically): the units
        # to take in are simply those still on board — an index range, no container walk.
        accepted = select(units.c.id).where(*on_board)
    else:
        accepted = supply.units_where(
            supply.units_in(boxes, loose),
            units.c.id.in_(store.manifest_units(conn, shipment_id, "in_transit")),
            units.c.id.not_in(rejected_set),
            *on_board,
        )
    # Set-based throughout: the manifest rows flip to "received" first, and from then on
    # they *are* the set of units this receipt takes in (a shipment is received only once).
    received = store.set_manifest_status(conn, shipment_id, accepted, "in_transit", "received")
    accepted_set = store.manifest_units(conn, shipment_id, "received")
    destination = row["destination_location_id"]
    recalled = supply.count(
        conn, supply.units_where(accepted_set, units.c.disposition == Disposition.RECALLED.value)
    )
    if recalled:
        # released later, they go on sale here rather than back in transit
        recall_store.update_disposition_before(
            conn,
            supply.units_where(accepted_set, units.c.disposition == Disposition.RECALLED.value),
            Disposition.SELLABLE_ACCESSIBLE.value,
        )
    changed = supply.update_units(
        conn,
        accepted_set,
        [units.c.disposition.in_(_ARRIVING), units.c.shipment_id == shipment_id],
        {
            # previous_disposition keeps the one before shipping, for an undone receipt
            "disposition": case(
                (units.c.disposition == Disposition.RECALLED.value, units.c.disposition),
                else_=literal(Disposition.SELLABLE_ACCESSIBLE.value),
            ),
            "custodian_organization_id": principal.organization_id,
            "location_id": destination,
            "shipment_id": None,
            "updated_at": now,
        },
    )
    if changed != received:
        raise ConflictError("some units changed while receiving; nothing was received, try again")
    box_tree = list(conn.execute(supply.containers_in(boxes)).scalars())
    rejected_tree = set(
        conn.execute(supply.containers_in(rejected_boxes, name="rejected_tree")).scalars()
    )
    box_ids = [b for b in box_tree if b not in rejected_tree]
    box_set = select(containers.c.id).where(
        containers.c.id.in_(box_ids), containers.c.shipment_id == shipment_id
    )
    received_boxes = list(conn.execute(box_set).scalars())
    supply.update_containers(
        conn,
        select(containers.c.id).where(containers.c.id.in_(received_boxes)),
        [],
        {
            "disposition": Disposition.ACTIVE.value,
            "previous_disposition": None,
            "custodian_organization_id": principal.organization_id,
            "location_id": destination,
            "shipment_id": None,
            "updated_at": now,
        },
    )
    # A received case whose pallet stayed behind (missing, rejected) leaves that pallet.
    supply.update_containers(
        conn,
        select(containers.c.id).where(
            containers.c.id.in_(received_boxes),
            containers.c.parent_container_id.not_in(received_boxes),
        ),
        [],
        {"parent_container_id": None},
    )
    supply.update_units(
        conn,
        accepted_set,
        [
            units.c.parent_container_id.is_not(None),
            units.c.parent_container_id.not_in(received_boxes),
        ],
        {"parent_container_id": None},
    )
    store.set_manifest_status(conn, shipment_id, rejected_set, "in_transit", "rejected")
    store.set_manifest_status(conn, shipment_id, None, "in_transit", "missing")
    counts = store.manifest_counts(conn, shipment_id)
    unexpected = any(s["result"] in ("unexpected", "unknown") for s in all_scans)
    clean = counts.get("missing", 0) == 0 and counts.get("rejected", 0) == 0 and not unexpected
    status = "received" if clean else "received_with_discrepancies"
    store.update_shipment(conn, shipment_id, status=status, received_at=now)
    event_id: str | None = None
    if received:
        accepted_scans = [s for s in all_scans if s["result"] == "expected" and not s["rejected"]]
        epcs = sorted(_scan_epcs(conn, accepted_scans))
        draft = _shipment_event(
            conn,
            row,
            BizStep.RECEIVING,
            Disposition.SELLABLE_ACCESSIBLE,
            epcs,
            at=destination,
            now=now,
        )
        event_id = eventlog.record(
            conn,
            principal,
            draft,
            record_time=now,
            unit_ids=accepted_set,
            container_ids=select(containers.c.id).where(containers.c.id.in_(received_boxes)),
            read_point_id=destination,
            biz_location_id=destination,
            quantity=received,
            shipment_id=shipment_id,
        ).event_id
    recalled_codes: tuple[str, ...] = ()
    if recalled:
        recalled_codes = _hold_recalled(conn, principal, row, accepted_set, destination, now)
    _notify(conn, row, "shipment.received", now, {"status": status, "received": received})
    report = _report(conn, row, status, received, all_scans, event_id, counts)
    return replace(report, recalled_codes=recalled_codes) if recalled_codes else report


def _hold_recalled(
    conn: Connection,
    principal: Principal,
    row: dict[str, Any],
    accepted_set: Select[Any],
    destination: int,
    now: dt.datetime,
) -> tuple[str, ...]:
    """Received units that are under recall: one ``holding`` event (disposition
    ``recalled``) at the receiving location, right after the receiving event; their codes."""
    ids = supply.units_where(accepted_set, units.c.disposition == Disposition.RECALLED.value)
    _, codes = eventlog.record_units(
        conn,
        principal,
        biz_step=BizStep.HOLDING,
        disposition=Disposition.RECALLED,
        unit_ids=ids,
        at=now,
        location_id=destination,
        shipment_id=row["id"],
        details={"held": "recalled on receipt"},
    )
    return tuple(codes)


def _scan_epcs(conn: Connection, scan_rows: Sequence[dict[str, Any]]) -> set[str]:
    codes = [s["code"] for s in scan_rows if s["code"]]
    return {movement.epc_of(i) for i in supply.find_items(conn, codes).values()}


def _rejected_ids(all_scans: Sequence[dict[str, Any]]) -> tuple[list[int], list[int]]:
    rejected = [s for s in all_scans if s["rejected"] and s["result"] == "expected"]
    return (
        [int(s["container_id"]) for s in rejected if s["container_id"] is not None],
        [int(s["unit_id"]) for s in rejected if s["unit_id"] is not None],
    )


def _mark_rejected(
    conn: Connection,
    principal: Principal,
    shipment_id: int,
    reject: Sequence[str],
    all_scans: Sequence[dict[str, Any]],
    now: dt.datetime,
) -> None:
    """Reject items by code: scanned ones are flagged; unscanned expected ones are added
    as rejected scans. A code not on this shipment cannot be rejected here."""
    parsed = _parse_raw(reject)
    bad = [raw for raw, key, _ in parsed if key is None]
    if bad:
        raise ValidationError(f"not a code: {bad[0][:40]}")
    keys = [k for _, k, _ in parsed if k]
    found = movement.lookup(conn, keys, movement.raw_by_key((r, k) for r, k, _ in parsed))
    by_code = {s["code"]: s for s in all_scans if s["code"] and s["result"] == "expected"}
    flag: list[int] = []
    add: list[dict[str, Any]] = []
    strangers: list[str] = []
    for raw, key, _ in parsed:
        item = found.get(key or "")
        if item is None or item.shipment_id != shipment_id:
            strangers.append(raw)
        elif item.code in by_code:
            flag.append(int(by_code[item.code]["id"]))
        else:
            add.append(
                {
                    "shipment_id": shipment_id,
                    "raw": raw[:500],
                    "code": item.code,
                    "unit_id": item.id if item.kind == "unit" else None,
                    "container_id": item.id if item.kind == "container" else None,
                    "result": "expected",
                    "units": 0,
                    "rejected": True,
                    "scanned_at": now,
                    "actor": principal.display[:200],
                }
            )
    if strangers:
        raise ValidationError(
            f"{strangers[0][:40]} is not on this shipment, so it cannot be rejected",
            details=[{"code": s[:40]} for s in strangers],
        )
    if flag:
        store.reject_scans(conn, shipment_id, flag)
    store.insert_scans(conn, add)


def _report(
    conn: Connection,
    row: dict[str, Any],
    status: str,
    received: int,
    all_scans: Sequence[dict[str, Any]],
    event_id: str | None,
    counts: dict[str, int] | None = None,
) -> ReceiptReport:
    if counts is None:
        counts = store.manifest_counts(conn, row["id"])

    def raws(result: str) -> tuple[str, ...]:
        return tuple(s["raw"] for s in all_scans if s["result"] == result)[:_REPORT_LIMIT]

    return ReceiptReport(
        shipment_id=row["id"],
        number=row["number"],
        status=status,
        received=received,
        missing=counts.get("missing", 0),
        rejected=counts.get("rejected", 0),
        unexpected=raws("unexpected"),
        already_received=raws("already_received"),
        unknown=raws("unknown"),
        missing_codes=tuple(store.manifest_codes(conn, row["id"], "missing", _REPORT_LIMIT)),
        rejected_codes=tuple(store.manifest_codes(conn, row["id"], "rejected", _REPORT_LIMIT)),
        event_id=event_id,
    )


def receipt_report(rt: Runtime, principal: Principal, shipment_id: int) -> ReceiptReport:
    with rt.db.read() as conn:
        row = _shipment(conn, principal, shipment_id)
        return _report(
            conn,
            row,
            row["status"],
            store.manifest_counts(conn, shipment_id).get("received", 0),
            store.scans(conn, shipment_id),
            None,
        )


# ---------------------------------------------------------------------------------------
# Undoing a receipt


def undo_receipt(
    rt: Runtime, principal: Principal, shipment_id: int, *, reason: str = ""
) -> ShipmentView:
    """Take back a receipt made by mistake, within ``undo_window_minutes``, by the receiver.

    History is not edited: the receiving event gets an EPCIS error declaration
    (``did_not_occur``) naming a corrective event that puts the units back in transit, in the
    shipper's custody, so the shipment can be received again (or voided by the shipper).
    Refused when any received unit has moved on since (sold, recalled, destroyed, expired,
    shipped on) — those would have to be dealt with first.
    """
    require(principal, Role.OPERATOR)
    if len(reason) > 500:
        raise ValidationError("a reason is at most 500 characters")
    with rt.db.transaction() as conn:
        now = rt.clock()
        store.lock_shipment(conn, shipment_id)
        row = _incoming(conn, principal, shipment_id)
        if row["status"] not in ("received", "received_with_discrepancies"):
            raise ConflictError(f"shipment {row['number']} is {row['status']}: no receipt to undo")
        window = dt.timedelta(minutes=rt.settings.undo_window_minutes)
        if row["received_at"] is None or now - row["received_at"] > window:
            raise movement.refuse(
                "undo the receipt",
                [Refusal(row["number"], "undo_window_passed", "the receipt is too old to undo")],
            )
        receipt = _open_receipt(conn, principal, shipment_id)
        received = store.manifest_units(conn, shipment_id, "received")
        expected = supply.count(conn, received)
        me = principal.organization_id
        ok = (
            (units.c.disposition == Disposition.SELLABLE_ACCESSIBLE.value)
            & (units.c.custodian_organization_id == me)
            & units.c.shipment_id.is_(None)
        )
        offenders = supply.unit_offenders(conn, received, ok)
        expired = supply.expired_codes(conn, received, now.date())
        if offenders or expired:
            refusals = [_unit_refusal(u, principal, Operation.UNDO_RECEIPT) for u in offenders]
            refusals += [
                Refusal(code, "expired", movement.reason_message("expired")) for code in expired
            ]
            raise movement.refuse("undo the receipt", refusals)
        changed = supply.update_units(
            conn,
            received,
            [ok],
            {
                "disposition": Disposition.IN_TRANSIT.value,
                "custodian_organization_id": row["organization_id"],
                "location_id": row["source_location_id"],
                "shipment_id": shipment_id,
                "updated_at": now,
            },
        )
        if changed != expected:
            raise ConflictError("some units changed while the receipt was undone; try again")
        boxes = store.event_container_ids(receipt["id"]) if receipt else None
        if boxes is not None:
            supply.update_containers(
                conn,
                boxes,
                [containers.c.custodian_organization_id == me],
                {
                    "disposition": Disposition.IN_TRANSIT.value,
                    "custodian_organization_id": row["organization_id"],
                    "location_id": row["source_location_id"],
                    "shipment_id": shipment_id,
                    "updated_at": now,
                },
            )
        if receipt is not None:
            document = eventlog.stored_event(conn, receipt)
            draft = _shipment_event(
                conn,
                row,
                BizStep.RECEIVING,
                Disposition.IN_TRANSIT,
                list(document.get("epcList", [])),
                at=row["destination_location_id"],
                now=now,
            )
            corrective = eventlog.record(
                conn,
                principal,
                draft,
                record_time=now,
                unit_ids=received,
                container_ids=boxes,
                read_point_id=row["destination_location_id"],
                biz_location_id=row["destination_location_id"],
                quantity=expected,
                shipment_id=shipment_id,
                details={"reason": reason} if reason else None,
            )
            eventlog.declare_error(
                conn,
                principal,
                receipt,
                epcis.error_declaration(now, "did_not_occur", [corrective.event_id]),
                record_time=now,
            )
        for status in ("received", "missing", "rejected"):
            store.set_manifest_status(conn, shipment_id, None, status, "in_transit")
        store.delete_scans(conn, shipment_id)
        store.update_shipment(conn, shipment_id, status="shipped", received_at=None)
        return _view(conn, _incoming(conn, principal, shipment_id))


def _open_receipt(
    conn: Connection, principal: Principal, shipment_id: int
) -> dict[str, Any] | None:
    """The shipment's receiving event by this organization not yet declared wrong."""
    rows = store.step_events(conn, shipment_id, principal.organization_id, BizStep.RECEIVING.value)
    declared = {r["declares_error_on"] for r in rows if r["declares_error_on"] is not None}
    open_ = [
        r
        for r in rows
        if r["declares_error_on"] is None
        and r["disposition"] == Disposition.SELLABLE_ACCESSIBLE.value
        and r["id"] not in declared
    ]
    return open_[-1] if open_ else None
