"""What the supply-chain pages share (cases and pallets, shipments, receiving, the store
counter): refusals read back per code, scans from textareas, JSON answers for the scanner
screens."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from typing import Annotated, Any

from fastapi import Header
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from unitrace.domain.model import Principal
from unitrace.errors import UnitraceError
from unitrace.web.errors import error_body, status_for
from unitrace.web.pages.common import check_csrf

MAX_SCAN_LENGTH = 2000


def new_key() -> str:
    """A fresh idempotency key for one rendering of a form: one submission, one effect."""
    return f"web-{secrets.token_urlsafe(18)}"


def scan_lines(text: str) -> list[str]:
    """The scans of a textarea, one a line, blank lines left out."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def problems(exc: UnitraceError) -> list[str]:
    """A service error as lines a person reads: one per refused or unknown code."""
    details = exc.details if isinstance(exc.details, list) else []
    lines = []
    for item in details:
        if isinstance(item, Mapping) and item.get("code") and item.get("message"):
            lines.append(f"{item['code']}: {item['message']}")
        elif isinstance(item, Mapping) and item.get("code"):
            lines.append(f"{item['code']}: not found")
        elif isinstance(item, Mapping) and item.get("message"):
            lines.append(str(item["message"]))
    return lines or [exc.message]


def refusals_by_code(exc: UnitraceError) -> dict[str, dict[str, str]]:
    """``code -> {reason, message}`` from a refusal or a not-found listing codes."""
    out: dict[str, dict[str, str]] = {}
    for item in exc.details if isinstance(exc.details, list) else []:
        if isinstance(item, Mapping) and item.get("code"):
            reason = str(item.get("reason") or exc.code)
            message = str(item.get("message") or "unknown code, or not yours")
            out[str(item["code"])] = {"reason": reason, "message": message}
    return out


def json_error(exc: UnitraceError) -> JSONResponse:
    body = error_body(exc.code, exc.message, exc.details)
    body["lines"] = problems(exc)
    return JSONResponse(body, status_code=status_for(exc))


CsrfHeader = Annotated[str, Header(alias="x-csrf-token")]


def answer(
    session: tuple[Principal, str], sent_token: str, call: Callable[[], dict[str, Any]]
) -> JSONResponse:
    """Run a scanner screen's service call once its ``X-CSRF-Token`` header matches the
    session's (a cookie alone never authorizes a write); errors come back as JSON."""
    try:
        check_csrf(sent_token, session[1])
        return JSONResponse(jsonable_encoder(call()))
    except UnitraceError as exc:
        return json_error(exc)
