"""The store counter: scan units into a basket, sell it once, take customer returns.

With JavaScript each scan is looked up at once (product, disposition, can it be sold here)
and the basket is sold as JSON under an idempotency key made once per basket, so a double
click or a retry never sells twice. Without it the same sale is a form with a textarea.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field

from unitrace.domain.lifecycle import MESSAGES, Operation, refusal_reason
from unitrace.domain.model import Location, LocationKind, UnitView
from unitrace.errors import ConflictError, NotFoundError, UnitraceError, ValidationError
from unitrace.services import organizations, retail, units
from unitrace.services.runtime import Runtime
from unitrace.web.deps import PageSession, RuntimeDep
from unitrace.web.pages.common import (
    CheckedForm,
    Viewer,
    ViewerDep,
    optional_int,
    render,
    text_fields,
)
from unitrace.web.pages.supply import (
    MAX_SCAN_LENGTH,
    CsrfHeader,
    answer,
    json_error,
    new_key,
    problems,
    refusals_by_code,
    scan_lines,
)

router = APIRouter()
_Failure = (ValidationError, NotFoundError, ConflictError)


class SaleIn(BaseModel):
    location_id: int
    codes: list[str] = Field(max_length=1000)
    idempotency_key: str | None = Field(default=None, max_length=200)


def _stores(rt: Runtime, viewer: Viewer) -> list[Location]:
    places = organizations.list_locations(rt, viewer.principal)
    return [p for p in places if p.kind is LocationKind.STORE] or places


def _pos_page(
    request: Request,
    rt: Runtime,
    viewer: Viewer,
    *,
    location_id: int | None,
    tab: str,
    status_code: int = 200,
    **extra: Any,
) -> HTMLResponse:
    stores = _stores(rt, viewer)
    chosen = next((s for s in stores if s.id == location_id), stores[0] if stores else None)
    return render(
        request,
        "pos.html",
        viewer,
        stores=stores,
        store=chosen,
        tab="return" if tab == "return" else "sell",
        idempotency_key=new_key(),
        status_code=status_code,
        **({"form": {}, "form_errors": [], "sale": None, "returned": None} | extra),
    )


@router.get("/pos")
def counter(
    request: Request,
    rt: RuntimeDep,
    viewer: ViewerDep,
    location_id: Annotated[str, Query()] = "",
    tab: Annotated[str, Query()] = "sell",
) -> HTMLResponse:
    return _pos_page(request, rt, viewer, location_id=optional_int(location_id), tab=tab)


def line_for(view: UnitView, location_id: int | None) -> dict[str, Any]:
    """What the basket shows for one scanned unit, and whether it can be sold here."""
    unit = view.unit
    reason = refusal_reason(Operation.SELL, unit.disposition)
    if reason is None and location_id is not None and unit.location_id != location_id:
        reason = "not_at_this_store"
    message = MESSAGES.get(reason, "") if reason else ""
    if reason == "not_at_this_store":
        message = f"the unit is at {view.location_name or 'another location'}"
    return {
        "code": unit.code,
        "product": view.product_name,
        "lot": view.lot_number,
        "disposition": unit.disposition.value,
        "sellable": reason is None,
        "reason": reason,
        "message": message,
    }


@router.get("/pos/lookup.json")
def lookup(
    rt: RuntimeDep,
    session: PageSession,
    code: Annotated[str, Query(max_length=MAX_SCAN_LENGTH)] = "",
    location_id: Annotated[str, Query()] = "",
) -> JSONResponse:
    try:
        view = units.get_unit_by_scan(rt, session[0], code)
    except UnitraceError as exc:
        return json_error(exc)
    return JSONResponse(line_for(view, optional_int(location_id)))


def _sale(sale: retail.Sale) -> dict[str, Any]:
    return {
        "event_id": sale.event_id,
        "codes": list(sale.codes),
        "count": len(sale.codes),
        "sold_at": sale.sold_at.isoformat(),
        "replayed": sale.replayed,
    }


@router.post("/pos/sell.json")
def sell_json(
    rt: RuntimeDep, session: PageSession, body: SaleIn, csrf: CsrfHeader = ""
) -> Response:
    def call() -> dict[str, Any]:
        sale = retail.sell(
            rt,
            session[0],
            location_id=body.location_id,
            codes=body.codes,
            idempotency_key=body.idempotency_key,
            terminal="web",
        )
        return _sale(sale)

    return answer(session, csrf, call)


@router.post("/pos/sell")
def sell_form(request: Request, rt: RuntimeDep, viewer: ViewerDep, form: CheckedForm) -> Response:
    values = text_fields(form)
    location_id = optional_int(values.get("location_id"))
    try:
        sale = retail.sell(
            rt,
            viewer.principal,
            location_id=location_id or 0,
            codes=scan_lines(values.get("codes", "")),
            idempotency_key=values.get("idempotency_key") or None,
            terminal="web",
        )
    except _Failure as exc:
        status = 422 if isinstance(exc, ValidationError) else 409
        return _pos_page(
            request,
            rt,
            viewer,
            location_id=location_id,
            tab="sell",
            form=values,
            form_errors=problems(exc),
            refused=refusals_by_code(exc),
            status_code=status,
        )
    return _pos_page(request, rt, viewer, location_id=location_id, tab="sell", sale=sale)


@router.post("/pos/return")
def return_form(request: Request, rt: RuntimeDep, viewer: ViewerDep, form: CheckedForm) -> Response:
    values = text_fields(form)
    location_id = optional_int(values.get("location_id"))
    action = values.get("action", "")
    try:
        if action not in retail.RETURN_ACTIONS:
            raise ValidationError("choose restock or quarantine")
        result = retail.return_unit(
            rt,
            viewer.principal,
            location_id=location_id or 0,
            code=values.get("code", ""),
            action="restock" if action == "restock" else "quarantine",
            idempotency_key=values.get("idempotency_key") or None,
        )
    except _Failure as exc:
        status = 422 if isinstance(exc, ValidationError) else 409
        return _pos_page(
            request,
            rt,
            viewer,
            location_id=location_id,
            tab="return",
            form=values,
            form_errors=problems(exc),
            status_code=status,
        )
    return _pos_page(request, rt, viewer, location_id=location_id, tab="return", returned=result)
