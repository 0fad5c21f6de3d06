"""Reports computed from the event log and the scan log, as JSON or CSV (every table)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from unitrace.services import analytics, exports
from unitrace.web.deps import ApiPrincipal, RuntimeDep

router = APIRouter(tags=["reports"])

SCAN_TABLES = {
    "periods": ("key", "label", "period", "scans", "units_scanned", "suspicious"),
    "share": ("key", "label", "units", "units_scanned", "share_scanned"),
    "alerts": ("period", "reason", "alerts"),
}
Since = Annotated[dt.datetime | None, Query(description="From this time (with a zone).")]
Until = Annotated[dt.datetime | None, Query(description="Until this time, exclusive.")]
SinceDay = Annotated[dt.date | None, Query(description="From this UTC day (YYYY-MM-DD).")]
UntilDay = Annotated[dt.date | None, Query(description="Until this UTC day, exclusive.")]
Format = Annotated[Literal["json", "csv"], Query(description="JSON (default) or CSV.")]


def _csv(columns: tuple[str, ...], rows: list[dict[str, Any]], name: str) -> Response:
    text = "".join(exports.table_csv_chunks(columns, iter(rows)))
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


@router.get(
    "/reports/sell-through",
    responses={200: {"content": {"application/json": {}, "text/csv": {}}}},
)
def sell_through(
    rt: RuntimeDep,
    principal: ApiPrincipal,
    by: Annotated[
        str,
        Query(
            description="Group by one or more of product, batch, brand, store, retailer, "
            "market, comma-separated (regulators: product, brand, retailer, market)."
        ),
    ] = "product,store",
    period: Annotated[
        Literal["day", "week", "month"] | None,
        Query(description="Also per day, week (from Monday) or month: a time series."),
    ] = None,
    since: SinceDay = None,
    until: UntilDay = None,
    format: Format = "json",
) -> Any:
    """Units supplied to stores (received for sale), sold and returned there, net sold, the
    sell-through rate (net sold over supplied), units on hand now, weeks of supply and days
    on shelf, grouped as asked and optionally per period. A brand sees its units in every
    store; a retailer every brand's units in its stores; a regulator its market's stores, at
    market level. Undone sales and receipts do not count. ``format=csv`` gives the same
    table as formula-safe CSV."""
    rows = [
        analytics.sell_through_record(r)
        for r in analytics.sell_through(
            rt, principal, by=by, period=period, since=since, until=until
        )
    ]
    columns = analytics.sell_through_columns(by, period)
    if format == "csv":
        return _csv(columns, rows, "sell-through")
    return {
        "by": by,
        "period": period,
        "since": since.isoformat() if since else None,
        "until": until.isoformat() if until else None,
        "items": [
            {**{c: row[c] for c in columns}, "shelf_days": row["shelf_days"]} for row in rows
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
