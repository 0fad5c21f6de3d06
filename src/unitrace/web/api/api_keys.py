"""API keys of the caller's organization (admin only). The secret is shown once."""

from __future__ import annotations

from fastapi import APIRouter, Response

from unitrace.services import access
from unitrace.web.api.params import IdPath
from unitrace.web.deps import ApiPrincipal, RuntimeDep
from unitrace.web.schemas import ApiKeyCreate, ApiKeyCreatedPublic, ApiKeysPublic

router = APIRouter(tags=["api keys"])


@router.get("/api-keys")
def list_api_keys(rt: RuntimeDep, principal: ApiPrincipal) -> ApiKeysPublic:
    """Every key of the organization, revoked ones included; secrets are never listed."""
    return ApiKeysPublic.of(access.list_api_keys(rt, principal))


@router.post("/api-keys", status_code=201)
def create_api_key(
    body: ApiKeyCreate, rt: RuntimeDep, principal: ApiPrincipal, response: Response
) -> ApiKeyCreatedPublic:
    """Issue a key; ``secret`` in this response is the only time it is shown."""
    created = access.create_api_key(rt, principal, name=body.name, role=body.role)
    response.headers["Cache-Control"] = "no-store"  # no proxy or browser cache keeps the secret
    return ApiKeyCreatedPublic.created(created.key, created.secret)


@router.delete("/api-keys/{api_key_id}", status_code=204)
def revoke_api_key(api_key_id: IdPath, rt: RuntimeDep, principal: ApiPrincipal) -> Response:
    """Revoke a key: it stops working at once. Revoking twice is a 404."""
    access.revoke_api_key(rt, principal, api_key_id=api_key_id)
    return Response(status_code=204)
