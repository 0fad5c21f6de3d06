"""Users of the caller's organization (admin only)."""

from __future__ import annotations

from fastapi import APIRouter

from unitrace.services import access
from unitrace.web.api.params import IdPath
from unitrace.web.deps import ApiPrincipal, RuntimeDep
from unitrace.web.schemas import UserCreate, UserPublic, UsersPublic, UserUpdate

router = APIRouter(tags=["users"])


@router.get("/users")
def list_users(rt: RuntimeDep, principal: ApiPrincipal) -> UsersPublic:
    return UsersPublic.of(access.list_users(rt, principal))


@router.post("/users", status_code=201)
def create_user(body: UserCreate, rt: RuntimeDep, principal: ApiPrincipal) -> UserPublic:
    """Add a user who logs in to the web UI with this e-mail and password."""
    user = access.create_user(
        rt,
        principal,
        organization_id=principal.organization_id,
        email=body.email,
        name=body.name,
        password=body.password,
        role=body.role,
    )
    return UserPublic.of(user)


@router.patch("/users/{user_id}")
def update_user(
    user_id: IdPath, body: UserUpdate, rt: RuntimeDep, principal: ApiPrincipal
) -> UserPublic:
    """Deactivate (``{"is_active": false}``) or reactivate a user."""
    user = access.set_user_active(rt, principal, user_id=user_id, active=body.is_active)
    return UserPublic.of(user)
