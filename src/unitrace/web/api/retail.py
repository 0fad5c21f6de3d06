"""The store counter and the stock room: sales, returns, undoing a sale, dispositions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from unitrace.domain.lifecycle import Operation
from unitrace.services import relocation, retail
from unitrace.web.api.shipments import IdempotencyKey
from unitrace.web.api.units import REPLAY_HEADER
from unitrace.web.deps import ApiPrincipal, RuntimeDep
from unitrace.web.schemas import (
    DispositionChange,
    DispositionPublic,
    RelocationCreate,
    RelocationPublic,
    ReturnCreate,
    ReturnPublic,
    SaleCreate,
    SalePublic,
    UndoSaleCreate,
    UndoSalePublic,
)

router = APIRouter(tags=["retail"])

REFUSED: dict[int | str, dict[str, Any]] = {
    409: {"description": "`refused`: `details` lists every code with its `reason`."}
}


def _replay(response: Response, replayed: bool) -> None:
    if replayed:
        response.status_code = 200
    response.headers[REPLAY_HEADER] = "true" if replayed else "false"


@router.post(
    "/sales",
    status_code=201,
    responses={
        200: {"model": SalePublic, "description": "A replay of an earlier request."},
        409: {
            "description": "`refused` (e.g. `already_sold`, `recalled`, `expired`, "
            "`not_at_this_store`) per code in `details`, or `idempotency_key_reused`."
        },
    },
)
def sell(
    body: SaleCreate,
    rt: RuntimeDep,
    principal: ApiPrincipal,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> SalePublic:
    """Sell one unit or a basket at one of your stores, all or nothing.

    Exactly once: of several terminals selling the same unit at the same moment one wins,
    the others get 409 ``already_sold``. Send an ``Idempotency-Key`` so a retry after a
    timeout answers 200 with the original sale (``replayed: true``)."""
    sale = retail.sell(
        rt,
        principal,
        location_id=body.location_id,
        codes=body.codes,
        terminal=body.terminal,
        idempotency_key=idempotency_key,
    )
    _replay(response, sale.replayed)
    return SalePublic.of(sale)


@router.post(
    "/returns",
    status_code=201,
    responses={
        200: {"model": ReturnPublic, "description": "A replay of an earlier request."},
        409: REFUSED[409],
    },
)
def return_unit(
    body: ReturnCreate,
    rt: RuntimeDep,
    principal: ApiPrincipal,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> ReturnPublic:
    """Take back a unit a customer returns, then restock it or set it aside (quarantine)."""
    result = retail.return_unit(
        rt,
        principal,
        location_id=body.location_id,
        code=body.code,
        action=body.action,
        idempotency_key=idempotency_key,
    )
    _replay(response, result.replayed)
    return ReturnPublic.of(result)


@router.post("/sales/undo", responses=REFUSED)
def undo_sale(body: UndoSaleCreate, rt: RuntimeDep, principal: ApiPrincipal) -> UndoSalePublic:
    """Take back a sale made by mistake, within the undo window. History is not edited: the
    sale event gets an EPCIS error declaration and corrective events put things right."""
    result = retail.undo_sale(rt, principal, code=body.code, reason=body.reason)
    return UndoSalePublic.of(result)


@router.post("/units/dispositions", responses=REFUSED)
def change_disposition(
    body: DispositionChange, rt: RuntimeDep, principal: ApiPrincipal
) -> DispositionPublic:
    """Destroy, decommission, report stolen, mark lost or found again, mark damaged or
    expired, quarantine or restock units (named one by one or by their cases and pallets),
    all or nothing, in one event (units found again: one per disposition they go back to)."""
    result = retail.change_disposition(
        rt, principal, operation=Operation(body.operation), codes=body.codes, reason=body.reason
    )
    return DispositionPublic.of(result)


@router.post("/units/relocations", responses=REFUSED)
def relocate(body: RelocationCreate, rt: RuntimeDep, principal: ApiPrincipal) -> RelocationPublic:
    """Move units you hold (named one by one or by their cases and pallets) to another of
    your locations, all or nothing, in one event: business step cycle_counting at the new
    location, the disposition unchanged."""
    result = relocation.relocate(
        rt, principal, codes=body.codes, location_id=body.location_id, reason=body.reason
    )
    return RelocationPublic.of(result)
