"""``unitrace demo``: a small market to click through."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

import typer

from unitrace.cli.context import runtime
from unitrace.cli.output import print_table, say
from unitrace.services.demo import DemoLogin, load_demo

app = typer.Typer(help="Demo data.", no_args_is_help=True)


@app.command("load")
def load(
    ctx: typer.Context,
    if_empty: Annotated[
        bool,
        typer.Option(
            "--if-empty/--force",
            help="Load only into an empty database (default), or load regardless.",
        ),
    ] = True,
    units_per_batch: Annotated[
        int, typer.Option(min=1, help="Units to commission for each released demo batch.")
    ] = 2000,
) -> None:
    """Load demo organizations, users, products, batches and serialized units."""
    summary = load_demo(runtime(ctx), if_empty=if_empty, units_per_batch=units_per_batch)
    if not summary.loaded:
        say("The database already has data; demo not loaded.")
        return
    say(f"Demo data loaded: {summary.units:,} serialized units.")
    print_logins(summary.logins, summary.password)


def print_logins(logins: Sequence[DemoLogin], password: str) -> None:
    print_table(
        ("E-mail", "Organization", "Role"),
        ((login.email, login.organization, login.role) for login in logins),
        title=f"Demo logins (password: {password})",
    )
