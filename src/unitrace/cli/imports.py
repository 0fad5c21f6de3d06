"""``unitrace import``: upload a CSV file of a kind (checked whole, applied all or nothing,
exactly once), its templates, past imports, and the CSV reference (docs/csv.md).

Registered under the name ``import`` (a Python keyword, hence this module's name). The kind
is named first: ``unitrace import sales FILE``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from typer.core import TyperGroup

from unitrace.cli.context import acting_for
from unitrace.cli.options import JsonOption, LimitOption, OffsetOption, OrgOption
from unitrace.cli.output import (
    print_fields,
    print_json,
    print_page_footer,
    print_table,
    say,
    stderr_console,
)
from unitrace.domain.csv_reference import csv_reference
from unitrace.domain.imports import LAYOUTS
from unitrace.services import imports
from unitrace.services.imports import ImportResult


class _KindFirst(TyperGroup):
    """``unitrace import KIND FILE``: a first word that is no command is a kind to upload."""

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["upload", *args]
        return super().resolve_command(ctx, args)


app = typer.Typer(
    cls=_KindFirst,
    no_args_is_help=True,
    help=f"CSV imports. unitrace import KIND FILE [--dry-run] [--key KEY] uploads a file "
    f"(KIND: {', '.join(LAYOUTS)}), checked whole and applied all or nothing; also "
    "templates, past imports and the CSV reference.",
)
PROBLEM_COLUMNS = ("Row", "Column", "Value", "Message")

ImportId = Annotated[int, typer.Argument(metavar="ID", help="Import ID.")]
OutputOption = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write here (default: standard output).")
]


@contextmanager
def _progress_bar(wanted: bool) -> Iterator[Callable[[str, int], None] | None]:
    """Rows read so far and the phase, on stderr; none when piped or with ``--json``."""
    err = stderr_console()
    if not (wanted and err.is_terminal):
        yield None
        return
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task("Reading", total=None)

        def update(phase: str, rows: int) -> None:
            bar.update(task, description=f"{phase.capitalize()}: {rows:,} rows")

        yield update


def _summary(result: ImportResult) -> None:
    if result.replayed:
        say(f"Already imported (import {result.id}): nothing changed.")
    elif result.status == "dry_run":
        say(f"Checked {result.rows:,} rows: no problems; nothing was changed (dry run).")
    else:
        say(f"Imported {result.rows:,} rows (import {result.id}).")
    _summary_fields(result)


def _problems(result: ImportResult) -> None:
    rows = [(p["line"], p["column"], p["value"], p["message"]) for p in result.problems]
    print_table(PROBLEM_COLUMNS, rows, title=f"{result.problem_count:,} problems")
    if result.problem_count > len(result.problems):
        say(f"Showing the first {len(result.problems):,}.")
    say("Nothing was imported: fix the file and import it again.")


def _report(result: ImportResult, as_json: bool) -> None:
    if as_json:
        print_json(result)
    elif result.ok:
        _summary(result)
    else:
        _problems(result)
    if not result.ok:
        raise typer.Exit(1)


@app.command("upload", hidden=True)  # reached as ``unitrace import KIND FILE``
def upload(
    ctx: typer.Context,
    kind: Annotated[str, typer.Argument(help=", ".join(LAYOUTS))],
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="The CSV file.")
    ],
    org: OrgOption,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check everything, change nothing.")
    ] = False,
    key: Annotated[
        str | None, typer.Option("--key", help="Idempotency key: the same key, one import.")
    ] = None,
    allow_guessable: Annotated[
        bool,
        typer.Option(
            "--allow-guessable",
            help="serials: accept serials that could be guessed; the units are marked and "
            "their public verification says the code alone is weak evidence.",
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Import FILE as KIND, all or nothing; exits 1 with a table of the problems."""
    rt, principal = acting_for(ctx, org)
    with file.open("rb") as stream, _progress_bar(not as_json) as progress:
        result = imports.run_import(
            rt,
            principal,
            kind,
            stream,
            filename=file.name,
            dry_run=dry_run,
            idempotency_key=key,
            progress=progress,
            allow_guessable=allow_guessable,
        )
    _report(result, as_json)


def _write(text: str, output: Path | None) -> None:
    if output is None:
        typer.echo(text, nl=False)
        return
    output.write_text(text, encoding="utf-8", newline="")
    say(f"Wrote {output}")


@app.command("template")
def template(
    kind: Annotated[str, typer.Argument(help=", ".join(LAYOUTS))], output: OutputOption = None
) -> None:
    """Write the CSV template of KIND: its header and an example row."""
    _write(imports.template(kind), output)


@app.command("docs")
def docs(output: OutputOption = None) -> None:
    """Write the CSV reference (every kind's columns, types, units and rules): docs/csv.md."""
    _write(csv_reference(), output)


@app.command("list")
def list_(
    ctx: typer.Context,
    org: OrgOption,
    limit: LimitOption = 50,
    offset: OffsetOption = 0,
    as_json: JsonOption = False,
) -> None:
    """List the organization's imports, newest first."""
    rt, principal = acting_for(ctx, org)
    page = imports.list_imports(rt, principal, limit=limit, offset=offset)
    if as_json:
        print_json(page)
        return
    rows = [(i.id, i.kind, i.status, i.rows, i.problem_count or None) for i in page.items]
    print_table(("ID", "Kind", "Status", "Rows", "Problems"), rows, title=f"{page.total:,} imports")
    print_page_footer(len(page.items), page.total, offset)


@app.command("show")
def show(
    ctx: typer.Context, import_id: ImportId, org: OrgOption, as_json: JsonOption = False
) -> None:
    """Show an import: its status, rows, result or problems."""
    rt, principal = acting_for(ctx, org)
    result = imports.get_import(rt, principal, import_id)
    if as_json:
        print_json(result)
        return
    print_fields(
        [("Import", result.id), ("Kind", result.kind), ("Status", result.status),
         ("Rows", result.rows)]
    )  # fmt: skip
    if result.ok:
        _summary_fields(result)
    else:
        _problems(result)


def _summary_fields(result: ImportResult) -> None:
    pairs = [(key.replace("_", " ").capitalize(), value) for key, value in result.result.items()]
    if pairs:
        print_fields(pairs)
