"""Labels: what to print and how, print jobs, pre-flight reports, layouts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal, Self

from pydantic import Field

from unitrace.adapters.preflight import PreflightReport
from unitrace.domain.labels import INCH, MM, Layout, PrintTemplate
from unitrace.domain.model import CheckStatus, LabelFormat
from unitrace.services.labels import (
    DEFAULT_LAYOUT,
    MAX_CODES,
    MAX_REASON,
    LabelOptions,
    LabelSelection,
)
from unitrace.web.schemas.common import (
    MAX_ID,
    Id,
    ItemsPublic,
    JsonDecimal,
    PagePublic,
    Public,
    Schema,
    text,
)

Position = Annotated[int, Field(ge=1, le=MAX_ID)]
Margin = Annotated[Decimal, Field(ge=0, le=100, max_digits=5, decimal_places=2)]
Dpi = Annotated[int, Field(ge=1, le=2400, description="Printer resolution: 203, 300 or 600.")]


class LabelSelectionCreate(Schema):
    """Exactly one of ``batch_id`` (optionally with ``first``/``count``), ``codes`` or
    ``container_id``."""

    batch_id: Id | None = Field(default=None, description="Every unit of this batch…")
    first: Position | None = Field(
        default=None, description="…or from its n-th unit in commissioning order (1-based)…"
    )
    count: Position | None = Field(default=None, description="…this many units.")
    codes: list[Annotated[str, text(100)]] | None = Field(
        default=None,
        max_length=MAX_CODES,
        description="Explicit unit codes (as printed or scanned), all of one batch.",
    )
    container_id: Id | None = Field(default=None, description="The units packed in a container.")

    def to_selection(self) -> LabelSelection:
        return LabelSelection(
            batch_id=self.batch_id,
            first=self.first,
            count=self.count,
            codes=tuple(self.codes) if self.codes is not None else None,
            container_id=self.container_id,
        )


class _LabelRequest(Schema):
    selection: LabelSelectionCreate
    layout: Annotated[str, text(50)] = Field(default=DEFAULT_LAYOUT, examples=["letter-30up"])
    dpi: Dpi | None = Field(default=None, description="Default: 203 for ZPL, 300 otherwise.")
    margin_left_mm: Margin | None = Field(default=None, description="Default: the layout's.")
    margin_top_mm: Margin | None = None

    def options(self, fmt: LabelFormat, *, check: bool = False) -> LabelOptions:
        return LabelOptions(
            fmt=fmt,
            layout=self.layout,
            dpi=self.dpi,
            margin_left_mm=self.margin_left_mm,
            margin_top_mm=self.margin_top_mm,
            check=check,
        )


class LabelsCreate(_LabelRequest):
    check: bool = Field(
        default=False,
        description="Decode every QR code at the printer's resolution first; refuse the "
        "whole job (422 `preflight_failed`) if any does not read back as its payload.",
    )
    reprint_of: Id | None = Field(
        default=None, description="The print job whose labels this repeats (same codes)."
    )
    reason: Annotated[str, text(MAX_REASON)] = Field(
        default="", description="Why a reprint is needed, e.g. `labels torn`."
    )


class LabelCheckCreate(_LabelRequest):
    format: Literal["pdf", "zpl"] = Field(
        default="pdf", description="Check as a PDF sheet/roll or as ZPL at the printer."
    )


class PrintJobPublic(Public):
    id: int
    format: LabelFormat
    layout: str
    dpi: int
    margin_left_mm: JsonDecimal | None
    margin_top_mm: JsonDecimal | None
    template: PrintTemplate
    selection: dict[str, Any] = Field(examples=[{"batch_id": 3, "first": 1, "count": 100}])
    batch_id: int | None
    lot_number: str | None
    quantity: int = Field(description="How many labels the file holds.")
    check_status: CheckStatus
    check_failures: int
    is_reprint: bool
    reprint_of_job_id: int | None
    reason: str
    actor: str = Field(description="Who downloaded the labels.")
    created_at: dt.datetime


class PrintJobsPublic(PagePublic[PrintJobPublic]): ...


class PreflightFailurePublic(Public):
    code: str
    payload: str
    decoded: str | None = Field(description="What the QR code read as, or null if unreadable.")
    reason: str


class PreflightReportPublic(Public):
    format: str
    dpi: int
    layout: str
    checked: int
    ok: bool
    failures: list[PreflightFailurePublic]

    @classmethod
    def of(cls, obj: object) -> Self:
        assert isinstance(obj, PreflightReport)  # noqa: S101 - a programming error otherwise
        return cls.model_validate(
            {
                "format": obj.fmt,
                "dpi": obj.dpi,
                "layout": obj.layout,
                "checked": obj.checked,
                "ok": obj.ok,
                "failures": list(obj.failures),
            }
        )


class LayoutPublic(Public):
    name: str = Field(examples=["letter-30up"])
    description: str
    kind: Literal["sheet", "roll"]
    columns: int
    rows: int
    per_page: int
    label_width_mm: float
    label_height_mm: float
    label_width_in: float
    label_height_in: float
    page_width_mm: float
    page_height_mm: float

    @classmethod
    def of(cls, obj: object) -> Self:
        assert isinstance(obj, Layout)  # noqa: S101 - a programming error otherwise
        return cls.model_validate(
            {
                "name": obj.name,
                "description": obj.description,
                "kind": obj.kind,
                "columns": obj.columns,
                "rows": obj.rows,
                "per_page": obj.per_page,
                "label_width_mm": round(obj.label_width / MM, 1),
                "label_height_mm": round(obj.label_height / MM, 1),
                "label_width_in": round(obj.label_width / INCH, 3),
                "label_height_in": round(obj.label_height / INCH, 3),
                "page_width_mm": round(obj.page_width / MM, 1),
                "page_height_mm": round(obj.page_height / MM, 1),
            }
        )


class LayoutsPublic(ItemsPublic[LayoutPublic]):
    @classmethod
    def of(cls, obj: object) -> Self:
        assert isinstance(obj, tuple | list)  # noqa: S101 - a programming error otherwise
        return cls.model_validate({"items": [LayoutPublic.of(layout) for layout in obj]})


class LabelStatusPublic(Public):
    batch_id: int
    units: int
    printed: int = Field(description="Units with at least one printed label.")
    not_printed: int
    reprinted: int = Field(description="Units whose label was printed more than once.")
    jobs: int
