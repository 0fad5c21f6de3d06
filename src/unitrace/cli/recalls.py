"""``unitrace recalls``: define, preview and activate a recall; follow its reach; confirm,
release, destroy; close it."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from unitrace.cli.containers import read_scans
from unitrace.cli.context import acting_for
from unitrace.cli.options import JsonOption, LimitOption, OffsetOption, OrgOption, parse_date
from unitrace.cli.output import (
    code_column,
    print_fields,
    print_json,
    print_page_footer,
    print_table,
    say,
    write_csv,
)
from unitrace.domain.recalls import Scope
from unitrace.services import recalls
from unitrace.services.recalls import RecallDraft, RecallView, UnitsChanged

app = typer.Typer(help="Recalls: create, preview, activate; report, confirm, release, close.")
COLUMNS = ("ID", "Number", "Status", "Severity", "Title", "Issuer", "Units", "Activated")


class Status(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    CLOSED = "closed"


class Severity(StrEnum):
    I = "I"  # noqa: E741 - the recall class is called I
    II = "II"
    III = "III"


class Action(StrEnum):
    QUARANTINED = "quarantined"
    RETURNED = "returned"


RecallId = Annotated[int, typer.Argument(metavar="ID", help="Recall ID.")]
Codes = Annotated[
    list[str] | None, typer.Argument(metavar="[CODE...]", help="Unit codes (or scans).")
]
CodesFile = Annotated[
    str | None,
    typer.Option("--codes-file", metavar="FILE", help="One code per line ('-' reads stdin)."),
]


def _codes(codes: list[str] | None, codes_file: str | None) -> list[str]:
    return [*(codes or []), *(read_scans(codes_file, "--codes-file") if codes_file else [])]


def _show(view: RecallView, title: str) -> None:
    scope = view.scope
    print_fields(
        [
            ("ID", view.id),
            ("Number", view.number),
            ("Status", view.status.value),
            ("Severity", f"Class {view.severity}"),
            ("Title", view.title),
            ("Reason", view.reason),
            ("Issuer", f"{view.issuer_name} (org {view.organization_id})"),
            ("Batches", ", ".join(map(str, scope.get("batch_ids", ()))) or None),
            ("Products", ", ".join(map(str, scope.get("product_ids", ()))) or None),
            ("Produced from", scope.get("produced_from")),
            ("Produced to", scope.get("produced_to")),
            ("Cases and pallets", ", ".join(scope.get("container_codes", ())) or None),
            ("Unit codes", scope.get("unit_code_count") or None),
            ("Retailer instructions", view.retailer_instructions),
            ("Consumer instructions", view.consumer_instructions),
            ("Units", f"{view.unit_count:,}" if view.status != "draft" else None),
            ("Recalled", f"{view.recalled_count:,}" if view.status != "draft" else None),
            ("Created", f"{view.created_at:%Y-%m-%d %H:%M} by {view.created_by}"),
            ("Activated", view.activated_at),
            ("Closed", view.closed_at),
        ],
        title=title,
    )


def _output(view: RecallView, as_json: bool, title: str) -> None:
    if as_json:
        print_json(view)
    else:
        _show(view, title)


def _changed(done: UnitsChanged, what: str, as_json: bool) -> None:
    if as_json:
        print_json(done)
    else:
        say(f"{what} {done.units:,} unit(s).")


@app.command("create")
def create(
    ctx: typer.Context,
    org: OrgOption,
    title: Annotated[str, typer.Option(help="A short title, as holders will see it.")],
    reason: Annotated[str, typer.Option(help="Why the units are recalled.")],
    severity: Annotated[Severity, typer.Option(help="Class I (serious harm) to III.")],
    batch: Annotated[
        list[int] | None, typer.Option(metavar="ID", help="A whole batch (repeatable).")
    ] = None,
    product: Annotated[
        list[int] | None,
        typer.Option(metavar="ID", help="Every batch of a product (repeatable)."),
    ] = None,
    produced_from: Annotated[
        dt.date | None,
        typer.Option(parser=parse_date, metavar="YYYY-MM-DD", help="Batches produced from."),
    ] = None,
    produced_to: Annotated[
        dt.date | None,
        typer.Option(parser=parse_date, metavar="YYYY-MM-DD", help="Batches produced until."),
    ] = None,
    container: Annotated[
        list[str] | None,
        typer.Option(metavar="CODE", help="What a case or pallet holds (repeatable)."),
    ] = None,
    codes_file: CodesFile = None,
    retailer_instructions: Annotated[str, typer.Option(help="What holders must do.")] = "",
    consumer_instructions: Annotated[str, typer.Option(help="What consumers are told.")] = "",
    as_json: JsonOption = False,
) -> None:
    """Create a draft recall. Its scope is the union of the batches, products (within the
    production dates), cases and pallets, and codes given. Nothing changes until it is
    activated."""
    scope = Scope(
        batch_ids=tuple(batch or ()),
        product_ids=tuple(product or ()),
        produced_from=produced_from,
        produced_to=produced_to,
        container_codes=tuple(container or ()),
        unit_codes=tuple(_codes(None, codes_file)),
    )
    rt, principal = acting_for(ctx, org)
    draft = RecallDraft(
        title=title,
        reason=reason,
        severity=severity.value,
        scope=scope,
        retailer_instructions=retailer_instructions,
        consumer_instructions=consumer_instructions,
    )
    view = recalls.create_recall(rt, principal, draft)
    _output(view, as_json, f"Draft recall {view.number} created (ID {view.id})")


@app.command("list")
def list_(
    ctx: typer.Context,
    org: OrgOption,
    status: Annotated[Status | None, typer.Option(help="Only this status.")] = None,
    limit: LimitOption = 50,
    offset: OffsetOption = 0,
    as_json: JsonOption = False,
) -> None:
    """List the organization's recalls, newest first (a regulator: its whole market)."""
    rt, principal = acting_for(ctx, org)
    page = recalls.list_recalls(
        rt, principal, status=status.value if status else None, limit=limit, offset=offset
    )
    if as_json:
        print_json(page)
        return
    rows = [
        (v.id, v.number, v.status.value, v.severity, v.title, v.issuer_name,
         v.unit_count or None, v.activated_at)
        for v in page.items
    ]  # fmt: skip
    print_table(COLUMNS, rows, title=f"{page.total:,} recalls")
    print_page_footer(len(page.items), page.total, offset)


@app.command("show")
def show(
    ctx: typer.Context, recall_id: RecallId, org: OrgOption, as_json: JsonOption = False
) -> None:
    """Show a recall: its text, scope and status."""
    rt, principal = acting_for(ctx, org)
    view = recalls.get_recall(rt, principal, recall_id)
    _output(view, as_json, f"Recall {view.number}")


@app.command("preview")
def preview(
    ctx: typer.Context, recall_id: RecallId, org: OrgOption, as_json: JsonOption = False
) -> None:
    """How many units the recall covers, by disposition and by holder (live for a draft)."""
    rt, principal = acting_for(ctx, org)
    result = recalls.preview(rt, principal, recall_id)
    if as_json:
        print_json(result)
        return
    say(f"{result.total:,} unit(s) in scope; activating recalls {result.will_recall:,}.")
    print_table(("Disposition", "Units"), sorted(result.by_disposition.items()))
    print_table(
        ("Holder", "Location", "City", "Units"),
        [
            (c["organization_name"], c["location_name"], c["city"], c["units"])
            for c in result.by_custodian
        ],
    )


@app.command("activate")
def activate(
    ctx: typer.Context, recall_id: RecallId, org: OrgOption, as_json: JsonOption = False
) -> None:
    """Activate a draft: every unit in scope that can still be recalled becomes recalled,
    sales of them are refused, and holders are notified."""
    rt, principal = acting_for(ctx, org)
    done = recalls.activate(rt, principal, recall_id)
    if as_json:
        print_json(done)
        return
    say(
        f"Recall {done.recall.number} is active: {done.flagged:,} of {done.units:,} unit(s) "
        f"recalled; {done.holders_notified:,} holder(s) notified."
    )


@app.command("report")
def report(
    ctx: typer.Context,
    recall_id: RecallId,
    org: OrgOption,
    csv_file: Annotated[
        Path | None,
        typer.Option("--csv", metavar="FILE", help="Write every unit, with its category, here."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """The reach report: units per category and per holder, the sold ones, and the progress
    (share of unsold units secured). ``--csv FILE`` writes it unit by unit."""
    rt, principal = acting_for(ctx, org)
    if csv_file is not None:
        write_csv(csv_file, recalls.REPORT_COLUMNS, recalls.report_rows(rt, principal, recall_id))
        return
    data = recalls.report_json(recalls.report(rt, principal, recall_id))
    if as_json:
        print_json(data)
        return
    progress = data["progress"]
    say(
        f"{data['total']:,} unit(s); {progress['secured']:,} of {progress['to_secure']:,} "
        f"to secure are secured ({progress['share']:.0%})."
    )
    print_table(("Category", "Units"), list(data["counts"].items()))
    if data["holders"]:
        print_table(
            ("Holder", "Location", "City", "Units", "Of which"),
            [
                (h["organization_name"], h["location_name"], h["city"], h["total"],
                 ", ".join(f"{n} {c}" for c, n in h["counts"].items() if n))
                for h in data["holders"]
            ],
        )  # fmt: skip
    if data["sold"]:
        print_table(
            (code_column(), "Store", "City", "Sold"),
            [(s["code"], s["store"], s["city"], s["sold_at"]) for s in data["sold"]],
            title="Sold",
        )


@app.command("close")
def close(
    ctx: typer.Context, recall_id: RecallId, org: OrgOption, as_json: JsonOption = False
) -> None:
    """Close an active recall, keeping its final reach report."""
    rt, principal = acting_for(ctx, org)
    view = recalls.close(rt, principal, recall_id)
    _output(view, as_json, f"Recall {view.number} closed")


@app.command("release")
def release(
    ctx: typer.Context,
    recall_id: RecallId,
    org: OrgOption,
    reason: Annotated[str, typer.Option(help="Why these units were recalled by mistake.")],
    codes: Codes = None,
    codes_file: CodesFile = None,
    all_units: Annotated[
        bool, typer.Option("--all", help="Every unit the recall still holds recalled.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Release units a mistaken recall caught: each goes back to its disposition before."""
    named = _codes(codes, codes_file)
    if all_units == bool(named):
        raise typer.BadParameter("name codes, or use --all (not both)", param_hint="--all")
    rt, principal = acting_for(ctx, org)
    done = recalls.release(rt, principal, recall_id, reason=reason, codes=named or None)
    _changed(done, "Released", as_json)


@app.command("destroy")
def destroy(
    ctx: typer.Context,
    recall_id: RecallId,
    org: OrgOption,
    codes: Codes = None,
    codes_file: CodesFile = None,
    reason: Annotated[str, typer.Option(help="How they were destroyed.")] = "",
    as_json: JsonOption = False,
) -> None:
    """Destroy recalled units the organization holds (all of them when no code is named)."""
    named = _codes(codes, codes_file)
    rt, principal = acting_for(ctx, org)
    done = recalls.destroy(rt, principal, recall_id, codes=named or None, reason=reason)
    _changed(done, "Destroyed", as_json)


@app.command("confirm")
def confirm(
    ctx: typer.Context,
    org: OrgOption,
    action: Annotated[Action, typer.Option(help="What was done with the units.")],
    codes: Codes = None,
    codes_file: CodesFile = None,
    location: Annotated[
        int | None, typer.Option(metavar="ID", help="Where (one of your locations).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Confirm, by scanning, that recalled units you hold are quarantined or returned.
    All or nothing: a code that is not a recalled unit you hold refuses the lot."""
    named = _codes(codes, codes_file)
    if not named:
        raise typer.BadParameter("name at least one code", param_hint="CODE")
    rt, principal = acting_for(ctx, org)
    done = recalls.confirm(rt, principal, codes=named, action=action.value, location_id=location)
    _changed(done, f"Confirmed {action.value}:", as_json)


@app.command("held")
def held(
    ctx: typer.Context,
    org: OrgOption,
    recall_id: Annotated[
        int | None, typer.Argument(metavar="[ID]", help="List the codes of this recall.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """What the organization holds that is recalled: per recall and location, or the codes
    of one recall."""
    rt, principal = acting_for(ctx, org)
    if recall_id is not None:
        codes = recalls.held_codes(rt, principal, recall_id)
        if as_json:
            print_json(codes)
            return
        print_table(
            (code_column(), "Product", "Lot", "Location", "Confirmed"),
            [(c["code"], c["product"], c["lot_number"], c["location"], c["outcome"])
             for c in codes],
        )  # fmt: skip
        return
    items = recalls.held(rt, principal)
    if as_json:
        print_json(items)
        return
    print_table(
        ("ID", "Number", "Class", "Title", "Issuer", "Location", "Units", "Confirmed",
         "Instructions"),
        [(h.recall_id, h.number, h.severity, h.title, h.issuer_name, h.location_name, h.units,
          h.confirmed, h.retailer_instructions) for h in items],
        title=f"{len(items):,} recalled holding(s)",
    )  # fmt: skip
