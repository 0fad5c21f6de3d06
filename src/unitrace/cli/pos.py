"""``unitrace pos``: the store counter — sell, take back a return, undo a sale."""

from __future__ import annotations

from typing import Annotated

import typer

from unitrace.cli.context import acting_for
from unitrace.cli.options import JsonOption, OrgOption
from unitrace.cli.output import print_json, say
from unitrace.services.retail import return_unit, sell, undo_sale

app = typer.Typer(help="The store counter: sell units, take back returns, undo a sale.")

StoreOption = Annotated[
    int, typer.Option("--store", metavar="LOCATION_ID", help="The store (a location ID).")
]
KeyOption = Annotated[
    str | None, typer.Option(metavar="KEY", help="Retry-safe: the same key never runs twice.")
]
UnitCode = Annotated[str, typer.Argument(metavar="CODE", help="Unit code as printed or scanned.")]


@app.command("sell")
def sell_(
    ctx: typer.Context,
    org: OrgOption,
    store: StoreOption,
    codes: Annotated[list[str], typer.Argument(metavar="CODE...", help="The units of the basket.")],
    terminal: Annotated[
        str | None, typer.Option(metavar="NAME", help="The till or terminal selling.")
    ] = None,
    idempotency_key: KeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Sell one unit or a basket at a store, all or nothing."""
    rt, principal = acting_for(ctx, org)
    sale = sell(
        rt,
        principal,
        location_id=store,
        codes=codes,
        idempotency_key=idempotency_key,
        terminal=terminal,
    )
    if as_json:
        print_json(sale)
        return
    if sale.replayed:
        say("Already done: this idempotency key made this sale earlier; nothing new was sold.")
    else:
        say(f"Sold {len(sale.codes):,} unit(s) at store {sale.location_id}.")
    say(f"Event: {sale.event_id}")


@app.command("return")
def return_(
    ctx: typer.Context,
    org: OrgOption,
    store: StoreOption,
    code: UnitCode,
    restock: Annotated[
        bool | None,
        typer.Option(
            "--restock/--quarantine",
            help="Put the unit back on sale, or set it aside for inspection (one is required).",
            show_default=False,
        ),
    ] = None,
    idempotency_key: KeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Take back a unit a customer returns at a store."""
    if restock is None:
        raise typer.BadParameter("say --restock or --quarantine", param_hint="--restock")
    rt, principal = acting_for(ctx, org)
    result = return_unit(
        rt,
        principal,
        location_id=store,
        code=code,
        action="restock" if restock else "quarantine",
        idempotency_key=idempotency_key,
    )
    if as_json:
        print_json(result)
        return
    say(f"Returned {result.code} at store {result.location_id}: now {result.disposition}.")
    say(f"Events: {result.return_event_id}, {result.disposition_event_id}")


@app.command("undo")
def undo(
    ctx: typer.Context,
    org: OrgOption,
    code: UnitCode,
    reason: Annotated[str, typer.Option(help="Why the sale is undone (kept with the event).")] = "",
    as_json: JsonOption = False,
) -> None:
    """Undo a sale made by mistake (within the undo window): the unit is back on sale."""
    rt, principal = acting_for(ctx, org)
    result = undo_sale(rt, principal, code=code, reason=reason)
    if as_json:
        print_json(result)
        return
    say(f"Sale of {result.code} undone: now {result.disposition}.")
    say(f"Declared wrong: {result.sale_event_id}")
    for event_id in result.corrective_event_ids:
        say(f"Corrective event: {event_id}")
