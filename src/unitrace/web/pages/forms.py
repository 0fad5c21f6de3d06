"""Turning submitted HTML forms into service drafts, and service field paths back into inputs.

Parsing only checks what HTML cannot (a number that is not a number, a malformed date);
every business rule stays in the services, whose field-level errors are mapped back onto
the inputs here.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from unitrace.domain.model import Analyte, AnalyteKind, LabStatus, Panel, PanelResult
from unitrace.services.catalog import BatchDraft, LabResultsDraft, ProductDraft
from unitrace.web.pages.common import FieldErrors

TERPENE_ROWS = 4
STANDARD_PANELS = ("microbials", "mycotoxins", "heavy_metals", "pesticides", "residual_solvents")
CANNABINOID_TOTALS = (("total_thc", "Total THC"), ("total_cbd", "Total CBD"))
_INDEXED = re.compile(r"^lab\.(analytes|panels)\[(\d+)\]\.(\w+)$")
_LAB_FIELDS = {"lab.status": "lab_status", "lab.lab_name": "lab_name", "lab.tested_on": "tested_on"}


class _Reader:
    """Reads typed values out of a form, noting a problem per input instead of raising."""

    def __init__(self, form: Mapping[str, str]) -> None:
        self.form = form
        self.errors: FieldErrors = {}

    def text(self, name: str) -> str:
        return self.form.get(name, "").strip()

    def bad(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)

    def decimal(self, name: str) -> Decimal | None:
        raw = self.text(name).replace(",", ".")
        if not raw:
            return None
        try:
            value = Decimal(raw)
        except InvalidOperation:
            value = Decimal("NaN")
        if not value.is_finite():
            self.bad(name, f"'{raw}' is not a number; write it like 21.5")
            return None
        return value

    def date(self, name: str) -> dt.date | None:
        raw = self.text(name)
        if not raw:
            return None
        try:
            return dt.date.fromisoformat(raw)
        except ValueError:
            self.bad(name, f"'{raw}' is not a date; use YYYY-MM-DD")
            return None

    def integer(self, name: str) -> int | None:
        raw = self.text(name).replace(",", "").replace("_", "")
        try:
            return int(raw)
        except ValueError:
            self.bad(name, "enter a whole number" if raw else "this field is required")
            return None


def product_draft(form: Mapping[str, str]) -> tuple[ProductDraft | None, FieldErrors]:
    read = _Reader(form)
    net_content = read.decimal("net_content")
    draft = ProductDraft(
        name=read.text("name"),
        category=read.text("category"),
        strain=read.text("strain") or None,
        net_content=net_content,
        net_content_unit=read.text("net_content_unit") or None,
        gtin=read.text("gtin") or None,
        description=read.text("description"),
        ingredients=read.text("ingredients"),
        warnings=read.text("warnings"),
    )
    return (None if read.errors else draft), read.errors


@dataclass(frozen=True)
class ParsedBatch:
    """A batch form read into a draft, plus which input each analyte and panel came from."""

    draft: BatchDraft | None
    errors: FieldErrors
    analyte_inputs: tuple[str, ...] = ()
    panel_inputs: tuple[str, ...] = field(default=())

    def input_for(self, service_field: str) -> str | None:
        """The form input a service error about ``service_field`` belongs next to."""
        if service_field in _LAB_FIELDS:
            return _LAB_FIELDS[service_field]
        match = _INDEXED.match(service_field)
        if match is None:
            return service_field or None
        kind, index, attribute = match.group(1), int(match.group(2)), match.group(3)
        inputs = self.analyte_inputs if kind == "analytes" else self.panel_inputs
        if index >= len(inputs):
            return None
        name = inputs[index]
        if kind == "analytes" and name.startswith("terpene_"):
            return f"terpene_{'name' if attribute == 'name' else 'amount'}_{name.rsplit('_', 1)[1]}"
        if kind == "analytes" and attribute == "unit":
            return "cannabinoid_unit"
        return name


def _analytes(read: _Reader) -> tuple[list[Analyte], list[str]]:
    analytes: list[Analyte] = []
    inputs: list[str] = []
    unit = read.text("cannabinoid_unit") or "%"
    for name, _label in CANNABINOID_TOTALS:
        amount = read.decimal(name)
        if amount is not None:
            analytes.append(Analyte(AnalyteKind.CANNABINOID, name, amount, unit))
            inputs.append(name)
    for row in range(TERPENE_ROWS):
        terpene = read.text(f"terpene_name_{row}")
        amount = read.decimal(f"terpene_amount_{row}")
        if terpene and amount is not None:
            analytes.append(Analyte(AnalyteKind.TERPENE, terpene, amount, "%"))
            inputs.append(f"terpene_{row}")
        elif terpene and f"terpene_amount_{row}" not in read.errors:
            read.bad(f"terpene_amount_{row}", f"give the amount of {terpene}")
        elif amount is not None:
            read.bad(f"terpene_name_{row}", "name the terpene")
    return analytes, inputs


def _panels(read: _Reader) -> tuple[list[Panel], list[str]]:
    panels: list[Panel] = []
    inputs: list[str] = []
    for name in STANDARD_PANELS:
        result = read.text(f"panel_{name}")
        if result in (PanelResult.PASS.value, PanelResult.FAIL.value):
            panels.append(Panel(name, PanelResult(result)))
            inputs.append(f"panel_{name}")
    return panels, inputs


def _lab_status(read: _Reader) -> LabStatus:
    raw = read.text("lab_status") or LabStatus.PENDING.value
    try:
        return LabStatus(raw)
    except ValueError:
        read.bad("lab_status", f"'{raw}' is not a lab status")
        return LabStatus.PENDING


def batch_draft(form: Mapping[str, str]) -> ParsedBatch:
    read = _Reader(form)
    product_id = read.integer("product_id")
    if product_id is None:
        read.errors["product_id"] = ["choose a product"]
    analytes, analyte_inputs = _analytes(read)
    panels, panel_inputs = _panels(read)
    lab = LabResultsDraft(
        status=_lab_status(read),
        lab_name=read.text("lab_name") or None,
        tested_on=read.date("tested_on"),
        analytes=tuple(analytes),
        panels=tuple(panels),
    )
    draft = BatchDraft(
        product_id=product_id or 0,
        lot_number=read.text("lot_number"),
        produced_on=read.date("produced_on"),
        expires_on=read.date("expires_on"),
        lab=lab,
    )
    return ParsedBatch(
        None if read.errors else draft, read.errors, tuple(analyte_inputs), tuple(panel_inputs)
    )


def commission_quantity(form: Mapping[str, str]) -> tuple[int | None, int | None, FieldErrors]:
    """(quantity, location id or None, problems) from the commissioning form."""
    read = _Reader(form)
    quantity = read.integer("quantity")
    location_id = read.integer("location_id") if read.text("location_id") else None
    return quantity, location_id, read.errors
