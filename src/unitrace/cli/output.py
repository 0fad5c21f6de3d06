"""Rendering: rich tables for people, JSON for scripts, errors on stderr.

With ``--json`` a command writes exactly one JSON document to stdout and nothing else,
so ``unitrace … --json | jq`` always works. Decimals are written as exact strings
(``"21.5"``), dates and times in ISO 8601.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Column, Table
from rich.text import Text

from unitrace.errors import UnitraceError
from unitrace.services import exports

EMPTY = "—"
PIPE_WIDTH = 1000


def to_jsonable(value: Any) -> Any:
    """Domain values (frozen dataclasses, enums, decimals, dates) as plain JSON values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"  # "21.5", not the database's "21.5000"
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, dt.date):  # also datetime
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    return value


def print_json(value: Any) -> None:
    typer.echo(json.dumps(to_jsonable(value), indent=2, ensure_ascii=False))


def console() -> Console:
    """Stdout for people. Built per call, so it writes to whatever ``sys.stdout`` is now."""
    out = Console(highlight=False)
    if not out.is_terminal:
        # Piped or redirected: no terminal width to fit, and a cut-off code is useless.
        out.width = PIPE_WIDTH
    return out


def stderr_console() -> Console:
    return Console(stderr=True, highlight=False)


def show(value: Any) -> str:
    """One value as a person reads it in a table cell."""
    if value is None or value == "":
        return EMPTY
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def code_column(header: str = "Code") -> Column:
    """A column for identifiers that must never be cut or wrapped (unit codes, keys)."""
    return Column(header, no_wrap=True, min_width=14, overflow="fold")


def print_table(
    columns: Sequence[str | Column], rows: Iterable[Sequence[Any]], *, title: str | None = None
) -> None:
    # Long values wrap or fold onto the next line; none is cut off with an ellipsis.
    # A Column keeps the cells of the table it is in: modules declare their columns once, so
    # each table gets fresh copies (else one table's cells would turn up in the next).
    headers = [
        dataclasses.replace(c, _cells=[]) if isinstance(c, Column) else Column(c, overflow="fold")
        for c in columns
    ]
    table = Table(*headers, title=title, title_justify="left")
    # Cells are Text, not markup: a product called "[bold]" is printed as typed.
    for row in rows:
        table.add_row(*(Text(show(cell)) for cell in row))
    console().print(table)


def print_fields(pairs: Sequence[tuple[str, Any]], *, title: str | None = None) -> None:
    """A two-column table of label and value, for one record."""
    table = Table(show_header=False, title=title, title_justify="left", box=None)
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for label, value in pairs:
        table.add_row(label, Text(show(value)))
    console().print(table)


def say(message: str) -> None:
    """A line of plain text for people (never used with ``--json``)."""
    console().print(Text(message))


def write_csv(path: Path, columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> None:
    """Write ``rows`` to ``path`` as the exports write CSV (formula-safe cells), and say so."""
    with path.open("w", encoding="utf-8", newline="") as out:
        for chunk in exports.table_csv_chunks(columns, iter(rows)):
            out.write(chunk)
    say(f"Wrote {path}")


def print_page_footer(shown: int, total: int, offset: int) -> None:
    if total > shown:
        say(f"Showing {offset + 1}–{offset + shown} of {total:,}; use --offset/--limit for more.")


def error_lines(exc: UnitraceError) -> list[str]:
    """``Error: <message>`` then one line per field problem in ``details``."""
    lines = [f"Error: {exc.message}"]
    details = exc.details
    if isinstance(details, dict):
        details = [{"field": key, "message": value} for key, value in details.items()]
    if isinstance(details, list | tuple):
        for item in details:
            if isinstance(item, dict) and "message" in item:
                field = item.get("field")
                lines.append(f"  {field}: {item['message']}" if field else f"  {item['message']}")
            else:
                lines.append(f"  {item}")
    elif details is not None:
        lines.append(f"  {details}")
    return lines


def report_error(exc: UnitraceError) -> None:
    for line in error_lines(exc):
        typer.echo(line, err=True)


def fail(message: str) -> typer.Exit:
    """Print ``Error: message`` on stderr; ``raise fail(...)`` exits with status 1."""
    typer.echo(f"Error: {message}", err=True)
    return typer.Exit(1)


_PASSWORD_IN_URL = re.compile(r"(?<=://)([^:/@]+):([^@]*)@")


def redact_url(url: str) -> str:
    """A database URL safe to print: the password, if any, becomes ``***``."""
    return _PASSWORD_IN_URL.sub(r"\1:***@", url)
