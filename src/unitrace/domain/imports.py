"""The CSV upload kinds: their columns, types, units and rules. Pure.

Each kind is a :class:`~unitrace.domain.tabular.Layout`; ``docs/csv.md`` is generated from
these definitions (``unitrace import template KIND`` writes a kind's template).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal
from enum import StrEnum
from typing import Any

from unitrace.domain.imports_supply import (
    CODE_TEXT,
    RECEIPTS,
    RETURNS,
    SHIPMENTS,
    STORE,
    UNIT_CODE,
)
from unitrace.domain.model import CONTENT_UNITS, PRODUCT_CATEGORIES
from unitrace.domain.serials import SERIALS
from unitrace.domain.tabular import Column, Layout


class ImportKind(StrEnum):
    PRODUCTS = "products"
    BATCHES = "batches"
    RECALL_SCOPE = "recall_scope"
    SERIALIZATION = "serialization"
    SALES = "sales"
    RETURNS = "returns"
    SHIPMENTS = "shipments"
    RECEIPTS = "receipts"
    SERIALS = "serials"


_CODE = (
    "a unit code as printed, its short URL or its GS1 Digital Link (any case); or a Digital "
    "Link or GS1 element string with the GTIN and the serial the unit's brand printed"
)

SALES = Layout(
    kind=ImportKind.SALES,
    title="Sales",
    description=(
        "A point-of-sale export: one row per unit sold. Every unit must be on sale at the "
        "store named, held by you, and its batch not expired on the day of the sale. The "
        "whole file is applied or nothing is; uploading it again changes nothing."
    ),
    columns=(
        UNIT_CODE,
        STORE,
        Column(
            "sold_at",
            "datetime",
            required=False,
            description="when it was sold, ISO 8601 with a time zone; empty: the upload time",
            example="2026-11-20T16:45:00-08:00",
            aliases=("time", "sale_time", "date"),
        ),
        Column(
            "price",
            "decimal",
            required=False,
            unit="currency of the store",
            description="the price paid, two decimals at most",
            example="24.99",
            minimum=Decimal(0),
            maximum=Decimal("9999999999.99"),
        ),
    ),
    ignored=("city", "retailer", "product", "gtin", "lot_number"),
)


def _net_content_pair(row: dict[str, Any]) -> Iterable[tuple[str | None, str]]:
    if (row.get("net_content") is None) != (row.get("net_content_unit") is None):
        yield "net_content_unit", "give net content and its unit together, or neither"


PRODUCTS = Layout(
    kind=ImportKind.PRODUCTS,
    title="Products",
    description=(
        "One row per product. A row whose `name` (or `gtin`) matches an existing product of "
        "yours is an error, so a file can be fixed and uploaded again."
    ),
    columns=(
        Column("name", example="Blue Dream 3.5 g", max_length=200),
        Column("category", example="flower", choices=PRODUCT_CATEGORIES),
        Column("strain", required=False, example="Blue Dream", max_length=100),
        Column(
            "net_content",
            "decimal",
            required=False,
            example="3.5",
            minimum=Decimal(0),
            description="how much the package holds",
        ),
        Column(
            "net_content_unit",
            required=False,
            example="g",
            choices=CONTENT_UNITS,
        ),
        Column(
            "gtin",
            required=False,
            example="09506000134352",
            description="GTIN-8, -12, -13 or -14 with its check digit",
            max_length=14,
        ),
        Column("description", required=False, example="Sativa-dominant hybrid", max_length=4000),
        Column("ingredients", required=False, example="Cannabis flower", max_length=4000),
        Column(
            "warnings", required=False, example="Keep out of reach of children.", max_length=4000
        ),
    ),
    row_checks=(_net_content_pair,),
)


_ANALYTE = re.compile(r"(cannabinoid|terpene)_([a-z0-9_]+?)_percent")
_PANEL = re.compile(r"panel_([a-z0-9_]+)")


def _lab_column(key: str) -> Column | None:
    """Columns beyond the fixed ones: ``terpene_<name>_percent``, ``cannabinoid_<name>_percent``
    (a share, 0-100) and ``panel_<name>`` (pass or fail)."""
    if _ANALYTE.fullmatch(key):
        return Column(
            key, "decimal", required=False, unit="%", minimum=Decimal(0), maximum=Decimal(100)
        )
    if _PANEL.fullmatch(key):
        return Column(key, required=False, choices=("pass", "fail"))
    return None


def analytes_in(row: dict[str, Any]) -> list[tuple[str, str, Decimal]]:
    """``(kind, name, percent)`` of the analyte columns of a row that have a value."""
    found = []
    if row.get("thc_percent") is not None:
        found.append(("cannabinoid", "total_thc", row["thc_percent"]))
    if row.get("cbd_percent") is not None:
        found.append(("cannabinoid", "total_cbd", row["cbd_percent"]))
    for key, value in row.items():
        match = _ANALYTE.fullmatch(key)
        if match and value is not None:
            found.append((match.group(1), match.group(2), value))
    return found


def panels_in(row: dict[str, Any]) -> list[tuple[str, str]]:
    """``(panel, pass|fail)`` of the panel columns of a row that have a value."""
    return [
        (match.group(1), value)
        for key, value in row.items()
        if (match := _PANEL.fullmatch(key)) and value is not None
    ]


BATCHES = Layout(
    kind=ImportKind.BATCHES,
    title="Batches with lab results",
    description=(
        "One row per batch (a production run) of one of your products, with its lab results "
        "as columns: `thc_percent` and `cbd_percent`, any `cannabinoid_<name>_percent` or "
        "`terpene_<name>_percent` (for example `terpene_myrcene_percent`), and any "
        "`panel_<name>` with `pass` or `fail` (for example `panel_microbials`)."
    ),
    columns=(
        Column(
            "product",
            example="Blue Dream 3.5 g",
            max_length=200,
            description="the product's name or GTIN",
            aliases=("product_name", "gtin"),
        ),
        Column("lot_number", example="BD-2611-A", max_length=20, aliases=("lot", "batch")),
        Column("produced_on", "date", required=False, example="2026-11-02"),
        Column("expires_on", "date", required=False, example="2027-11-02"),
        Column(
            "lab_status",
            required=False,
            example="passed",
            choices=("pending", "passed", "failed"),
            description="empty: pending; only a passed batch can be serialized",
        ),
        Column("lab_name", required=False, example="Evergreen Labs", max_length=200),
        Column("tested_on", "date", required=False, example="2026-11-05"),
        Column(
            "thc_percent",
            "decimal",
            required=False,
            unit="%",
            example="21.5",
            minimum=Decimal(0),
            maximum=Decimal(100),
            description="total THC",
        ),
        Column(
            "cbd_percent",
            "decimal",
            required=False,
            unit="%",
            example="0.3",
            minimum=Decimal(0),
            maximum=Decimal(100),
            description="total CBD",
        ),
        Column(
            "terpene_myrcene_percent",
            "decimal",
            required=False,
            unit="%",
            example="0.8",
            minimum=Decimal(0),
            maximum=Decimal(100),
            description="any terpene: `terpene_<name>_percent`",
        ),
        Column(
            "panel_microbials",
            required=False,
            example="pass",
            choices=("pass", "fail"),
            description="any panel: `panel_<name>`",
        ),
    ),
    extra_columns=_lab_column,
)


SERIALIZATION = Layout(
    kind=ImportKind.SERIALIZATION,
    title="Serialization requests",
    description=(
        "One row per batch: how many new unit codes to create. The answer lists every new "
        "code with its short URL and Digital Link (CSV)."
    ),
    columns=(
        Column(
            "lot_number",
            example="BD-2611-A",
            max_length=20,
            description="a released batch of yours",
            aliases=("lot", "batch"),
        ),
        Column("quantity", "integer", example="500", minimum=1, maximum=1_000_000),
        Column(
            "gtin",
            required=False,
            example="09506000134352",
            description="the product's GTIN, when two products share a lot number",
            max_length=14,
        ),
    ),
)


RECALL_SCOPE = Layout(
    kind=ImportKind.RECALL_SCOPE,
    title="Recall scope lists",
    description=(
        "Units to add to a draft recall's scope, one per row: pasted from a spreadsheet, "
        "exported from a scanner, or listed by a lab. Every code must be one of your units; "
        "the recall must be one of your drafts."
    ),
    columns=(
        Column(
            "recall",
            example="RC-2026-0003",
            max_length=40,
            description="the draft recall's number",
            aliases=("recall_number",),
        ),
        Column("code", description=CODE_TEXT, example="7KQ2M9XH4T1R3B", max_length=500),
    ),
)


LAYOUTS: dict[str, Layout] = {
    layout.kind: layout
    for layout in (
        PRODUCTS,
        BATCHES,
        SERIALIZATION,
        SERIALS,
        SALES,
        RECALL_SCOPE,
        RETURNS,
        SHIPMENTS,
        RECEIPTS,
    )
}


def layout_for(kind: str) -> Layout:
    try:
        return LAYOUTS[kind]
    except KeyError:
        raise KeyError(f"unknown kind {kind!r}: {', '.join(sorted(LAYOUTS))}") from None
