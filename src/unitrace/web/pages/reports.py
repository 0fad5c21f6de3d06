"""Reports: sell-through by product and store, and consumer scans over time, as charts
(server-drawn SVG: no script) over the tables behind them, each downloadable."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from unitrace.errors import ValidationError
from unitrace.services import analytics
from unitrace.web.deps import RuntimeDep
from unitrace.web.pages.common import ViewerDep, day_start, render

router = APIRouter()
CHART_WIDTH = 640
CHART_HEIGHT = 160


def _columns(values: list[tuple[str, int]], top: int = 0) -> list[dict[str, Any]]:
    """Vertical bars for a time series: position and height in the chart's coordinates,
    scaled to ``top`` (default: the tallest bar)."""
    if not values:
        return []
    top = top or max(v for _, v in values) or 1
    step = CHART_WIDTH / len(values)
    width = min(step * 0.8, 48)  # a lone period is a bar, not a wall
    return [
        {
            "label": label,
            "value": value,
            "x": round(i * step + (step - width) / 2, 1),
            "width": round(width, 1),
            "height": round(value / top * (CHART_HEIGHT - 20), 1),
            "y": round(CHART_HEIGHT - 20 - value / top * (CHART_HEIGHT - 20), 1),
        }
        for i, (label, value) in enumerate(values)
    ]


@router.get("/reports")
def reports(request: Request, rt: RuntimeDep, viewer: ViewerDep) -> Response:
    params = request.query_params
    by = params.get("by") or ""
    by = by if by in analytics.SCAN_DIMENSIONS else "product"
    period = params.get("period") or ""
    period = period if period in analytics.PERIODS else "week"
    groupings = analytics.sell_through_groupings(rt, viewer.principal)
    st_by = params.get("st_by") or ""
    st_by = st_by if st_by in groupings else groupings[0]
    errors: list[str] = []
    try:
        since, until = day_start(params.get("since")), day_start(params.get("until"))
        selling = analytics.sell_through(rt, viewer.principal, by=st_by, since=since, until=until)
        trend = analytics.sell_through_trend(
            rt, viewer.principal, period=period, since=since, until=until
        )
        scans = analytics.scan_report(
            rt, viewer.principal, by=by, period=period, since=since, until=until
        )
    except ValidationError as exc:
        errors.append(exc.message)
        since = until = None
        selling = analytics.sell_through(rt, viewer.principal, by=st_by)
        trend = analytics.sell_through_trend(rt, viewer.principal, period=period)
        scans = analytics.scan_report(rt, viewer.principal, by=by, period=period)
    totals: dict[str, int] = {}
    for row in scans.periods:
        totals[row["period"]] = totals.get(row["period"], 0) + int(row["scans"])
    query = {
        k: v
        for k, v in {
            "since": since.isoformat() if since else "",
            "until": until.isoformat() if until else "",
        }.items()
        if v
    }
    scan_query = {**query, "by": by, "period": period}
    # both series on one scale: bars for sold, points of a line for supplied
    top = max([int(t["supplied"]) for t in trend] + [int(t["sold"]) for t in trend] + [1])
    sold_bars = _columns([(t["period"], int(t["sold"])) for t in trend], top)
    supplied_points = [
        {
            "x": round(bar["x"] + bar["width"] / 2, 1),
            "y": round(CHART_HEIGHT - 20 - int(t["supplied"]) / top * (CHART_HEIGHT - 20), 1),
            "label": t["period"],
            "value": int(t["supplied"]),
        }
        for bar, t in zip(sold_bars, trend, strict=True)
    ]
    return render(
        request,
        "reports.html",
        viewer,
        section="reports",
        selling=selling,
        selling_dims=st_by.split(","),
        trend=trend,
        trend_bars=sold_bars,
        supplied_line=" ".join(f"{p['x']},{p['y']}" for p in supplied_points),
        supplied_points=supplied_points,
        groupings=groupings,
        scans=scans,
        series=_columns(sorted(totals.items())),
        chart={"width": CHART_WIDTH, "height": CHART_HEIGHT},
        filters={
            "since": params.get("since", "") if not errors else "",
            "until": params.get("until", "") if not errors else "",
            "by": by,
            "period": period,
            "st_by": st_by,
        },
        dimensions=analytics.SCAN_DIMENSIONS,
        periods=analytics.PERIODS,
        downloads={
            "sell_through": "/api/v1/reports/sell-through?" + urlencode({**query, "by": st_by}),
            "trend": "/api/v1/reports/sell-through?"
            + urlencode({**query, "by": "market", "period": period}),
            "scans": "/api/v1/reports/scans?" + urlencode(scan_query),
        },
        form_errors=errors,
    )
