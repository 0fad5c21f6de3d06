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
    by: Annotated[
        str,
        typer.Option(help="product, batch, brand, store, retailer, market; comma-separated."),
    ] = "product,store",
    period: Annotated[
        str | None, typer.Option(help="Also per day, week or month (a time series).")
    ] = None,
    since: SinceOption = None,
    until: UntilOption = None,
    as_json: JsonOption = False,
) -> None:
    """Units supplied, sold and returned, sell-through, on hand and weeks of supply, grouped
    by product and store (or as --by says) over whole UTC days."""
    rt, principal = acting_for(ctx, org)
    rows = analytics.sell_through(
        rt,
        principal,
        by=by,
        period=period,
        since=moment(since, "--since"),
        until=moment(until, "--until"),
    )
    records = [analytics.sell_through_record(r) for r in rows]
    if as_json:
        print_json(records)
        return
    shown = [c for c in analytics.sell_through_columns(by, period) if not c.endswith("_id")]
    print_table(
        [_HEADINGS.get(c, c.replace("_", " ").capitalize()) for c in shown],
        [[_cell(c, record[c]) for c in shown] for record in records],
        title=f"Sell-through: {len(rows)} rows",
    )


_HEADINGS = {
    "sell_through": "Sell-through",
    "median_days": "Median days on shelf",
    "mean_days": "Mean days on shelf",
    "lot_number": "Lot",
}


def _cell(column: str, value: object) -> object:
    if value is None:
        return "—"
    if column == "sell_through" and isinstance(value, float):
        return f"{value:.0%}"
    if isinstance(value, float):
        return f"{value:g}"
    return value


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
