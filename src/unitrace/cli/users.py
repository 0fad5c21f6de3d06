"""``unitrace users``: people who log in to the web app."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

import typer

from unitrace.cli.context import acting_for
from unitrace.cli.options import JsonOption, OrgOption
from unitrace.cli.output import print_json, print_table
from unitrace.domain.model import Role, User
from unitrace.services.access import create_user, list_users

app = typer.Typer(help="Users of an organization (web logins).")
COLUMNS = ("ID", "E-mail", "Name", "Role", "Active", "Created")


def _rows(users: Sequence[User]) -> list[tuple[object, ...]]:
    return [(u.id, u.email, u.name, u.role, u.is_active, u.created_at) for u in users]


@app.command("create")
def create(
    ctx: typer.Context,
    org: OrgOption,
    email: Annotated[str, typer.Option(help="Login e-mail (unique).")],
    name: Annotated[str, typer.Option(help="Display name.")],
    role: Annotated[Role, typer.Option(help="What the user may do.")],
    password: Annotated[
        str,
        typer.Option(
            prompt=True,
            confirmation_prompt=True,
            hide_input=True,
            help="Password (at least 10 characters); asked for, unechoed, when omitted.",
        ),
    ],
    as_json: JsonOption = False,
) -> None:
    """Add a user to an organization."""
    rt, principal = acting_for(ctx, org)
    user = create_user(
        rt,
        principal,
        organization_id=principal.organization_id,
        email=email,
        name=name,
        password=password,
        role=role,
    )
    if as_json:
        print_json(user)
    else:
        print_table(COLUMNS, _rows([user]), title="User created")


@app.command("list")
def list_(ctx: typer.Context, org: OrgOption, as_json: JsonOption = False) -> None:
    """List an organization's users."""
    rt, principal = acting_for(ctx, org)
    users = list_users(rt, principal)
    if as_json:
        print_json(users)
    else:
        print_table(COLUMNS, _rows(users), title=f"Users of {org}")
