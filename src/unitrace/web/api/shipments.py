"""Shipments: drafts, shipping, voiding; receiving by scan, with a live discrepancy list."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header

from unitrace.services import shipments
from unitrace.services.movement import MAX_KEY_LENGTH
from unitrace.web.api.params import IdPath, Limit, Offset
from unitrace.web.deps import ApiPrincipal, RuntimeDep
from unitrace.web.schemas import (
    ReceiptCreate,
    ReceiptPublic,
    ScanCreate,
    ScanOutcomePublic,
    ScansPublic,
    ShipmentCreate,
    ShipmentItems,
    ShipmentPublic,
    ShipmentsPublic,
    ShipmentStatus,
    ShipmentVoid,
)

router = APIRouter(tags=["shipments"])

IdempotencyKey = Annotated[
    str | None,
    Header(
        min_length=1,
        max_length=MAX_KEY_LENGTH,
        description="Any unique string (a UUID is ideal). A retry with the same key and body "
        "answers with the first result instead of doing the work twice.",
    ),
]
REFUSED: dict[int | str, dict[str, Any]] = {
    409: {"description": "`refused`: `details` lists every item with its `reason`."}
}
STATE: dict[int | str, dict[str, Any]] = {
    409: {"description": "`conflict`: the shipment is not in a state that allows this."}
}
REFUSED_OR_STATE: dict[int | str, dict[str, Any]] = {
    409: {"description": "`refused` (per item in `details`), or `conflict`: not a draft."}
}


@router.post("/shipments", status_code=201, responses=REFUSED)
def create_shipment(
    body: ShipmentCreate, rt: RuntimeDep, principal: ApiPrincipal
) -> ShipmentPublic:
    """A draft shipment to a location of another organization (or one of your own)."""
    view = shipments.create_shipment(
        rt,
        principal,
        destination_organization_id=body.destination_organization_id,
        destination_location_id=body.destination_location_id,
        items=body.items,
        source_location_id=body.source_location_id,
        expected_arrival=body.expected_arrival,
        notes=body.notes,
    )
    return ShipmentPublic.of(view)


@router.get("/shipments")
def list_shipments(
    rt: RuntimeDep,
    principal: ApiPrincipal,
    direction: Literal["all", "incoming", "outgoing"] = "all",
    status: ShipmentStatus | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> ShipmentsPublic:
    """Shipments you send, and shipments on their way (or delivered) to you."""
    page = shipments.list_shipments(
        rt, principal, direction=direction, status=status, limit=limit, offset=offset
    )
    return ShipmentsPublic.of(page)


@router.get("/shipments/{shipment_id}")
def get_shipment(shipment_id: IdPath, rt: RuntimeDep, principal: ApiPrincipal) -> ShipmentPublic:
    """A shipment you send, or one shipped to you (a receiver does not see drafts)."""
    return ShipmentPublic.of(shipments.get_shipment(rt, principal, shipment_id))


@router.post("/shipments/{shipment_id}/items", responses=REFUSED_OR_STATE)
def add_items(
    shipment_id: IdPath, body: ShipmentItems, rt: RuntimeDep, principal: ApiPrincipal
) -> ShipmentPublic:
    """Put containers and loose units on a draft (a code already on it is ignored)."""
    return ShipmentPublic.of(shipments.add_items(rt, principal, shipment_id, body.items))


@router.post("/shipments/{shipment_id}/items/remove", responses=STATE)
def remove_items(
    shipment_id: IdPath, body: ShipmentItems, rt: RuntimeDep, principal: ApiPrincipal
) -> ShipmentPublic:
    """Take items off a draft."""
    return ShipmentPublic.of(shipments.remove_items(rt, principal, shipment_id, body.items))


@router.post("/shipments/{shipment_id}/ship", responses=REFUSED_OR_STATE)
def ship(
    shipment_id: IdPath,
    rt: RuntimeDep,
    principal: ApiPrincipal,
    idempotency_key: IdempotencyKey = None,
) -> ShipmentPublic:
    """Ship a draft: everything on it, at any depth, goes ``in_transit`` in one transaction
    (an EPCIS ``shipping`` event). A retry with the same ``Idempotency-Key`` answers 200
    with the shipment instead of a 409."""
    view = shipments.ship(rt, principal, shipment_id, idempotency_key=idempotency_key)
    return ShipmentPublic.of(view)


@router.post("/shipments/{shipment_id}/void", responses=STATE)
def void_shipment(
    shipment_id: IdPath,
    rt: RuntimeDep,
    principal: ApiPrincipal,
    body: ShipmentVoid | None = None,
) -> ShipmentPublic:
    """Call back what the receiver has not received: it returns to your stock as it was
    (a ``void_shipping`` event)."""
    reason = body.reason if body is not None else ""
    return ShipmentPublic.of(shipments.void_shipment(rt, principal, shipment_id, reason=reason))


@router.post("/shipments/{shipment_id}/undo-receipt", responses=STATE)
def undo_receipt(
    shipment_id: IdPath,
    rt: RuntimeDep,
    principal: ApiPrincipal,
    body: ShipmentVoid | None = None,
) -> ShipmentPublic:
    """Take back a receipt made by mistake (receiver only, within the undo window): an EPCIS
    error declaration on the receiving event plus a corrective event put the units back in
    transit, so the shipment can be received again. 409 ``refused`` when a received unit has
    moved on since (sold, recalled, destroyed, expired) or the window has passed."""
    reason = body.reason if body is not None else ""
    return ShipmentPublic.of(shipments.undo_receipt(rt, principal, shipment_id, reason=reason))


@router.post("/shipments/{shipment_id}/cancel", responses=STATE)
def cancel_shipment(shipment_id: IdPath, rt: RuntimeDep, principal: ApiPrincipal) -> ShipmentPublic:
    """Cancel a draft (nothing was shipped, so no event is recorded)."""
    return ShipmentPublic.of(shipments.cancel_shipment(rt, principal, shipment_id))


@router.post("/receiving/scans", status_code=201, responses=STATE)
def scan(body: ScanCreate, rt: RuntimeDep, principal: ApiPrincipal) -> ScanOutcomePublic:
    """Record one receiving scan and classify it at once against the manifest: ``expected``,
    ``unexpected``, ``already_received``, ``duplicate`` or ``unknown``.

    The receiving screen calls this once per scanner Enter. One scan of a pallet covers
    every unit inside it. Without ``shipment_id`` the shipment is the one in transit to you
    that carries the code (404 if none does)."""
    outcome = shipments.scan(rt, principal, body.raw, shipment_id=body.shipment_id)
    return ScanOutcomePublic.of(outcome)


@router.get("/shipments/{shipment_id}/scans")
def list_scans(shipment_id: IdPath, rt: RuntimeDep, principal: ApiPrincipal) -> ScansPublic:
    """The receiving scans of a shipment, oldest first."""
    return ScansPublic.of(shipments.scans(rt, principal, shipment_id))


@router.post("/shipments/{shipment_id}/receive", responses=STATE)
def receive(
    shipment_id: IdPath,
    body: ReceiptCreate,
    rt: RuntimeDep,
    principal: ApiPrincipal,
    idempotency_key: IdempotencyKey = None,
) -> ReceiptPublic:
    """Complete the receipt: ``accept`` receives every expected unit scanned (minus
    ``reject``); expected units nobody scanned are ``missing``; unexpected scans are
    reported and never received. ``reject`` refuses the whole shipment. A retry with the
    same ``Idempotency-Key`` answers with the first report."""
    report = shipments.receive(
        rt,
        principal,
        shipment_id,
        scans=body.scans,
        decision=body.decision,
        reject=body.reject,
        idempotency_key=idempotency_key,
    )
    return ReceiptPublic.of(report)


@router.get("/shipments/{shipment_id}/receipt")
def receipt(shipment_id: IdPath, rt: RuntimeDep, principal: ApiPrincipal) -> ReceiptPublic:
    """The discrepancy report: received, missing, rejected, unexpected, unknown."""
    return ReceiptPublic.of(shipments.receipt_report(rt, principal, shipment_id))
