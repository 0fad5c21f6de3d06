"""The supply chain: cases and pallets, shipments and receiving, the store counter."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field

from unitrace.web.schemas.common import Id, ItemsPublic, PagePublic, Public, Schema, text

MAX_CODES = 10_000  # mirrors services.movement.MAX_ITEMS: a pallet counts as one

# A code as a scanner sends it: bare, a short URL, a GS1 Digital Link or an SSCC.
Scan = Annotated[str, text(2000, min_length=1)]
Codes = Annotated[
    list[Scan],
    Field(
        min_length=1,
        max_length=MAX_CODES,
        description="Codes as scanned or typed: unit codes, container codes, SSCCs, short URLs "
        "or GS1 Digital Links, any case.",
        examples=[["7K3MQ9XW2D4HBR", "https://id.example.test/2d4hbr7k3mq9xw"]],
    ),
]
Reason = Annotated[str, text(500)]
ShipmentStatus = Literal[
    "draft",
    "shipped",
    "received",
    "received_with_discrepancies",
    "rejected",
    "voided",
    "cancelled",
]
DispositionOperation = Literal[
    "destroy",
    "decommission",
    "mark_stolen",
    "mark_lost",
    "mark_found",
    "mark_damaged",
    "expire",
    "quarantine",
    "restock",
]

# --- containers -------------------------------------------------------------------------


class ContainerCreate(Schema):
    kind: Literal["case", "pallet"] = Field(examples=["pallet"])
    count: int = Field(default=1, ge=1, le=10_000, description="How many to create.")
    location_id: Id | None = Field(default=None, description="Where the containers are.")
    sscc: Annotated[str, text(100)] | None = Field(
        default=None,
        description="An SSCC (18 digits) for a single container.",
        examples=["106141410000000019"],
    )


class ContainerPublic(Public):
    code: str = Field(examples=["M4P9K2XW7D3HQR"])
    kind: Literal["case", "pallet"]
    sscc: str | None
    disposition: str = Field(examples=["active", "in_transit"])
    organization_id: int
    custodian_organization_id: int
    location_id: int | None
    parent_code: str | None = Field(description="The container this one is packed in.")
    children: list[str] = Field(description="Codes of the containers directly inside.")
    units: list[str] = Field(description="Codes of the units directly inside (first 500).")
    total_units: int = Field(description="Units inside at any depth.")
    short_url: str


class ContainersPublic(PagePublic[ContainerPublic]): ...


class ContainersCreatedPublic(ItemsPublic[ContainerPublic]): ...


class PackCreate(Schema):
    items: Codes


class UnpackCreate(Schema):
    items: Codes | None = Field(
        default=None, description="What to take out; leave out to empty the container."
    )


class PackPublic(Public):
    container: str
    packed: int = Field(description="Items named (a case counts as one).")
    units: int = Field(description="Units now inside the container, at any depth.")
    event_id: str = Field(description="The EPCIS AggregationEvent's id.")
    repacked_from: list[str] = Field(description="Containers items were taken out of first.")


# --- shipments --------------------------------------------------------------------------


class ShipmentCreate(Schema):
    destination_organization_id: Id
    destination_location_id: Id
    items: list[Scan] = Field(
        default_factory=list, max_length=MAX_CODES, description="Containers and loose units."
    )
    source_location_id: Id | None = None
    expected_arrival: dt.date | None = None
    notes: Annotated[str, text(2000)] = ""


class ShipmentItems(Schema):
    items: Codes


class ShipmentVoid(Schema):
    reason: Reason = Field(default="", examples=["wrong destination"])


class ShipmentPublic(Public):
    id: int
    number: str = Field(examples=["SH-7K3MQ9XW"])
    status: ShipmentStatus
    organization_id: int = Field(description="The shipper.")
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
    unit_count: int = Field(description="Units shipped, at any depth (0 for a draft).")
    items: list[str] = Field(description="Codes of the containers and loose units listed.")
    manifest: dict[str, int] = Field(
        description="Manifest units by status: in_transit, received, missing, rejected, voided.",
        examples=[{"received": 22, "missing": 2}],
    )


class ShipmentsPublic(PagePublic[ShipmentPublic]): ...


class ScanCreate(Schema):
    raw: Scan = Field(
        description="The scanner's text, as sent.", examples=["(00)106141410000000019"]
    )
    shipment_id: Id | None = Field(
        default=None,
        description="Leave out to find the shipment in transit to you that carries the code.",
    )


class ScanOutcomePublic(Public):
    raw: str
    result: Literal["expected", "unexpected", "already_received", "duplicate", "unknown"]
    code: str | None
    kind: Literal["unit", "case", "pallet"] | None
    units: int = Field(description="Units of the manifest this scan covers.")
    message: str
    shipment_id: int
    scanned_units: int = Field(description="Expected units scanned so far on this shipment.")
    expected_units: int = Field(description="Units of the manifest still in transit.")


class ScanPublic(Public):
    id: int
    raw: str
    code: str | None
    result: str
    units: int
    rejected: bool
    scanned_at: dt.datetime
    actor: str


class ScansPublic(ItemsPublic[ScanPublic]): ...


class ReceiptCreate(Schema):
    scans: list[Scan] = Field(
        default_factory=list,
        max_length=MAX_CODES,
        description="More scans to record first (scans already sent one by one count too).",
    )
    decision: Literal["accept", "reject"] = Field(
        default="accept", description="`reject` refuses the whole shipment."
    )
    reject: list[Scan] = Field(
        default_factory=list,
        max_length=MAX_CODES,
        description="Items of the shipment to refuse; they stay with the shipper.",
    )


class ReceiptPublic(Public):
    shipment_id: int
    number: str
    status: ShipmentStatus
    received: int
    missing: int
    rejected: int
    unexpected: list[str] = Field(description="Raw scans that were not on this shipment.")
    already_received: list[str]
    unknown: list[str]
    missing_codes: list[str]
    rejected_codes: list[str]
    event_id: str | None = Field(description="The receiving event, when something was received.")


# --- retail -----------------------------------------------------------------------------


class SaleCreate(Schema):
    location_id: Id = Field(description="The store selling.")
    codes: Codes
    terminal: Annotated[str, text(100, min_length=1)] | None = Field(
        default=None, examples=["till-3"]
    )


class SalePublic(Public):
    event_id: str
    location_id: int
    codes: list[str]
    sold_at: dt.datetime
    terminal: str | None
    replayed: bool = Field(
        description="True when this answers a retry with the same Idempotency-Key."
    )


class ReturnCreate(Schema):
    location_id: Id = Field(description="The store taking the unit back.")
    code: Scan
    action: Literal["restock", "quarantine"] = Field(
        description="Put it back on sale, or set it aside."
    )


class ReturnPublic(Public):
    code: str
    location_id: int
    action: Literal["restock", "quarantine"]
    disposition: str
    return_event_id: str
    disposition_event_id: str
    returned_at: dt.datetime
    replayed: bool


class UndoSaleCreate(Schema):
    code: Scan
    reason: Reason = Field(default="", examples=["scanned the wrong item"])


class UndoSalePublic(Public):
    code: str
    sale_event_id: str = Field(description="The sale now declared an error.")
    corrective_event_ids: list[str]
    disposition: str
    undone_at: dt.datetime


class DispositionChange(Schema):
    operation: DispositionOperation
    codes: Codes
    reason: Reason = Field(default="", examples=["water damage in the stock room"])


class DispositionPublic(Public):
    operation: DispositionOperation
    disposition: str = Field(
        description="The disposition the units are now in; `several` when units found again "
        "(mark_found) went back to different ones (see `dispositions`)."
    )
    codes: list[str]
    units: int = Field(description="Units changed, contents of named containers included.")
    event_id: str = Field(description="The event recorded (the first of `event_ids`).")
    event_ids: list[str] = Field(
        description="One event per disposition the units are now in: more than one only "
        "when units found again go back to different dispositions."
    )
    dispositions: dict[str, int] = Field(description="Units per disposition they are now in.")


class RelocationCreate(Schema):
    codes: Codes
    location_id: Id = Field(description="The location of yours the units are now at.")
    reason: Reason = Field(default="", examples=["moved to the Main Street store"])


class RelocationPublic(Public):
    location_id: int
    location_name: str
    codes: list[str]
    units: int = Field(description="Units moved, contents of named containers included.")
    event_id: str
