"""``unitrace locations``: facilities, warehouses and stores of an organization."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

import typer

from unitrace.cli.context import acting_for
from unitrace.cli.options import JsonOption, OrgOption
from unitrace.cli.output import print_json, print_table
from unitrace.domain.model import Location, LocationKind
from unitrace.services.organizations import LocationDraft, create_location, list_locations

app = typer.Typer(help="Locations (facilities, warehouses, stores) of an organization.")
COLUMNS = ("ID", "Name", "Kind", "City", "Address", "GLN")


def _rows(locations: Sequence[Location]) -> list[tuple[object, ...]]:
    return [(x.id, x.name, x.kind, x.city, x.address, x.gln) for x in locations]


@app.command("create")
def create(
    ctx: typer.Context,
    org: OrgOption,
    name: Annotated[str, typer.Option(help="Name, unique in the organization.")],
    kind: Annotated[LocationKind, typer.Option(help="Kind of location.")],
    city: Annotated[str, typer.Option(help="City.")] = "",
    address: Annotated[str, typer.Option(help="Street address.")] = "",
    gln: Annotated[str | None, typer.Option(help="GS1 Global Location Number (13 digits).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Add a location to an organization."""
    rt, principal = acting_for(ctx, org)
    location = create_location(rt, principal, LocationDraft(name, kind, address, city, gln))
    if as_json:
        print_json(location)
    else:
        print_table(COLUMNS, _rows([location]), title="Location created")


@app.command("list")
def list_(ctx: typer.Context, org: OrgOption, as_json: JsonOption = False) -> None:
    """List an organization's locations."""
    rt, principal = acting_for(ctx, org)
    locations = list_locations(rt, principal)
    if as_json:
        print_json(locations)
    else:
        print_table(COLUMNS, _rows(locations), title=f"Locations of {org}")
