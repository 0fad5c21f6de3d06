"""Products: a searchable list with a create form, and one product with its batches."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from unitrace.domain.labels import LabelTemplate, QrForm
from unitrace.domain.model import Product
from unitrace.errors import ConflictError, ValidationError
from unitrace.services import catalog
from unitrace.services.catalog import ProductDraft
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
LABEL_TEMPLATES = (
    (LabelTemplate.QR_ONLY.value, "QR code only"),
    (LabelTemplate.FINISHED_GOODS.value, "Finished goods (brand, lot, dates, THC/CBD, warnings)"),
)
QR_FORMS = (
    (QrForm.DIGITAL_LINK.value, "GS1 Digital Link (when the product has a GTIN)"),
    (QrForm.SHORT_URL.value, "Short URL (smaller QR code, for tiny packages)"),
)


def _label_settings(
    draft: ProductDraft | None, form: Mapping[str, str], errors: FieldErrors
) -> ProductDraft | None:
    """The draft with the label template and QR form chosen in the form."""
    template = form.get("label_template") or LabelTemplate.QR_ONLY.value
    qr_form = form.get("qr_form") or QrForm.DIGITAL_LINK.value
    if template not in set(LabelTemplate):
        errors["label_template"] = ["choose a label template"]
    if qr_form not in set(QrForm):
        errors["qr_form"] = ["choose what the QR code carries"]
    if draft is None or errors:
        return None
    return dataclasses.replace(
        draft, label_template=LabelTemplate(template), qr_form=QrForm(qr_form)
    )


def _draft_of(product: Product) -> ProductDraft:
    return ProductDraft(
        **{f.name: getattr(product, f.name) for f in dataclasses.fields(ProductDraft)}
    )


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
        label_templates=LABEL_TEMPLATES,
        qr_forms=QR_FORMS,
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
    parsed, errors = product_draft(values)
    draft = _label_settings(parsed, values, errors)
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


def _product_page(
    request: Request,
    rt: Runtime,
    viewer: Viewer,
    product_id: int,
    *,
    status_code: int = 200,
    **extra: object,
) -> HTMLResponse:
    product = catalog.get_product(rt, viewer.principal, product_id)
    batches = catalog.list_batches(rt, viewer.principal, product_id=product_id, limit=100)
    return render(
        request,
        "product.html",
        viewer,
        product=product,
        batches=batches,
        label_templates=LABEL_TEMPLATES,
        qr_forms=QR_FORMS,
        status_code=status_code,
        **({"errors": {}, "created": False, "labels_saved": False} | extra),
    )


@router.get("/products/{product_id:int}")
def product_details(
    request: Request,
    rt: RuntimeDep,
    viewer: ViewerDep,
    product_id: int,
    created: Annotated[str, Query()] = "",
    labels: Annotated[str, Query()] = "",
) -> HTMLResponse:
    return _product_page(
        request, rt, viewer, product_id, created=bool(created), labels_saved=bool(labels)
    )


@router.post("/products/{product_id:int}/label-settings")
def change_label_settings(
    request: Request, rt: RuntimeDep, viewer: ViewerDep, form: CheckedForm, product_id: int
) -> Response:
    """The brand's per-product choice of label template and QR form."""
    errors: FieldErrors = {}
    current = _draft_of(catalog.get_product(rt, viewer.principal, product_id))
    draft = _label_settings(current, text_fields(form), errors)
    if draft is None:
        return _product_page(request, rt, viewer, product_id, errors=errors, status_code=422)
    catalog.update_product(rt, viewer.principal, product_id=product_id, draft=draft)
    return redirect(f"/products/{product_id}?labels=1")
