"""``unitrace apikeys``: credentials for integrations (POS, ERP, label software)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

import typer

from unitrace.cli.context import acting_for
from unitrace.cli.options import JsonOption, OrgOption
from unitrace.cli.output import print_json, print_table, say, stderr_console, to_jsonable
from unitrace.domain.model import ApiKey, Role
from unitrace.services.access import create_api_key, list_api_keys, revoke_api_key

app = typer.Typer(help="API keys of an organization.")
COLUMNS = ("ID", "Name", "Prefix", "Role", "Created", "Last used", "Revoked")


def _rows(keys: Sequence[ApiKey]) -> list[tuple[object, ...]]:
    return [
        (k.id, k.name, k.prefix, k.role, k.created_at, k.last_used_at, k.revoked_at) for k in keys
    ]


@app.command("create")
def create(
    ctx: typer.Context,
    org: OrgOption,
    name: Annotated[str, typer.Option(help="What the key is for, e.g. 'POS integration'.")],
    role: Annotated[Role, typer.Option(help="What the key may do.")],
    as_json: JsonOption = False,
) -> None:
    """Issue an API key; its secret is printed once and cannot be shown again."""
    rt, principal = acting_for(ctx, org)
    new = create_api_key(rt, principal, name=name, role=role)
    if as_json:
        print_json({**to_jsonable(new.key), "secret": new.secret})
        return
    print_table(COLUMNS, _rows([new.key]), title="API key created")
    say(new.secret)
    stderr_console().print(
        "[bold yellow]Store this key now:[/] unitrace keeps only its hash and cannot show it again."
    )


@app.command("list")
def list_(ctx: typer.Context, org: OrgOption, as_json: JsonOption = False) -> None:
    """List an organization's API keys (prefixes only; secrets are never stored)."""
    rt, principal = acting_for(ctx, org)
    keys = list_api_keys(rt, principal)
    if as_json:
        print_json(keys)
    else:
        print_table(COLUMNS, _rows(keys), title=f"API keys of {org}")


@app.command("revoke")
def revoke(
    ctx: typer.Context,
    org: OrgOption,
    key_id: Annotated[int, typer.Argument(metavar="ID", help="ID of the key (see apikeys list).")],
) -> None:
    """Revoke an API key: requests using it are refused from now on."""
    rt, principal = acting_for(ctx, org)
    revoke_api_key(rt, principal, api_key_id=key_id)
    say(f"API key {key_id} revoked.")
