"""Exports: units, sales, events, shipments and public scans as CSV or JSON, streamed.

Every CSV cell goes through :func:`unitrace.domain.tabular.safe_cell`, so a product named
``=HYPERLINK(…)`` stays text in a spreadsheet; the CSV reader of the imports undoes it, so an
exported sales file reads back as a sales file. Rows come from one streamed query per kind,
scoped to the caller's organization (what it owns or holds, or sent or receives; the public
scans of its own units).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection

from unitrace.domain.model import Disposition, Principal
from unitrace.domain.tabular import safe_cell
from unitrace.errors import ValidationError
from unitrace.services.runtime import Runtime
from unitrace.storage import exports as store

COLUMNS: dict[str, tuple[str, ...]] = {
    "units": (
        "code",
        "external_serial",
        "product",
        "gtin",
        "lot_number",
        "disposition",
        "holder",
        "location",
        "city",
        "commissioned_at",
        "updated_at",
        "sold_at",
        "sale_price",
    ),
    # the first four are a sales import's columns: an export reads back as an import
    "sales": (
        "code",
        "store",
        "sold_at",
        "price",
        "city",
        "retailer",
        "product",
        "gtin",
        "lot_number",
    ),
    "events": (
        "event_id",
        "seq",
        "event_time",
        "record_time",
        "event_type",
        "action",
        "biz_step",
        "disposition",
        "location",
        "quantity",
        "error_declaration",
    ),
    "shipments": (
        "number",
        "status",
        "shipper",
        "destination",
        "destination_location",
        "unit_count",
        "created_at",
        "shipped_at",
        "received_at",
        "expected_arrival",
    ),
    "scans": (
        "scanned_at",
        "code",
        "verdict",
        "link_type",
        "origin",
        "country",
        "region",
        "city",
        "agent",
        "product",
        "lot_number",
    ),
}
_CHUNK_ROWS = 2_000


@dataclass(frozen=True)
class ExportFilter:
    batch_id: int | None = None
    disposition: str | None = None
    custodian_organization_id: int | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None


def _check(kind: str, flt: ExportFilter) -> None:
    if kind not in COLUMNS:
        raise ValidationError(
            f"unknown export {kind!r}: {', '.join(COLUMNS)}", details={"field": "kind"}
        )
    if flt.disposition is not None and flt.disposition not in {d.value for d in Disposition}:
        raise ValidationError(f"unknown disposition {flt.disposition!r}")
    for name, value in (("since", flt.since), ("until", flt.until)):
        if value is not None and value.tzinfo is None:
            raise ValidationError(f"{name} needs a time zone")
    if flt.since and flt.until and flt.since >= flt.until:
        raise ValidationError("since must be before until")


_QUERIES: dict[str, Callable[..., Iterator[dict[str, Any]]]] = {
    "units": store.unit_rows,
    "sales": store.sale_rows,
    "events": store.event_rows,
    "shipments": store.shipment_rows,
    "scans": store.scan_rows,
}


def export_rows(
    rt: Runtime, principal: Principal, kind: str, flt: ExportFilter | None = None
) -> Iterator[dict[str, Any]]:
    """The rows of ``kind`` for the caller, streamed inside one read transaction. Bad
    arguments raise before the first row."""
    flt = flt or ExportFilter()
    _check(kind, flt)
    return _rows(rt, principal, kind, flt)


def _rows(
    rt: Runtime, principal: Principal, kind: str, flt: ExportFilter
) -> Iterator[dict[str, Any]]:
    query = _QUERIES[kind]
    with rt.db.read() as conn:
        yield from query(conn, principal.organization_id, **_arguments(conn, kind, flt))


def _arguments(conn: Connection, kind: str, flt: ExportFilter) -> dict[str, Any]:
    del conn
    if kind == "units":
        return {
            "batch_id": flt.batch_id,
            "disposition": flt.disposition,
            "custodian_organization_id": flt.custodian_organization_id,
            "since": flt.since,
            "until": flt.until,
        }
    if kind == "scans":
        return {"batch_id": flt.batch_id, "since": flt.since, "until": flt.until}
    return {"since": flt.since, "until": flt.until}


def csv_chunks(kind: str, rows: Iterator[Mapping[str, Any]]) -> Iterator[str]:
    """CSV text (UTF-8 with a byte-order mark when encoded, CRLF) in chunks of rows; every
    cell formula-safe."""
    return table_csv_chunks(COLUMNS[kind], rows)


def table_csv_chunks(columns: Sequence[str], rows: Iterator[Mapping[str, Any]]) -> Iterator[str]:
    """:func:`csv_chunks` for any ``columns`` (a recall's reach rows, …)."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow(columns)
    for n, row in enumerate(rows, 1):
        writer.writerow([safe_cell(row[c]) for c in columns])
        if n % _CHUNK_ROWS == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _plain(value: object) -> object:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def json_chunks(kind: str, rows: Iterator[Mapping[str, Any]]) -> Iterator[str]:
    """The same rows as a JSON array, streamed."""
    columns = COLUMNS[kind]
    yield "["
    first = True
    for row in rows:
        yield ("" if first else ",") + json.dumps({c: _plain(row[c]) for c in columns})
        first = False
    yield "]"
