"""Shipments: incoming and outgoing lists, a draft's form, one shipment with its manifest,
its actions (ship, cancel, void) and, once received, the receipt report."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from unitrace.errors import ConflictError, NotFoundError, ValidationError
from unitrace.services import destinations, organizations, shipments
from unitrace.services.runtime import Runtime
from unitrace.web.deps import RuntimeDep
from unitrace.web.pages.common import (
    PAGE_SIZE,
    CheckedForm,
    Viewer,
    ViewerDep,
    page_number,
    pager,
    redirect,
    render,
    text_fields,
)
from unitrace.web.pages.supply import new_key, problems, scan_lines

router = APIRouter()
DIRECTIONS = ("all", "incoming", "outgoing")
STATUSES = (
    "draft",
    "shipped",
    "received",
    "received_with_discrepancies",
    "rejected",
    "voided",
    "cancelled",
)
REPORTED = ("received", "received_with_discrepancies", "rejected")
_Failure = (ValidationError, NotFoundError, ConflictError)


@router.get("/shipments")
def list_shipments(request: Request, rt: RuntimeDep, viewer: ViewerDep) -> HTMLResponse:
    params = request.query_params
    direction = params.get("direction") if params.get("direction") in DIRECTIONS else "all"
    status = params.get("status") if params.get("status") in STATUSES else None
    page = page_number(params.get("page"))
    found = shipments.list_shipments(
        rt,
        viewer.principal,
        direction=direction or "all",
        status=status,
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    return render(
        request,
        "shipments.html",
        viewer,
        shipments=found.items,
        pager=pager(request, found),
        direction=direction,
        status=status,
        statuses=STATUSES,
    )


def _new_page(
    request: Request,
    rt: Runtime,
    viewer: Viewer,
    *,
    form: dict[str, str],
    form_errors: list[str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "shipment_new.html",
        viewer,
        destinations=destinations.list_destinations(rt, viewer.principal),
        locations=organizations.list_locations(rt, viewer.principal),
        form=form,
        form_errors=form_errors or [],
        status_code=status_code,
    )


@router.get("/shipments/new")
def new_shipment(request: Request, rt: RuntimeDep, viewer: ViewerDep) -> HTMLResponse:
    return _new_page(request, rt, viewer, form={})


def _destination(raw: str) -> tuple[int, int]:
    """``"organization:location"`` as the destination select sends it."""
    org, _, location = raw.partition(":")
    try:
        return int(org), int(location)
    except ValueError:
        raise ValidationError("choose where the shipment goes") from None


def _date(raw: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(raw) if raw.strip() else None
    except ValueError:
        raise ValidationError(f"'{raw}' is not a date; use YYYY-MM-DD") from None


@router.post("/shipments")
def create_shipment(
    request: Request, rt: RuntimeDep, viewer: ViewerDep, form: CheckedForm
) -> Response:
    values = text_fields(form)
    try:
        organization_id, location_id = _destination(values.get("destination", ""))
        source = values.get("source_location_id", "").strip()
        view = shipments.create_shipment(
            rt,
            viewer.principal,
            destination_organization_id=organization_id,
            destination_location_id=location_id,
            items=scan_lines(values.get("items", "")),
            source_location_id=int(source) if source.isdigit() else None,
            expected_arrival=_date(values.get("expected_arrival", "")),
            notes=values.get("notes", "").strip(),
        )
    except _Failure as exc:
        status = 422 if isinstance(exc, ValidationError) else 409
        return _new_page(
            request, rt, viewer, form=values, form_errors=problems(exc), status_code=status
        )
    return redirect(f"/shipments/{view.id}?done=created")


def _shipment_page(
    request: Request,
    rt: Runtime,
    viewer: Viewer,
    shipment_id: int,
    *,
    status_code: int = 200,
    **extra: Any,
) -> HTMLResponse:
    view = shipments.get_shipment(rt, viewer.principal, shipment_id)
    outgoing = view.organization_id == viewer.principal.organization_id
    incoming = view.destination_organization_id == viewer.principal.organization_id
    report = (
        shipments.receipt_report(rt, viewer.principal, shipment_id)
        if view.status in REPORTED
        else None
    )
    return render(
        request,
        "shipment.html",
        viewer,
        view=view,
        outgoing=outgoing,
        incoming=incoming,
        report=report,
        idempotency_key=new_key(),
        status_code=status_code,
        **({"form": {}, "form_errors": [], "done": ""} | extra),
    )


@router.get("/shipments/{shipment_id:int}")
def shipment_details(
    request: Request,
    rt: RuntimeDep,
    viewer: ViewerDep,
    shipment_id: int,
    done: Annotated[str, Query()] = "",
) -> HTMLResponse:
    return _shipment_page(request, rt, viewer, shipment_id, done=done)


def _act(
    request: Request,
    rt: Runtime,
    viewer: Viewer,
    shipment_id: int,
    values: dict[str, str],
    done: str,
    call: Callable[[], object],
) -> Response:
    """Run one action on the shipment; its refusal is shown on the shipment's page."""
    try:
        call()
    except _Failure as exc:
        status = 422 if isinstance(exc, ValidationError) else 409
        return _shipment_page(
            request,
            rt,
            viewer,
            shipment_id,
            form=values,
            form_errors=problems(exc),
            status_code=status,
        )
    return redirect(f"/shipments/{shipment_id}?done={done}")


@router.post("/shipments/{shipment_id:int}/items")
def add_items(
    request: Request, rt: RuntimeDep, viewer: ViewerDep, form: CheckedForm, shipment_id: int
) -> Response:
    values = text_fields(form)
    items = scan_lines(values.get("items", ""))
    return _act(
        request,
        rt,
        viewer,
        shipment_id,
        values,
        "added",
        lambda: shipments.add_items(rt, viewer.principal, shipment_id, items),
    )


@router.post("/shipments/{shipment_id:int}/ship")
def ship(
    request: Request, rt: RuntimeDep, viewer: ViewerDep, form: CheckedForm, shipment_id: int
) -> Response:
    values = text_fields(form)
    key = values.get("idempotency_key") or None
    return _act(
        request,
        rt,
        viewer,
        shipment_id,
        values,
        "shipped",
        lambda: shipments.ship(rt, viewer.principal, shipment_id, idempotency_key=key),
    )


@router.post("/shipments/{shipment_id:int}/cancel")
def cancel(
    request: Request, rt: RuntimeDep, viewer: ViewerDep, form: CheckedForm, shipment_id: int
) -> Response:
    return _act(
        request,
        rt,
        viewer,
        shipment_id,
        text_fields(form),
        "cancelled",
        lambda: shipments.cancel_shipment(rt, viewer.principal, shipment_id),
    )


@router.post("/shipments/{shipment_id:int}/void")
def void(
    request: Request, rt: RuntimeDep, viewer: ViewerDep, form: CheckedForm, shipment_id: int
) -> Response:
    values = text_fields(form)
    reason = values.get("reason", "").strip()
    return _act(
        request,
        rt,
        viewer,
        shipment_id,
        values,
        "voided",
        lambda: shipments.void_shipment(rt, viewer.principal, shipment_id, reason=reason),
    )


@router.post("/shipments/{shipment_id:int}/undo-receipt")
def undo_receipt(
    request: Request, rt: RuntimeDep, viewer: ViewerDep, form: CheckedForm, shipment_id: int
) -> Response:
    values = text_fields(form)
    reason = values.get("reason", "").strip()
    return _act(
        request,
        rt,
        viewer,
        shipment_id,
        values,
        "undone",
        lambda: shipments.undo_receipt(rt, viewer.principal, shipment_id, reason=reason),
    )
