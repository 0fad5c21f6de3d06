"""Units: commissioning (serialization), look-up by code, filtered lists, code export."""

from __future__ import annotations

import itertools
from collections.abc import Generator, Iterator
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Response
from fastapi.responses import StreamingResponse

from unitrace.domain.epcis import event_key, expand_event_id
from unitrace.domain.model import Disposition
from unitrace.services import serialization, units
from unitrace.services.serialization import MAX_KEY_LENGTH
from unitrace.web.api.params import IdQuery, Limit, Offset
from unitrace.web.deps import ApiPrincipal, RuntimeDep
from unitrace.web.schemas import (
    NO_NUL,
    CommissioningCreate,
    CommissioningPublic,
    UnitPublic,
    UnitsPublic,
)

router = APIRouter(tags=["units"])

REPLAY_HEADER = "Idempotent-Replayed"
IdempotencyKey = Annotated[
    str | None,
    Header(
        min_length=1,
        max_length=MAX_KEY_LENGTH,
        description="Any unique string (a UUID is ideal). A retry with the same key and body "
        "returns the first result instead of creating more units.",
    ),
]
EventId = Annotated[
    str,
    Path(
        max_length=100,
        pattern=NO_NUL,
        description="The commissioning's key (the hex digest of its event hash) or event id.",
    ),
]
CSV_ROWS_PER_CHUNK = 2_000


@router.post(
    "/units/commission",
    status_code=201,
    responses={
        200: {"model": CommissioningPublic, "description": "A replay of an earlier request."},
        409: {"description": "`batch_not_released` or `idempotency_key_reused`."},
    },
)
def commission_units(
    body: CommissioningCreate,
    rt: RuntimeDep,
    principal: ApiPrincipal,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> CommissioningPublic:
    """Serialize ``quantity`` new units of a batch that passed testing, all or nothing.

    Send an ``Idempotency-Key`` so a retry after a timeout cannot create units twice: the
    retry answers 200 with the original result, ``replayed: true`` and the header
    ``Idempotent-Replayed: true``."""
    result = serialization.commission_units(
        rt,
        principal,
        batch_id=body.batch_id,
        quantity=body.quantity,
        location_id=body.location_id,
        idempotency_key=idempotency_key,
    )
    if result.replayed:
        response.status_code = 200
    response.headers[REPLAY_HEADER] = "true" if result.replayed else "false"
    return CommissioningPublic.of(result)


@router.get("/units")
def list_units(
    rt: RuntimeDep,
    principal: ApiPrincipal,
    batch_id: IdQuery = None,
    product_id: IdQuery = None,
    disposition: Disposition | None = None,
    event_id: Annotated[
        str | None, Query(max_length=100, pattern=NO_NUL, description="A commissioning's id.")
    ] = None,
    code_prefix: Annotated[str | None, Query(max_length=14, pattern=NO_NUL)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> UnitsPublic:
    """Units the organization owns or holds, in commissioning order."""
    page = units.list_units(
        rt,
        principal,
        limit=limit,
        offset=offset,
        batch_id=batch_id,
        product_id=product_id,
        disposition=disposition,
        event_id=event_id,
        code_prefix=code_prefix,
    )
    return UnitsPublic.of(page)


@router.get("/units/{code}")
def get_unit(
    code: Annotated[str, Path(max_length=100, examples=["7k3m-q9xw-2d4h-br"])],
    rt: RuntimeDep,
    principal: ApiPrincipal,
) -> UnitPublic:
    """A unit by its code as printed, typed or scanned: any case, hyphens and spaces ignored."""
    return UnitPublic.of(units.get_unit(rt, principal, code))


def _csv_chunks(codes: Iterator[str], base_url: str) -> Iterator[str]:
    yield "code,short_url\r\n"
    try:
        while rows := list(itertools.islice(codes, CSV_ROWS_PER_CHUNK)):
            # Stored codes are canonical, so the short link is a plain join (no re-validation).
            yield "".join(f"{c},{base_url}/{c}\r\n" for c in rows)
    finally:
        if isinstance(codes, Generator):
            codes.close()  # ends the read transaction even when the client went away mid-stream


@router.get(
    "/commissionings/{event_id}/codes",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "code,short_url rows."}},
)
def commissioned_codes(event_id: EventId, rt: RuntimeDep, principal: ApiPrincipal) -> Response:
    """Every code one commissioning created, as CSV streamed row by row (for label software)."""
    codes = serialization.iter_commissioned_codes(rt, principal, event_id=event_id)  # 404s now
    safe_name = event_key(expand_event_id(event_id))[:16]
    return StreamingResponse(
        _csv_chunks(codes, rt.settings.resolver_base_url.rstrip("/")),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="codes-{safe_name}.csv"'},
    )
