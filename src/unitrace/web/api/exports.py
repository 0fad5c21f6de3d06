"""Exports: units, sales, events, shipments and public scans as CSV or JSON, streamed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Generator, Iterator
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response
from fastapi.responses import StreamingResponse

from unitrace.services import exports
from unitrace.web.deps import ApiPrincipal, RuntimeDep

router = APIRouter(tags=["exports"])

ExportKind = Annotated[
    Literal["units", "sales", "events", "shipments", "scans"],
    Path(description="What to export."),
]


def closing_stream(chunks: Iterator[str], rows: Iterator[object]) -> Iterator[str]:
    try:
        yield from chunks
    finally:
        if isinstance(rows, Generator):
            rows.close()  # ends the read transaction even when the client went away


@router.get(
    "/exports/{kind}",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"text/csv": {}, "application/json": {}},
            "description": "CSV (formula-safe cells, UTF-8 with BOM) or a JSON array.",
        }
    },
)
def export(
    kind: ExportKind,
    rt: RuntimeDep,
    principal: ApiPrincipal,
    format: Annotated[Literal["csv", "json"], Query(description="csv or json")] = "csv",
    batch_id: Annotated[int | None, Query(ge=1, description="units, scans: of this batch")] = None,
    disposition: Annotated[str | None, Query(description="units: in this disposition")] = None,
    custodian_organization_id: Annotated[
        int | None, Query(ge=1, description="units: held by this organization")
    ] = None,
    since: Annotated[dt.datetime | None, Query(description="from (inclusive, with zone)")] = None,
    until: Annotated[dt.datetime | None, Query(description="until (exclusive, with zone)")] = None,
) -> Response:
    """Every row of ``kind`` the caller may see (what it owns or holds; shipments it sent or
    receives; public scans of its units), streamed. Units filter by batch, disposition, holder
    and last change; scans by batch and scan time; the others by time (sale, record or
    creation time)."""
    flt = exports.ExportFilter(batch_id, disposition, custodian_organization_id, since, until)
    rows = exports.export_rows(rt, principal, kind, flt)  # bad filters answer 422 here
    if format == "json":
        chunks = exports.json_chunks(kind, rows)
        media = "application/json"
    else:
        chunks = exports.csv_chunks(kind, rows)
        media = "text/csv; charset=utf-8"
    stamp = rt.clock().strftime("%Y%m%d-%H%M%S")
    return StreamingResponse(
        closing_stream(chunks, rows),
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{kind}-{stamp}.{format}"'},
    )
