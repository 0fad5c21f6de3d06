"""Labels: print-ready files (PDF, ZPL, SVG, CSV), single-unit QR codes, print jobs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from fastapi.responses import StreamingResponse

from unitrace.domain.model import LabelFormat
from unitrace.services import labels
from unitrace.services.labels import DEFAULT_LAYOUT, DEFAULT_UNIT_LAYOUT
from unitrace.web.api.params import IdPath, IdQuery, Limit, Offset
from unitrace.web.deps import ApiPrincipal, RuntimeDep
from unitrace.web.downloads import COUNT_HEADER, JOB_HEADER, SVG_HEADERS, labels_download
from unitrace.web.schemas import MAX_ID, NO_NUL
from unitrace.web.schemas.labels import (
    LabelCheckCreate,
    LabelsCreate,
    LabelStatusPublic,
    LayoutsPublic,
    PreflightReportPublic,
    PrintJobPublic,
    PrintJobsPublic,
)

router = APIRouter(tags=["labels"])

Code = Annotated[str, Path(max_length=100, examples=["7k3m-q9xw-2d4h-br"])]
LayoutName = Annotated[str, Query(max_length=50, pattern=NO_NUL)]
Dpi = Annotated[int, Query(ge=1, le=2400, description="Printer resolution: 203, 300 or 600.")]
_FILES = {
    "application/pdf": {},
    "text/plain": {"description": "ZPL"},
    "application/zip": {},
    "text/csv": {},
}


@router.get("/labels/layouts")
def list_layouts() -> LayoutsPublic:
    """Every sheet and roll layout a label file can be laid out on."""
    return LayoutsPublic.of(labels.list_layouts())


@router.post("/labels/check", responses={422: {"description": "An invalid selection."}})
def check_labels(
    body: LabelCheckCreate, rt: RuntimeDep, principal: ApiPrincipal
) -> PreflightReportPublic:
    """Render every selected label's QR code at the printer's resolution and decode it back;
    the report lists each that does not read as its payload. Nothing is recorded."""
    options = body.options(LabelFormat(body.format))
    report = labels.check_labels(
        rt, principal, selection=body.selection.to_selection(), options=options
    )
    return PreflightReportPublic.of(report)


@router.post(
    "/labels/{fmt}",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": _FILES,
            "description": f"The label file; `{JOB_HEADER}` and `{COUNT_HEADER}` name the "
            "recorded print job and its number of labels.",
        },
        422: {"description": "`validation_error`, or `preflight_failed` with the failing codes."},
    },
)
def download_labels(
    fmt: LabelFormat, body: LabelsCreate, rt: RuntimeDep, principal: ApiPrincipal
) -> Response:
    """Labels for a batch, a range of it, a container or a list of codes, as ``pdf``,
    ``zpl``, ``svg-zip`` or ``csv`` (operator). Each download is recorded as a print job;
    with ``reprint_of`` and a ``reason`` it is logged as a reprint of the same codes."""
    return labels_download(
        rt,
        principal,
        selection=body.selection.to_selection(),
        options=body.options(fmt, check=body.check),
        reprint_of=body.reprint_of,
        reason=body.reason,
    )


@router.get(
    "/labels/preview.svg",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}, "description": "One label."}},
)
def preview_label(
    rt: RuntimeDep,
    principal: ApiPrincipal,
    batch_id: Annotated[int, Query(ge=1, le=MAX_ID)],
    layout: LayoutName = DEFAULT_LAYOUT,
    dpi: Dpi = 300,
) -> Response:
    """One label of the batch as it will print: its first unit (a sample code before it
    has units)."""
    svg = labels.preview_svg(rt, principal, batch_id=batch_id, layout=layout, dpi=dpi)
    return Response(svg, media_type="image/svg+xml", headers=SVG_HEADERS)


@router.get(
    "/units/{code}/label.svg",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}, "description": "The unit's label."}},
)
def unit_label(
    code: Code,
    rt: RuntimeDep,
    principal: ApiPrincipal,
    layout: LayoutName = DEFAULT_UNIT_LAYOUT,
    dpi: Dpi = 300,
) -> Response:
    """A unit's whole label as SVG (its owner or current holder)."""
    svg = labels.unit_label_svg(rt, principal, code, layout=layout, dpi=dpi)
    return Response(svg, media_type="image/svg+xml", headers=SVG_HEADERS)


@router.get(
    "/units/{code}/qr.png",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}, "description": "The QR code."}},
)
def unit_qr(
    code: Code,
    rt: RuntimeDep,
    principal: ApiPrincipal,
    module_px: Annotated[int, Query(ge=1, le=40, description="Pixels per QR module.")] = 8,
) -> Response:
    """A unit's QR code as PNG with its quiet zone, for sharing and for screens."""
    png = labels.unit_qr_png(rt, principal, code, module_px=module_px)
    return Response(png, media_type="image/png", headers={"X-Content-Type-Options": "nosniff"})


@router.get("/print-jobs")
def list_print_jobs(
    rt: RuntimeDep,
    principal: ApiPrincipal,
    batch_id: IdQuery = None,
    code: Annotated[
        str | None, Query(max_length=100, pattern=NO_NUL, description="Jobs that labelled it.")
    ] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> PrintJobsPublic:
    """Label downloads, newest first."""
    page = labels.list_print_jobs(
        rt, principal, limit=limit, offset=offset, batch_id=batch_id, code=code
    )
    return PrintJobsPublic.of(page)


@router.get("/print-jobs/{job_id}")
def get_print_job(job_id: IdPath, rt: RuntimeDep, principal: ApiPrincipal) -> PrintJobPublic:
    return PrintJobPublic.of(labels.get_print_job(rt, principal, job_id))


@router.get("/batches/{batch_id}/label-status")
def label_status(batch_id: IdPath, rt: RuntimeDep, principal: ApiPrincipal) -> LabelStatusPublic:
    """How many of the batch's units have a printed label (and how many were reprinted)."""
    return LabelStatusPublic.of(labels.label_status(rt, principal, batch_id=batch_id))
