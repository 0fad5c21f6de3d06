"""Labels: print-ready files for a batch, a range, a container or a list of codes.

Every output streams: units are read from the database a chunk at a time and written
straight to the caller's sink, so a million labels cost no more memory than ten. A print
job is recorded — who, what, how, and which units — only once its file was written
completely, in one transaction. With ``check=True`` every label's QR code is first rendered
at the printer's resolution and decoded back (``adapters.preflight``); if any does not
read as its payload, nothing is written and nothing is recorded.

The labels of one job share one ``LabelFace`` (brand, product, lot, dates, potency), so a
job covers the units of one batch. Case and pallet labels will plug in the same way: a
container selection resolves to its units today; a container face and a container
selection kind are the only new parts they need.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable
from contextlib import closing
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import BinaryIO

from unitrace.adapters.label_csv import write_label_csv
from unitrace.adapters.pdf import render_pdf
from unitrace.adapters.preflight import PreflightReport, preflight_check
from unitrace.adapters.qr import encode_qr
from unitrace.adapters.svg import render_label_svg, render_qr_png, write_svg_zip
from unitrace.adapters.zpl import render_zpl
from unitrace.domain.labels import (
    LAYOUTS,
    MM,
    PRINTER_DPIS,
    LabelError,
    LabelFace,
    LabelUnit,
    Layout,
    get_layout,
    plan_label,
)
from unitrace.domain.model import (
    BatchLabelStatus,
    CheckStatus,
    LabelFormat,
    Page,
    Principal,
    PrintJob,
    Role,
)
from unitrace.errors import ConflictError, NotFoundError, PreflightFailedError, ValidationError
from unitrace.services.access import require
from unitrace.services.catalog import check_page
from unitrace.services.label_selection import (
    MAX_CODES,
    SAMPLE_CODE,
    LabelSelection,
    ResolvedSelection,
    iter_label_units,
    label_face,
    label_source,
    normalize_codes,
    resolve_selection,
    unit_maker,
)
from unitrace.services.runtime import Runtime
from unitrace.services.units import canonical_code
from unitrace.storage import catalog as catalog_store
from unitrace.storage import labels as store

__all__ = [
    "DEFAULT_LAYOUT",
    "DEFAULT_UNIT_LAYOUT",
    "MAX_CODES",
    "MAX_REASON",
    "SAMPLE_CODE",
    "LabelOptions",
    "LabelSelection",
    "Progress",
    "check_labels",
    "filename_for",
    "get_print_job",
    "label_face",
    "label_status",
    "list_layouts",
    "list_print_jobs",
    "preview_svg",
    "refuse_failures",
    "render_labels",
    "unit_label_svg",
    "unit_qr_png",
]

Progress = Callable[[str, int, int], None]  # (phase "check" or "render", done, total)
DEFAULT_LAYOUT = "letter-30up"
DEFAULT_UNIT_LAYOUT = "roll-2x1"
MAX_REASON = 500
MAX_MARGIN_MM = Decimal(100)


@dataclass(frozen=True)
class LabelOptions:
    """How to print: format, layout, printer resolution, page margins, pre-flight check."""

    fmt: LabelFormat = LabelFormat.PDF
    layout: str = DEFAULT_LAYOUT
    dpi: int | None = None  # None: 203 for ZPL, 300 otherwise
    margin_left_mm: Decimal | None = None  # None: the layout's own margins
    margin_top_mm: Decimal | None = None
    check: bool = False

    @property
    def printer_dpi(self) -> int:
        if self.dpi is not None:
            return self.dpi
        return 203 if self.fmt is LabelFormat.ZPL else 300


def _layout(options: LabelOptions) -> Layout:
    problems = []
    if options.printer_dpi not in PRINTER_DPIS:
        problems.append({"field": "dpi", "message": "use 203, 300 or 600 dpi"})
    for name in ("margin_left_mm", "margin_top_mm"):
        value = getattr(options, name)
        if value is not None and not Decimal(0) <= value <= MAX_MARGIN_MM:
            problems.append({"field": name, "message": f"a margin is 0 to {MAX_MARGIN_MM} mm"})
    if problems:
        raise ValidationError("the label options are not valid", details=problems)
    try:
        layout = get_layout(options.layout)
        left, top = options.margin_left_mm, options.margin_top_mm
        return layout.with_margins(
            left=None if left is None else float(left) * MM,
            top=None if top is None else float(top) * MM,
        )
    except LabelError as exc:
        raise ValidationError(str(exc), details=[{"field": "layout", "message": str(exc)}]) from exc


def _ensure_fits(layout: Layout, face: LabelFace, unit: LabelUnit, dpi: int) -> None:
    """Refuse before writing anything when the QR code cannot print reliably on the label.

    Every payload of a batch has the same length, so the first one stands for them all.
    """
    try:
        plan_label(layout, face, encode_qr(unit.payload).size, dpi=dpi)
    except LabelError as exc:
        raise ValidationError(str(exc), details=[{"field": "layout", "message": str(exc)}]) from exc


def _reporter(progress: Progress | None, phase: str, total: int) -> Callable[[int], None] | None:
    if progress is None:
        return None
    return lambda done: progress(phase, done, total)


# --- print jobs ---------------------------------------------------------------------------


def _check_reprint(
    rt: Runtime, principal: Principal, resolved: ResolvedSelection, reprint_of: int, reason: str
) -> None:
    if not reason.strip():
        raise ValidationError(
            "say why the labels are reprinted",
            details=[{"field": "reason", "message": "a reprint needs a reason"}],
        )
    if len(reason) > MAX_REASON:
        raise ValidationError(f"a reason has at most {MAX_REASON} characters")
    org = principal.organization_id
    with rt.db.read() as conn:
        store.get_print_job(conn, org, reprint_of)
        if resolved.scope is not None:
            missing = store.count_scope_outside_job(conn, reprint_of, resolved.scope)
            if missing:
                raise ValidationError(
                    f"{missing:,} of these units were not printed by job {reprint_of}; "
                    "a reprint repeats labels of the job it names"
                )
            return
        outside = store.units_outside_job(conn, reprint_of, resolved.unit_ids)
    if outside:
        codes = [c for c, i in zip(resolved.codes, resolved.unit_ids, strict=True) if i in outside]
        raise ValidationError(
            f"{len(codes)} of the codes were not printed by job {reprint_of}",
            details=[{"field": "codes", "message": f"{c}: not in job {reprint_of}"} for c in codes],
        )


def _preflight(
    rt: Runtime,
    resolved: ResolvedSelection,
    layout: Layout,
    face: LabelFace,
    options: LabelOptions,
    progress: Progress | None,
) -> PreflightReport:
    fmt = "zpl" if options.fmt is LabelFormat.ZPL else "pdf"
    with closing(iter_label_units(rt, resolved)) as units:
        return preflight_check(
            layout,
            face,
            units,
            dpi=options.printer_dpi,
            fmt=fmt,
            progress=_reporter(progress, "check", resolved.quantity),
        )


def _write(
    out: BinaryIO,
    fmt: LabelFormat,
    layout: Layout,
    face: LabelFace,
    units: Iterable[LabelUnit],
    dpi: int,
    report: Callable[[int], None] | None,
) -> int:
    if fmt is LabelFormat.PDF:
        return render_pdf(out, layout, face, units, dpi=dpi, progress=report)
    if fmt is LabelFormat.SVG_ZIP:
        return write_svg_zip(out, layout, face, units, dpi=dpi, progress=report)
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
    try:
        if fmt is LabelFormat.ZPL:
            written = render_zpl(text, layout, face, units, dpi=dpi, progress=report)
        else:
            written = write_label_csv(text, face, units, progress=report)
        text.flush()
        return written
    finally:
        text.detach()  # the caller's stream stays open


def _prepare(
    rt: Runtime, principal: Principal, selection: LabelSelection, options: LabelOptions
) -> tuple[ResolvedSelection, Layout, LabelFace]:
    layout = _layout(options)
    resolved = resolve_selection(rt, principal, selection)
    face = label_face(resolved.product, resolved.batch, resolved.brand.name)
    # Without the scan check, refuse a QR code too fine for the label up front; with it,
    # the check reports that for every label instead.
    if options.fmt is not LabelFormat.CSV and not options.check:
        sample = unit_maker(rt, resolved.product, resolved.batch)(SAMPLE_CODE, None)
        _ensure_fits(layout, face, sample, options.printer_dpi)
    return resolved, layout, face


def render_labels(
    rt: Runtime,
    principal: Principal,
    *,
    selection: LabelSelection,
    options: LabelOptions,
    out: BinaryIO,
    progress: Progress | None = None,
    reprint_of: int | None = None,
    reason: str = "",
) -> PrintJob:
    """Write the selection's labels to ``out`` and record the print job (operator).

    With ``options.check`` every QR code is decoded first and a single failure refuses
    the job (``PreflightFailedError``) before anything is written. ``reprint_of`` names
    the job whose labels are printed again (with a ``reason``): a reprint repeats the
    same codes, it never makes new ones.
    """
    require(principal, Role.OPERATOR)
    resolved, layout, face = _prepare(rt, principal, selection, options)
    if reprint_of is not None:
        _check_reprint(rt, principal, resolved, reprint_of, reason)
    status = CheckStatus.NOT_CHECKED
    if options.check:
        report = _preflight(rt, resolved, layout, face, options, progress)
        refuse_failures(report)
        status = CheckStatus.PASSED
    try:
        with closing(iter_label_units(rt, resolved)) as units:
            written = _write(
                out,
                options.fmt,
                layout,
                face,
                units,
                options.printer_dpi,
                _reporter(progress, "render", resolved.quantity),
            )
    except LabelError as exc:
        raise ValidationError(str(exc), details=[{"field": "layout", "message": str(exc)}]) from exc
    job = _JobRecord(selection, options, layout, face, written, status, reprint_of, reason)
    return _record(rt, principal, resolved, job)


def refuse_failures(report: PreflightReport) -> None:
    """Raise ``PreflightFailedError`` listing every failing label, unless the report is ok."""
    if report.ok:
        return
    raise PreflightFailedError(
        f"{len(report.failures):,} of {report.checked:,} labels did not scan back to their "
        "payload at the printer's resolution; nothing was printed",
        details=[
            {"code": f.code, "payload": f.payload, "decoded": f.decoded, "reason": f.reason}
            for f in report.failures
        ],
    )


@dataclass(frozen=True)
class _JobRecord:
    selection: LabelSelection
    options: LabelOptions
    layout: Layout
    face: LabelFace
    written: int
    status: CheckStatus
    reprint_of: int | None
    reason: str


def _record(
    rt: Runtime, principal: Principal, resolved: ResolvedSelection, job: _JobRecord
) -> PrintJob:
    options, written = job.options, job.written
    selection = job.selection.as_json()
    if "codes" in selection:
        selection["codes"] = len(resolved.codes)  # once normalized and de-duplicated
    org = principal.organization_id
    with rt.db.transaction() as conn:
        job_id = store.insert_print_job(
            conn,
            organization_id=org,
            actor_user_id=principal.user_id,
            actor_api_key_id=principal.api_key_id,
            actor=principal.display[:200],
            format=options.fmt.value,
            layout=job.layout.name,
            dpi=options.printer_dpi,
            margin_left_mm=options.margin_left_mm,
            margin_top_mm=options.margin_top_mm,
            template=job.face.template.value,
            selection=selection,
            batch_id=resolved.batch.id,
            quantity=written,
            check_status=job.status.value,
            reprint_of_job_id=job.reprint_of,
            reason=job.reason.strip(),
            created_at=rt.clock(),
        )
        if resolved.scope is not None:
            recorded = store.insert_job_units_from_scope(conn, job_id, resolved.scope)
        else:
            recorded = store.insert_job_units(conn, job_id, resolved.unit_ids)
        if recorded != written:
            raise ConflictError(
                f"the selection changed while its labels were written ({written:,} labels, "
                f"{recorded:,} units now); download the labels again"
            )
        return store.get_print_job(conn, org, job_id)


def check_labels(
    rt: Runtime,
    principal: Principal,
    *,
    selection: LabelSelection,
    options: LabelOptions,
    progress: Progress | None = None,
) -> PreflightReport:
    """Render every label's QR code at the printer's resolution and decode it back.

    Nothing is written or recorded; the report lists each label that does not read as
    its payload.
    """
    checked = replace(options, check=True)
    resolved, layout, face = _prepare(rt, principal, selection, checked)
    return _preflight(rt, resolved, layout, face, checked, progress)


def filename_for(job: PrintJob) -> str:
    """A download name such as ``labels-GV-2611-A-job12.pdf`` (safe in any file system)."""
    lot = re.sub(r"[^A-Za-z0-9._-]+", "_", job.lot_number or "units").strip("._") or "units"
    return f"labels-{lot}-job{job.id}.{job.format.extension}"


# --- single labels, previews, layouts -----------------------------------------------------


def list_layouts() -> tuple[Layout, ...]:
    """Every sheet and roll layout, as the ``layout`` option names them."""
    return tuple(LAYOUTS.values())


def _svg(layout: Layout, face: LabelFace, unit: LabelUnit, dpi: int) -> str:
    _ensure_fits(layout, face, unit, dpi)
    return render_label_svg(layout, face, unit, dpi=dpi)


def preview_svg(
    rt: Runtime,
    principal: Principal,
    *,
    batch_id: int,
    layout: str = DEFAULT_LAYOUT,
    dpi: int = 300,
) -> str:
    """One label of the batch as SVG: its first unit, or a sample code before it has units."""
    chosen = _layout(LabelOptions(layout=layout, dpi=dpi))
    org = principal.organization_id
    with rt.db.read() as conn:
        batch, product, brand = label_source(conn, org, batch_id)
        code = store.first_code_of_batch(conn, org, batch_id) or SAMPLE_CODE
    face = label_face(product, batch, brand.name)
    return _svg(chosen, face, unit_maker(rt, product, batch)(code, None), dpi)


def _visible_unit(
    rt: Runtime, principal: Principal, code: str
) -> tuple[ResolvedSelection, LabelUnit]:
    canonical = canonical_code(code)
    with rt.db.read() as conn:
        unit = store.find_visible_unit(conn, principal.organization_id, canonical)
        if unit is None:
            raise NotFoundError(f"unit {canonical} not found")
        # The label is the brand's, whoever holds the unit now.
        batch, product, brand = label_source(conn, unit.owner_organization_id, unit.batch_id)
    serials = (unit.external_serial,)
    resolved = ResolvedSelection(batch, product, brand, 1, codes=(canonical,), serials=serials)
    return resolved, unit_maker(rt, product, batch)(canonical, unit.external_serial)


def unit_qr_png(rt: Runtime, principal: Principal, code: str, *, module_px: int = 8) -> bytes:
    """A unit's QR code as PNG, quiet zone included (owner or current holder)."""
    if not 1 <= module_px <= 40:
        raise ValidationError("module_px is 1 to 40 pixels")
    _resolved, unit = _visible_unit(rt, principal, code)
    return render_qr_png(unit.payload, module_px=module_px)


def unit_label_svg(
    rt: Runtime,
    principal: Principal,
    code: str,
    *,
    layout: str = DEFAULT_UNIT_LAYOUT,
    dpi: int = 300,
) -> str:
    """A unit's whole label as SVG (owner or current holder)."""
    chosen = _layout(LabelOptions(layout=layout, dpi=dpi))
    resolved, unit = _visible_unit(rt, principal, code)
    face = label_face(resolved.product, resolved.batch, resolved.brand.name)
    return _svg(chosen, face, unit, dpi)


def list_print_jobs(
    rt: Runtime,
    principal: Principal,
    *,
    limit: int = 50,
    offset: int = 0,
    batch_id: int | None = None,
    code: str | None = None,
) -> Page[PrintJob]:
    """The organization's print jobs, newest first; ``code`` keeps those that labelled it."""
    limit, offset = check_page(limit, offset)
    org = principal.organization_id
    with rt.db.read() as conn:
        unit_id = None
        if code is not None:
            canonical = normalize_codes([code])[0]
            found = store.find_units_by_codes(conn, org, [canonical])
            if canonical not in found:
                raise NotFoundError(f"unit {canonical} not found")
            unit_id = found[canonical][0]
        items, total = store.list_print_jobs(
            conn, org, limit=limit, offset=offset, batch_id=batch_id, unit_id=unit_id
        )
    return Page(tuple(items), total, limit, offset)


def get_print_job(rt: Runtime, principal: Principal, job_id: int) -> PrintJob:
    with rt.db.read() as conn:
        return store.get_print_job(conn, principal.organization_id, job_id)


def label_status(rt: Runtime, principal: Principal, *, batch_id: int) -> BatchLabelStatus:
    """How many of the batch's units have a printed label, and how many were reprinted."""
    with rt.db.read() as conn:
        catalog_store.get_batch(conn, principal.organization_id, batch_id)
        return store.batch_label_status(conn, principal.organization_id, batch_id)
