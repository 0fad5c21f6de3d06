"""Reports: sell-through by product and store, computed from the event log."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from unitrace.services import analytics
from unitrace.web.deps import ApiPrincipal, RuntimeDep

router = APIRouter(tags=["reports"])


@router.get("/reports/sell-through")
def sell_through(
    rt: RuntimeDep,
    principal: ApiPrincipal,
    since: Annotated[dt.datetime | None, Query(description="From this time (with a zone).")] = None,
    until: Annotated[dt.datetime | None, Query(description="Until this time, exclusive.")] = None,
) -> dict[str, Any]:
    """Units supplied to each store (received for sale), sold and returned there, per product,
    and the sell-through rate (net sold over supplied). A brand sees its units in every store;
    a retailer every brand's units in its stores. Undone sales and receipts do not count."""
    rows = analytics.sell_through(rt, principal, since=since, until=until)
    return {
        "since": since.isoformat() if since else None,
        "until": until.isoformat() if until else None,
        "items": [
            {
                "product_id": r.product_id,
                "product_name": r.product_name,
                "store_id": r.store_id,
                "store_name": r.store_name,
                "city": r.city,
                "retailer_name": r.retailer_name,
                "market": r.market,
                "supplied": r.supplied,
                "sold": r.sold,
                "returned": r.returned,
                "net_sold": r.net_sold,
                "sell_through": r.sell_through,
            }
            for r in rows
        ],
    }


@router.get("/reports/scans")
def scans(
    rt: RuntimeDep,
    principal: ApiPrincipal,
    by: Annotated[
        Literal["product", "batch", "region"], Query(description="What to count scans by.")
    ] = "product",
    period: Annotated[Literal["day", "week", "month"], Query(description="Period size.")] = "week",
    since: Annotated[dt.datetime | None, Query(description="From this time (with a zone).")] = None,
    until: Annotated[dt.datetime | None, Query(description="Until this time, exclusive.")] = None,
) -> dict[str, Any]:
    """Consumer scans of your units per product, batch or region and period (its first day;
    weeks start on Monday): scans, distinct units scanned, suspicious answers; the share of
    each product's or batch's units scanned at least once; clone alerts per period."""
    report = analytics.scan_report(rt, principal, by=by, period=period, since=since, until=until)
    return {
        "by": report.by,
        "period": report.period,
        "periods": report.periods,
        "share": report.share,
        "alerts": report.alerts,
    }
