"""Reports computed from the event log and the scan log, as JSON or CSV (every table)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from unitrace.services import analytics, exports
from unitrace.web.deps import ApiPrincipal, RuntimeDep

router = APIRouter(tags=["reports"])

SELL_THROUGH_COLUMNS = (
    "product_id",
    "product_name",
    "store_id",
    "store_name",
    "city",
    "retailer_name",
    "market",
    "supplied",
    "sold",
    "returned",
    "net_sold",
    "sell_through",
    "median_days",
    "mean_days",
)
SCAN_TABLES = {
    "periods": ("key", "label", "period", "scans", "units_scanned", "suspicious"),
    "share": ("key", "label", "units", "units_scanned", "share_scanned"),
    "alerts": ("period", "reason", "alerts"),
}
Since = Annotated[dt.datetime | None, Query(description="From this time (with a zone).")]
Until = Annotated[dt.datetime | None, Query(description="Until this time, exclusive.")]
Format = Annotated[Literal["json", "csv"], Query(description="JSON (default) or CSV.")]


def _csv(columns: tuple[str, ...], rows: list[dict[str, Any]], name: str) -> Response:
    text = "".join(exports.table_csv_chunks(columns, iter(rows)))
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


def sell_through_rows(rows: list[analytics.SellThroughRow]) -> list[dict[str, Any]]:
    return [{**vars(r), "net_sold": r.net_sold, "sell_through": r.sell_through} for r in rows]


@router.get(
    "/reports/sell-through",
    responses={200: {"content": {"application/json": {}, "text/csv": {}}}},
)
def sell_through(
    rt: RuntimeDep,
    principal: ApiPrincipal,
    since: Since = None,
    until: Until = None,
    format: Format = "json",
) -> Any:
    """Units supplied to each store (received for sale), sold and returned there, per product,
    and the sell-through rate (net sold over supplied). A brand sees its units in every store;
    a retailer every brand's units in its stores. Undone sales and receipts do not count.
    ``format=csv`` gives the same table as formula-safe CSV."""
    rows = sell_through_rows(analytics.sell_through(rt, principal, since=since, until=until))
    if format == "csv":
        return _csv(SELL_THROUGH_COLUMNS, rows, "sell-through")
    return {
        "since": since.isoformat() if since else None,
        "until": until.isoformat() if until else None,
        "items": [
            {**{c: row[c] for c in SELL_THROUGH_COLUMNS}, "shelf_days": row["shelf_days"]}
            for row in rows
        ],
    }


@router.get(
    "/reports/scans",
    responses={200: {"content": {"application/json": {}, "text/csv": {}}}},
)
def scans(
    rt: RuntimeDep,
    principal: ApiPrincipal,
    by: Annotated[
        Literal["product", "batch", "region"], Query(description="What to count scans by.")
    ] = "product",
    period: Annotated[Literal["day", "week", "month"], Query(description="Period size.")] = "week",
    since: Since = None,
    until: Until = None,
    format: Format = "json",
    table: Annotated[
        Literal["periods", "share", "alerts"], Query(description="With format=csv: which table.")
    ] = "periods",
) -> Any:
    """Consumer scans of your units per product, batch or region and period (its first day;
    weeks start on Monday): scans, distinct units scanned, suspicious answers; the share of
    each product's or batch's units scanned at least once; clone alerts per period.
    ``format=csv`` gives one of the tables (``table``) as formula-safe CSV."""
    report = analytics.scan_report(rt, principal, by=by, period=period, since=since, until=until)
    tables = {"periods": report.periods, "share": report.share, "alerts": report.alerts}
    if format == "csv":
        return _csv(SCAN_TABLES[table], tables[table], f"scans-{table}")
    return {"by": report.by, "period": report.period, **tables}
