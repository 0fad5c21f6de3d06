"""Event histories as EPCIS 2.0 documents, and the check of the event hash chain."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse

from unitrace.services import audit, history
from unitrace.web.api.params import IdPath
from unitrace.web.deps import ApiPrincipal, RuntimeDep
from unitrace.web.schemas import MAX_ID
from unitrace.web.schemas.audit import ChainReportPublic

router = APIRouter(tags=["history"])

EPCIS_MEDIA_TYPE = "application/ld+json"
EPCIS_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {EPCIS_MEDIA_TYPE: {}},
        "description": "An EPCIS 2.0 EPCISDocument (JSON-LD), events oldest first.",
    }
}
Code = Annotated[str, Path(max_length=100, examples=["7k3m-q9xw-2d4h-br"])]


def _epcis(document: dict[str, Any]) -> JSONResponse:
    return JSONResponse(document, media_type=EPCIS_MEDIA_TYPE)


@router.get("/units/{code}/events", response_class=JSONResponse, responses=EPCIS_RESPONSE)
def unit_events(code: Code, rt: RuntimeDep, principal: ApiPrincipal) -> JSONResponse:
    """Every event of a unit (its owner or current holder), as an EPCIS 2.0 document."""
    return _epcis(history.unit_epcis_document(rt, principal, code))


@router.get("/containers/{code}/events", response_class=JSONResponse, responses=EPCIS_RESPONSE)
def container_events(code: Code, rt: RuntimeDep, principal: ApiPrincipal) -> JSONResponse:
    """Every event of a case or pallet (its owner or current holder), as EPCIS 2.0."""
    return _epcis(history.container_epcis_document(rt, principal, code))


@router.get(
    "/shipments/{shipment_id}/events", response_class=JSONResponse, responses=EPCIS_RESPONSE
)
def shipment_events(shipment_id: IdPath, rt: RuntimeDep, principal: ApiPrincipal) -> JSONResponse:
    """The events of a shipment (shipper or destination), as an EPCIS 2.0 document."""
    return _epcis(history.shipment_epcis_document(rt, principal, shipment_id))


@router.get("/audit/verify")
def verify_chain(
    rt: RuntimeDep,
    principal: ApiPrincipal,
    organization_id: Annotated[
        int | None,
        Query(ge=1, le=MAX_ID, description="Another organization's chain (regulators only)."),
    ] = None,
) -> ChainReportPublic:
    """Recompute every event hash and chain link of the organization; name the first break."""
    report = audit.verify_chain(rt, principal, organization_id)
    return ChainReportPublic.of(report)
