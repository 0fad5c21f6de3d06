"""Options shared by several commands, and parsers for values typer does not know."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Annotated

import typer

OrgOption = Annotated[
    str,
    typer.Option(
        "--org",
        envvar="UNITRACE_ORG",
        show_envvar=True,
        metavar="NAME",
        help="Organization to act for, by name (any case).",
    ),
]
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print one JSON document on stdout instead of a table.")
]
LimitOption = Annotated[int, typer.Option(min=1, max=500, help="Rows per page.")]
OffsetOption = Annotated[int, typer.Option(min=0, help="Rows to skip.")]


def parse_date(text: str) -> dt.date:
    """``YYYY-MM-DD``."""
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date; use YYYY-MM-DD") from None


def parse_decimal(text: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise typer.BadParameter(f"{text!r} is not a number") from None
    if not value.is_finite():
        raise typer.BadParameter(f"{text!r} is not a number")
    return value


def parse_pair(text: str, *, option: str) -> tuple[str, str]:
    """``name=value`` (as in ``--terpene myrcene=0.8``)."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip() or not value.strip():
        raise typer.BadParameter(f"{text!r} is not NAME=VALUE", param_hint=option)
    return name.strip(), value.strip()


SinceOption = Annotated[
    str | None, typer.Option(help="From this time (ISO 8601; UTC when no zone).")
]
UntilOption = Annotated[str | None, typer.Option(help="Until this time, exclusive.")]


def moment(text: str | None, name: str) -> dt.datetime | None:
    """A ``--since``/``--until`` value as an aware time (UTC when it names no zone)."""
    if text is None:
        return None
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not an ISO 8601 date or time", param_hint=name
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
