"""The API's JSON shapes (pydantic v2), kept apart from the domain dataclasses.

Requests are ``XCreate`` / ``XUpdate``; responses are ``XPublic`` and pages of them
``XsPublic``. Converting in either direction is explicit: ``XCreate.to_draft()`` builds
the service's draft and ``XPublic.of(domain_object)`` renders a domain object, so a change
to the database or the domain never silently changes the API.

Length and size limits mirror the database columns, so an over-long value is a 422 here
rather than a database error later.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    field_validator,
)

from unitrace.domain.model import (
    Analyte,
    AnalyteKind,
    ApiKey,
    Batch,
    Commissioning,
    Disposition,
    Document,
    LabResults,
    LabStatus,
    Location,
    LocationKind,
    Organization,
    OrganizationKind,
    Page,
    Panel,
    PanelResult,
    Product,
    Role,
    UnitView,
    User,
)
from unitrace.services.catalog import BatchDraft, LabResultsDraft, ProductDraft
from unitrace.services.organizations import LocationDraft, OrganizationDraft

MAX_ID = 2**31 - 1  # the database's INTEGER
NO_NUL = r"^[^\x00]*$"  # PostgreSQL text cannot hold NUL


def _text(max_length: int, *, min_length: int = 0) -> Any:
    return StringConstraints(min_length=min_length, max_length=max_length, pattern=NO_NUL)


Name = Annotated[str, _text(200, min_length=1)]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
# Decimals travel as JSON numbers (21.5, not "21.5"): what integrators expect from a lab value.
JsonDecimal = Annotated[Decimal, PlainSerializer(float, return_type=float, when_used="json")]
T = TypeVar("T")


class Schema(BaseModel):
    """Request bodies refuse unknown fields, so a typo is an error rather than ignored."""

    model_config = ConfigDict(extra="forbid")


def _refuse_null(value: object) -> object:
    # In an update, leaving a field out keeps it; null would erase a value that is required.
    if value is None:
        raise ValueError("leave this field out to keep it; it cannot be null")
    return value


# --- errors and pages -------------------------------------------------------------------


class ErrorDetail(BaseModel):
    code: str = Field(examples=["not_found"])
    message: str = Field(examples=["product 42 not found"])
    details: Any = Field(
        default=None,
        description="Field-level problems as [{field, message}] for validation errors.",
    )


class ErrorPublic(BaseModel):
    """Every error the API returns has this shape."""

    error: ErrorDetail


class PagePublic(BaseModel, Generic[T]):
    total: int = Field(description="How many items match the filters, across all pages.")
    limit: int
    offset: int
    items: list[T]

    @classmethod
    def _from_page(cls, page: Page[Any], items: list[T]) -> Any:
        return cls(total=page.total, limit=page.limit, offset=page.offset, items=items)


# --- health -----------------------------------------------------------------------------


class HealthPublic(BaseModel):
    status: Literal["ok", "unavailable"]
    version: str
    database: str = Field(examples=["sqlite", "postgresql"])


# --- organization and locations ---------------------------------------------------------


class OrganizationPublic(BaseModel):
    id: int
    name: str
    kind: OrganizationKind
    license_number: str
    market: str
    gs1_company_prefix: str | None
    created_at: dt.datetime

    @classmethod
    def of(cls, org: Organization) -> OrganizationPublic:
        return cls(
            id=org.id,
            name=org.name,
            kind=org.kind,
            license_number=org.license_number,
            market=org.market,
            gs1_company_prefix=org.gs1_company_prefix,
            created_at=org.created_at,
        )


class OrganizationUpdate(Schema):
    """Fields to change; the kind of license cannot change through the API."""

    name: Name | None = None
    license_number: Annotated[str, _text(100, min_length=1)] | None = None
    market: Annotated[str, _text(50, min_length=1)] | None = None
    gs1_company_prefix: Annotated[str, _text(12)] | None = None

    _not_null = field_validator("name", "license_number", "market", mode="before")(_refuse_null)

    def merged_with(self, org: Organization) -> OrganizationDraft:
        changes = self.model_dump(exclude_unset=True)
        return OrganizationDraft(
            name=changes.get("name", org.name),
            kind=org.kind,
            license_number=changes.get("license_number", org.license_number),
            market=changes.get("market", org.market),
            gs1_company_prefix=changes.get("gs1_company_prefix", org.gs1_company_prefix),
        )


class LocationPublic(BaseModel):
    id: int
    name: str
    kind: LocationKind
    address: str
    city: str
    gln: str | None
    created_at: dt.datetime

    @classmethod
    def of(cls, loc: Location) -> LocationPublic:
        return cls(
            id=loc.id,
            name=loc.name,
            kind=loc.kind,
            address=loc.address,
            city=loc.city,
            gln=loc.gln,
            created_at=loc.created_at,
        )


class LocationsPublic(BaseModel):
    items: list[LocationPublic]

    @classmethod
    def of(cls, locations: list[Location]) -> LocationsPublic:
        return cls(items=[LocationPublic.of(loc) for loc in locations])


class LocationCreate(Schema):
    name: Name
    kind: LocationKind
    address: Annotated[str, _text(500)] = ""
    city: Annotated[str, _text(100)] = ""
    gln: Annotated[str, _text(13)] | None = Field(default=None, examples=["0614141000012"])

    def to_draft(self) -> LocationDraft:
        return LocationDraft(self.name, self.kind, self.address, self.city, self.gln)


class LocationUpdate(Schema):
    name: Name | None = None
    kind: LocationKind | None = None
    address: Annotated[str, _text(500)] | None = None
    city: Annotated[str, _text(100)] | None = None
    gln: Annotated[str, _text(13)] | None = None

    _not_null = field_validator("name", "kind", "address", "city", mode="before")(_refuse_null)

    def merged_with(self, loc: Location) -> LocationDraft:
        values = {f.name: getattr(loc, f.name) for f in dataclasses.fields(LocationDraft)}
        values.update(self.model_dump(exclude_unset=True))
        return LocationDraft(**values)


# --- users and API keys -----------------------------------------------------------------


class UserPublic(BaseModel):
    id: int
    email: str
    name: str
    role: Role
    is_active: bool
    created_at: dt.datetime

    @classmethod
    def of(cls, user: User) -> UserPublic:
        return cls(
            id=user.id,
            email=user.email,
            name=user.name,
            role=user.role,
            is_active=user.is_active,
            created_at=user.created_at,
        )


class UsersPublic(BaseModel):
    items: list[UserPublic]

    @classmethod
    def of(cls, users: list[User]) -> UsersPublic:
        return cls(items=[UserPublic.of(u) for u in users])


class UserCreate(Schema):
    email: Annotated[str, _text(320, min_length=3)] = Field(examples=["sam@example.com"])
    name: Annotated[str, _text(200)] = ""
    password: Annotated[str, _text(200, min_length=1)]
    role: Role = Role.VIEWER


class UserUpdate(Schema):
    is_active: bool


class ApiKeyPublic(BaseModel):
    id: int
    name: str
    prefix: str = Field(description="The public part of the key, to recognise it in lists.")
    role: Role
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None

    @classmethod
    def of(cls, key: ApiKey) -> ApiKeyPublic:
        return cls(
            id=key.id,
            name=key.name,
            prefix=key.prefix,
            role=key.role,
            created_at=key.created_at,
            last_used_at=key.last_used_at,
            revoked_at=key.revoked_at,
        )


class ApiKeysPublic(BaseModel):
    items: list[ApiKeyPublic]

    @classmethod
    def of(cls, keys: list[ApiKey]) -> ApiKeysPublic:
        return cls(items=[ApiKeyPublic.of(k) for k in keys])


class ApiKeyCreate(Schema):
    name: Name
    role: Role = Role.OPERATOR


class ApiKeyCreatedPublic(ApiKeyPublic):
    secret: str = Field(
        description="The full key. Shown only in this response: store it now.",
        examples=["ut_3f9a1c2b7d4e_Jx…"],
    )

    @classmethod
    def created(cls, key: ApiKey, secret: str) -> ApiKeyCreatedPublic:
        return cls(**ApiKeyPublic.of(key).model_dump(), secret=secret)


# --- products ---------------------------------------------------------------------------

NetContent = Annotated[Decimal, Field(max_digits=12, decimal_places=3)]


class ProductPublic(BaseModel):
    id: int
    name: str
    category: str
    strain: str | None
    net_content: JsonDecimal | None
    net_content_unit: str | None
    gtin: str | None = Field(description="GTIN-14, when the product has one.")
    description: str
    ingredients: str
    warnings: str
    image_url: str | None
    created_at: dt.datetime

    @classmethod
    def of(cls, p: Product) -> ProductPublic:
        return cls(
            id=p.id,
            name=p.name,
            category=p.category,
            strain=p.strain,
            net_content=p.net_content,
            net_content_unit=p.net_content_unit,
            gtin=p.gtin,
            description=p.description,
            ingredients=p.ingredients,
            warnings=p.warnings,
            image_url=p.image_url,
            created_at=p.created_at,
        )


class ProductsPublic(PagePublic[ProductPublic]):
    @classmethod
    def of(cls, page: Page[Product]) -> ProductsPublic:
        result: ProductsPublic = cls._from_page(page, [ProductPublic.of(p) for p in page.items])
        return result


class ProductCreate(Schema):
    name: Name = Field(examples=["Blue Dream 3.5 g"])
    category: Annotated[str, _text(50)] = Field(examples=["flower"])
    strain: Annotated[str, _text(200)] | None = None
    net_content: NetContent | None = Field(default=None, examples=[3.5])
    net_content_unit: Annotated[str, _text(10)] | None = Field(default=None, examples=["g"])
    gtin: Annotated[str, _text(20)] | None = Field(default=None, examples=["00850012345671"])
    description: Annotated[str, _text(10_000)] = ""
    ingredients: Annotated[str, _text(10_000)] = ""
    warnings: Annotated[str, _text(10_000)] = ""
    image_url: Annotated[str, _text(500)] | None = None

    def to_draft(self) -> ProductDraft:
        return ProductDraft(**self.model_dump())


class ProductUpdate(Schema):
    """Only the fields sent change; send ``null`` to clear an optional field."""

    name: Name | None = None
    category: Annotated[str, _text(50)] | None = None
    strain: Annotated[str, _text(200)] | None = None
    net_content: NetContent | None = None
    net_content_unit: Annotated[str, _text(10)] | None = None
    gtin: Annotated[str, _text(20)] | None = None
    description: Annotated[str, _text(10_000)] | None = None
    ingredients: Annotated[str, _text(10_000)] | None = None
    warnings: Annotated[str, _text(10_000)] | None = None
    image_url: Annotated[str, _text(500)] | None = None

    _not_null = field_validator(
        "name", "category", "description", "ingredients", "warnings", mode="before"
    )(_refuse_null)

    def merged_with(self, p: Product) -> ProductDraft:
        values = {f.name: getattr(p, f.name) for f in dataclasses.fields(ProductDraft)}
        values.update(self.model_dump(exclude_unset=True))
        return ProductDraft(**values)


# --- batches and lab results ------------------------------------------------------------

Amount = Annotated[Decimal, Field(max_digits=12, decimal_places=4)]


class AnalytePublic(BaseModel):
    kind: AnalyteKind
    name: str
    amount: JsonDecimal
    unit: str


class AnalyteCreate(Schema):
    kind: AnalyteKind
    name: Annotated[str, _text(100, min_length=1)] = Field(examples=["total_thc"])
    amount: Amount = Field(examples=[21.5])
    unit: Annotated[str, _text(20)] = Field(examples=["%"])


class PanelPublic(BaseModel):
    name: str
    result: PanelResult
    notes: str


class PanelCreate(Schema):
    name: Annotated[str, _text(100, min_length=1)] = Field(examples=["microbials"])
    result: PanelResult
    notes: Annotated[str, _text(2_000)] = ""


class LabResultsPublic(BaseModel):
    status: LabStatus
    lab_name: str | None
    tested_on: dt.date | None
    analytes: list[AnalytePublic]
    panels: list[PanelPublic]

    @classmethod
    def of(cls, lab: LabResults) -> LabResultsPublic:
        return cls(
            status=lab.status,
            lab_name=lab.lab_name,
            tested_on=lab.tested_on,
            analytes=[
                AnalytePublic(kind=a.kind, name=a.name, amount=a.amount, unit=a.unit)
                for a in lab.analytes
            ],
            panels=[PanelPublic(name=p.name, result=p.result, notes=p.notes) for p in lab.panels],
        )


class LabResultsCreate(Schema):
    status: LabStatus
    lab_name: Annotated[str, _text(200)] | None = Field(default=None, examples=["Evergreen Labs"])
    tested_on: dt.date | None = None
    analytes: list[AnalyteCreate] = Field(default_factory=list, max_length=500)
    panels: list[PanelCreate] = Field(default_factory=list, max_length=100)

    def to_draft(self) -> LabResultsDraft:
        return LabResultsDraft(
            status=self.status,
            lab_name=self.lab_name,
            tested_on=self.tested_on,
            analytes=tuple(Analyte(a.kind, a.name, a.amount, a.unit) for a in self.analytes),
            panels=tuple(Panel(p.name, p.result, p.notes) for p in self.panels),
        )


class DocumentPublic(BaseModel):
    filename: str
    content_type: str
    sha256: str
    size: int

    @classmethod
    def of(cls, doc: Document) -> DocumentPublic:
        return cls(
            filename=doc.filename, content_type=doc.content_type, sha256=doc.sha256, size=doc.size
        )


class BatchPublic(BaseModel):
    id: int
    product_id: int
    lot_number: str
    produced_on: dt.date | None
    expires_on: dt.date | None
    released: bool = Field(description="True once the batch passed testing: it may be serialized.")
    lab: LabResultsPublic
    source_batch_ids: list[int]
    coa: DocumentPublic | None = Field(description="The Certificate of Analysis, if uploaded.")
    unit_count: int
    created_at: dt.datetime

    @classmethod
    def of(cls, b: Batch) -> BatchPublic:
        return cls(
            id=b.id,
            product_id=b.product_id,
            lot_number=b.lot_number,
            produced_on=b.produced_on,
            expires_on=b.expires_on,
            released=b.released,
            lab=LabResultsPublic.of(b.lab),
            source_batch_ids=list(b.source_batch_ids),
            coa=DocumentPublic.of(b.coa) if b.coa else None,
            unit_count=b.unit_count,
            created_at=b.created_at,
        )


class BatchesPublic(PagePublic[BatchPublic]):
    @classmethod
    def of(cls, page: Page[Batch]) -> BatchesPublic:
        result: BatchesPublic = cls._from_page(page, [BatchPublic.of(b) for b in page.items])
        return result


class BatchCreate(Schema):
    product_id: Id
    lot_number: Annotated[str, _text(20)] = Field(examples=["BD-2611-A"])
    produced_on: dt.date | None = None
    expires_on: dt.date | None = None
    source_batch_ids: list[Id] = Field(default_factory=list, max_length=100)
    lab: LabResultsCreate = Field(
        default_factory=lambda: LabResultsCreate(status=LabStatus.PENDING)
    )

    def to_draft(self) -> BatchDraft:
        return BatchDraft(
            product_id=self.product_id,
            lot_number=self.lot_number,
            produced_on=self.produced_on,
            expires_on=self.expires_on,
            source_batch_ids=tuple(self.source_batch_ids),
            lab=self.lab.to_draft(),
        )


# --- units and commissioning ------------------------------------------------------------


class CommissioningCreate(Schema):
    batch_id: Id
    quantity: int = Field(ge=1, description="How many units to serialize.", examples=[1000])
    location_id: Id | None = Field(default=None, description="Where the units are made.")


class CommissioningPublic(BaseModel):
    event_id: str = Field(description="The EPCIS event id of this commissioning (urn:uuid:…).")
    batch_id: int
    product_id: int
    lot_number: str
    quantity: int
    commissioned_at: dt.datetime
    replayed: bool = Field(
        description="True when this answers a retry of an earlier request with the same "
        "Idempotency-Key: nothing new was created."
    )

    @classmethod
    def of(cls, c: Commissioning) -> CommissioningPublic:
        return cls(
            event_id=c.event_id,
            batch_id=c.batch_id,
            product_id=c.product_id,
            lot_number=c.lot_number,
            quantity=c.quantity,
            commissioned_at=c.commissioned_at,
            replayed=c.replayed,
        )


class UnitPublic(BaseModel):
    code: str = Field(examples=["7K3MQ9XW2D4HBR"])
    product_id: int
    product_name: str
    batch_id: int
    lot_number: str
    gtin: str | None
    disposition: Disposition
    location_id: int | None
    location_name: str | None
    parent_container_id: int | None
    owner_organization_id: int
    custodian_organization_id: int
    short_url: str
    digital_link: str | None = Field(description="GS1 Digital Link, when the product has a GTIN.")
    commissioned_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def of(cls, view: UnitView) -> UnitPublic:
        u = view.unit
        return cls(
            code=u.code,
            product_id=u.product_id,
            product_name=view.product_name,
            batch_id=u.batch_id,
            lot_number=view.lot_number,
            gtin=view.gtin,
            disposition=u.disposition,
            location_id=u.location_id,
            location_name=view.location_name,
            parent_container_id=u.parent_container_id,
            owner_organization_id=u.organization_id,
            custodian_organization_id=u.custodian_organization_id,
            short_url=view.short_url,
            digital_link=view.digital_link,
            commissioned_at=u.commissioned_at,
            updated_at=u.updated_at,
        )


class UnitsPublic(PagePublic[UnitPublic]):
    @classmethod
    def of(cls, page: Page[UnitView]) -> UnitsPublic:
        result: UnitsPublic = cls._from_page(page, [UnitPublic.of(v) for v in page.items])
        return result
