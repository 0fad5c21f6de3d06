"""``unitrace shipments``: drafts, shipping, voiding; scanning and receiving with a
discrepancy report."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from enum import StrEnum
from typing import Annotated

import typer

from unitrace.cli.containers import read_scans
from unitrace.cli.context import acting_for
from unitrace.cli.options import JsonOption, LimitOption, OffsetOption, OrgOption, parse_date
from unitrace.cli.output import (
    print_fields,
    print_json,
    print_page_footer,
    print_table,
    say,
)
from unitrace.services.shipments import (
    ReceiptReport,
    ShipmentView,
    add_items,
    cancel_shipment,
    create_shipment,
    get_shipment,
    list_shipments,
    receive,
    remove_items,
    scan,
    ship,
    undo_receipt,
    void_shipment,
)

app = typer.Typer(help="Shipments: create, ship, void; scan and receive them.")
COLUMNS = ("ID", "Number", "Status", "From", "To", "Location", "Units", "Shipped", "Received")
DISCREPANCY_EXIT = 3
_DISCREPANT_SCANS = ("unexpected", "unknown")


class ShipmentStatus(StrEnum):
    DRAFT = "draft"
    SHIPPED = "shipped"
    RECEIVED = "received"
    RECEIVED_WITH_DISCREPANCIES = "received_with_discrepancies"
    REJECTED = "rejected"
    VOIDED = "voided"
    CANCELLED = "cancelled"


ShipmentId = Annotated[int, typer.Argument(metavar="ID", help="Shipment ID.")]
Items = Annotated[
    list[str], typer.Argument(metavar="ITEM...", help="Unit, case or pallet codes (or scans).")
]


def _rows(views: Sequence[ShipmentView]) -> list[tuple[object, ...]]:
    return [
        (
            v.id,
            v.number,
            v.status,
            v.shipper_name,
            v.destination_name,
            v.destination_location_name,
            v.unit_count or None,
            v.shipped_at,
            v.received_at,
        )
        for v in views
    ]


def _show(view: ShipmentView, title: str) -> None:
    manifest = ", ".join(f"{n:,} {status}" for status, n in sorted(view.manifest.items()))
    print_fields(
        [
            ("ID", view.id),
            ("Number", view.number),
            ("Status", view.status),
            ("From", f"{view.shipper_name} (org {view.organization_id})"),
            ("From location", view.source_location_id),
            ("To", f"{view.destination_name} (org {view.destination_organization_id})"),
            (
                "To location",
                f"{view.destination_location_name} (ID {view.destination_location_id})",
            ),
            ("Expected arrival", view.expected_arrival),
            ("Notes", view.notes),
            ("Items", ", ".join(view.items)),
            ("Units", f"{view.unit_count:,}" if view.status != "draft" else None),
            ("Manifest", manifest),
            ("Created", view.created_at),
            ("Shipped", view.shipped_at),
            ("Received", view.received_at),
            ("Closed", view.closed_at),
        ],
        title=title,
    )


def _output(view: ShipmentView, as_json: bool, title: str) -> None:
    if as_json:
        print_json(view)
    else:
        _show(view, title)


@app.command("create")
def create(
    ctx: typer.Context,
    org: OrgOption,
    to: Annotated[int, typer.Option("--to", metavar="ORG_ID", help="Receiving organization.")],
    to_location: Annotated[
        int, typer.Option("--to-location", metavar="ID", help="The receiver's location.")
    ],
    items: Annotated[
        list[str] | None,
        typer.Argument(metavar="[ITEM...]", help="Units, cases or pallets to put on it."),
    ] = None,
    from_location: Annotated[
        int | None, typer.Option("--from-location", metavar="ID", help="Where it leaves from.")
    ] = None,
    expected_arrival: Annotated[
        dt.date | None,
        typer.Option(parser=parse_date, metavar="YYYY-MM-DD", help="Expected arrival date."),
    ] = None,
    notes: Annotated[str, typer.Option(help="Free text for the receiver.")] = "",
    as_json: JsonOption = False,
) -> None:
    """Create a draft shipment to another organization's location."""
    rt, principal = acting_for(ctx, org)
    view = create_shipment(
        rt,
        principal,
        destination_organization_id=to,
        destination_location_id=to_location,
        items=items or (),
        source_location_id=from_location,
        expected_arrival=expected_arrival,
        notes=notes,
    )
    _output(view, as_json, f"Draft shipment {view.number} created (ID {view.id})")


@app.command("add")
def add(
    ctx: typer.Context,
    shipment_id: ShipmentId,
    items: Items,
    org: OrgOption,
    as_json: JsonOption = False,
) -> None:
    """Put units, cases or pallets on a draft shipment."""
    rt, principal = acting_for(ctx, org)
    view = add_items(rt, principal, shipment_id, items)
    _output(view, as_json, f"Shipment {view.number}")


@app.command("remove")
def remove(
    ctx: typer.Context,
    shipment_id: ShipmentId,
    items: Items,
    org: OrgOption,
    as_json: JsonOption = False,
) -> None:
    """Take items off a draft shipment."""
    rt, principal = acting_for(ctx, org)
    view = remove_items(rt, principal, shipment_id, items)
    _output(view, as_json, f"Shipment {view.number}")


@app.command("ship")
def ship_(
    ctx: typer.Context,
    shipment_id: ShipmentId,
    org: OrgOption,
    idempotency_key: Annotated[
        str | None, typer.Option(metavar="KEY", help="Retry-safe: the same key never runs twice.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Ship a draft: everything on it, at any depth, goes in transit."""
    rt, principal = acting_for(ctx, org)
    view = ship(rt, principal, shipment_id, idempotency_key=idempotency_key)
    if as_json:
        print_json(view)
        return
    say(f"Shipped {view.number} to {view.destination_name}: {view.unit_count:,} unit(s).")


@app.command("void")
def void(
    ctx: typer.Context,
    shipment_id: ShipmentId,
    org: OrgOption,
    reason: Annotated[str, typer.Option(help="Why it is called back (kept with the event).")] = "",
    as_json: JsonOption = False,
) -> None:
    """Call back what the receiver has not received: it returns to the shipper's stock."""
    rt, principal = acting_for(ctx, org)
    view = void_shipment(rt, principal, shipment_id, reason=reason)
    if as_json:
        print_json(view)
        return
    back = view.manifest.get("voided", 0)
    say(f"Voided {view.number}: {back:,} unit(s) back in stock; status {view.status}.")


@app.command("undo-receipt")
def undo(
    ctx: typer.Context,
    shipment_id: ShipmentId,
    org: OrgOption,
    reason: Annotated[
        str, typer.Option(help="Why the receipt was wrong (kept with the event).")
    ] = "",
    as_json: JsonOption = False,
) -> None:
    """Take back a receipt made by mistake: the units go back in transit (receiver only)."""
    rt, principal = acting_for(ctx, org)
    view = undo_receipt(rt, principal, shipment_id, reason=reason)
    if as_json:
        print_json(view)
        return
    say(f"Receipt of {view.number} undone: {view.unit_count:,} unit(s) back in transit.")


@app.command("cancel")
def cancel(
    ctx: typer.Context, shipment_id: ShipmentId, org: OrgOption, as_json: JsonOption = False
) -> None:
    """Cancel a draft shipment (nothing was shipped, so nothing is recorded)."""
    rt, principal = acting_for(ctx, org)
    view = cancel_shipment(rt, principal, shipment_id)
    if as_json:
        print_json(view)
        return
    say(f"Cancelled draft shipment {view.number}.")


@app.command("list")
def list_(
    ctx: typer.Context,
    org: OrgOption,
    incoming: Annotated[
        bool, typer.Option("--incoming", help="Only shipments to this organization.")
    ] = False,
    outgoing: Annotated[
        bool, typer.Option("--outgoing", help="Only shipments from this organization.")
    ] = False,
    status: Annotated[ShipmentStatus | None, typer.Option(help="Only this status.")] = None,
    limit: LimitOption = 50,
    offset: OffsetOption = 0,
    as_json: JsonOption = False,
) -> None:
    """List the shipments the organization sends or receives, newest first."""
    if incoming and outgoing:
        raise typer.BadParameter("use --incoming or --outgoing, not both", param_hint="--incoming")
    direction = "incoming" if incoming else "outgoing" if outgoing else "all"
    rt, principal = acting_for(ctx, org)
    page = list_shipments(
        rt,
        principal,
        direction=direction,
        status=status.value if status else None,
        limit=limit,
        offset=offset,
    )
    if as_json:
        print_json(page)
        return
    print_table(COLUMNS, _rows(page.items), title=f"{page.total:,} shipments")
    print_page_footer(len(page.items), page.total, offset)


@app.command("show")
def show(
    ctx: typer.Context, shipment_id: ShipmentId, org: OrgOption, as_json: JsonOption = False
) -> None:
    """Show a shipment: parties, items, and its manifest by status."""
    rt, principal = acting_for(ctx, org)
    view = get_shipment(rt, principal, shipment_id)
    _output(view, as_json, f"Shipment {view.number}")


def discrepant(report: ReceiptReport) -> bool:
    """Anything other than a clean receipt of everything shipped."""
    return report.status != "received"


def _list(label: str, total: int, codes: Sequence[str]) -> None:
    if not total:
        return
    more = f" (first {len(codes):,} shown)" if total > len(codes) else ""
    print_table((f"{label}: {total:,}{more}",), [(c,) for c in codes])


def _print_report(report: ReceiptReport) -> None:
    say(
        f"Shipment {report.number}: {report.status}. Received {report.received:,}, "
        f"missing {report.missing:,}, rejected {report.rejected:,}, "
        f"unexpected {len(report.unexpected):,}, unknown {len(report.unknown):,}."
    )
    _list("Missing", report.missing, report.missing_codes)
    _list("Rejected", report.rejected, report.rejected_codes)
    _list("Unexpected (not received)", len(report.unexpected), report.unexpected)
    _list("Already received", len(report.already_received), report.already_received)
    _list("Unknown", len(report.unknown), report.unknown)
    if report.event_id:
        say(f"Event: {report.event_id}")


@app.command("receive")
def receive_(
    ctx: typer.Context,
    shipment_id: ShipmentId,
    org: OrgOption,
    scans: Annotated[
        list[str] | None,
        typer.Argument(metavar="[SCAN...]", help="Scans of units, cases or pallets received."),
    ] = None,
    scans_file: Annotated[
        str | None,
        typer.Option(
            "--scans-file", metavar="FILE", help="One raw scan per line ('-' reads stdin)."
        ),
    ] = None,
    reject: Annotated[
        list[str] | None,
        typer.Option(
            metavar="CODE", help="Refuse this item: it stays with the shipper (repeatable)."
        ),
    ] = None,
    reject_shipment: Annotated[
        bool, typer.Option("--reject-shipment", help="Refuse the whole shipment.")
    ] = False,
    idempotency_key: Annotated[
        str | None, typer.Option(metavar="KEY", help="Retry-safe: the same key never runs twice.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Scan what arrived and complete the receipt; print the discrepancy report.

    Exits with status 3 on any discrepancy: missing, rejected, unexpected or unknown items.
    """
    if reject_shipment and reject:
        raise typer.BadParameter("--reject-shipment refuses everything; drop --reject")
    raw = [*(scans or []), *(read_scans(scans_file, "--scans-file") if scans_file else [])]
    rt, principal = acting_for(ctx, org)
    report = receive(
        rt,
        principal,
        shipment_id,
        scans=raw,
        decision="reject" if reject_shipment else "accept",
        reject=reject or (),
        idempotency_key=idempotency_key,
    )
    if as_json:
        print_json(report)
    else:
        _print_report(report)
    if discrepant(report):
        raise typer.Exit(DISCREPANCY_EXIT)


@app.command("scan")
def scan_(
    ctx: typer.Context,
    raw: Annotated[str, typer.Argument(metavar="RAW", help="The scan, as the scanner typed it.")],
    org: OrgOption,
    shipment: Annotated[
        int | None,
        typer.Option(metavar="ID", help="The shipment (default: the one carrying the item)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Record one receiving scan and say at once whether it is on the shipment.

    Exits with status 3 when the scan is unexpected or unknown.
    """
    rt, principal = acting_for(ctx, org)
    outcome = scan(rt, principal, raw, shipment_id=shipment)
    if as_json:
        print_json(outcome)
    else:
        what = f"{outcome.kind} {outcome.code}" if outcome.code else repr(outcome.raw)
        say(f"{outcome.result}: {what}: {outcome.message}")
        say(
            f"Shipment {outcome.shipment_id}: {outcome.scanned_units:,} of "
            f"{outcome.expected_units:,} unit(s) in transit scanned."
        )
    if outcome.result in _DISCREPANT_SCANS:
        raise typer.Exit(DISCREPANCY_EXIT)
