"""``unitrace orgs``: licensed businesses (an installation-operator task)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

import typer

from unitrace.cli.context import runtime
from unitrace.cli.options import JsonOption
from unitrace.cli.output import print_json, print_table
from unitrace.domain.model import Organization, OrganizationKind
from unitrace.services.organizations import (
    OrganizationDraft,
    create_organization,
    list_organizations,
)

app = typer.Typer(help="Organizations: brands, distributors, retailers, labs, regulators.")
COLUMNS = ("ID", "Name", "Kind", "License", "Market", "GS1 prefix")


def _rows(orgs: Sequence[Organization]) -> list[tuple[object, ...]]:
    return [(o.id, o.name, o.kind, o.license_number, o.market, o.gs1_company_prefix) for o in orgs]


@app.command("create")
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Option(help="Legal or trading name (unique).")],
    kind: Annotated[OrganizationKind, typer.Option(help="Kind of license.")],
    license_number: Annotated[str, typer.Option("--license", help="License number.")],
    market: Annotated[str, typer.Option(help="Market: state or jurisdiction, e.g. CA.")],
    gs1_prefix: Annotated[
        str | None, typer.Option(help="GS1 company prefix (6–12 digits), if it has one.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Register an organization."""
    draft = OrganizationDraft(name, kind, license_number, market, gs1_prefix)
    org = create_organization(runtime(ctx), draft)
    if as_json:
        print_json(org)
    else:
        print_table(COLUMNS, _rows([org]), title="Organization created")


@app.command("list")
def list_(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """List every organization of this installation."""
    orgs = list_organizations(runtime(ctx))
    if as_json:
        print_json(orgs)
    else:
        print_table(COLUMNS, _rows(orgs), title=f"{len(orgs)} organizations")
