"""``unitrace report``: sell-through and other figures computed from the event log."""

from __future__ import annotations

from typing import Annotated

import typer

from unitrace.cli.context import acting_for
from unitrace.cli.options import JsonOption, OrgOption, SinceOption, UntilOption, moment
from unitrace.cli.output import print_json, print_table
from unitrace.services import analytics

app = typer.Typer(help="Reports computed from the event log.")


@app.command("sell-through")
def sell_through(
    ctx: typer.Context,
    org: OrgOption,
    since: SinceOption = None,
    until: UntilOption = None,
    as_json: JsonOption = False,
) -> None:
    """Units supplied, sold and returned per product and store, and the sell-through rate."""
    rt, principal = acting_for(ctx, org)
    rows = analytics.sell_through(
        rt, principal, since=moment(since, "--since"), until=moment(until, "--until")
    )
    if as_json:
        print_json(
            [{**vars(r), "net_sold": r.net_sold, "sell_through": r.sell_through} for r in rows]
        )
        return
    print_table(
        (
            "Product",
            "Retailer",
            "Store",
            "Supplied",
            "Sold",
            "Returned",
            "Sell-through",
            "Median days on shelf",
        ),
        [
            (
                r.product_name,
                r.retailer_name,
                r.store_name,
                r.supplied,
                r.sold,
                r.returned,
                "—" if r.sell_through is None else f"{r.sell_through:.0%}",
                "—" if r.median_days is None else f"{r.median_days:g}",
            )
            for r in rows
        ],
        title=f"Sell-through: {len(rows)} product and store pairs",
    )


@app.command("scans")
def scans(
    ctx: typer.Context,
    org: OrgOption,
    by: Annotated[str, typer.Option(help="product, batch or region.")] = "product",
    period: Annotated[str, typer.Option(help="day, week or month.")] = "week",
    since: SinceOption = None,
    until: UntilOption = None,
    as_json: JsonOption = False,
) -> None:
    """Consumer scans of your units per product, batch or region and period."""
    rt, principal = acting_for(ctx, org)
    report = analytics.scan_report(
        rt,
        principal,
        by=by,
        period=period,
        since=moment(since, "--since"),
        until=moment(until, "--until"),
    )
    if as_json:
        print_json({"periods": report.periods, "share": report.share, "alerts": report.alerts})
        return
    print_table(
        ("Period", by.capitalize(), "Scans", "Units scanned", "Suspicious"),
        [
            (r["period"], r["label"] or "—", r["scans"], r["units_scanned"], r["suspicious"])
            for r in report.periods
        ],
        title=f"Consumer scans by {by} and {period}",
    )
    if report.share:
        print_table(
            (by.capitalize(), "Units", "Scanned at least once", "Share"),
            [
                (r["label"], r["units"], r["units_scanned"], f"{r['share_scanned']:.0%}")
                for r in report.share
            ],
            title="Units scanned by consumers",
        )
