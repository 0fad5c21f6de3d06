"""``unitrace db``: the database schema (Alembic migrations)."""

from __future__ import annotations

import typer

from unitrace.cli.context import runtime, state
from unitrace.cli.output import redact_url, say
from unitrace.services.runtime import database_status, upgrade_database

app = typer.Typer(help="Create or migrate the database schema.", no_args_is_help=True)


@app.command("upgrade")
def upgrade(ctx: typer.Context) -> None:
    """Migrate the database to the latest schema (safe to run again)."""
    say(f"Database: {redact_url(state(ctx).settings.database_url)}")
    before, after = upgrade_database(runtime(ctx, require_schema=False))
    if before == after:
        say(f"Already at the latest revision ({after}); nothing to do.")
    else:
        say(f"Upgraded: {before or '(empty database)'} → {after}")


@app.command("status")
def status(ctx: typer.Context) -> None:
    """Show the database's schema revision and whether it needs an upgrade."""
    current, head = database_status(runtime(ctx, require_schema=False))
    say(f"Database: {redact_url(state(ctx).settings.database_url)}")
    say(f"Current revision: {current or '(empty database)'}")
    say(f"Latest revision:  {head}")
    if current == head:
        say("Up to date.")
    else:
        say("Needs an upgrade: run `unitrace db upgrade`.")
