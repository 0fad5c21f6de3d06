"""The CSV upload kinds: their columns, types, units and rules. Pure.

Each kind is a :class:`~unitrace.domain.tabular.Layout`; ``docs/csv.md`` is generated from
these definitions (``unitrace import template KIND`` writes a kind's template).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from enum import StrEnum
from typing import Any

from unitrace.domain.model import CONTENT_UNITS, PRODUCT_CATEGORIES
from unitrace.domain.tabular import Column, Layout


class ImportKind(StrEnum):
    PRODUCTS = "products"
    SERIALIZATION = "serialization"
    SALES = "sales"


_CODE = "a unit code as printed, its short URL or its GS1 Digital Link (any case)"

SALES = Layout(
    kind=ImportKind.SALES,
    title="Sales",
    description=(
        "A point-of-sale export: one row per unit sold. Every unit must be on sale at the "
        "store named, held by you, and its batch not expired on the day of the sale. The "
        "whole file is applied or nothing is; uploading it again changes nothing."
    ),
    columns=(
        Column(
            "code",
            description=_CODE,
            example="https://id.example.com/7KQ2M9XH4T1R3B",
            max_length=500,
            aliases=("unit", "unit_code", "serial", "qr"),
        ),
        Column(
            "store",
            description="the store's name, GLN or id in unitrace",
            example="Main Street",
            max_length=200,
            aliases=("location", "store_name", "location_id"),
        ),
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


LAYOUTS: dict[str, Layout] = {layout.kind: layout for layout in (PRODUCTS, SERIALIZATION, SALES)}


def layout_for(kind: str) -> Layout:
    try:
        return LAYOUTS[kind]
    except KeyError:
        raise KeyError(f"unknown kind {kind!r}: {', '.join(sorted(LAYOUTS))}") from None
