"""``unitrace units``: serialized units — commissioning in bulk, lookup, listing, moving
between your locations."""

from __future__ import annotations

import csv
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from unitrace.cli.context import acting_for
from unitrace.cli.options import JsonOption, LimitOption, OffsetOption, OrgOption
from unitrace.cli.output import (
    code_column,
    print_fields,
    print_json,
    print_page_footer,
    print_table,
    say,
    stderr_console,
    to_jsonable,
)
from unitrace.domain.gs1 import short_link
from unitrace.domain.model import Commissioning, Disposition, Principal, UnitView
from unitrace.services.relocation import relocate
from unitrace.services.runtime import Runtime
from unitrace.services.serialization import commission_units, iter_commissioned_codes
from unitrace.services.units import get_unit, list_units

app = typer.Typer(help="Serialized units: commission codes in bulk, look them up.")
COLUMNS = (code_column(), "Product", "Lot", "Disposition", "Location")

ProgressCallback = Callable[[int, int], None]


@contextmanager
def _progress_bar(wanted: bool) -> Iterator[ProgressCallback | None]:
    """A progress bar on stderr, fed by the service; none when piped or with ``--json``."""
    err = stderr_console()
    if not (wanted and err.is_terminal):
        yield None
        return
    columns = (TextColumn("Commissioning"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err) as bar:
        task = bar.add_task("commission", total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def _write_codes(rt: Runtime, principal: Principal, event_id: str, path: Path) -> int:
    """Stream the codes of one commissioning to a ``code,short_url`` CSV file."""
    base = rt.settings.resolver_base_url
    written = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(("code", "short_url"))
        for code in iter_commissioned_codes(rt, principal, event_id=event_id):
            writer.writerow((code, short_link(base, code)))
            written += 1
    return written


def _report(result: Commissioning, seconds: float) -> None:
    if result.replayed:
        say(
            f"Already done: this idempotency key created {result.quantity:,} units earlier; "
            "nothing new was created."
        )
    else:
        rate = result.quantity / seconds if seconds > 0 else float(result.quantity)
        say(
            f"Commissioned {result.quantity:,} units of lot {result.lot_number} "
            f"(batch {result.batch_id}) in {seconds:.1f} s ({rate:,.0f} units/s)."
        )
    say(f"Event: {result.event_id}")


@app.command("commission")
def commission(
    ctx: typer.Context,
    org: OrgOption,
    batch: Annotated[int, typer.Option(metavar="ID", help="Batch ID (must have passed testing).")],
    count: Annotated[int, typer.Option(min=1, help="Number of units to create.")],
    location: Annotated[
        int | None, typer.Option(metavar="ID", help="Location where they are commissioned.")
    ] = None,
    idempotency_key: Annotated[
        str | None, typer.Option(metavar="KEY", help="Retry-safe: the same key never runs twice.")
    ] = None,
    codes_out: Annotated[
        Path | None, typer.Option(dir_okay=False, help="Also write code,short_url to this CSV.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Create COUNT units of a batch, each with its own random code, in one transaction."""
    if codes_out is not None and not codes_out.parent.is_dir():
        # Checked first: failing after the units exist would leave them without a code list.
        raise typer.BadParameter(f"{codes_out.parent} is not a directory", param_hint="--codes-out")
    rt, principal = acting_for(ctx, org)
    started = time.perf_counter()
    with _progress_bar(not as_json) as progress:
        result = commission_units(
            rt,
            principal,
            batch_id=batch,
            quantity=count,
            location_id=location,
            idempotency_key=idempotency_key,
            progress=progress,
        )
    seconds = time.perf_counter() - started
    written = _write_codes(rt, principal, result.event_id, codes_out) if codes_out else 0
    if as_json:
        print_json(result)
        return
    _report(result, seconds)
    if codes_out:
        say(f"Wrote {written:,} codes to {codes_out}.")


def unit_json(view: UnitView) -> dict[str, Any]:
    """A unit as one flat JSON object (the unit's fields plus the names to read it)."""
    flat: dict[str, Any] = to_jsonable(view.unit)
    extra = {
        "product_name": view.product_name,
        "gtin": view.gtin,
        "lot_number": view.lot_number,
        "location_name": view.location_name,
        "short_url": view.short_url,
        "digital_link": view.digital_link,
    }
    return flat | extra


def _rows(views: Sequence[UnitView]) -> list[tuple[object, ...]]:
    return [
        (v.unit.code, v.product_name, v.lot_number, v.unit.disposition, v.location_name)
        for v in views
    ]


def _show(view: UnitView) -> None:
    unit = view.unit
    print_fields(
        [
            ("Code", unit.code),
            ("Disposition", unit.disposition),
            ("Product", f"{view.product_name} (ID {unit.product_id})"),
            ("Lot", f"{view.lot_number} (batch {unit.batch_id})"),
            ("GTIN", view.gtin),
            ("Printed serial", unit.external_serial),
            ("Location", view.location_name),
            ("Short URL", view.short_url),
            ("Digital Link", view.digital_link),
            ("Commissioned", unit.commissioned_at),
            ("Updated", unit.updated_at),
        ],
        title=f"Unit {unit.code}",
    )


@app.command("show")
def show(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(help="Unit code as printed or scanned (any case).")],
    org: OrgOption,
    as_json: JsonOption = False,
) -> None:
    """Show one unit by its code."""
    rt, principal = acting_for(ctx, org)
    view = get_unit(rt, principal, code)
    if as_json:
        print_json(unit_json(view))
        return
    _show(view)


@app.command("list")
def list_(
    ctx: typer.Context,
    org: OrgOption,
    batch: Annotated[int | None, typer.Option(metavar="ID", help="Only this batch.")] = None,
    product: Annotated[int | None, typer.Option(metavar="ID", help="Only this product.")] = None,
    disposition: Annotated[Disposition | None, typer.Option(help="Only this disposition.")] = None,
    event: Annotated[
        str | None, typer.Option(metavar="EVENT_ID", help="Only units of this commissioning.")
    ] = None,
    limit: LimitOption = 50,
    offset: OffsetOption = 0,
    as_json: JsonOption = False,
) -> None:
    """List the units the organization owns or holds."""
    rt, principal = acting_for(ctx, org)
    page = list_units(
        rt,
        principal,
        limit=limit,
        offset=offset,
        batch_id=batch,
        product_id=product,
        disposition=disposition,
        event_id=event,
    )
    if as_json:
        items = [unit_json(v) for v in page.items]
        print_json({"items": items, "total": page.total, "limit": limit, "offset": offset})
        return
    print_table(COLUMNS, _rows(page.items), title=f"{page.total:,} units")
    print_page_footer(len(page.items), page.total, offset)


@app.command("relocate")
def relocate_(
    ctx: typer.Context,
    codes: Annotated[
        list[str],
        typer.Argument(metavar="CODE...", help="Units, or cases and pallets (all units inside)."),
    ],
    location: Annotated[
        int, typer.Option(metavar="ID", help="The location of yours the units are now at.")
    ],
    org: OrgOption,
    reason: Annotated[
        str, typer.Option(help="Why (kept with the event, up to 500 characters).")
    ] = "",
    as_json: JsonOption = False,
) -> None:
    """Move units you hold to another of your locations (e.g. between your stores), their
    disposition unchanged. All or nothing: every refused unit is listed with its reason."""
    rt, principal = acting_for(ctx, org)
    result = relocate(rt, principal, codes=codes, location_id=location, reason=reason)
    if as_json:
        print_json(result)
        return
    say(f"{result.units:,} unit(s) now at {result.location_name} (ID {result.location_id}).")
    say(f"Event: {result.event_id}")
