"""``unitrace webhooks``: HTTPS endpoints notified of supply-chain events."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

import typer

from unitrace.cli.context import acting_for, runtime
from unitrace.cli.options import JsonOption, OrgOption
from unitrace.cli.output import print_json, print_table, say, stderr_console, to_jsonable
from unitrace.domain.webhooks import Webhook
from unitrace.services import webhooks

app = typer.Typer(help="Webhook subscriptions and their deliveries.")
COLUMNS = ("ID", "URL", "Topics", "Active", "Description", "Created")


def _rows(items: Sequence[Webhook]) -> list[tuple[object, ...]]:
    return [
        (w.id, w.url, ", ".join(w.topics), w.is_active, w.description, w.created_at) for w in items
    ]


@app.command("add")
def add(
    ctx: typer.Context,
    org: OrgOption,
    url: Annotated[str, typer.Argument(metavar="URL", help="The HTTPS endpoint to POST to.")],
    topic: Annotated[
        list[str],
        typer.Option("--topic", help="A topic to send (repeat for several; '*' for all)."),
    ],
    description: Annotated[str, typer.Option(help="What the endpoint is for.")] = "",
    as_json: JsonOption = False,
) -> None:
    """Subscribe an endpoint; its signing secret is printed once."""
    rt, principal = acting_for(ctx, org)
    new = webhooks.create_webhook(rt, principal, url=url, topics=topic, description=description)
    if as_json:
        print_json({**to_jsonable(new.webhook), "secret": new.secret})
        return
    print_table(COLUMNS, _rows([new.webhook]), title="Webhook added")
    say(new.secret)
    stderr_console().print(
        "[bold yellow]Store this secret now:[/] receivers verify signatures with it."
    )


@app.command("list")
def list_(ctx: typer.Context, org: OrgOption, as_json: JsonOption = False) -> None:
    """List an organization's webhooks (secrets are not shown)."""
    rt, principal = acting_for(ctx, org)
    found = webhooks.list_webhooks(rt, principal)
    if as_json:
        print_json(found)
    else:
        print_table(COLUMNS, _rows(found), title=f"Webhooks of {org}")


@app.command("remove")
def remove(
    ctx: typer.Context,
    org: OrgOption,
    webhook_id: Annotated[
        int, typer.Argument(metavar="ID", help="ID of the webhook (see webhooks list).")
    ],
) -> None:
    """Remove a webhook and its delivery history."""
    rt, principal = acting_for(ctx, org)
    webhooks.delete_webhook(rt, principal, webhook_id=webhook_id)
    say(f"Webhook {webhook_id} removed.")


@app.command("deliver")
def deliver(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="Most deliveries to send.")] = 100,
    as_json: JsonOption = False,
) -> None:
    """Send the deliveries that are due now, once each (``unitrace serve`` does this itself)."""
    stats = webhooks.deliver_due(runtime(ctx), limit=limit)
    if as_json:
        print_json(stats)
        return
    say(
        f"{stats.attempted} attempted: {stats.delivered} delivered, "
        f"{stats.retrying} to retry, {stats.failed} failed."
    )
