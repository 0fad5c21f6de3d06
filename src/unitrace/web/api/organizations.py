"""The caller's own organization: read by anyone in it, changed by its admins."""

from __future__ import annotations

from fastapi import APIRouter

from unitrace.services import organizations
from unitrace.web.deps import ApiPrincipal, RuntimeDep
from unitrace.web.schemas import OrganizationPublic, OrganizationUpdate

router = APIRouter(tags=["organization"])


@router.get("/organization")
def get_organization(rt: RuntimeDep, principal: ApiPrincipal) -> OrganizationPublic:
    """The organization the API key (or user) belongs to."""
    return OrganizationPublic.of(organizations.get_my_organization(rt, principal))


@router.patch("/organization")
def update_organization(
    body: OrganizationUpdate, rt: RuntimeDep, principal: ApiPrincipal
) -> OrganizationPublic:
    """Change name, license number, market, GS1 company prefix, or whether your units answer
    public scans (`public_verification`; when false they answer like unknown codes) (admin)."""
    current = organizations.get_my_organization(rt, principal)
    updated = organizations.update_my_organization(rt, principal, body.merged_with(current))
    return OrganizationPublic.of(updated)
