"""The root ``unitrace`` command: global options, settings, and the one error mapping."""

from __future__ import annotations

from typing import Annotated, Any

import pydantic
import typer
from typer.core import TyperGroup

from unitrace import __version__
from unitrace.cli import (
    apikeys,
    audit,
    batches,
    containers,
    db,
    demo,
    dispose,
    exports,
    imports,
    inventory,
    labels,
    locations,
    orgs,
    pos,
    products,
    recalls,
    reports,
    serve,
    shipments,
    support,
    units,
    users,
    webhooks,
)
from unitrace.cli.context import CliState
from unitrace.cli.output import fail, report_error
from unitrace.config import Settings
from unitrace.errors import UnitraceError


class UnitraceGroup(TyperGroup):
    """Maps every ``UnitraceError`` once: ``Error: …`` on stderr, exit status 1.

    With ``--debug`` the exception propagates instead, so its traceback is printed.
    """

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except UnitraceError as exc:
            if ctx.params.get("debug"):
                raise
            report_error(exc)
            raise typer.Exit(1) from None


app = typer.Typer(
    name="unitrace",
    cls=UnitraceGroup,
    no_args_is_help=True,
    add_completion=False,
    # Plain tracebacks under --debug; rich's would also print local variables like passwords.
    pretty_exceptions_enable=False,
    help="Unit-level serialization and track-and-trace (GS1 Digital Link, EPCIS 2.0).",
)
app.add_typer(db.app, name="db")
app.add_typer(demo.app, name="demo")
app.command("serve")(serve.serve)
app.add_typer(orgs.app, name="orgs")
app.add_typer(locations.app, name="locations")
app.add_typer(users.app, name="users")
app.add_typer(apikeys.app, name="apikeys")
app.add_typer(products.app, name="products")
app.add_typer(batches.app, name="batches")
app.add_typer(units.app, name="units")
app.add_typer(labels.app, name="labels")
app.add_typer(containers.app, name="containers")
app.add_typer(shipments.app, name="shipments")
app.add_typer(pos.app, name="pos")
app.add_typer(recalls.app, name="recalls")
app.add_typer(inventory.app, name="inventory")
app.add_typer(dispose.app, name="dispositions")
app.add_typer(audit.app, name="audit")
app.add_typer(webhooks.app, name="webhooks")
app.command("export")(exports.export)
app.add_typer(imports.app, name="import")
app.add_typer(support.alerts_app, name="alerts")
app.add_typer(support.reports_app, name="reports")
app.add_typer(reports.app, name="report")
reports.app.command("inventory-accuracy")(inventory.accuracy_report)
app.add_typer(support.scans_app, name="scans")


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"unitrace {__version__}")
        raise typer.Exit()


def _settings(database_url: str | None) -> Settings:
    try:
        return Settings(database_url=database_url) if database_url else Settings()
    except pydantic.ValidationError as exc:
        for problem in exc.errors():
            name = "UNITRACE_" + str(problem["loc"][0]).upper() if problem["loc"] else "settings"
            typer.echo(f"Error: {name}: {problem['msg']}", err=True)
        raise typer.Exit(1) from None


@app.callback()
def root(
    ctx: typer.Context,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            metavar="URL",
            help="Database to use (overrides UNITRACE_DATABASE_URL).",
        ),
    ] = None,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the traceback of an error instead of one line.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version."
        ),
    ] = False,
) -> None:
    """Unit-level serialization and track-and-trace (GS1 Digital Link, EPCIS 2.0).

    Settings come from UNITRACE_* environment variables (see docs/settings.md).
    """
    if database_url is not None and not database_url.strip():
        raise fail("--database-url is empty")
    cli_state = CliState(_settings(database_url))
    ctx.obj = cli_state
    ctx.call_on_close(cli_state.close)


def main() -> None:
    """Entry point of the ``unitrace`` console script."""
    app(prog_name="unitrace")
