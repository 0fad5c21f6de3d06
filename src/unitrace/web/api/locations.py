"""Facilities, warehouses and stores of the caller's organization."""

from __future__ import annotations

from fastapi import APIRouter

from unitrace.services import organizations
from unitrace.web.api.params import IdPath
from unitrace.web.deps import ApiPrincipal, RuntimeDep
from unitrace.web.schemas import LocationCreate, LocationPublic, LocationsPublic, LocationUpdate

router = APIRouter(tags=["locations"])


@router.get("/locations")
def list_locations(rt: RuntimeDep, principal: ApiPrincipal) -> LocationsPublic:
    return LocationsPublic.of(organizations.list_locations(rt, principal))


@router.post("/locations", status_code=201)
def create_location(
    body: LocationCreate, rt: RuntimeDep, principal: ApiPrincipal
) -> LocationPublic:
    """Add a location (admin). A GLN, when given, must be 13 digits with a valid check digit."""
    return LocationPublic.of(organizations.create_location(rt, principal, body.to_draft()))


@router.patch("/locations/{location_id}")
def update_location(
    location_id: IdPath, body: LocationUpdate, rt: RuntimeDep, principal: ApiPrincipal
) -> LocationPublic:
    """Change a location (admin); fields left out keep their value."""
    draft = body.merged_with(organizations.get_location(rt, principal, location_id))
    updated = organizations.update_location(rt, principal, location_id=location_id, draft=draft)
    return LocationPublic.of(updated)
