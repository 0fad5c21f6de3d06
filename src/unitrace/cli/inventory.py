"""``unitrace inventory``: count a location's stock by scanning it, close the count to see
what is missing, unexpected or misplaced, resolve each difference; accuracy over time."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from unitrace.cli.containers import read_scans
from unitrace.cli.context import acting_for
from unitrace.cli.options import (
    JsonOption,
    LimitOption,
    OffsetOption,
    OrgOption,
    SinceOption,
    UntilOption,
    moment,
)
from unitrace.cli.output import (
    print_fields,
    print_json,
    print_page_footer,
    print_table,
    say,
    to_jsonable,
    write_csv,
)
from unitrace.services import inventory
from unitrace.services.inventory import CountDetail, CountView

app = typer.Typer(help="Inventory counts: start, scan, close, show, resolve; accuracy list.")
COLUMNS = ("ID", "Location", "Status", "Opened", "Closed", "Scanned", "Matched", "Missing",
           "Unexpected", "Wrong place", "Accuracy")  # fmt: skip


class Resolution(StrEnum):
    STOLEN = "stolen"
    LOST = "lost"
    RECEIVED = "received"
    FOUND = "found"
    MOVED_HERE = "moved_here"
    NOTED = "noted"


class Status(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


ACCURACY_COLUMNS = ("id", "location_id", "location_name", "closed_at", "scanned", "matched",
                    "missing", "unexpected", "wrong_location", "accuracy")  # fmt: skip
CountId = Annotated[int, typer.Argument(metavar="ID", help="Inventory count ID.")]


def _count(view: CountView) -> dict[str, Any]:
    return {**to_jsonable(view), "accuracy": view.accuracy}


def _detail(detail: CountDetail) -> dict[str, Any]:
    return {"count": _count(detail.count), "differences": to_jsonable(detail.differences)}


def _percent(view: CountView) -> str | None:
    return None if view.accuracy is None else f"{view.accuracy:.1%}"


def _show(detail: CountDetail, title: str) -> None:
    view = detail.count
    print_fields(
        [
            ("ID", view.id),
            ("Location", f"{view.location_name} (ID {view.location_id})"),
            ("Status", view.status),
            ("Note", view.note or None),
            ("Opened", f"{view.opened_at:%Y-%m-%d %H:%M} by {view.opened_by}"),
            ("Closed", f"{view.closed_at:%Y-%m-%d %H:%M} by {view.closed_by}"
             if view.closed_at else None),
            ("Scanned", f"{view.scanned:,}"),
            ("Matched", f"{view.matched:,}" if view.closed_at else None),
            ("Missing", f"{view.missing:,}" if view.closed_at else None),
            ("Unexpected", f"{view.unexpected:,}" if view.closed_at else None),
            ("Wrong location", f"{view.wrong_location:,}" if view.closed_at else None),
            ("Accuracy", _percent(view)),
            ("Resolved", f"{view.resolved:,} of {view.differences:,}" if view.closed_at else None),
            ("Count event", view.event_id),
        ],
        title=title,
    )  # fmt: skip
    if detail.differences:
        print_table(
            ("Code", "Difference", "Why", "Product", "Where", "Can be", "Resolved"),
            [
                (d.code, d.kind, d.message, d.product_name, d.location_name,
                 ", ".join(d.choices) or None, d.resolution)
                for d in detail.differences
            ],
            title="Differences",
        )  # fmt: skip


@app.command("start")
def start(
    ctx: typer.Context,
    org: OrgOption,
    location: Annotated[int, typer.Option(metavar="ID", help="The location counted.")],
    note: Annotated[str, typer.Option(help="A note kept with the count.")] = "",
    as_json: JsonOption = False,
) -> None:
    """Open a count of one of the organization's locations (normally a store)."""
    rt, principal = acting_for(ctx, org)
    view = inventory.start_count(rt, principal, location_id=location, note=note)
    if as_json:
        print_json(_count(view))
        return
    say(f"Inventory count {view.id} opened at {view.location_name}.")


@app.command("scan")
def scan(
    ctx: typer.Context,
    count_id: CountId,
    org: OrgOption,
    codes: Annotated[
        list[str] | None,
        typer.Argument(metavar="[SCAN...]", help="Scans, as the scanner sent them."),
    ] = None,
    codes_file: Annotated[
        str | None,
        typer.Option("--codes-file", metavar="FILE", help="One scan per line ('-' reads stdin)."),
    ] = None,
    area: Annotated[str, typer.Option(help="Where these were scanned (a shelf, a room).")] = "",
    as_json: JsonOption = False,
) -> None:
    """Add scans to an open count: unit codes, links, cases or pallets (each counts every
    unit in it). A unit scanned twice counts once; an unreadable scan adds nothing."""
    scans = [*(codes or []), *(read_scans(codes_file, "--codes-file") if codes_file else [])]
    if not scans:
        raise typer.BadParameter("give scans as arguments or with --codes-file")
    rt, principal = acting_for(ctx, org)
    batch = inventory.add_scans(rt, principal, count_id, scans=scans, area=area)
    if as_json:
        print_json(batch)
        return
    say(
        f"Added {batch.added:,} ({batch.repeated:,} already counted); "
        f"{batch.scanned:,} distinct code(s) in count {count_id}."
    )
    if batch.unknown:
        say(f"Unknown to you: {', '.join(batch.unknown)}")


@app.command("close")
def close(
    ctx: typer.Context, count_id: CountId, org: OrgOption, as_json: JsonOption = False
) -> None:
    """Close a count: its differences are worked out against the stock believed present
    now, and frozen."""
    rt, principal = acting_for(ctx, org)
    detail = inventory.close_count(rt, principal, count_id)
    if as_json:
        print_json(_detail(detail))
        return
    _show(detail, f"Inventory count {count_id} closed")


@app.command("show")
def show(
    ctx: typer.Context,
    count_id: CountId,
    org: OrgOption,
    csv_file: Annotated[
        Path | None,
        typer.Option("--csv", metavar="FILE", help="Write the differences here as CSV."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Show a count, its figures and its differences (``--csv FILE`` writes them)."""
    rt, principal = acting_for(ctx, org)
    if csv_file is not None:
        rows = inventory.difference_rows(rt, principal, count_id)
        write_csv(csv_file, inventory.DIFFERENCE_COLUMNS, rows)
        return
    detail = inventory.get_count(rt, principal, count_id)
    if as_json:
        print_json(_detail(detail))
        return
    _show(detail, f"Inventory count {count_id}")


@app.command("resolve")
def resolve(
    ctx: typer.Context,
    count_id: CountId,
    code: Annotated[str, typer.Argument(metavar="CODE", help="The difference's unit code.")],
    resolution: Annotated[Resolution, typer.Argument(help="What to do about it.")],
    org: OrgOption,
    note: Annotated[str, typer.Option(help="Why (required for noted).")] = "",
    as_json: JsonOption = False,
) -> None:
    """Resolve a difference once: stolen or lost (report a missing unit stolen, mark it
    lost), found (a missing unit was there; a unit marked lost is back on sale), received
    (receive a unit in transit to you), moved_here (a unit believed at another of your
    locations is here now), or noted (with --note)."""
    rt, principal = acting_for(ctx, org)
    done = inventory.resolve(
        rt, principal, count_id, code=code, resolution=resolution.value, note=note
    )
    if as_json:
        print_json(done)
        return
    codes = ", ".join(d.code for d in done.differences)
    again = " (already so: nothing done twice)" if done.replayed else ""
    event = f"; event {done.event_id}" if done.event_id else ""
    say(f"Resolved {codes} as {done.resolution}{again}{event}.")


@app.command("list")
def list_(
    ctx: typer.Context,
    org: OrgOption,
    location: Annotated[int | None, typer.Option(metavar="ID", help="Only this location.")] = None,
    status: Annotated[Status | None, typer.Option(help="Only this status.")] = None,
    since: SinceOption = None,
    until: UntilOption = None,
    limit: LimitOption = 50,
    offset: OffsetOption = 0,
    as_json: JsonOption = False,
) -> None:
    """List counts, newest first, with their accuracy once closed; --since/--until select
    the counts closed in that window (the accuracy over time)."""
    rt, principal = acting_for(ctx, org)
    page = inventory.list_counts(
        rt, principal, location_id=location, status=status.value if status else None,
        since=moment(since, "--since"), until=moment(until, "--until"), limit=limit,
        offset=offset,
    )  # fmt: skip
    if as_json:
        print_json({**to_jsonable(page), "items": [_count(v) for v in page.items]})
        return
    rows = [
        (v.id, v.location_name, v.status, v.opened_at, v.closed_at, v.scanned,
         v.matched if v.closed_at else None, v.missing if v.closed_at else None,
         v.unexpected if v.closed_at else None, v.wrong_location if v.closed_at else None,
         _percent(v))
        for v in page.items
    ]  # fmt: skip
    print_table(COLUMNS, rows, title=f"{page.total:,} inventory counts")
    print_page_footer(len(page.items), page.total, offset)


def accuracy_report(
    ctx: typer.Context,
    org: OrgOption,
    location: Annotated[int | None, typer.Option(metavar="ID", help="Only this location.")] = None,
    since: SinceOption = None,
    until: UntilOption = None,
    csv_file: Annotated[
        Path | None, typer.Option("--csv", metavar="FILE", help="Write the table here as CSV.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Inventory accuracy over time: the closed counts in the window (by when they closed),
    oldest first, with their figures and accuracy."""
    rt, principal = acting_for(ctx, org)
    views = inventory.accuracy_history(
        rt, principal, location_id=location, since=moment(since, "--since"),
        until=moment(until, "--until"),
    )  # fmt: skip
    records = [_count(v) for v in views]
    if csv_file is not None:
        write_csv(csv_file, ACCURACY_COLUMNS, records)
        return
    if as_json:
        print_json(records)
        return
    print_table(
        ("Count", "Location", "Closed", "Matched", "Missing", "Unexpected", "Wrong place",
         "Accuracy"),
        [(v.id, v.location_name, v.closed_at, v.matched, v.missing, v.unexpected,
          v.wrong_location, _percent(v)) for v in views],
        title=f"Inventory accuracy: {len(views)} closed count(s)",
    )  # fmt: skip
