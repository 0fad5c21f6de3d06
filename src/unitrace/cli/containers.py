"""``unitrace containers``: cases and pallets — create them, pack and unpack them."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Annotated

import typer

from unitrace.cli.context import acting_for
from unitrace.cli.options import JsonOption, LimitOption, OffsetOption, OrgOption
from unitrace.cli.output import (
    code_column,
    fail,
    print_fields,
    print_json,
    print_page_footer,
    print_table,
    say,
)
from unitrace.services.containers import (
    ContainerView,
    PackResult,
    create_containers,
    get_container,
    list_containers,
    pack,
    unpack,
)

app = typer.Typer(help="Cases and pallets: create them, pack units and containers into them.")
COLUMNS = (code_column(), "Kind", "SSCC", "Disposition", "Location", "Inside", "Units")


class ContainerKind(StrEnum):
    CASE = "case"
    PALLET = "pallet"


ContainerCode = Annotated[
    str, typer.Argument(metavar="CONTAINER", help="Code or SSCC of the case or pallet.")
]
FromFileOption = Annotated[
    str | None,
    typer.Option(
        "--from-file",
        metavar="FILE",
        help="Also read codes from FILE, one scan per line ('-' reads stdin).",
    ),
]


def read_scans(source: str, option: str) -> list[str]:
    """The lines of ``source`` (a path, or ``-`` for stdin) exactly as a scanner typed them.

    Line ends are split on ``\\n`` only, so a scanner's trailing ``\\r`` stays part of the
    scan (the services read it as whitespace); blank lines are skipped.
    """
    if source == "-":
        data = typer.get_binary_stream("stdin").read()
    else:
        try:
            with open(source, "rb") as handle:
                data = handle.read()
        except OSError as exc:
            raise typer.BadParameter(
                f"cannot read {source}: {exc.strerror}", param_hint=option
            ) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise typer.BadParameter(f"{source} is not UTF-8 text", param_hint=option) from None
    return [line for line in text.split("\n") if line.strip()]


def _rows(views: Sequence[ContainerView]) -> list[tuple[object, ...]]:
    return [
        (v.code, v.kind, v.sscc, v.disposition, v.location_id, v.parent_code, v.total_units)
        for v in views
    ]


def _show(view: ContainerView) -> None:
    shown = len(view.units)
    direct = ", ".join(view.units) + (" …" if shown == 500 else "")
    print_fields(
        [
            ("Code", view.code),
            ("Kind", view.kind),
            ("SSCC", view.sscc),
            ("Disposition", view.disposition),
            ("Location", view.location_id),
            ("Inside", view.parent_code),
            ("Containers inside", ", ".join(view.children)),
            ("Units inside", f"{view.total_units:,} (at any depth)"),
            ("Loose units", direct),
            ("Short URL", view.short_url),
        ],
        title=f"{view.kind.title()} {view.code}",
    )


def _packed(result: PackResult, verb: str, as_json: bool) -> None:
    if as_json:
        print_json(result)
        return
    for old in result.repacked_from:
        say(f"Taken out of {old} first (repacked).")
    say(f"{verb} {result.packed:,} item(s); {result.container} now holds {result.units:,} unit(s).")
    say(f"Event: {result.event_id}")


@app.command("create")
def create(
    ctx: typer.Context,
    org: OrgOption,
    kind: Annotated[ContainerKind, typer.Option(help="A case or a pallet.")],
    count: Annotated[int, typer.Option(min=1, help="How many to create.")] = 1,
    location: Annotated[
        int | None, typer.Option(metavar="ID", help="Location where they are.")
    ] = None,
    sscc: Annotated[
        str | None, typer.Option(metavar="SSCC", help="GS1 SSCC (18 digits) of one container.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Create empty cases or pallets, each with its own code."""
    rt, principal = acting_for(ctx, org)
    views = create_containers(
        rt, principal, kind=kind.value, count=count, location_id=location, sscc=sscc
    )
    if as_json:
        print_json(views)
        return
    print_table(COLUMNS, _rows(views), title=f"{len(views):,} {kind.value}(s) created")


@app.command("list")
def list_(
    ctx: typer.Context,
    org: OrgOption,
    kind: Annotated[ContainerKind | None, typer.Option(help="Only cases or pallets.")] = None,
    top_level: Annotated[
        bool, typer.Option("--top-level", help="Only containers not inside another.")
    ] = False,
    limit: LimitOption = 50,
    offset: OffsetOption = 0,
    as_json: JsonOption = False,
) -> None:
    """List the cases and pallets the organization holds."""
    rt, principal = acting_for(ctx, org)
    page = list_containers(
        rt,
        principal,
        kind=kind.value if kind else None,
        top_level_only=top_level,
        limit=limit,
        offset=offset,
    )
    if as_json:
        print_json(page)
        return
    print_table(COLUMNS, _rows(page.items), title=f"{page.total:,} containers")
    print_page_footer(len(page.items), page.total, offset)


@app.command("show")
def show(
    ctx: typer.Context, container: ContainerCode, org: OrgOption, as_json: JsonOption = False
) -> None:
    """Show a case or pallet and what is inside it."""
    rt, principal = acting_for(ctx, org)
    view = get_container(rt, principal, container)
    if as_json:
        print_json(view)
    else:
        _show(view)


@app.command("pack")
def pack_(
    ctx: typer.Context,
    container: ContainerCode,
    org: OrgOption,
    items: Annotated[
        list[str] | None,
        typer.Argument(metavar="ITEM...", help="Units, cases or pallets to put inside."),
    ] = None,
    from_file: FromFileOption = None,
    as_json: JsonOption = False,
) -> None:
    """Put units and containers into a case or pallet (repacking them if already packed)."""
    named = [*(items or []), *(read_scans(from_file, "--from-file") if from_file else [])]
    if not named:
        raise fail("name at least one item to pack (or give --from-file)")
    rt, principal = acting_for(ctx, org)
    _packed(pack(rt, principal, container=container, items=named), "Packed", as_json)


@app.command("unpack")
def unpack_(
    ctx: typer.Context,
    container: ContainerCode,
    org: OrgOption,
    items: Annotated[
        list[str] | None,
        typer.Argument(metavar="[ITEM...]", help="Items to take out; none: everything inside."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Take items (or everything directly inside) out of a case or pallet."""
    rt, principal = acting_for(ctx, org)
    _packed(unpack(rt, principal, container=container, items=items or None), "Unpacked", as_json)
