"""The one place where unitrace errors become HTTP responses."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from unitrace import errors

STATUS: dict[type[errors.UnitraceError], int] = {
    errors.NotFoundError: 404,
    errors.ValidationError: 422,
    errors.IdempotencyKeyReusedError: 409,
    errors.OperationRefusedError: 409,
    errors.ConflictError: 409,
    errors.BatchNotReleasedError: 409,
    errors.PreflightFailedError: 422,
    errors.AuthenticationError: 401,
    errors.PermissionDeniedError: 403,
    errors.RateLimitedError: 429,
    errors.DatabaseUnavailableError: 503,
}


def status_for(exc: errors.UnitraceError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400


def error_body(code: str, message: str, details: object = None) -> dict[str, object]:
    return {"error": {"code": code, "message": message, "details": details}}


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/")


def _error_page(
    app: FastAPI, request: Request, status: int, code: str, message: str, details: object
) -> Response:
    context = {"status": status, "code": code, "message": message, "details": details}
    response: Response = app.state.templates.TemplateResponse(
        request, "error.html", context, status_code=status
    )
    return response


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(errors.UnitraceError)
    async def _unitrace_error(request: Request, exc: errors.UnitraceError) -> Response:
        status = status_for(exc)
        if _wants_html(request):
            if isinstance(exc, errors.AuthenticationError):
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse(f"/login?next={quote(target, safe='/')}", status_code=303)
            return _error_page(app, request, status, exc.code, exc.message, exc.details)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return JSONResponse(
            error_body(exc.code, exc.message, exc.details), status_code=status, headers=headers
        )

    @app.exception_handler(RequestValidationError)
    async def _request_invalid(request: Request, exc: RequestValidationError) -> Response:
        details = [
            {"field": ".".join(str(p) for p in e["loc"] if p != "body"), "message": e["msg"]}
            for e in exc.errors()
        ]
        return JSONResponse(
            error_body("validation_error", "the request is not valid", details), status_code=422
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        if _wants_html(request):
            return _error_page(app, request, exc.status_code, code, str(exc.detail), None)
        return JSONResponse(error_body(code, str(exc.detail)), status_code=exc.status_code)
