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
    set_public_verification,
)

app = typer.Typer(help="Organizations: brands, distributors, retailers, labs, regulators.")
COLUMNS = ("ID", "Name", "Kind", "License", "Market", "GS1 prefix", "Public scans")


def _rows(orgs: Sequence[Organization]) -> list[tuple[object, ...]]:
    return [
        (
            o.id,
            o.name,
            o.kind,
            o.license_number,
            o.market,
            o.gs1_company_prefix,
            "answered" if o.public_verification else "private",
        )
        for o in orgs
    ]


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
    public: Annotated[
        bool,
        typer.Option(
            "--public/--private",
            help="Whether its units answer public scans (private: like unknown codes).",
        ),
    ] = True,
    as_json: JsonOption = False,
) -> None:
    """Register an organization."""
    draft = OrganizationDraft(name, kind, license_number, market, gs1_prefix, public)
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


@app.command("visibility")
def visibility(
    ctx: typer.Context,
    organization_id: Annotated[int, typer.Argument(help="The organization's id.")],
    public: Annotated[
        bool,
        typer.Option(
            "--public/--private",
            help="Answer public scans of its units, or answer them like unknown codes.",
        ),
    ],
    as_json: JsonOption = False,
) -> None:
    """Choose whether an organization's units answer public scans."""
    org = set_public_verification(runtime(ctx), organization_id, public)
    if as_json:
        print_json(org)
    else:
        print_table(COLUMNS, _rows([org]), title="Organization updated")
