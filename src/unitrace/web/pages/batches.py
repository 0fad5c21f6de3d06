"""Batches: list and create (with lab results), one batch with its COA and commissioning."""

from __future__ import annotations

import secrets
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import UploadFile

from unitrace.domain.model import LabStatus, PanelResult
from unitrace.errors import BatchNotReleasedError, ConflictError, ValidationError
from unitrace.services import catalog, organizations, serialization
from unitrace.services.runtime import Runtime
from unitrace.web.deps import PageSession, RuntimeDep
from unitrace.web.pages.common import (
    PAGE_SIZE,
    CheckedForm,
    FieldErrors,
    Viewer,
    ViewerDep,
    errors_from,
    optional_enum,
    optional_int,
    page_number,
    pager,
    redirect,
    render,
    text_fields,
)
from unitrace.web.pages.forms import (
    CANNABINOID_TOTALS,
    STANDARD_PANELS,
    TERPENE_ROWS,
    batch_draft,
    commission_quantity,
)

router = APIRouter()


def _product_names(rt: Runtime, viewer: Viewer) -> dict[int, str]:
    products = catalog.list_products(rt, viewer.principal, limit=catalog.MAX_PAGE)
    return {p.id: p.name for p in products.items}


@router.get("/batches")
def list_batches(request: Request, rt: RuntimeDep, viewer: ViewerDep) -> HTMLResponse:
    params = request.query_params
    status = optional_enum(LabStatus, params.get("lab_status"))
    product_id = optional_int(params.get("product_id"))
    page = page_number(params.get("page"))
    found = catalog.list_batches(
        rt,
        viewer.principal,
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
        product_id=product_id,
        lab_status=status,
    )
    return render(
        request,
        "batches.html",
        viewer,
        batches=found.items,
        pager=pager(request, found),
        products=_product_names(rt, viewer),
        lab_status=status,
        product_id=product_id,
        statuses=list(LabStatus),
    )


def _new_batch_page(
    request: Request,
    rt: Runtime,
    viewer: Viewer,
    *,
    form: dict[str, str],
    errors: FieldErrors | None = None,
    form_errors: list[str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "batch_new.html",
        viewer,
        products=_product_names(rt, viewer),
        form=form,
        errors=errors or {},
        form_errors=form_errors or [],
        statuses=list(LabStatus),
        units=catalog.ANALYTE_UNITS,
        totals=CANNABINOID_TOTALS,
        terpene_rows=range(TERPENE_ROWS),
        panels=STANDARD_PANELS,
        panel_results=list(PanelResult),
        status_code=status_code,
    )


@router.get("/batches/new")
def new_batch(
    request: Request,
    rt: RuntimeDep,
    viewer: ViewerDep,
    product_id: Annotated[str, Query()] = "",
) -> HTMLResponse:
    return _new_batch_page(request, rt, viewer, form={"product_id": product_id})


@router.post("/batches")
def create_batch(
    request: Request, rt: RuntimeDep, viewer: ViewerDep, form: CheckedForm
) -> Response:
    values = text_fields(form)
    parsed = batch_draft(values)
    errors, general = parsed.errors, list[str]()
    if parsed.draft is not None:
        try:
            batch = catalog.create_batch(rt, viewer.principal, parsed.draft)
        except ValidationError as exc:
            errors, general = errors_from(exc, parsed.input_for)
        except ConflictError as exc:
            errors = {"lot_number": [exc.message]}
        else:
            return redirect(f"/batches/{batch.id}?created=1")
    return _new_batch_page(
        request, rt, viewer, form=values, errors=errors, form_errors=general, status_code=422
    )


def _batch_page(
    request: Request,
    rt: Runtime,
    viewer: Viewer,
    batch_id: int,
    *,
    status_code: int = 200,
    **extra: Any,
) -> HTMLResponse:
    batch = catalog.get_batch(rt, viewer.principal, batch_id)
    return render(
        request,
        "batch.html",
        viewer,
        batch=batch,
        product=catalog.get_product(rt, viewer.principal, batch.product_id),
        locations=organizations.list_locations(rt, viewer.principal),
        # A fresh key per rendering: one form, one commissioning, however often it is sent.
        idempotency_key=f"web-{secrets.token_urlsafe(18)}",
        status_code=status_code,
        **({"errors": {}, "form": {}} | extra),
    )


@router.get("/batches/{batch_id:int}")
def batch_details(
    request: Request,
    rt: RuntimeDep,
    viewer: ViewerDep,
    batch_id: int,
    created: Annotated[str, Query()] = "",
    coa: Annotated[str, Query()] = "",
) -> HTMLResponse:
    return _batch_page(request, rt, viewer, batch_id, created=bool(created), coa_saved=bool(coa))


@router.post("/batches/{batch_id:int}/commission")
def commission(
    request: Request, rt: RuntimeDep, viewer: ViewerDep, form: CheckedForm, batch_id: int
) -> HTMLResponse:
    """Commission units; the form's hidden key makes a double submit answer, not repeat."""
    values = text_fields(form)
    quantity, location_id, errors = commission_quantity(values)
    if quantity is None or errors:
        return _batch_page(
            request, rt, viewer, batch_id, errors=errors, form=values, status_code=422
        )
    try:
        result = serialization.commission_units(
            rt,
            viewer.principal,
            batch_id=batch_id,
            quantity=quantity,
            location_id=location_id,
            idempotency_key=values.get("idempotency_key") or None,
        )
    except (ValidationError, BatchNotReleasedError, ConflictError) as exc:
        status = 422 if isinstance(exc, ValidationError) else 409
        return _batch_page(
            request,
            rt,
            viewer,
            batch_id,
            errors={"quantity": [exc.message]},
            form=values,
            status_code=status,
        )
    return _batch_page(request, rt, viewer, batch_id, commissioned=result)


@router.post("/batches/{batch_id:int}/coa")
def upload_coa(
    request: Request, rt: RuntimeDep, viewer: ViewerDep, form: CheckedForm, batch_id: int
) -> Response:
    upload = form.get("coa")
    if not isinstance(upload, UploadFile):
        return _batch_page(
            request, rt, viewer, batch_id, errors={"coa": ["choose a file"]}, status_code=422
        )
    # Read one byte past the limit so the service can refuse an oversized file by size.
    content = upload.file.read(rt.settings.max_upload_bytes + 1)
    try:
        catalog.attach_coa(
            rt,
            viewer.principal,
            batch_id=batch_id,
            filename=upload.filename or "coa",
            content_type=upload.content_type or "",
            content=content,
        )
    except ValidationError as exc:
        return _batch_page(
            request, rt, viewer, batch_id, errors={"coa": [exc.message]}, status_code=422
        )
    return redirect(f"/batches/{batch_id}?coa=1")


@router.get("/batches/{batch_id:int}/coa")
def download_coa(rt: RuntimeDep, session: PageSession, batch_id: int) -> Response:
    document, content = catalog.read_coa(rt, session[0], batch_id=batch_id)
    fallback = document.filename.encode("ascii", "replace").decode().replace("?", "_")
    encoded = quote(document.filename)
    disposition = f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"
    return Response(
        content,
        media_type=document.content_type,
        headers={"Content-Disposition": disposition, "X-Content-Type-Options": "nosniff"},
    )
