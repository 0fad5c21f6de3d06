"""Inventory counts: open, scan (by area), close, the differences (JSON or CSV), resolve
each once, and the accuracy of closed counts over time."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from unitrace.services import exports, inventory
from unitrace.web.api.params import IdPath, IdQuery, Limit, Offset
from unitrace.web.deps import ApiPrincipal, RuntimeDep
from unitrace.web.downloads import attachment
from unitrace.web.schemas.inventory import (
    AccuracyPublic,
    CountCreate,
    CountDetailPublic,
    CountPublic,
    CountsPublic,
    CountStatus,
    ResolveCreate,
    ResolvedPublic,
    ScanBatchPublic,
    ScansCreate,
)

router = APIRouter(tags=["inventory"])
ACCURACY_COLUMNS = (
    "id",
    "location_id",
    "location_name",
    "closed_at",
    "scanned",
    "matched",
    "missing",
    "unexpected",
    "wrong_location",
    "accuracy",
)
Since = Annotated[dt.datetime | None, Query(description="Closed from this time (with a zone).")]
Until = Annotated[dt.datetime | None, Query(description="Closed before this time.")]
Format = Annotated[Literal["json", "csv"], Query(description="JSON (default) or CSV.")]
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {
        "description": "`conflict`: the count is not in a status that allows this, or the "
        "difference was resolved otherwise; `refused`: the lifecycle refuses the operation."
    }
}
CSV: dict[int | str, dict[str, Any]] = {200: {"content": {"application/json": {}, "text/csv": {}}}}


def _csv(columns: tuple[str, ...], rows: list[dict[str, Any]], name: str) -> Response:
    return Response(
        "".join(exports.table_csv_chunks(columns, iter(rows))),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": attachment(f"{name}.csv")},
    )


@router.post("/inventory-counts", status_code=201)
def start(body: CountCreate, rt: RuntimeDep, principal: ApiPrincipal) -> CountPublic:
    """Open a count of one of your locations (brands, distributors and retailers)."""
    view = inventory.start_count(rt, principal, location_id=body.location_id, note=body.note)
    return CountPublic.of(view)


@router.get("/inventory-counts")
def list_counts(
    rt: RuntimeDep,
    principal: ApiPrincipal,
    location_id: IdQuery = None,
    status: CountStatus | None = None,
    since: Since = None,
    until: Until = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> CountsPublic:
    """Your counts, newest first, each with its figures and accuracy once closed."""
    page = inventory.list_counts(
        rt, principal, location_id=location_id, status=status, since=since, until=until,
        limit=limit, offset=offset,
    )  # fmt: skip
    return CountsPublic.of(page)


@router.get("/inventory-counts/accuracy", responses=CSV)
def accuracy(
    rt: RuntimeDep,
    principal: ApiPrincipal,
    location_id: IdQuery = None,
    since: Since = None,
    until: Until = None,
    format: Format = "json",
) -> Any:
    """Closed counts in the window, oldest first, with their accuracy (per location with
    ``location_id``): the table behind the accuracy chart. ``format=csv`` for CSV."""
    views = inventory.accuracy_history(
        rt, principal, location_id=location_id, since=since, until=until
    )
    if format == "csv":
        rows = [{**vars(v), "accuracy": v.accuracy} for v in views]
        return _csv(ACCURACY_COLUMNS, rows, "inventory-accuracy")
    return AccuracyPublic.of(views)


@router.get("/inventory-counts/{count_id}")
def get_count(count_id: IdPath, rt: RuntimeDep, principal: ApiPrincipal) -> CountDetailPublic:
    """A count with its differences (once closed), by kind and code."""
    return CountDetailPublic.of(inventory.get_count(rt, principal, count_id))


@router.get(
    "/inventory-counts/{count_id}/differences.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "Formula-safe CSV."}},
)
def differences_csv(count_id: IdPath, rt: RuntimeDep, principal: ApiPrincipal) -> Response:
    """The count's differences and their resolutions as CSV."""
    rows = inventory.difference_rows(rt, principal, count_id)
    return _csv(inventory.DIFFERENCE_COLUMNS, rows, f"inventory-count-{count_id}-differences")


@router.post("/inventory-counts/{count_id}/scans", responses=CONFLICT)
def add_scans(
    count_id: IdPath, body: ScansCreate, rt: RuntimeDep, principal: ApiPrincipal
) -> ScanBatchPublic:
    """Add scans to an open count, optionally for one area. A case or pallet counts every
    unit in it; a unit scanned again counts once. An unreadable scan refuses the batch (422,
    naming it) and adds nothing."""
    batch = inventory.add_scans(rt, principal, count_id, scans=body.scans, area=body.area)
    return ScanBatchPublic.of(batch)


@router.post("/inventory-counts/{count_id}/close", responses=CONFLICT)
def close(count_id: IdPath, rt: RuntimeDep, principal: ApiPrincipal) -> CountDetailPublic:
    """Close the count: the differences against the units believed present now are frozen
    with the figures."""
    return CountDetailPublic.of(inventory.close_count(rt, principal, count_id))


@router.post("/inventory-counts/{count_id}/resolve", responses=CONFLICT)
def resolve(
    count_id: IdPath, body: ResolveCreate, rt: RuntimeDep, principal: ApiPrincipal
) -> ResolvedPublic:
    """Resolve one difference of a closed count, once: ``stolen`` (a missing unit, reported
    stolen with its event), ``received`` (a unit in transit to you, received on its shipment
    with every unit of it the count found), ``found`` or ``noted`` (with a note). The same
    resolution again answers ``replayed``; another is a 409."""
    done = inventory.resolve(
        rt, principal, count_id, code=body.code, resolution=body.resolution, note=body.note
    )
    return ResolvedPublic.of(done)
