"""Logging in and out.

The login form has no session yet, so its CSRF token is a double-submit cookie: a random
value set when the form is shown and echoed in a hidden input. Failed attempts are
counted per client address and e-mail by ``app.state.login_limiter``.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import HTMLResponse

from unitrace.domain.model import User
from unitrace.errors import AuthenticationError, RateLimitedError
from unitrace.services import access
from unitrace.services.runtime import Runtime
from unitrace.web.deps import SESSION_COOKIE, RuntimeDep
from unitrace.web.pages.common import CheckedForm, check_csrf, redirect, render
from unitrace.web.ratelimit import RateLimiter

router = APIRouter()
LOGIN_CSRF_COOKIE = "unitrace_login_csrf"


def safe_next(target: str | None) -> str:
    """Where to go after logging in: only a path on this site, never another host."""
    if (
        not target
        or not target.startswith("/")
        or target.startswith(("//", "/login"))
        or "\\" in target
        or any(ord(c) < 32 or ord(c) == 127 for c in target)
    ):
        return "/"
    return target


def _login_page(
    request: Request,
    rt: RuntimeDep,
    *,
    next_url: str,
    email: str = "",
    error: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    token = secrets.token_urlsafe(32)
    response = render(
        request,
        "login.html",
        None,
        next_url=safe_next(next_url),
        email=email,
        error=error,
        login_csrf=token,
        status_code=status_code,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=rt.settings.secure_cookies,
        path="/login",
    )
    return response


@router.get("/login")
def login_form(
    request: Request, rt: RuntimeDep, next_url: Annotated[str, Query(alias="next")] = "/"
) -> HTMLResponse:
    return _login_page(request, rt, next_url=next_url)


@router.post("/login")
def login(
    request: Request,
    rt: RuntimeDep,
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next_url: Annotated[str, Form(alias="next")] = "/",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(csrf_token, request.cookies.get(LOGIN_CSRF_COOKIE))
    limiter: RateLimiter = request.app.state.login_limiter
    key = f"{request.client.host if request.client else '?'}|{email.strip().lower()}"
    try:
        limiter.check(key)
        user = access.authenticate_password(rt, email=email, password=password)
    except RateLimitedError as exc:
        return _login_page(
            request, rt, next_url=next_url, email=email, error=exc.message, status_code=429
        )
    except AuthenticationError as exc:
        limiter.hit(key)
        return _login_page(
            request, rt, next_url=next_url, email=email, error=exc.message, status_code=400
        )
    limiter.reset(key)
    return _start_session(rt, user, next_url)


def _start_session(rt: Runtime, user: User, next_url: str) -> Response:
    session = access.start_session(rt, user)
    response = redirect(safe_next(next_url))
    response.set_cookie(
        SESSION_COOKIE,
        session.token,
        max_age=rt.settings.session_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=rt.settings.secure_cookies,
        path="/",
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(request: Request, rt: RuntimeDep, form: CheckedForm) -> Response:
    access.end_session(rt, request.cookies[SESSION_COOKIE])
    response = redirect("/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
