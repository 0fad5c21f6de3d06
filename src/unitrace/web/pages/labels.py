"""Labels: choose a batch (or a range of it), a layout and a format; preview one label;
download the file; see recent print jobs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from unitrace.domain.labels import PRINTER_DPIS
from unitrace.domain.model import LabelFormat
from unitrace.errors import (
    PermissionDeniedError,
    PreflightFailedError,
    UnitraceError,
    ValidationError,
)
from unitrace.services import catalog, labels
from unitrace.services.labels import DEFAULT_LAYOUT, LabelOptions, LabelSelection
from unitrace.services.runtime import Runtime
from unitrace.web.deps import PageSession, RuntimeDep
from unitrace.web.downloads import SVG_HEADERS, labels_download
from unitrace.web.pages.common import (
    CheckedForm,
    FieldErrors,
    Viewer,
    ViewerDep,
    errors_from,
    optional_int,
    redirect,
    render,
    text_fields,
)

router = APIRouter()
FORMATS = (
    (LabelFormat.PDF.value, "PDF (office or thermal printer)"),
    (LabelFormat.ZPL.value, "ZPL (Zebra printer)"),
    (LabelFormat.SVG_ZIP.value, "SVG files in a ZIP"),
    (LabelFormat.CSV.value, "CSV for label software"),
)
SHOWN_FAILURES = 20
RECENT_JOBS = 20


@dataclass(frozen=True)
class LabelForm:
    """The labels form read into a selection and options, with a problem per input."""

    selection: LabelSelection | None
    options: LabelOptions | None
    errors: FieldErrors


def _number(values: Mapping[str, str], name: str, errors: FieldErrors) -> int | None:
    raw = values.get(name, "").strip()
    if raw and optional_int(raw) is None:
        errors[name] = ["enter a whole number"]
    return optional_int(raw)


def _margin(values: Mapping[str, str], name: str, errors: FieldErrors) -> Decimal | None:
    raw = values.get(name, "").strip().replace(",", ".")
    try:
        return Decimal(raw) if raw else None
    except InvalidOperation:
        errors[name] = ["enter a number of millimetres, like 4.5"]
        return None


def read_form(values: Mapping[str, str]) -> LabelForm:
    errors: FieldErrors = {}
    batch_id = _number(values, "batch_id", errors)
    if batch_id is None:
        errors.setdefault("batch_id", ["choose a batch"])
    first, count = _number(values, "first", errors), _number(values, "count", errors)
    raw_format = values.get("format", LabelFormat.PDF.value)
    if raw_format not in set(LabelFormat):
        errors["format"] = ["choose a format"]
    dpi = _number(values, "dpi", errors)
    left, top = _margin(values, "margin_left_mm", errors), _margin(values, "margin_top_mm", errors)
    if errors:
        return LabelForm(None, None, errors)
    selection = LabelSelection(batch_id=batch_id, first=first, count=count)
    fmt = LabelFormat(raw_format)
    layout = values.get("layout") or DEFAULT_LAYOUT
    options = LabelOptions(fmt, layout, dpi, left, top, check=values.get("check") == "on")
    return LabelForm(selection, options, errors)


def _preview(rt: Runtime, viewer: Viewer, values: Mapping[str, str]) -> tuple[str | None, str]:
    """(the preview image's URL, or None; why there is no preview)."""
    batch_id = optional_int(values.get("batch_id"))
    if batch_id is None:
        return None, "Choose a batch to see one of its labels."
    layout = values.get("layout") or DEFAULT_LAYOUT
    dpi = optional_int(values.get("dpi")) or 300
    try:
        labels.preview_svg(rt, viewer.principal, batch_id=batch_id, layout=layout, dpi=dpi)
    except ValidationError as exc:
        return None, exc.message
    query = urlencode({"batch_id": batch_id, "layout": layout, "dpi": dpi})
    return f"/labels/preview.svg?{query}", ""


def _page(
    request: Request,
    rt: Runtime,
    viewer: Viewer,
    values: Mapping[str, str],
    *,
    errors: FieldErrors | None = None,
    form_errors: list[str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    found = catalog.list_batches(rt, viewer.principal, limit=catalog.MAX_PAGE)
    batch_id = optional_int(values.get("batch_id"))
    preview_url, no_preview = _preview(rt, viewer, values)
    return render(
        request,
        "labels.html",
        viewer,
        batches=[b for b in found.items if b.unit_count],
        products={
            p.id: p.name for p in catalog.list_products(rt, viewer.principal, limit=500).items
        },
        layouts=labels.list_layouts(),
        formats=FORMATS,
        dpis=PRINTER_DPIS,
        form={"layout": DEFAULT_LAYOUT, "format": "pdf", "dpi": "300"} | dict(values),
        status=labels.label_status(rt, viewer.principal, batch_id=batch_id) if batch_id else None,
        jobs=labels.list_print_jobs(rt, viewer.principal, limit=RECENT_JOBS).items,
        preview_url=preview_url,
        no_preview=no_preview,
        errors=errors or {},
        form_errors=form_errors or [],
        status_code=status_code,
    )


@router.get("/labels")
def labels_page(request: Request, rt: RuntimeDep, viewer: ViewerDep) -> HTMLResponse:
    return _page(request, rt, viewer, dict(request.query_params))


def _rename(field: str) -> str | None:
    return {"selection": "batch_id", "codes": None}.get(field, field) or None


def _problems(exc: UnitraceError) -> tuple[FieldErrors, list[str]]:
    if isinstance(exc, ValidationError):
        return errors_from(exc, _rename)
    if isinstance(exc, PreflightFailedError) and isinstance(exc.details, list):
        shown = [f"{f['code']}: {f['reason']}" for f in exc.details[:SHOWN_FAILURES]]
        return {}, [exc.message, *shown]
    return {}, [exc.message]


@router.post("/labels")
def download(request: Request, rt: RuntimeDep, viewer: ViewerDep, form: CheckedForm) -> Response:
    """ "Preview" shows the chosen label (this works without JavaScript); "Download" sends
    the file and records the print job."""
    values = text_fields(form)
    if values.get("action") != "download":
        return redirect("/labels?" + urlencode({k: v for k, v in values.items() if k != "action"}))
    parsed = read_form(values)
    if parsed.selection is None or parsed.options is None:
        return _page(request, rt, viewer, values, errors=parsed.errors, status_code=422)
    try:
        return labels_download(
            rt, viewer.principal, selection=parsed.selection, options=parsed.options
        )
    except (ValidationError, PreflightFailedError, PermissionDeniedError) as exc:
        errors, general = _problems(exc)
        status = 403 if isinstance(exc, PermissionDeniedError) else 422
        return _page(
            request, rt, viewer, values, errors=errors, form_errors=general, status_code=status
        )


@router.get("/labels/preview.svg")
def preview(request: Request, rt: RuntimeDep, session: PageSession) -> Response:
    params: dict[str, Any] = dict(request.query_params)
    batch_id = optional_int(params.get("batch_id"))
    if batch_id is None:
        raise ValidationError("choose a batch")
    svg = labels.preview_svg(
        rt,
        session[0],
        batch_id=batch_id,
        layout=params.get("layout") or DEFAULT_LAYOUT,
        dpi=optional_int(params.get("dpi")) or 300,
    )
    return Response(svg, media_type="image/svg+xml", headers=SVG_HEADERS)
