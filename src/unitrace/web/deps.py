"""Request dependencies: the runtime and the calling principal."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from unitrace.domain.model import Principal
from unitrace.errors import AuthenticationError
from unitrace.services import access
from unitrace.services.runtime import Runtime

SESSION_COOKIE = "unitrace_session"


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def _api_key_from(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.headers.get("x-api-key")


def get_api_principal(request: Request, rt: RuntimeDep) -> Principal:
    """API callers authenticate with an API key (``Authorization: Bearer ut_…``) or,
    from the browser, with the session cookie."""
    key = _api_key_from(request)
    if key:
        return access.authenticate_api_key(rt, key)
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        principal, _csrf = access.resolve_session(rt, token)
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            # A cookie alone cannot authorize a write: that would be CSRF-able.
            sent = request.headers.get("x-csrf-token", "")
            if sent != _csrf:
                raise AuthenticationError("a cookie-authenticated write needs X-CSRF-Token")
        return principal
    raise AuthenticationError("send an API key: Authorization: Bearer ut_…")


ApiPrincipal = Annotated[Principal, Depends(get_api_principal)]


def get_page_session(request: Request, rt: RuntimeDep) -> tuple[Principal, str]:
    """The logged-in user of a page, and the CSRF token their forms must carry."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise AuthenticationError("please log in")
    return access.resolve_session(rt, token)


PageSession = Annotated[tuple[Principal, str], Depends(get_page_session)]
