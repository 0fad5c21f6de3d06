"""``unitrace audit``: verify an organization's event hash chain, read a unit's history."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from unitrace.cli.context import acting_for
from unitrace.cli.options import JsonOption, OrgOption
from unitrace.cli.output import print_json, print_table, say, to_jsonable
from unitrace.services import history
from unitrace.services.audit import ChainReport, verify_chain

app = typer.Typer(help="Audit the event log: verify the hash chain, read a unit's history.")


def report_json(report: ChainReport) -> dict[str, Any]:
    value: dict[str, Any] = to_jsonable(report)
    return {"ok": report.ok, **value}


def _say_report(report: ChainReport) -> None:
    name = report.organization_name
    if report.unchained:
        say(f"{report.unchained:,} events predate the chain and cannot be verified.")
    broken = report.broken
    if broken is None:
        say(f"Intact: {report.checked:,} events of {name} verified (head seq {report.head_seq}).")
        say(f"Head: {report.head_hash}")
        return
    say(f"BROKEN: the chain of {name} breaks at seq {broken.seq} ({broken.reason.value}).")
    say(broken.detail)
    if broken.row_id is not None:
        say(f"Event row {broken.row_id}: {broken.event_id}")
    say(f"{report.checked:,} events before it verified.")


@app.command("verify")
def verify(ctx: typer.Context, org: OrgOption, as_json: JsonOption = False) -> None:
    """Recompute every event hash and chain link of the organization, oldest first.

    Exits 0 when the chain is intact and 1 at the first broken link, which it names.
    """
    rt, principal = acting_for(ctx, org)
    report = verify_chain(rt, principal)
    if as_json:
        print_json(report_json(report))
    else:
        _say_report(report)
    if not report.ok:
        raise typer.Exit(1)


@app.command("history")
def history_(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(help="Unit code as printed or scanned (any case).")],
    org: OrgOption,
    epcis_out: Annotated[
        Path | None,
        typer.Option("--epcis", dir_okay=False, metavar="FILE", help="Also write an EPCIS file."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Show every event of one unit, oldest first."""
    rt, principal = acting_for(ctx, org)
    if as_json or epcis_out is not None:
        document = history.unit_epcis_document(rt, principal, code)
        if epcis_out is not None:
            epcis_out.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
        if as_json:
            print_json(document)
            return
    entries = history.timeline(rt, principal, code)
    rows = [
        (e.event_time, e.summary, e.disposition, e.organization_name, e.location_name)
        for e in entries
    ]
    print_table(("Time", "What", "Disposition", "Who", "Where"), rows, title=code.upper())
    if epcis_out is not None:
        say(f"Wrote {len(entries)} events as an EPCIS 2.0 document to {epcis_out}.")
