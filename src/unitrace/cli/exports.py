"""``unitrace export``: units, sales, events, shipments or scans as CSV or JSON."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from unitrace.cli.context import acting_for
from unitrace.cli.options import OrgOption, SinceOption, UntilOption, moment
from unitrace.cli.output import say
from unitrace.services import exports


def export(
    ctx: typer.Context,
    kind: Annotated[str, typer.Argument(help="units, sales, events, shipments or scans.")],
    org: OrgOption,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here (default: standard output).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="A JSON array instead of CSV.")] = False,
    batch: Annotated[int | None, typer.Option(help="units, scans: of this batch id.")] = None,
    disposition: Annotated[str | None, typer.Option(help="units: in this disposition.")] = None,
    since: SinceOption = None,
    until: UntilOption = None,
) -> None:
    """Export what the organization may see as CSV (formula-safe cells) or JSON, streamed.

    An exported sales file can be imported again (``unitrace import sales``)."""
    rt, principal = acting_for(ctx, org)
    flt = exports.ExportFilter(
        batch_id=batch,
        disposition=disposition,
        since=moment(since, "--since"),
        until=moment(until, "--until"),
    )
    rows = exports.export_rows(rt, principal, kind, flt)
    chunks = exports.json_chunks(kind, rows) if as_json else exports.csv_chunks(kind, rows)
    if output is None:
        for chunk in chunks:
            sys.stdout.write(chunk.removeprefix("\ufeff"))
        return
    with output.open("w", encoding="utf-8", newline="") as out:
        for chunk in chunks:
            out.write(chunk)
    say(f"Wrote {output}")
