"""``unitrace dispositions``: destroy, decommission, report stolen, lost or damaged, found
again, expire, quarantine or restock units — named one by one or by their cases and pallets."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import typer

from unitrace.cli.context import acting_for
from unitrace.cli.options import JsonOption, OrgOption
from unitrace.cli.output import print_json, say
from unitrace.domain.lifecycle import Operation
from unitrace.services.retail import change_disposition

app = typer.Typer(
    help="Change units' disposition: destroy, decommission, stolen, lost, found, damaged, "
    "expire, quarantine, restock."
)

# command name -> (operation, what the command does)
COMMANDS: dict[str, tuple[Operation, str]] = {
    "destroy": (Operation.DESTROY, "Record units as destroyed (the codes stay taken forever)."),
    "decommission": (
        Operation.DECOMMISSION,
        "Take units out of circulation (e.g. a code printed by mistake).",
    ),
    "mark-stolen": (Operation.MARK_STOLEN, "Report units as stolen."),
    "mark-lost": (Operation.MARK_LOST, "Mark units as lost (not found, not known stolen)."),
    "mark-found": (
        Operation.MARK_FOUND,
        "Units marked lost, found again: back to what they were when lost.",
    ),
    "mark-damaged": (Operation.MARK_DAMAGED, "Mark units as damaged (unsellable)."),
    "expire": (Operation.EXPIRE, "Mark units as expired (unsellable)."),
    "quarantine": (Operation.QUARANTINE, "Set units aside: unsellable until restocked."),
    "restock": (Operation.RESTOCK, "Put quarantined or returned units back on sale at a store."),
}

Codes = Annotated[
    list[str],
    typer.Argument(metavar="CODE...", help="Units, or cases and pallets (all units inside)."),
]
ReasonOption = Annotated[str, typer.Option(help="Why (kept with the event, up to 500 characters).")]


def _command(operation: Operation, doc: str) -> Callable[..., None]:
    def command(
        ctx: typer.Context,
        codes: Codes,
        org: OrgOption,
        reason: ReasonOption,
        as_json: JsonOption = False,
    ) -> None:
        rt, principal = acting_for(ctx, org)
        result = change_disposition(rt, principal, operation=operation, codes=codes, reason=reason)
        if as_json:
            print_json(result)
            return
        for disposition, n in result.dispositions.items():
            say(f"{n:,} unit(s) now {disposition}.")
        say(f"Event: {', '.join(result.event_ids)}")

    command.__doc__ = doc + " All or nothing: every refused unit is listed with its reason."
    command.__name__ = operation.value
    return command


for _name, (_operation, _doc) in COMMANDS.items():
    app.command(_name)(_command(_operation, _doc))
