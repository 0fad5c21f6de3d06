"""Cases and pallets: create them, pack units and containers into them, unpack."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query

from unitrace.services import containers
from unitrace.web.api.params import Limit, Offset
from unitrace.web.deps import ApiPrincipal, RuntimeDep
from unitrace.web.schemas import (
    ContainerCreate,
    ContainerPublic,
    ContainersCreatedPublic,
    ContainersPublic,
    PackCreate,
    PackPublic,
    UnpackCreate,
)

router = APIRouter(tags=["containers"])

ContainerCode = Annotated[
    str,
    Path(
        max_length=100,
        description="The container's code (any case, hyphens ignored) or its SSCC.",
        examples=["M4P9K2XW7D3HQR"],
    ),
]
REFUSED: dict[int | str, dict[str, Any]] = {
    409: {"description": "`refused`: `details` lists every item with its `reason`."}
}


@router.post("/containers", status_code=201)
def create_containers(
    body: ContainerCreate, rt: RuntimeDep, principal: ApiPrincipal
) -> ContainersCreatedPublic:
    """Create ``count`` empty cases or pallets, each with its own non-guessable code."""
    created = containers.create_containers(
        rt,
        principal,
        kind=body.kind,
        count=body.count,
        location_id=body.location_id,
        sscc=body.sscc,
    )
    return ContainersCreatedPublic.of(created)


@router.get("/containers")
def list_containers(
    rt: RuntimeDep,
    principal: ApiPrincipal,
    kind: Literal["case", "pallet"] | None = None,
    top_level_only: Annotated[
        bool, Query(description="Only containers not packed inside another.")
    ] = False,
    limit: Limit = 50,
    offset: Offset = 0,
) -> ContainersPublic:
    """The organization's cases and pallets."""
    page = containers.list_containers(
        rt, principal, kind=kind, top_level_only=top_level_only, limit=limit, offset=offset
    )
    return ContainersPublic.of(page)


@router.get("/containers/{code}")
def get_container(code: ContainerCode, rt: RuntimeDep, principal: ApiPrincipal) -> ContainerPublic:
    """A case or pallet with what is directly inside it and its unit count at any depth."""
    return ContainerPublic.of(containers.get_container(rt, principal, code))


@router.post("/containers/{code}/pack", responses=REFUSED)
def pack(
    code: ContainerCode, body: PackCreate, rt: RuntimeDep, principal: ApiPrincipal
) -> PackPublic:
    """Put units and/or containers into this container, all or nothing (an AggregationEvent).

    Items already packed elsewhere are repacked: their old container records an unpacking
    first. Refusals (``not_custodian``, ``cycle``, ``already_packed``, a unit not in stock)
    list every item."""
    return PackPublic.of(containers.pack(rt, principal, container=code, items=body.items))


@router.post("/containers/{code}/unpack", responses=REFUSED)
def unpack(
    code: ContainerCode,
    rt: RuntimeDep,
    principal: ApiPrincipal,
    body: UnpackCreate | None = None,
) -> PackPublic:
    """Take the named items (or, without a body, everything directly inside) out."""
    items = body.items if body is not None else None
    return PackPublic.of(containers.unpack(rt, principal, container=code, items=items))
