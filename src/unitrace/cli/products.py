"""``unitrace products``: sellable items (SKUs) of a brand."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Annotated

import typer

from unitrace.cli.context import acting_for
from unitrace.cli.options import JsonOption, LimitOption, OffsetOption, OrgOption, parse_decimal
from unitrace.cli.output import print_fields, print_json, print_page_footer, print_table
from unitrace.domain.labels import LabelTemplate, QrForm
from unitrace.domain.model import Product
from unitrace.services.catalog import (
    CATEGORIES,
    CONTENT_UNITS,
    ProductDraft,
    create_product,
    get_product,
    list_products,
)

app = typer.Typer(help="Products (SKUs) of a brand.")
COLUMNS = ("ID", "Name", "Category", "Strain", "Net content", "GTIN")


def _net(p: Product) -> str | None:
    return f"{p.net_content.normalize():f} {p.net_content_unit}" if p.net_content else None


def _rows(items: Sequence[Product]) -> list[tuple[object, ...]]:
    return [(p.id, p.name, p.category, p.strain, _net(p), p.gtin) for p in items]


def _show(product: Product, title: str) -> None:
    print_fields(
        [
            ("ID", product.id),
            ("Name", product.name),
            ("Category", product.category),
            ("Strain", product.strain),
            ("Net content", _net(product)),
            ("GTIN", product.gtin),
            ("Description", product.description),
            ("Ingredients", product.ingredients),
            ("Warnings", product.warnings),
            ("Label", product.label_template.value),
            ("QR code", product.qr_form.value),
            ("Created", product.created_at),
        ],
        title=title,
    )


@app.command("create")
def create(
    ctx: typer.Context,
    org: OrgOption,
    name: Annotated[str, typer.Option(help="Product name, unique in the brand.")],
    category: Annotated[str, typer.Option(help=f"One of: {', '.join(CATEGORIES)}.")],
    strain: Annotated[str | None, typer.Option(help="Strain, e.g. 'Blue Dream'.")] = None,
    net_content: Annotated[
        Decimal | None, typer.Option(parser=parse_decimal, metavar="AMOUNT", help="e.g. 3.5")
    ] = None,
    unit: Annotated[
        str | None, typer.Option(help=f"Unit of the net content: {', '.join(CONTENT_UNITS)}.")
    ] = None,
    gtin: Annotated[str | None, typer.Option(help="GTIN-8/12/13/14, with check digit.")] = None,
    description: Annotated[str, typer.Option(help="Description for consumers.")] = "",
    warnings: Annotated[str, typer.Option(help="Warnings printed for consumers.")] = "",
    label_template: Annotated[
        LabelTemplate, typer.Option(help="Label: just the QR code, or the finished-goods label.")
    ] = LabelTemplate.QR_ONLY,
    qr_form: Annotated[
        QrForm, typer.Option(help="QR content: GS1 Digital Link (needs a GTIN) or the short URL.")
    ] = QrForm.DIGITAL_LINK,
    as_json: JsonOption = False,
) -> None:
    """Define a product."""
    rt, principal = acting_for(ctx, org)
    draft = ProductDraft(
        name=name,
        category=category,
        strain=strain,
        net_content=net_content,
        net_content_unit=unit,
        gtin=gtin,
        description=description,
        warnings=warnings,
        label_template=label_template,
        qr_form=qr_form,
    )
    product = create_product(rt, principal, draft)
    if as_json:
        print_json(product)
    else:
        _show(product, "Product created")


@app.command("list")
def list_(
    ctx: typer.Context,
    org: OrgOption,
    search: Annotated[
        str | None, typer.Option(help="Only products whose name contains this.")
    ] = None,
    limit: LimitOption = 50,
    offset: OffsetOption = 0,
    as_json: JsonOption = False,
) -> None:
    """List products by name."""
    rt, principal = acting_for(ctx, org)
    page = list_products(rt, principal, limit=limit, offset=offset, search=search)
    if as_json:
        print_json(page)
        return
    print_table(COLUMNS, _rows(page.items), title=f"{page.total:,} products")
    print_page_footer(len(page.items), page.total, offset)


@app.command("show")
def show(
    ctx: typer.Context,
    product_id: Annotated[int, typer.Argument(metavar="ID", help="Product ID.")],
    org: OrgOption,
    as_json: JsonOption = False,
) -> None:
    """Show one product."""
    rt, principal = acting_for(ctx, org)
    product = get_product(rt, principal, product_id)
    if as_json:
        print_json(product)
    else:
        _show(product, f"Product {product.id}")
