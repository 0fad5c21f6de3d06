"""Settings → API keys (admins): create one (its secret is shown once) and revoke."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from unitrace.domain.model import Role
from unitrace.services import access
from unitrace.services.access import NewApiKey
from unitrace.services.runtime import Runtime
from unitrace.web.deps import RuntimeDep
from unitrace.web.pages.common import CheckedForm, Viewer, ViewerDep, redirect, render

router = APIRouter()


def _keys_page(
    request: Request,
    rt: Runtime,
    viewer: Viewer,
    *,
    new_key: NewApiKey | None = None,
    revoked: bool = False,
) -> HTMLResponse:
    keys = access.list_api_keys(rt, viewer.principal)
    response = render(
        request,
        "api_keys.html",
        viewer,
        keys=keys,
        roles=list(Role),
        new_key=new_key,
        revoked=revoked,
        status_code=201 if new_key else 200,
    )
    if new_key:
        response.headers["Cache-Control"] = "no-store"  # the secret must not linger in caches
    return response


@router.get("/settings/api-keys")
def api_keys(
    request: Request, rt: RuntimeDep, viewer: ViewerDep, revoked: str = ""
) -> HTMLResponse:
    return _keys_page(request, rt, viewer, revoked=bool(revoked))


@router.post("/settings/api-keys")
def create_api_key(
    request: Request, rt: RuntimeDep, viewer: ViewerDep, form: CheckedForm
) -> HTMLResponse:
    raw_role = str(form.get("role", ""))
    role = Role(raw_role) if raw_role in set(Role) else Role.VIEWER
    new_key = access.create_api_key(rt, viewer.principal, name=str(form.get("name", "")), role=role)
    # Rendered, not redirected: the secret exists only in this response.
    return _keys_page(request, rt, viewer, new_key=new_key)


@router.post("/settings/api-keys/{key_id:int}/revoke")
def revoke_api_key(rt: RuntimeDep, viewer: ViewerDep, form: CheckedForm, key_id: int) -> Response:
    access.revoke_api_key(rt, viewer.principal, api_key_id=key_id)
    return redirect("/settings/api-keys?revoked=1")
