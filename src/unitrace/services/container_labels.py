"""Case and pallet labels: the QR code of the container's scan target, its code and SSCC,
kind, owner and contents at print time, as PDF, ZPL or SVG.

Every label's QR code is rendered at the printer's resolution and decoded back with
zxing-cpp (``adapters.preflight``) before anything is written; one failure refuses the job.
A download is recorded as a print job (template ``container``, selection
``{"containers": [codes]}``), like unit labels, and needs the operator role; one label as
SVG is a view of the label and is open to whoever may see the container.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import BinaryIO

from sqlalchemy import Connection

from unitrace.adapters.container_labels import (
    render_container_pdf,
    render_container_svg,
    render_container_zpl,
    write_container_svg_zip,
)
from unitrace.adapters.preflight import preflight_check
from unitrace.adapters.qr import encode_qr
from unitrace.domain.container_labels import (
    DEFAULT_CONTAINER_LAYOUT,
    QR_FACE,
    ContainerLabel,
    ContainerPlan,
    container_layouts,
    container_payload,
    plan_container_label,
)
from unitrace.domain.labels import LAYOUTS, PRINTER_DPIS, LabelError, Layout, PrintTemplate
from unitrace.domain.model import CheckStatus, LabelFormat, Principal, PrintJob, Role
from unitrace.errors import ValidationError
from unitrace.services import movement
from unitrace.services.access import require
from unitrace.services.labels import refuse_failures
from unitrace.services.runtime import Runtime
from unitrace.storage import container_labels as store
from unitrace.storage import labels as label_store
from unitrace.storage import orgs as org_store
from unitrace.storage.supply import Item

__all__ = [
    "DEFAULT_CONTAINER_LAYOUT",
    "FORMATS",
    "MAX_CONTAINERS",
    "container_label_svg",
    "list_container_layouts",
    "render_container_labels",
]

MAX_CONTAINERS = 1_000
FORMATS = (LabelFormat.PDF, LabelFormat.ZPL, LabelFormat.SVG_ZIP)


def list_container_layouts() -> tuple[Layout, ...]:
    """The layouts a case or pallet label can be printed on (labels of 50 × 25 mm or more)."""
    return container_layouts(LAYOUTS)


def _layout(name: str, dpi: int) -> Layout:
    if dpi not in PRINTER_DPIS:
        raise ValidationError(
            "the label options are not valid",
            details=[{"field": "dpi", "message": "use 203, 300 or 600 dpi"}],
        )
    found = {layout.name: layout for layout in list_container_layouts()}
    if name not in found:
        message = f"unknown container layout '{name}'; choose one of {', '.join(found)}"
        raise ValidationError(message, details=[{"field": "layout", "message": message}])
    return found[name]


def _label(rt: Runtime, conn: Connection, item: Item) -> ContainerLabel:
    contents = store.contents_by_batch(conn, item.id)
    owner = org_store.get_organization(conn, item.organization_id)
    only = contents[0] if len(contents) == 1 else None
    return ContainerLabel(
        code=item.code,
        payload=container_payload(rt.settings.resolver_base_url, item.code, item.sscc),
        kind=item.container_kind or "case",
        sscc=item.sscc,
        organization=owner.name,
        total_units=sum(c.units for c in contents),
        product_name=only.product_name if only else None,
        lot=only.lot_number if only else None,
        lots=len(contents),
    )


def container_labels(
    rt: Runtime, principal: Principal, codes: Sequence[str]
) -> list[ContainerLabel]:
    """What each named case or pallet's label shows now (owner or holder; 404 otherwise)."""
    if not 1 <= len(codes) <= MAX_CONTAINERS:
        raise ValidationError(f"name 1 to {MAX_CONTAINERS:,} cases or pallets")
    with rt.db.read() as conn:
        items = movement.resolve(conn, principal, codes)
        units = [i.code for i in items if i.kind != "container"]
        if units:
            raise ValidationError(
                f"{len(units)} of the codes are units, not cases or pallets",
                details=[{"field": "codes", "message": f"{c}: a unit"} for c in units],
            )
        return [_label(rt, conn, item) for item in items]


def _check(labels: Sequence[ContainerLabel], layout: Layout, dpi: int, fmt: LabelFormat) -> None:
    """Plan every label (a layout too small refuses), then decode every QR code back."""
    plans: list[ContainerPlan] = []
    try:
        for label in labels:
            plans.append(
                plan_container_label(layout, label, encode_qr(label.payload).size, dpi=dpi)
            )
    except LabelError as exc:
        raise ValidationError(str(exc), details=[{"field": "layout", "message": str(exc)}]) from exc
    report = preflight_check(
        plans[0].qr_layout,
        QR_FACE,
        (label.unit for label in labels),
        dpi=dpi,
        fmt="zpl" if fmt is LabelFormat.ZPL else "pdf",
        workers=1,
    )
    refuse_failures(report)


def _write(
    out: BinaryIO, fmt: LabelFormat, layout: Layout, labels: Sequence[ContainerLabel], dpi: int
) -> int:
    if fmt is LabelFormat.PDF:
        return render_container_pdf(out, layout, labels, dpi=dpi)
    if fmt is LabelFormat.SVG_ZIP:
        return write_container_svg_zip(out, layout, labels, dpi=dpi)
    text = io.StringIO()
    written = render_container_zpl(text, layout, labels, dpi=dpi)
    out.write(text.getvalue().encode("utf-8"))
    return written


def render_container_labels(
    rt: Runtime,
    principal: Principal,
    codes: Sequence[str],
    *,
    fmt: LabelFormat = LabelFormat.PDF,
    layout: str = DEFAULT_CONTAINER_LAYOUT,
    dpi: int | None = None,
    out: BinaryIO,
) -> PrintJob:
    """Write a label per case or pallet to ``out`` and record the print job (operator).

    ``dpi`` defaults to 203 for ZPL and 300 otherwise. Every QR code is decoded back first;
    if any does not read as its payload nothing is written (``PreflightFailedError``).
    """
    require(principal, Role.OPERATOR)
    if fmt not in FORMATS:
        shown = ", ".join(f.value for f in FORMATS)
        raise ValidationError(f"case and pallet labels are printed as {shown}, not {fmt.value}")
    printer_dpi = dpi if dpi is not None else (203 if fmt is LabelFormat.ZPL else 300)
    chosen = _layout(layout, printer_dpi)
    labels = container_labels(rt, principal, codes)
    _check(labels, chosen, printer_dpi, fmt)
    buffer = io.BytesIO()  # written whole, so a failure leaves ``out`` untouched
    try:
        written = _write(buffer, fmt, chosen, labels, printer_dpi)
    except LabelError as exc:
        raise ValidationError(str(exc), details=[{"field": "layout", "message": str(exc)}]) from exc
    out.write(buffer.getvalue())
    with rt.db.transaction() as conn:
        job_id = label_store.insert_print_job(
            conn,
            organization_id=principal.organization_id,
            actor_user_id=principal.user_id,
            actor_api_key_id=principal.api_key_id,
            actor=principal.display[:200],
            format=fmt.value,
            layout=chosen.name,
            dpi=printer_dpi,
            template=PrintTemplate.CONTAINER.value,
            selection={"containers": [label.code for label in labels]},
            batch_id=None,
            quantity=written,
            check_status=CheckStatus.PASSED.value,
            created_at=rt.clock(),
        )
        return label_store.get_print_job(conn, principal.organization_id, job_id)


def container_label_svg(
    rt: Runtime,
    principal: Principal,
    code: str,
    *,
    layout: str = DEFAULT_CONTAINER_LAYOUT,
    dpi: int = 300,
) -> str:
    """One case or pallet label as SVG, scan-checked (owner or holder; not recorded)."""
    chosen = _layout(layout, dpi)
    labels = container_labels(rt, principal, [code])
    _check(labels, chosen, dpi, LabelFormat.SVG_ZIP)
    return render_container_svg(chosen, labels[0], dpi=dpi)
