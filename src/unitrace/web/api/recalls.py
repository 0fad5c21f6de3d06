"""Recalls: drafts and their preview, activation, the reach report (JSON, CSV, EPCIS),
holders' confirmations, release, destruction and closing."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse, StreamingResponse

from unitrace.services import exports, recalls
from unitrace.web.api.exports import closing_stream
from unitrace.web.api.history import EPCIS_MEDIA_TYPE, EPCIS_RESPONSE
from unitrace.web.api.params import IdPath, Limit, Offset
from unitrace.web.deps import ApiPrincipal, RuntimeDep
from unitrace.web.downloads import attachment
from unitrace.web.schemas.recalls import (
    ActivationPublic,
    ConfirmCreate,
    DestroyCreate,
    HeldCodesPublic,
    HeldRecallsPublic,
    PreviewPublic,
    RecallCreate,
    RecallPublic,
    RecallsPublic,
    RecallStatus,
    ReleaseCreate,
    ReportPublic,
    UnitsChangedPublic,
)

router = APIRouter(tags=["recalls"])

STATE: dict[int | str, dict[str, Any]] = {
    409: {"description": "`conflict`: the recall is not in a status that allows this."}
}
REFUSED_OR_STATE: dict[int | str, dict[str, Any]] = {
    409: {
        "description": "`refused` (`details` lists every code with its `reason`), or "
        "`conflict`: the recall is not active."
    }
}


@router.post("/recalls", status_code=201)
def create_recall(body: RecallCreate, rt: RuntimeDep, principal: ApiPrincipal) -> RecallPublic:
    """A draft recall (brands and regulators). Its scope is the union of whole batches,
    products (within the production dates, if given), the current contents of cases and
    pallets, and explicit unit codes. Nothing changes for any unit until it is activated."""
    return RecallPublic.of(recalls.create_recall(rt, principal, body.to_draft()))


@router.get("/recalls")
def list_recalls(
    rt: RuntimeDep,
    principal: ApiPrincipal,
    status: RecallStatus | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> RecallsPublic:
    """Your recalls, newest first; for a regulator, every recall issued in its market."""
    page = recalls.list_recalls(rt, principal, status=status, limit=limit, offset=offset)
    return RecallsPublic.of(page)


@router.get("/recalls/held")
def held(rt: RuntimeDep, principal: ApiPrincipal) -> HeldRecallsPublic:
    """Active recalls whose recalled units you hold, per location, with the retailer
    instructions and how many you have confirmed."""
    return HeldRecallsPublic.of(recalls.held(rt, principal))


@router.post("/recalls/confirm", responses=REFUSED_OR_STATE)
def confirm(body: ConfirmCreate, rt: RuntimeDep, principal: ApiPrincipal) -> UnitsChangedPublic:
    """Confirm by scanning that recalled units you hold are ``quarantined`` (set apart, off
    sale) or ``returned`` to the brand. All or nothing: 409 ``refused`` names every code that
    is not a recalled unit of an active recall that you hold."""
    changed = recalls.confirm(
        rt, principal, codes=body.codes, action=body.action, location_id=body.location_id
    )
    return UnitsChangedPublic.of(changed)


@router.get("/recalls/{recall_id}")
def get_recall(recall_id: IdPath, rt: RuntimeDep, principal: ApiPrincipal) -> RecallPublic:
    """A recall you issued (a regulator: any of its market)."""
    return RecallPublic.of(recalls.get_recall(rt, principal, recall_id))


@router.put("/recalls/{recall_id}", responses=STATE)
def update_recall(
    recall_id: IdPath, body: RecallCreate, rt: RuntimeDep, principal: ApiPrincipal
) -> RecallPublic:
    """Replace a draft's text and scope (the whole definition, as on creation)."""
    return RecallPublic.of(recalls.update_recall(rt, principal, recall_id, body.to_draft()))


@router.delete("/recalls/{recall_id}", status_code=204, responses=STATE)
def discard_recall(recall_id: IdPath, rt: RuntimeDep, principal: ApiPrincipal) -> Response:
    """Discard a draft (an active recall is closed, never deleted)."""
    recalls.discard_recall(rt, principal, recall_id)
    return Response(status_code=204)


@router.get("/recalls/{recall_id}/preview")
def preview(recall_id: IdPath, rt: RuntimeDep, principal: ApiPrincipal) -> PreviewPublic:
    """How many units the recall covers, by disposition and by holder, and how many
    activating it would make ``recalled`` (live for a draft)."""
    return PreviewPublic.of(recalls.preview(rt, principal, recall_id))


@router.post("/recalls/{recall_id}/activate", responses=STATE)
def activate(recall_id: IdPath, rt: RuntimeDep, principal: ApiPrincipal) -> ActivationPublic:
    """Activate a draft (admins): in one transaction every unit in scope that can still be
    recalled becomes ``recalled`` (one EPCIS event); sales of them are refused from then on,
    and every holder is notified with its affected units."""
    return ActivationPublic.of(recalls.activate(rt, principal, recall_id))


@router.get("/recalls/{recall_id}/report", responses=STATE)
def report(recall_id: IdPath, rt: RuntimeDep, principal: ApiPrincipal) -> ReportPublic:
    """The live reach report: units per category, per holder, the sold ones, and the
    progress (share of unsold units secured)."""
    return ReportPublic.of(recalls.report_json(recalls.report(rt, principal, recall_id)))


@router.get(
    "/recalls/{recall_id}/report.csv",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"text/csv": {}},
            "description": "Every unit of the recall with its category, holder and outcome "
            "(formula-safe cells, UTF-8 with BOM).",
        },
        **STATE,
    },
)
def report_csv(recall_id: IdPath, rt: RuntimeDep, principal: ApiPrincipal) -> Response:
    """The reach report unit by unit, as CSV, streamed (409 for a draft)."""
    rows = recalls.report_rows(rt, principal, recall_id)  # the caller is checked here
    number = recalls.get_recall(rt, principal, recall_id).number
    return StreamingResponse(
        closing_stream(exports.table_csv_chunks(recalls.REPORT_COLUMNS, rows), rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": attachment(f"{number}-reach.csv")},
    )


@router.get("/recalls/{recall_id}/events", response_class=JSONResponse, responses=EPCIS_RESPONSE)
def events(recall_id: IdPath, rt: RuntimeDep, principal: ApiPrincipal) -> JSONResponse:
    """The events the recall recorded (activation, confirmations, releases, destructions),
    as an EPCIS 2.0 document."""
    document = recalls.epcis_document(rt, principal, recall_id)
    return JSONResponse(document, media_type=EPCIS_MEDIA_TYPE)


@router.get("/recalls/{recall_id}/held")
def held_codes(recall_id: IdPath, rt: RuntimeDep, principal: ApiPrincipal) -> HeldCodesPublic:
    """Your recalled units of an active recall (first 500): code, location, confirmation."""
    return HeldCodesPublic.of(recalls.held_codes(rt, principal, recall_id))


@router.post("/recalls/{recall_id}/release", responses=REFUSED_OR_STATE)
def release(
    recall_id: IdPath, body: ReleaseCreate, rt: RuntimeDep, principal: ApiPrincipal
) -> UnitsChangedPublic:
    """Release units a mistaken recall caught (``codes``, or ``all``), with a reason (the
    issuer's admins): each goes back to its disposition before the recall, as a corrective
    event."""
    changed = recalls.release(rt, principal, recall_id, reason=body.reason, codes=body.codes)
    return UnitsChangedPublic.of(changed)


@router.post("/recalls/{recall_id}/destroy", responses=REFUSED_OR_STATE)
def destroy(
    recall_id: IdPath, body: DestroyCreate, rt: RuntimeDep, principal: ApiPrincipal
) -> UnitsChangedPublic:
    """Destroy recalled units you hold (``codes``, or all of them): one ``destroying``
    event; they leave their cases and pallets."""
    changed = recalls.destroy(rt, principal, recall_id, codes=body.codes, reason=body.reason)
    return UnitsChangedPublic.of(changed)


@router.post("/recalls/{recall_id}/close", responses=STATE)
def close(recall_id: IdPath, rt: RuntimeDep, principal: ApiPrincipal) -> RecallPublic:
    """Close an active recall; its final reach report is kept with it."""
    return RecallPublic.of(recalls.close(rt, principal, recall_id))
