"""Domain types: frozen dataclasses and the enums whose values are persisted.

Enum values are stored as-is in the database and match GS1 CBV 2.0 names where the
standard has one (business steps, dispositions).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any, Generic, TypeVar

from unitrace.domain.labels import LabelTemplate, PrintTemplate, QrForm

T = TypeVar("T")


# What a product can be, and the units its net content is given in.
PRODUCT_CATEGORIES = (
    "flower",
    "pre_roll",
    "vape",
    "concentrate",
    "edible",
    "beverage",
    "tincture",
    "topical",
    "capsule",
    "accessory",
    "other",
)
CONTENT_UNITS = ("g", "mg", "kg", "ml", "l", "oz", "each")


class OrganizationKind(StrEnum):
    BRAND = "brand"
    DISTRIBUTOR = "distributor"
    RETAILER = "retailer"
    LAB = "lab"
    REGULATOR = "regulator"


class Role(StrEnum):
    """What a user or API key may do inside its organization."""

    ADMIN = "admin"  # everything, including users, API keys and locations
    OPERATOR = "operator"  # day-to-day work: products, batches, serialization
    VIEWER = "viewer"  # read only


class LocationKind(StrEnum):
    FACILITY = "facility"
    WAREHOUSE = "warehouse"
    STORE = "store"
    OFFICE = "office"


class LabStatus(StrEnum):
    """Overall lab-testing status of a batch; only ``passed`` may be serialized."""

    PENDING = "pending"
    PASSED = "passed"
    FAILED = "failed"


class AnalyteKind(StrEnum):
    CANNABINOID = "cannabinoid"
    TERPENE = "terpene"


class PanelResult(StrEnum):
    PASS = "pass"  # noqa: S105 - a test outcome, not a password
    FAIL = "fail"


class Disposition(StrEnum):
    """CBV 2.0 dispositions a unit can be in (``urn:epcglobal:cbv:disp:…``)."""

    ACTIVE = "active"
    IN_TRANSIT = "in_transit"
    SELLABLE_ACCESSIBLE = "sellable_accessible"
    RETAIL_SOLD = "retail_sold"
    RETURNED = "returned"
    RECALLED = "recalled"
    DESTROYED = "destroyed"
    INACTIVE = "inactive"
    STOLEN = "stolen"
    DAMAGED = "damaged"
    EXPIRED = "expired"
    # quarantined (e.g. a return awaiting inspection): unsellable, no more specific CBV code
    NON_SELLABLE_OTHER = "non_sellable_other"
    # lost: not found where it was believed to be, and not known to be stolen
    UNKNOWN = "unknown"


class BizStep(StrEnum):
    """CBV 2.0 business steps (``urn:epcglobal:cbv:bizstep:…``)."""

    COMMISSIONING = "commissioning"
    PACKING = "packing"
    UNPACKING = "unpacking"
    SHIPPING = "shipping"
    RECEIVING = "receiving"
    RETAIL_SELLING = "retail_selling"
    HOLDING = "holding"
    DESTROYING = "destroying"
    DECOMMISSIONING = "decommissioning"
    VOID_SHIPPING = "void_shipping"  # a shipment cancelled before receipt (voids a shipping event)
    STOCKING = "stocking"  # a returned or quarantined unit put back on the sales floor
    INSPECTING = "inspecting"  # a unit found damaged or expired, or cleared after a recall
    OTHER = "other"  # no CBV step fits (a unit reported stolen)
    STOCK_TAKING = "stock_taking"  # a unit written off as lost, or found again
    CYCLE_COUNTING = "cycle_counting"  # a count of a location; a unit moved between locations


class EventType(StrEnum):
    OBJECT = "ObjectEvent"
    AGGREGATION = "AggregationEvent"
    TRANSACTION = "TransactionEvent"
    TRANSFORMATION = "TransformationEvent"
    ASSOCIATION = "AssociationEvent"


class EventAction(StrEnum):
    ADD = "ADD"
    OBSERVE = "OBSERVE"
    DELETE = "DELETE"


@dataclass(frozen=True)
class Principal:
    """Who is calling: every service call is scoped to ``organization_id``."""

    organization_id: int
    role: Role
    user_id: int | None = None
    api_key_id: int | None = None
    display: str = ""

    def allows(self, needed: Role) -> bool:
        """True when this principal's role is at least ``needed``."""
        order = {Role.VIEWER: 0, Role.OPERATOR: 1, Role.ADMIN: 2}
        return order[self.role] >= order[needed]


@dataclass(frozen=True)
class Organization:
    id: int
    name: str
    kind: OrganizationKind
    license_number: str
    market: str
    gs1_company_prefix: str | None
    created_at: dt.datetime
    # false: its units answer public scans exactly like unknown codes
    public_verification: bool = True


@dataclass(frozen=True)
class Location:
    id: int
    organization_id: int
    name: str
    kind: LocationKind
    address: str
    city: str
    gln: str | None
    created_at: dt.datetime


@dataclass(frozen=True)
class User:
    id: int
    organization_id: int
    email: str
    name: str
    role: Role
    is_active: bool
    created_at: dt.datetime


@dataclass(frozen=True)
class ApiKey:
    id: int
    organization_id: int
    name: str
    prefix: str
    role: Role
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


@dataclass(frozen=True)
class Product:
    id: int
    organization_id: int
    name: str
    category: str
    strain: str | None
    net_content: Decimal | None
    net_content_unit: str | None
    gtin: str | None
    description: str
    ingredients: str
    warnings: str
    image_url: str | None
    created_at: dt.datetime
    label_template: LabelTemplate = LabelTemplate.QR_ONLY
    qr_form: QrForm = QrForm.DIGITAL_LINK


@dataclass(frozen=True)
class Analyte:
    kind: AnalyteKind
    name: str
    amount: Decimal
    unit: str


@dataclass(frozen=True)
class Panel:
    name: str
    result: PanelResult
    notes: str = ""


@dataclass(frozen=True)
class Document:
    id: int
    filename: str
    content_type: str
    sha256: str
    size: int


@dataclass(frozen=True)
class LabResults:
    status: LabStatus
    lab_name: str | None
    tested_on: dt.date | None
    analytes: tuple[Analyte, ...] = ()
    panels: tuple[Panel, ...] = ()

    def total(self, name: str) -> Decimal | None:
        """Amount of one cannabinoid (e.g. ``total_thc``), or None when not reported."""
        for analyte in self.analytes:
            if analyte.name.lower() == name.lower():
                return analyte.amount
        return None


@dataclass(frozen=True)
class Batch:
    id: int
    organization_id: int
    product_id: int
    lot_number: str
    produced_on: dt.date | None
    expires_on: dt.date | None
    lab: LabResults
    source_batch_ids: tuple[int, ...] = ()
    coa: Document | None = None
    unit_count: int = 0
    created_at: dt.datetime = field(default=dt.datetime.min.replace(tzinfo=dt.UTC))

    @property
    def released(self) -> bool:
        """A batch may be serialized for sale only once it has passed testing."""
        return self.lab.status is LabStatus.PASSED


@dataclass(frozen=True)
class Unit:
    id: int
    code: str
    organization_id: int
    product_id: int
    batch_id: int
    disposition: Disposition
    custodian_organization_id: int
    location_id: int | None
    parent_container_id: int | None
    commissioned_at: dt.datetime
    updated_at: dt.datetime
    external_serial: str | None = None  # the serial its brand printed, when it made its own
    serial_guessable: bool = False  # that serial was imported although it can be guessed

    @property
    def printed(self) -> str:
        """The serial on the label: the brand's own, else the unit code."""
        return self.external_serial or self.code


@dataclass(frozen=True)
class UnitView:
    """A unit with the names a person needs to read it."""

    unit: Unit
    product_name: str
    gtin: str | None
    lot_number: str
    location_name: str | None
    short_url: str
    digital_link: str | None


@dataclass(frozen=True)
class Commissioning:
    """Result of one commissioning request (also what an idempotent retry returns)."""

    event_id: str
    batch_id: int
    product_id: int
    lot_number: str
    quantity: int
    commissioned_at: dt.datetime
    replayed: bool = False

    @property
    def key(self) -> str:
        """The URL-safe form of ``event_id`` (its hex digest)."""
        return self.event_id.removeprefix("ni:///sha-256;").removesuffix("?ver=CBV2.0")


class LabelFormat(StrEnum):
    """The files labels are downloaded as."""

    PDF = "pdf"  # sheets or rolls, QR codes as vector paths
    ZPL = "zpl"  # Zebra printers: the printer draws the QR code (^BQN)
    SVG_ZIP = "svg-zip"  # one SVG per unit, zipped
    CSV = "csv"  # a merge file for BarTender, ZebraDesigner, NiceLabel

    @property
    def extension(self) -> str:
        return {"svg-zip": "zip"}.get(self.value, self.value)


class CheckStatus(StrEnum):
    """Outcome of the pre-flight scan check of a print job."""

    NOT_CHECKED = "not_checked"
    PASSED = "passed"
    FAILED = "failed"


@dataclass(frozen=True)
class PrintJob:
    """One label download: who printed which units, in what format, and whether every
    label was scan-checked first. A reprint names the job it repeats and why."""

    id: int
    organization_id: int
    format: LabelFormat
    layout: str
    dpi: int
    template: PrintTemplate
    selection: dict[str, Any]  # what was asked for: {"batch_id": 3, "first": 1, "count": 100}
    batch_id: int | None
    lot_number: str | None
    quantity: int
    check_status: CheckStatus
    check_failures: int
    reprint_of_job_id: int | None
    reason: str
    actor: str
    actor_user_id: int | None
    actor_api_key_id: int | None
    created_at: dt.datetime
    margin_left_mm: Decimal | None = None
    margin_top_mm: Decimal | None = None

    @property
    def is_reprint(self) -> bool:
        return self.reprint_of_job_id is not None


@dataclass(frozen=True)
class BatchLabelStatus:
    """How many of a batch's units have had a label printed."""

    batch_id: int
    units: int
    printed: int  # units in at least one print job
    reprinted: int  # units printed more than once
    jobs: int

    @property
    def not_printed(self) -> int:
        return self.units - self.printed


@dataclass(frozen=True)
class Page(Generic[T]):
    items: tuple[T, ...]
    total: int
    limit: int
    offset: int
