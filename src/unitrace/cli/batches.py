"""``unitrace batches``: production runs (lots), their lab results and COA."""

from __future__ import annotations

import datetime as dt
import mimetypes
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer

from unitrace.cli.context import acting_for
from unitrace.cli.options import (
    JsonOption,
    LimitOption,
    OffsetOption,
    OrgOption,
    parse_date,
    parse_decimal,
    parse_pair,
)
from unitrace.cli.output import (
    fail,
    print_fields,
    print_json,
    print_page_footer,
    print_table,
    say,
)
from unitrace.domain.model import Analyte, AnalyteKind, Batch, LabStatus, Panel, PanelResult
from unitrace.services.catalog import (
    MAX_PAGE,
    BatchDraft,
    LabResultsDraft,
    attach_coa,
    create_batch,
    get_batch,
    list_batches,
    list_products,
    read_coa,
    record_lab_results,
)

app = typer.Typer(help="Batches (lots): production runs, lab results, Certificates of Analysis.")
COLUMNS = ("ID", "Product", "Lot", "Produced", "Expires", "Lab status", "Units", "COA")

BatchId = Annotated[int, typer.Argument(metavar="ID", help="Batch ID.")]
ProducedOption = Annotated[
    dt.date | None,
    typer.Option("--produced", parser=parse_date, metavar="YYYY-MM-DD", help="Production date."),
]
ExpiresOption = Annotated[
    dt.date | None,
    typer.Option("--expires", parser=parse_date, metavar="YYYY-MM-DD", help="Expiry date."),
]
LabStatusOption = Annotated[LabStatus, typer.Option(help="Overall lab result.")]
LabNameOption = Annotated[str | None, typer.Option(help="Laboratory that tested the batch.")]
TestedOnOption = Annotated[
    dt.date | None,
    typer.Option(parser=parse_date, metavar="YYYY-MM-DD", help="Date of the test."),
]
ThcOption = Annotated[
    Decimal | None, typer.Option(parser=parse_decimal, metavar="PERCENT", help="Total THC, %.")
]
CbdOption = Annotated[
    Decimal | None, typer.Option(parser=parse_decimal, metavar="PERCENT", help="Total CBD, %.")
]
CannabinoidOption = Annotated[
    list[str] | None,
    typer.Option(metavar="NAME=PERCENT", help="Another cannabinoid, e.g. cbg=0.8 (repeatable)."),
]
TerpeneOption = Annotated[
    list[str] | None,
    typer.Option(metavar="NAME=PERCENT", help="A terpene, e.g. myrcene=0.8 (repeatable)."),
]
PanelOption = Annotated[
    list[str] | None,
    typer.Option(
        metavar="NAME=pass|fail", help="A safety panel, e.g. microbials=pass (repeatable)."
    ),
]


def lab_draft(
    status: LabStatus,
    lab_name: str | None,
    tested_on: dt.date | None,
    thc: Decimal | None,
    cbd: Decimal | None,
    cannabinoids: Sequence[str],
    terpenes: Sequence[str],
    panels: Sequence[str],
) -> LabResultsDraft:
    """Lab results from command-line options; every amount is a percentage."""
    pairs = [("total_thc", thc), ("total_cbd", cbd)]
    analytes = [Analyte(AnalyteKind.CANNABINOID, n, v, "%") for n, v in pairs if v is not None]
    for option, kind, values in (
        ("--cannabinoid", AnalyteKind.CANNABINOID, cannabinoids),
        ("--terpene", AnalyteKind.TERPENE, terpenes),
    ):
        for text in values:
            name, amount = parse_pair(text, option=option)
            analytes.append(Analyte(kind, name, parse_decimal(amount), "%"))
    return LabResultsDraft(
        status=status,
        lab_name=lab_name,
        tested_on=tested_on,
        analytes=tuple(analytes),
        panels=tuple(_panel(text) for text in panels),
    )


def _panel(text: str) -> Panel:
    name, result = parse_pair(text, option="--panel")
    try:
        return Panel(name, PanelResult(result.lower()))
    except ValueError:
        raise typer.BadParameter(
            f"{text!r}: a panel result is pass or fail", param_hint="--panel"
        ) from None


def _rows(items: Sequence[Batch], products: dict[int, str]) -> list[tuple[object, ...]]:
    return [
        (
            b.id,
            products.get(b.product_id, b.product_id),
            b.lot_number,
            b.produced_on,
            b.expires_on,
            b.lab.status,
            b.unit_count,
            b.coa.filename if b.coa else None,
        )
        for b in items
    ]


def _show(batch: Batch, title: str) -> None:
    lab = batch.lab
    print_fields(
        [
            ("ID", batch.id),
            ("Product", batch.product_id),
            ("Lot", batch.lot_number),
            ("Produced", batch.produced_on),
            ("Expires", batch.expires_on),
            ("Source batches", ", ".join(map(str, batch.source_batch_ids))),
            ("Lab status", lab.status),
            ("Lab", lab.lab_name),
            ("Tested on", lab.tested_on),
            ("COA", f"{batch.coa.filename} ({batch.coa.size:,} bytes)" if batch.coa else None),
            ("Units", f"{batch.unit_count:,}"),
        ],
        title=title,
    )
    if lab.analytes:
        rows = [(a.kind, a.name, f"{a.amount.normalize():f} {a.unit}") for a in lab.analytes]
        print_table(("Kind", "Analyte", "Amount"), rows)
    if lab.panels:
        print_table(("Panel", "Result", "Notes"), [(p.name, p.result, p.notes) for p in lab.panels])


def _output(batch: Batch, as_json: bool, title: str) -> None:
    if as_json:
        print_json(batch)
    else:
        _show(batch, title)


@app.command("create")
def create(
    ctx: typer.Context,
    org: OrgOption,
    product: Annotated[int, typer.Option(metavar="ID", help="Product ID.")],
    lot: Annotated[str, typer.Option(help="Lot number (GS1 AI 10: up to 20 characters).")],
    produced: ProducedOption = None,
    expires: ExpiresOption = None,
    lab_status: LabStatusOption = LabStatus.PENDING,
    lab_name: LabNameOption = None,
    tested_on: TestedOnOption = None,
    thc: ThcOption = None,
    cbd: CbdOption = None,
    cannabinoid: CannabinoidOption = None,
    terpene: TerpeneOption = None,
    panel: PanelOption = None,
    source_batch: Annotated[
        list[int] | None, typer.Option(metavar="ID", help="Input batch (repeatable).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Record a batch of a product, with its lab results if it has been tested."""
    rt, principal = acting_for(ctx, org)
    lab = lab_draft(
        lab_status, lab_name, tested_on, thc, cbd, cannabinoid or [], terpene or [], panel or []
    )
    draft = BatchDraft(product, lot, produced, expires, tuple(source_batch or ()), lab)
    _output(create_batch(rt, principal, draft), as_json, "Batch created")


@app.command("lab")
def lab(
    ctx: typer.Context,
    batch_id: BatchId,
    org: OrgOption,
    lab_status: LabStatusOption,
    lab_name: LabNameOption = None,
    tested_on: TestedOnOption = None,
    thc: ThcOption = None,
    cbd: CbdOption = None,
    cannabinoid: CannabinoidOption = None,
    terpene: TerpeneOption = None,
    panel: PanelOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record (replace) a batch's lab results, e.g. after testing or a retest."""
    rt, principal = acting_for(ctx, org)
    results = lab_draft(
        lab_status, lab_name, tested_on, thc, cbd, cannabinoid or [], terpene or [], panel or []
    )
    batch = record_lab_results(rt, principal, batch_id=batch_id, lab=results)
    _output(batch, as_json, "Lab results recorded")


@app.command("list")
def list_(
    ctx: typer.Context,
    org: OrgOption,
    product: Annotated[int | None, typer.Option(metavar="ID", help="Only this product.")] = None,
    lab_status: Annotated[LabStatus | None, typer.Option(help="Only this lab status.")] = None,
    limit: LimitOption = 50,
    offset: OffsetOption = 0,
    as_json: JsonOption = False,
) -> None:
    """List batches."""
    rt, principal = acting_for(ctx, org)
    page = list_batches(
        rt, principal, limit=limit, offset=offset, product_id=product, lab_status=lab_status
    )
    if as_json:
        print_json(page)
        return
    products = {p.id: p.name for p in list_products(rt, principal, limit=MAX_PAGE).items}
    print_table(COLUMNS, _rows(page.items, products), title=f"{page.total:,} batches")
    print_page_footer(len(page.items), page.total, offset)


@app.command("show")
def show(
    ctx: typer.Context, batch_id: BatchId, org: OrgOption, as_json: JsonOption = False
) -> None:
    """Show a batch with its lab results."""
    rt, principal = acting_for(ctx, org)
    _output(get_batch(rt, principal, batch_id), as_json, f"Batch {batch_id}")


@app.command("coa")
def coa(
    ctx: typer.Context,
    batch_id: BatchId,
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="PDF, PNG or JPEG.")
    ],
    org: OrgOption,
) -> None:
    """Attach a Certificate of Analysis file to a batch (replacing any earlier one)."""
    rt, principal = acting_for(ctx, org)
    content_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
    content = file.read_bytes()
    batch = attach_coa(
        rt,
        principal,
        batch_id=batch_id,
        filename=file.name,
        content_type=content_type,
        content=content,
    )
    say(f"Attached {file.name} ({len(content):,} bytes) to batch {batch.lot_number}.")


@app.command("coa-download")
def coa_download(
    ctx: typer.Context,
    batch_id: BatchId,
    org: OrgOption,
    output: Annotated[
        Path, typer.Option(dir_okay=False, help="File to write; '-' writes to stdout.")
    ],
) -> None:
    """Save a batch's Certificate of Analysis to a file."""
    rt, principal = acting_for(ctx, org)
    document, content = read_coa(rt, principal, batch_id=batch_id)
    if str(output) == "-":
        stdout = typer.get_binary_stream("stdout")
        stdout.write(content)
        stdout.flush()
        return
    try:
        output.write_bytes(content)
    except OSError as exc:
        raise fail(f"cannot write {output}: {exc.strerror}") from None
    say(f"Saved {document.filename} ({len(content):,} bytes) to {output}.")
