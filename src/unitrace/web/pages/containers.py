"""Cases and pallets: list and create, one container with its contents, pack and unpack."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from unitrace.errors import ConflictError, NotFoundError, ValidationError
from unitrace.services import containers, organizations
from unitrace.services.containers import ContainerView
from unitrace.services.runtime import Runtime
from unitrace.web.deps import RuntimeDep
from unitrace.web.pages.common import (
    PAGE_SIZE,
    CheckedForm,
    Viewer,
    ViewerDep,
    optional_int,
    page_number,
    pager,
    redirect,
    render,
    text_fields,
)
from unitrace.web.pages.supply import problems, scan_lines

router = APIRouter()
TREE_DEPTH = 3  # levels of cases shown inside a container before "open it"
TREE_WIDTH = 50  # containers shown per level


@dataclass(frozen=True)
class Node:
    container: ContainerView
    children: tuple[Node, ...]
    more: int  # child containers not shown


def _tree(rt: Runtime, viewer: Viewer, view: ContainerView, depth: int) -> Node:
    shown = view.children[:TREE_WIDTH] if depth > 0 else ()
    children = tuple(
        _tree(rt, viewer, containers.get_container(rt, viewer.principal, code), depth - 1)
        for code in shown
    )
    return Node(view, children, len(view.children) - len(shown))


def _list_page(
    request: Request, rt: Runtime, viewer: Viewer, *, status_code: int = 200, **extra: Any
) -> HTMLResponse:
    params = request.query_params
    kind = params.get("kind") if params.get("kind") in containers.KINDS else None
    page = page_number(params.get("page"))
    found = containers.list_containers(
        rt,
        viewer.principal,
        kind=kind,
        top_level_only=params.get("top") == "1",
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    return render(
        request,
        "containers.html",
        viewer,
        containers=found.items,
        pager=pager(request, found),
        kind=kind,
        top=params.get("top") == "1",
        kinds=containers.KINDS,
        locations={loc.id: loc.name for loc in organizations.list_locations(rt, viewer.principal)},
        status_code=status_code,
        **({"form": {}, "form_errors": [], "created": None} | extra),
    )


@router.get("/containers")
def list_containers(
    request: Request, rt: RuntimeDep, viewer: ViewerDep, created: Annotated[str, Query()] = ""
) -> HTMLResponse:
    return _list_page(request, rt, viewer, created=optional_int(created))


@router.post("/containers")
def create_containers(
    request: Request, rt: RuntimeDep, viewer: ViewerDep, form: CheckedForm
) -> Response:
    values = text_fields(form)
    count = optional_int(values.get("count", "1").strip() or "1")
    try:
        if count is None:
            raise ValidationError("the count is a whole number")
        made = containers.create_containers(
            rt,
            viewer.principal,
            kind=values.get("kind", ""),
            count=count,
            location_id=optional_int(values.get("location_id")),
            sscc=values.get("sscc", "").strip() or None,
        )
    except (ValidationError, NotFoundError) as exc:
        return _list_page(
            request, rt, viewer, form=values, form_errors=problems(exc), status_code=422
        )
    if len(made) == 1:
        return redirect(f"/containers/{made[0].code}?created=1")
    return redirect(f"/containers?created={len(made)}")


def _container_page(
    request: Request,
    rt: Runtime,
    viewer: Viewer,
    code: str,
    *,
    status_code: int = 200,
    **extra: Any,
) -> HTMLResponse:
    view = containers.get_container(rt, viewer.principal, code)
    locations = {loc.id: loc.name for loc in organizations.list_locations(rt, viewer.principal)}
    return render(
        request,
        "container.html",
        viewer,
        view=view,
        tree=_tree(rt, viewer, view, TREE_DEPTH),
        location_name=locations.get(view.location_id) if view.location_id else None,
        status_code=status_code,
        **({"form": {}, "form_errors": [], "done": None, "created": False} | extra),
    )


@router.get("/containers/{code}")
def container_details(
    request: Request,
    rt: RuntimeDep,
    viewer: ViewerDep,
    code: str,
    created: Annotated[str, Query()] = "",
) -> HTMLResponse:
    return _container_page(request, rt, viewer, code, created=bool(created))


@router.post("/containers/{code}/pack")
def pack(
    request: Request, rt: RuntimeDep, viewer: ViewerDep, form: CheckedForm, code: str
) -> HTMLResponse:
    values = text_fields(form)
    try:
        result = containers.pack(
            rt, viewer.principal, container=code, items=scan_lines(values.get("items", ""))
        )
    except (ValidationError, NotFoundError, ConflictError) as exc:
        status = 422 if isinstance(exc, ValidationError) else 409
        return _container_page(
            request, rt, viewer, code, form=values, form_errors=problems(exc), status_code=status
        )
    return _container_page(request, rt, viewer, code, done=("packed", result))


@router.post("/containers/{code}/unpack")
def unpack(
    request: Request, rt: RuntimeDep, viewer: ViewerDep, form: CheckedForm, code: str
) -> HTMLResponse:
    values = text_fields(form)
    items = scan_lines(values.get("unpack_items", ""))
    try:
        result = containers.unpack(rt, viewer.principal, container=code, items=items or None)
    except (ValidationError, NotFoundError, ConflictError) as exc:
        status = 422 if isinstance(exc, ValidationError) else 409
        return _container_page(
            request, rt, viewer, code, form=values, form_errors=problems(exc), status_code=status
        )
    return _container_page(request, rt, viewer, code, done=("unpacked", result))
