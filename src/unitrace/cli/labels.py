"""``unitrace labels``: print-ready label files, pre-flight scan checks, print jobs."""

from __future__ import annotations

import secrets
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, BinaryIO, cast

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from unitrace.cli.context import acting_for
from unitrace.cli.options import JsonOption, LimitOption, OffsetOption, OrgOption
from unitrace.cli.output import (
    code_column,
    fail,
    print_json,
    print_page_footer,
    print_table,
    say,
    stderr_console,
)
from unitrace.domain.labels import INCH, MM
from unitrace.domain.model import LabelFormat, PrintJob
from unitrace.services import container_labels, labels
from unitrace.services.labels import DEFAULT_LAYOUT, LabelOptions, LabelSelection

app = typer.Typer(help="Labels: PDF, ZPL, SVG and CSV files for printing, scan checks, print jobs.")

BatchOption = Annotated[
    int | None,
    typer.Option("--batch", metavar="ID", help="Every unit of this batch (or --first/--count)."),
]
FirstOption = Annotated[
    int | None,
    typer.Option(min=1, metavar="N", help="Start at the batch's N-th unit (1-based)."),
]
CountOption = Annotated[int | None, typer.Option(min=1, metavar="M", help="Label M units.")]
CodesOption = Annotated[
    Path | None,
    typer.Option("--codes", metavar="FILE", help="Unit codes, one per line ('-' reads stdin)."),
]
ContainerOption = Annotated[
    int | None, typer.Option("--container", metavar="ID", help="The units in this container.")
]
LayoutOption = Annotated[
    str, typer.Option(help="Sheet or roll layout (see `unitrace labels layouts`).")
]
DpiOption = Annotated[
    int | None,
    typer.Option(help="Printer resolution, 203, 300 or 600 (default: 203 for ZPL, else 300)."),
]
MarginLeftOption = Annotated[
    float | None, typer.Option(metavar="MM", help="Left page margin in mm (default: the layout's).")
]
MarginTopOption = Annotated[
    float | None, typer.Option(metavar="MM", help="Top page margin in mm (default: the layout's).")
]
CheckOption = Annotated[
    bool, typer.Option("--check", help="Decode every QR code first; print nothing if one fails.")
]
OutOption = Annotated[
    Path | None,
    typer.Option(
        "--out", dir_okay=False, help="File to write (default labels-LOT-jobN.EXT; '-' is stdout)."
    ),
]
ReprintOption = Annotated[
    int | None,
    typer.Option(metavar="JOB", help="Log this as a reprint of print job JOB (same codes)."),
]
ReasonOption = Annotated[str, typer.Option(help="Why the labels are reprinted.")]
Report = Callable[[str, int, int], None]


def _read_codes(path: Path) -> tuple[str, ...]:
    """One code per line; blank lines and ``#`` comments skipped; a ``code,…`` CSV's first
    column (so the file ``unitrace units commission --codes-out`` writes works as is)."""
    text = sys.stdin.read() if str(path) == "-" else _read_text(path)
    codes = [line.split(",", 1)[0].strip() for line in text.splitlines()]
    codes = [c for c in codes if c and not c.startswith("#")]
    if codes and codes[0].lower() == "code":
        codes = codes[1:]
    return tuple(codes)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise typer.BadParameter(
            f"cannot read {path}: {exc.strerror}", param_hint="--codes"
        ) from exc


def _selection(
    batch: int | None,
    first: int | None,
    count: int | None,
    codes: Path | None,
    container: int | None,
) -> LabelSelection:
    if sum(x is not None for x in (batch, codes, container)) != 1:
        raise fail("choose what to label: one of --batch ID, --codes FILE or --container ID")
    return LabelSelection(
        batch_id=batch,
        first=first,
        count=count,
        codes=_read_codes(codes) if codes is not None else None,
        container_id=container,
    )


def _mm(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(str(value))


@contextmanager
def _progress_bar() -> Iterator[Report | None]:
    """A bar per phase (checking, rendering) on stderr; none when stderr is not a terminal."""
    err = stderr_console()
    if not err.is_terminal:
        yield None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), console=err) as bar:
        tasks: dict[str, Any] = {}

        def update(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                name = "Checking" if phase == "check" else "Rendering"
                tasks[phase] = bar.add_task(name, total=total)
            bar.update(tasks[phase], completed=done, total=total)

        yield update


@contextmanager
def _sink(out: Path | None) -> Iterator[tuple[BinaryIO, Callable[[PrintJob], Path | None]]]:
    """Where the file goes: stdout; a device or pipe as it is (``/dev/usb/lp0``); else a
    temporary file renamed once the job is recorded, so a failed or refused job never
    leaves a partial file behind."""
    if out is not None and str(out) == "-":
        yield sys.stdout.buffer, lambda job: None
        return
    if out is not None and out.exists() and not out.is_file():
        with out.open("wb") as device:
            yield cast(BinaryIO, device), lambda job: out
        return
    folder = out.parent if out is not None else Path.cwd()
    if not folder.is_dir():
        raise typer.BadParameter(f"{folder} is not a directory", param_hint="--out")
    temporary = folder / f".labels-{secrets.token_hex(8)}.part"
    try:
        with temporary.open("xb") as stream:

            def finish(job: PrintJob) -> Path:
                stream.flush()
                target = out or folder / labels.filename_for(job)
                temporary.replace(target)
                return target

            yield cast(BinaryIO, stream), finish
    finally:
        temporary.unlink(missing_ok=True)


def _say_done(job: PrintJob, target: Path | None, seconds: float) -> None:
    rate = job.quantity / seconds if seconds > 0 else float(job.quantity)
    where = f" to {target}" if target else ""
    checked = " (scan-checked)" if job.check_status.value == "passed" else ""
    message = (
        f"Wrote {job.quantity:,} labels{checked} of lot {job.lot_number}{where} in "
        f"{seconds:.1f} s ({rate:,.0f} labels/s); print job {job.id}."
    )
    # With --out - the file is on stdout: the summary goes to stderr.
    typer.echo(message, err=target is None)


def _print_labels(ctx: typer.Context, fmt: LabelFormat, **args: Any) -> None:
    selection = _selection(
        args["batch"], args["first"], args["count"], args["codes"], args["container"]
    )
    options = LabelOptions(
        fmt=fmt,
        layout=args["layout"],
        dpi=args["dpi"],
        margin_left_mm=_mm(args["margin_left"]),
        margin_top_mm=_mm(args["margin_top"]),
        check=args["check"],
    )
    rt, principal = acting_for(ctx, args["org"])
    started = time.perf_counter()
    with _sink(args["out"]) as (stream, finish), _progress_bar() as progress:
        job = labels.render_labels(
            rt,
            principal,
            selection=selection,
            options=options,
            out=stream,
            progress=progress,
            reprint_of=args["reprint_of"],
            reason=args["reason"],
        )
        target = finish(job)
    _say_done(job, target, time.perf_counter() - started)


def _label_command(fmt: LabelFormat) -> Callable[..., None]:
    def command(
        ctx: typer.Context,
        org: OrgOption,
        batch: BatchOption = None,
        first: FirstOption = None,
        count: CountOption = None,
        codes: CodesOption = None,
        container: ContainerOption = None,
        layout: LayoutOption = DEFAULT_LAYOUT,
        dpi: DpiOption = None,
        margin_left: MarginLeftOption = None,
        margin_top: MarginTopOption = None,
        check: CheckOption = False,
        out: OutOption = None,
        reprint_of: ReprintOption = None,
        reason: ReasonOption = "",
    ) -> None:
        options = {k: v for k, v in locals().items() if k not in ("ctx", "fmt")}  # the options
        _print_labels(ctx, fmt, **options)

    return command


_HELP = {
    LabelFormat.PDF: "Write labels as a PDF of sheets or roll labels (QR codes as vector paths).",
    LabelFormat.ZPL: "Write labels as ZPL for Zebra printers (the printer draws each QR code).",
    LabelFormat.SVG_ZIP: "Write a ZIP holding one SVG label per unit, named CODE.svg.",
    LabelFormat.CSV: "Write a CSV merge file for BarTender, ZebraDesigner or NiceLabel.",
}
for _name, _fmt in (
    ("pdf", LabelFormat.PDF),
    ("zpl", LabelFormat.ZPL),
    ("svg", LabelFormat.SVG_ZIP),
    ("csv", LabelFormat.CSV),
):
    app.command(_name, help=_HELP[_fmt])(_label_command(_fmt))


CONTAINER_FORMATS = {"pdf": LabelFormat.PDF, "zpl": LabelFormat.ZPL, "svg": LabelFormat.SVG_ZIP}


@app.command("containers")
def containers(
    ctx: typer.Context,
    org: OrgOption,
    codes: Annotated[
        list[str], typer.Argument(metavar="CODE...", help="Cases or pallets: codes or SSCCs.")
    ],
    fmt: Annotated[
        str, typer.Option("--format", help="pdf, zpl, or svg (a ZIP of one SVG a label).")
    ] = "pdf",
    layout: Annotated[
        str, typer.Option(help="Layout (default roll-4x6, the 4 × 6 in shipping label).")
    ] = container_labels.DEFAULT_CONTAINER_LAYOUT,
    dpi: DpiOption = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", dir_okay=False, help="File to write (default containers-jobN.EXT)."
        ),
    ] = None,
) -> None:
    """Write case and pallet labels: QR code of the short URL or SSCC, code, kind, contents."""
    if fmt not in CONTAINER_FORMATS:
        raise typer.BadParameter("choose pdf, zpl or svg", param_hint="--format")
    rt, principal = acting_for(ctx, org)
    chosen = CONTAINER_FORMATS[fmt]
    with _sink(output) as (stream, _finish):
        job = container_labels.render_container_labels(
            rt, principal, codes, fmt=chosen, layout=layout, dpi=dpi, out=stream
        )
        target = _finish(job)
    if output is None and target is not None:
        target = target.replace(target.with_name(f"containers-job{job.id}.{chosen.extension}"))
    where = f" to {target}" if target else ""
    typer.echo(
        f"Wrote {job.quantity:,} case and pallet labels (scan-checked){where}; print job {job.id}.",
        err=target is None,
    )


@app.command("check")
def check(
    ctx: typer.Context,
    org: OrgOption,
    batch: BatchOption = None,
    first: FirstOption = None,
    count: CountOption = None,
    codes: CodesOption = None,
    container: ContainerOption = None,
    fmt: Annotated[
        str, typer.Option("--format", help="Check as printed from a PDF (pdf) or by a Zebra (zpl).")
    ] = "pdf",
    layout: LayoutOption = DEFAULT_LAYOUT,
    dpi: DpiOption = None,
    margin_left: MarginLeftOption = None,
    margin_top: MarginTopOption = None,
    as_json: JsonOption = False,
) -> None:
    """Decode every label's QR code at the printer's resolution; exit 1 if any fails."""
    if fmt not in ("pdf", "zpl"):
        raise typer.BadParameter("use pdf or zpl", param_hint="--format")
    selection = _selection(batch, first, count, codes, container)
    options = LabelOptions(LabelFormat(fmt), layout, dpi, _mm(margin_left), _mm(margin_top))
    rt, principal = acting_for(ctx, org)
    with _progress_bar() as progress:
        report = labels.check_labels(
            rt, principal, selection=selection, options=options, progress=progress
        )
    _show_report(report, as_json)
    if not report.ok:
        raise typer.Exit(1)


def _show_report(report: Any, as_json: bool) -> None:
    if as_json:
        print_json(
            {
                "ok": report.ok,
                **{k: getattr(report, k) for k in ("fmt", "dpi", "layout", "checked", "failures")},
            }
        )
        return
    where = f"{report.layout} at {report.dpi} dpi ({report.fmt})"
    if report.ok:
        say(f"All {report.checked:,} labels scan back to their payload on {where}.")
        return
    rows = [(f.code, f.reason, f.decoded) for f in report.failures]
    print_table((code_column(), "Problem", "Decoded as"), rows, title="Labels that fail")
    say(f"{len(report.failures):,} of {report.checked:,} labels fail on {where}.")


@app.command("layouts")
def layouts(as_json: JsonOption = False) -> None:
    """List the sheet and roll layouts (names for --layout)."""
    found = labels.list_layouts()
    if as_json:
        print_json([_layout_json(layout) for layout in found])
        return
    rows = [(x.name, x.kind, _size(x), x.per_page, x.description) for x in found]
    print_table(("Name", "Kind", "Label", "Per page", "Description"), rows)


def _short(value: float, places: int) -> str:
    return f"{value:.{places}f}".rstrip("0").rstrip(".")


def _size(layout: Any) -> str:
    """``2.625 × 1 in (66.7 × 25.4 mm)``."""
    w, h = layout.label_width, layout.label_height
    inches = f"{_short(w / INCH, 3)} × {_short(h / INCH, 3)} in"
    return f"{inches} ({_short(w / MM, 1)} × {_short(h / MM, 1)} mm)"


def _layout_json(layout: Any) -> dict[str, object]:
    size = {
        "label_width_mm": round(layout.label_width / MM, 1),
        "label_height_mm": round(layout.label_height / MM, 1),
    }
    fields = ("name", "description", "kind", "columns", "rows", "per_page")
    return {name: getattr(layout, name) for name in fields} | size


JOB_COLUMNS = (
    "ID",
    "When",
    "Lot",
    "Format",
    "Layout",
    "DPI",
    "Labels",
    "Check",
    "Reprint of",
    "By",
)


@app.command("jobs")
def jobs(
    ctx: typer.Context,
    org: OrgOption,
    batch: Annotated[int | None, typer.Option(metavar="ID", help="Only this batch.")] = None,
    code: Annotated[
        str | None, typer.Option(metavar="CODE", help="Only jobs that labelled this unit.")
    ] = None,
    limit: LimitOption = 50,
    offset: OffsetOption = 0,
    as_json: JsonOption = False,
) -> None:
    """List label downloads (print jobs), newest first."""
    rt, principal = acting_for(ctx, org)
    page = labels.list_print_jobs(
        rt, principal, limit=limit, offset=offset, batch_id=batch, code=code
    )
    if as_json:
        print_json({"items": page.items, "total": page.total, "limit": limit, "offset": offset})
        return
    rows = [
        (
            j.id,
            j.created_at,
            j.lot_number,
            j.format,
            j.layout,
            j.dpi,
            j.quantity,
            j.check_status,
            j.reprint_of_job_id,
            j.actor,
        )
        for j in page.items
    ]
    print_table(JOB_COLUMNS, rows, title=f"{page.total:,} print jobs")
    print_page_footer(len(page.items), page.total, offset)


@app.command("status")
def status(
    ctx: typer.Context,
    org: OrgOption,
    batch: Annotated[int, typer.Option("--batch", metavar="ID", help="The batch.")],
    as_json: JsonOption = False,
) -> None:
    """How many of a batch's units have a printed label."""
    rt, principal = acting_for(ctx, org)
    found = labels.label_status(rt, principal, batch_id=batch)
    if as_json:
        print_json(found.__dict__ | {"not_printed": found.not_printed})
        return
    say(
        f"Batch {batch}: {found.units:,} units, {found.printed:,} with a printed label, "
        f"{found.not_printed:,} without; {found.reprinted:,} printed more than once; "
        f"{found.jobs:,} print jobs."
    )
