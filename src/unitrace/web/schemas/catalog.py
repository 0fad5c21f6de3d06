"""Products, batches, lab results and the Certificate of Analysis."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Annotated

from pydantic import Field, field_validator

from unitrace.domain.labels import LabelTemplate, QrForm
from unitrace.domain.model import (
    Analyte,
    AnalyteKind,
    LabStatus,
    Panel,
    PanelResult,
    Product,
)
from unitrace.services.catalog import BatchDraft, LabResultsDraft, ProductDraft
from unitrace.web.schemas.common import (
    Id,
    JsonDecimal,
    Name,
    PagePublic,
    Public,
    Schema,
    refuse_null,
    text,
)

# --- products ---------------------------------------------------------------------------

NetContent = Annotated[Decimal, Field(max_digits=12, decimal_places=3)]


class ProductPublic(Public):
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
    label_template: LabelTemplate = Field(
        description="`qr_only`: just the code; `finished_goods`: brand, product, lot, dates, "
        "THC/CBD and warnings beside the code."
    )
    qr_form: QrForm = Field(
        description="`digital_link`: a GS1 Digital Link when the product has a GTIN; "
        "`short_url`: the short resolver URL (fewer modules, fits tiny packages)."
    )


class ProductsPublic(PagePublic[ProductPublic]): ...


class ProductCreate(Schema):
    name: Name = Field(examples=["Blue Dream 3.5 g"])
    category: Annotated[str, text(50)] = Field(examples=["flower"])
    strain: Annotated[str, text(200)] | None = None
    net_content: NetContent | None = Field(default=None, examples=[3.5])
    net_content_unit: Annotated[str, text(10)] | None = Field(default=None, examples=["g"])
    gtin: Annotated[str, text(20)] | None = Field(default=None, examples=["00850012345671"])
    description: Annotated[str, text(10_000)] = ""
    ingredients: Annotated[str, text(10_000)] = ""
    warnings: Annotated[str, text(10_000)] = ""
    image_url: Annotated[str, text(500)] | None = None
    label_template: LabelTemplate = LabelTemplate.QR_ONLY
    qr_form: QrForm = QrForm.DIGITAL_LINK

    def to_draft(self) -> ProductDraft:
        return ProductDraft(**self.model_dump())


class ProductUpdate(Schema):
    """Only the fields sent change; send ``null`` to clear an optional field."""

    name: Name | None = None
    category: Annotated[str, text(50)] | None = None
    strain: Annotated[str, text(200)] | None = None
    net_content: NetContent | None = None
    net_content_unit: Annotated[str, text(10)] | None = None
    gtin: Annotated[str, text(20)] | None = None
    description: Annotated[str, text(10_000)] | None = None
    ingredients: Annotated[str, text(10_000)] | None = None
    warnings: Annotated[str, text(10_000)] | None = None
    image_url: Annotated[str, text(500)] | None = None
    label_template: LabelTemplate | None = None
    qr_form: QrForm | None = None

    _not_null = field_validator(
        "name",
        "category",
        "description",
        "ingredients",
        "warnings",
        "label_template",
        "qr_form",
        mode="before",
    )(refuse_null)

    def merged_with(self, p: Product) -> ProductDraft:
        values = {f.name: getattr(p, f.name) for f in dataclasses.fields(ProductDraft)}
        values.update(self.model_dump(exclude_unset=True))
        return ProductDraft(**values)


# --- batches and lab results ------------------------------------------------------------

Amount = Annotated[Decimal, Field(max_digits=12, decimal_places=4)]


class AnalytePublic(Public):
    kind: AnalyteKind
    name: str
    amount: JsonDecimal
    unit: str


class AnalyteCreate(Schema):
    kind: AnalyteKind
    name: Annotated[str, text(100, min_length=1)] = Field(examples=["total_thc"])
    amount: Amount = Field(examples=[21.5])
    unit: Annotated[str, text(20)] = Field(examples=["%"])


class PanelPublic(Public):
    name: str
    result: PanelResult
    notes: str


class PanelCreate(Schema):
    name: Annotated[str, text(100, min_length=1)] = Field(examples=["microbials"])
    result: PanelResult
    notes: Annotated[str, text(2_000)] = ""


class LabResultsPublic(Public):
    status: LabStatus
    lab_name: str | None
    tested_on: dt.date | None
    analytes: list[AnalytePublic]
    panels: list[PanelPublic]


class LabResultsCreate(Schema):
    status: LabStatus
    lab_name: Annotated[str, text(200)] | None = Field(default=None, examples=["Evergreen Labs"])
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


class DocumentPublic(Public):
    filename: str
    content_type: str
    sha256: str
    size: int


class BatchPublic(Public):
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


class BatchesPublic(PagePublic[BatchPublic]): ...


class BatchCreate(Schema):
    product_id: Id
    lot_number: Annotated[str, text(20)] = Field(examples=["BD-2611-A"])
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
