"""Receiving with a keyboard-wedge scanner: one scan at a time, classified at once against
the manifest, then the receipt completed (accept, reject some items, or reject it all).

With JavaScript each scan is sent as JSON and its result added to the live list; without,
the same form posts and the page comes back with the list.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field

from unitrace.errors import ConflictError, NotFoundError, ValidationError
from unitrace.services import shipments
from unitrace.services.runtime import Runtime
from unitrace.web.deps import PageSession, RuntimeDep
from unitrace.web.pages.common import (
    CheckedForm,
    Viewer,
    ViewerDep,
    redirect,
    render,
    text_fields,
)
from unitrace.web.pages.supply import (
    MAX_SCAN_LENGTH,
    CsrfHeader,
    answer,
    new_key,
    problems,
    scan_lines,
)

router = APIRouter()
DISCREPANCIES = ("unexpected", "unknown", "already_received")
_Failure = (ValidationError, NotFoundError, ConflictError)


class ScanIn(BaseModel):
    raw: str = Field(max_length=MAX_SCAN_LENGTH)


@router.get("/receiving")
def incoming(request: Request, rt: RuntimeDep, viewer: ViewerDep) -> HTMLResponse:
    found = shipments.list_shipments(
        rt, viewer.principal, direction="incoming", status="shipped", limit=100
    )
    return render(request, "receiving_list.html", viewer, shipments=found.items)


def progress(view: shipments.ShipmentView, scans: list[dict[str, Any]]) -> dict[str, int]:
    """ "Scanned X of Y units": expected units scanned so far, of those still in transit."""
    scanned = sum(int(s["units"]) for s in scans if s["result"] == "expected")
    return {"scanned": scanned, "expected": view.manifest.get("in_transit", 0)}


def _receiving_page(
    request: Request,
    rt: Runtime,
    viewer: Viewer,
    shipment_id: int,
    *,
    status_code: int = 200,
    **extra: Any,
) -> HTMLResponse:
    view = shipments.get_shipment(rt, viewer.principal, shipment_id)
    if view.status != "shipped" or view.destination_organization_id != (
        viewer.principal.organization_id
    ):
        raise ConflictError(f"shipment {view.number} is {view.status}: nothing to receive here")
    scans = shipments.scans(rt, viewer.principal, shipment_id)
    return render(
        request,
        "receiving.html",
        viewer,
        view=view,
        scans=list(reversed(scans)),
        accepted=[s for s in scans if s["result"] == "expected" and not s["rejected"]],
        discrepancies=[s for s in reversed(scans) if s["result"] in DISCREPANCIES],
        progress=progress(view, scans),
        idempotency_key=new_key(),
        status_code=status_code,
        **({"form_errors": []} | extra),
    )


@router.get("/shipments/{shipment_id:int}/receive")
def receiving(
    request: Request, rt: RuntimeDep, viewer: ViewerDep, shipment_id: int
) -> HTMLResponse:
    return _receiving_page(request, rt, viewer, shipment_id)


@router.post("/shipments/{shipment_id:int}/scan")
def scan_form(
    request: Request, rt: RuntimeDep, viewer: ViewerDep, form: CheckedForm, shipment_id: int
) -> Response:
    raw = text_fields(form).get("raw", "")
    try:
        shipments.scan(rt, viewer.principal, raw, shipment_id=shipment_id)
    except _Failure as exc:
        status = 422 if isinstance(exc, ValidationError) else 409
        return _receiving_page(
            request, rt, viewer, shipment_id, form_errors=problems(exc), status_code=status
        )
    return redirect(f"/shipments/{shipment_id}/receive")


@router.post("/shipments/{shipment_id:int}/scan.json")
def scan_json(
    rt: RuntimeDep,
    session: PageSession,
    shipment_id: int,
    body: ScanIn,
    csrf: CsrfHeader = "",
) -> Response:
    def call() -> dict[str, Any]:
        outcome = shipments.scan(rt, session[0], body.raw, shipment_id=shipment_id)
        return outcome.__dict__

    return answer(session, csrf, call)


@router.post("/shipments/{shipment_id:int}/receipt")
def complete_receipt(
    request: Request, rt: RuntimeDep, viewer: ViewerDep, form: CheckedForm, shipment_id: int
) -> Response:
    values = text_fields(form)
    reject = [str(v) for v in form.getlist("reject") if isinstance(v, str) and v]
    reject += scan_lines(values.get("reject_codes", ""))
    try:
        shipments.complete_receipt(
            rt,
            viewer.principal,
            shipment_id,
            decision=values.get("decision", "accept"),
            reject=list(dict.fromkeys(reject)),
            idempotency_key=values.get("idempotency_key") or None,
        )
    except _Failure as exc:
        status = 422 if isinstance(exc, ValidationError) else 409
        return _receiving_page(
            request, rt, viewer, shipment_id, form_errors=problems(exc), status_code=status
        )
    return redirect(f"/shipments/{shipment_id}?done=received#receipt-report")
