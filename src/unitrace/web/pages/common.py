"""What every page shares: the logged-in viewer, rendering, CSRF-checked forms, paging."""

from __future__ import annotations

import datetime as dt
import hmac
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, TypeVar
from urllib.parse import urlencode

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment
from starlette.datastructures import FormData

from unitrace.domain.codes import InvalidCodeError, format_code
from unitrace.domain.model import Organization, Page, Principal, Role
from unitrace.errors import PermissionDeniedError, ValidationError
from unitrace.services import organizations
from unitrace.web.deps import PageSession, RuntimeDep

PAGE_SIZE = 25
# Pages use no inline script or style, so a strict policy costs nothing; it also stops
# other sites from framing our forms (clickjacking).
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}
FieldErrors = dict[str, list[str]]


@dataclass(frozen=True)
class Viewer:
    """The logged-in person as the layout needs them: who, where, and their form token."""

    principal: Principal
    csrf_token: str
    organization: Organization

    @property
    def can_edit(self) -> bool:
        return self.principal.allows(Role.OPERATOR)

    @property
    def is_admin(self) -> bool:
        return self.principal.allows(Role.ADMIN)


def get_viewer(session: PageSession, rt: RuntimeDep) -> Viewer:
    principal, csrf = session
    return Viewer(principal, csrf, organizations.get_my_organization(rt, principal))


ViewerDep = Annotated[Viewer, Depends(get_viewer)]


def check_csrf(sent: object, expected: str | None) -> None:
    """Refuse a form whose token is missing or differs from the one we issued (403)."""
    if not (isinstance(sent, str) and expected and hmac.compare_digest(sent, expected)):
        raise PermissionDeniedError(
            "this form's security token is missing or out of date; reload the page and try again"
        )


async def checked_form(request: Request, session: PageSession) -> AsyncIterator[FormData]:
    """The submitted form, once its ``csrf_token`` matches the session's."""
    form = await request.form()
    try:
        check_csrf(form.get("csrf_token"), session[1])
        yield form
    finally:
        await form.close()  # uploaded files are spooled to temporary files


CheckedForm = Annotated[FormData, Depends(checked_form)]


def text_fields(form: FormData) -> dict[str, str]:
    """The form's text values (files and the CSRF token left out), to refill inputs."""
    return {
        key: value for key, value in form.items() if isinstance(value, str) and key != "csrf_token"
    }


def day_start(raw: str | None) -> dt.datetime | None:
    """A ``YYYY-MM-DD`` filter field as the start of that UTC day (None when empty)."""
    if not raw:
        return None
    try:
        return dt.datetime.combine(dt.date.fromisoformat(raw), dt.time(), tzinfo=dt.UTC)
    except ValueError:
        raise ValidationError(f"{raw[:20]!r} is not a date (YYYY-MM-DD)") from None


def _when(value: dt.datetime | dt.date | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return value.isoformat()


def _humanize(value: object) -> str:
    text = str(value).replace("_", " ")
    return text[:1].upper() + text[1:]


def _code(value: str) -> str:
    try:
        return format_code(value)
    except InvalidCodeError:
        return value


def _size(value: int) -> str:
    for unit in ("bytes", "KB", "MB"):
        if value < 1024 or unit == "MB":
            return f"{value:,} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value //= 1024
    return str(value)  # pragma: no cover - the loop always returns


def _amount(value: Decimal) -> str:
    """21.5000 as stored reads 21.5; 20.0000 reads 20."""
    return format(value.normalize(), "f")


FILTERS: dict[str, Callable[..., str]] = {
    "when": _when,
    "humanize": _humanize,
    "code": _code,
    "number": lambda n: f"{n:,}",
    "filesize": _size,
    "amount": _amount,
}


def _install_filters(env: Environment) -> None:
    if "humanize" not in env.filters:
        env.filters.update(FILTERS)


def render(
    request: Request,
    template: str,
    viewer: Viewer | None,
    *,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    templates = request.app.state.templates
    _install_filters(templates.env)
    response: HTMLResponse = templates.TemplateResponse(
        request, template, {"viewer": viewer, **context}, status_code=status_code
    )
    response.headers.update(SECURITY_HEADERS)
    return response


def redirect(url: str) -> RedirectResponse:
    """See other: the browser follows with a GET, so a reload never re-posts."""
    return RedirectResponse(url, status_code=303)


def errors_from(
    exc: ValidationError, rename: Callable[[str], str | None] = lambda f: f
) -> tuple[FieldErrors, list[str]]:
    """Split a service ``ValidationError`` into messages per form field and general ones.

    ``rename`` maps the service's field path to the form's input name (None: no such input).
    """
    by_field: FieldErrors = {}
    general: list[str] = []
    details = exc.details if isinstance(exc.details, list) else []
    for item in details:
        name = rename(str(item.get("field", ""))) if isinstance(item, Mapping) else None
        message = str(item.get("message", "")) if isinstance(item, Mapping) else str(item)
        if name:
            by_field.setdefault(name, []).append(message)
        else:
            general.append(message)
    if not details:
        general.append(exc.message)
    return by_field, general


def page_number(raw: str | None) -> int:
    """``?page=`` read leniently: anything that is not a positive number is page 1."""
    try:
        return max(1, int(raw or "1"))
    except ValueError:
        return 1


def optional_int(raw: str | None) -> int | None:
    try:
        return int(raw) if raw and raw.strip() else None
    except ValueError:
        return None


E = TypeVar("E", bound=StrEnum)


def optional_enum(kind: type[E], raw: str | None) -> E | None:
    """The member of ``kind`` named by a query parameter; None when absent or unknown."""
    return kind(raw) if raw in set(kind) else None


@dataclass(frozen=True)
class Pager:
    total: int
    first: int
    last: int
    page: int
    pages: int
    prev_url: str | None
    next_url: str | None


def pager(request: Request, page: Page[Any]) -> Pager:
    """Numbers and links for "21–40 of 312, previous / next", keeping the other filters."""
    number = page.offset // page.limit + 1
    pages = max(1, -(-page.total // page.limit))

    def url(n: int) -> str:
        params = {k: v for k, v in request.query_params.items() if k != "page" and v}
        if n > 1:
            params["page"] = str(n)
        query = urlencode(params)
        return f"{request.url.path}?{query}" if query else request.url.path

    return Pager(
        total=page.total,
        first=page.offset + 1 if page.items else 0,
        last=page.offset + len(page.items),
        page=number,
        pages=pages,
        prev_url=url(number - 1) if number > 1 else None,
        next_url=url(number + 1) if number < pages else None,
    )
