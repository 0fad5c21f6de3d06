"""Products: a searchable list with a create form, and one product with its batches."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from unitrace.errors import ConflictError, ValidationError
from unitrace.services import catalog
from unitrace.services.runtime import Runtime
from unitrace.web.deps import RuntimeDep
from unitrace.web.pages.common import (
    PAGE_SIZE,
    CheckedForm,
    FieldErrors,
    Viewer,
    ViewerDep,
    errors_from,
    page_number,
    pager,
    redirect,
    render,
    text_fields,
)
from unitrace.web.pages.forms import product_draft

router = APIRouter()


def _list_page(
    request: Request,
    rt: Runtime,
    viewer: Viewer,
    *,
    form: dict[str, str] | None = None,
    errors: FieldErrors | None = None,
    form_errors: list[str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    search = request.query_params.get("q", "").strip()
    page = page_number(request.query_params.get("page"))
    found = catalog.list_products(
        rt, viewer.principal, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE, search=search or None
    )
    return render(
        request,
        "products.html",
        viewer,
        products=found.items,
        pager=pager(request, found),
        search=search,
        categories=catalog.CATEGORIES,
        content_units=catalog.CONTENT_UNITS,
        form=form or {},
        errors=errors or {},
        form_errors=form_errors or [],
        status_code=status_code,
    )


@router.get("/products")
def list_products(request: Request, rt: RuntimeDep, viewer: ViewerDep) -> HTMLResponse:
    return _list_page(request, rt, viewer)


@router.post("/products")
def create_product(
    request: Request, rt: RuntimeDep, viewer: ViewerDep, form: CheckedForm
) -> Response:
    values = text_fields(form)
    draft, errors = product_draft(values)
    general: list[str] = []
    if draft is not None:
        try:
            product = catalog.create_product(rt, viewer.principal, draft)
        except ValidationError as exc:
            errors, general = errors_from(exc)
        except ConflictError as exc:
            general = [exc.message]
        else:
            return redirect(f"/products/{product.id}?created=1")
    return _list_page(
        request, rt, viewer, form=values, errors=errors, form_errors=general, status_code=422
    )


@router.get("/products/{product_id:int}")
def product_details(
    request: Request,
    rt: RuntimeDep,
    viewer: ViewerDep,
    product_id: int,
    created: Annotated[str, Query()] = "",
) -> HTMLResponse:
    product = catalog.get_product(rt, viewer.principal, product_id)
    batches = catalog.list_batches(rt, viewer.principal, product_id=product_id, limit=100)
    return render(
        request, "product.html", viewer, product=product, batches=batches, created=bool(created)
    )
