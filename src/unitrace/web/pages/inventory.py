"""Inventory counts for the people in the store: open a count, paste or scan units into it
(by area), close it, resolve each difference with a button; the accuracy of past counts as
a server-drawn SVG chart over its table. Plain forms: nothing here needs script."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from unitrace.domain.model import LocationKind
from unitrace.errors import ConflictError, NotFoundError, OperationRefusedError, ValidationError
from unitrace.services import inventory, organizations
from unitrace.services.inventory import CountView
from unitrace.services.runtime import Runtime
from unitrace.web.deps import RuntimeDep
from unitrace.web.pages.common import (
    PAGE_SIZE,
    CheckedForm,
    Viewer,
    ViewerDep,
    day_start,
    optional_int,
    page_number,
    pager,
    redirect,
    render,
    text_fields,
)
from unitrace.web.pages.supply import problems, scan_lines

router = APIRouter()
CHART_WIDTH = 640
CHART_HEIGHT = 160
_Failure = (ValidationError, NotFoundError, ConflictError, OperationRefusedError)


def _status(exc: Exception) -> int:
    return 422 if isinstance(exc, ValidationError) else 409


def _bars(views: list[CountView]) -> list[dict[str, Any]]:
    """One bar per closed count, its height the accuracy (0 to 100 %)."""
    if not views:
        return []
    step = CHART_WIDTH / len(views)
    width = min(step * 0.8, 48)
    plot = CHART_HEIGHT - 20
    return [
        {
            "label": f"{v.closed_at:%Y-%m-%d}" if v.closed_at else "",
            "title": f"#{v.id} {v.location_name}",
            "value": v.accuracy or 0.0,
            "x": round(i * step + (step - width) / 2, 1),
            "width": round(width, 1),
            "height": round((v.accuracy or 0.0) * plot, 1),
            "y": round(plot - (v.accuracy or 0.0) * plot, 1),
        }
        for i, v in enumerate(views)
    ]


def _list_page(
    request: Request, rt: Runtime, viewer: Viewer, *, status_code: int = 200, **extra: Any
) -> HTMLResponse:
    params = request.query_params
    location_id = optional_int(params.get("location_id"))
    errors: list[str] = list(extra.pop("form_errors", []))
    try:
        since, until = day_start(params.get("since")), day_start(params.get("until"))
        history = inventory.accuracy_history(
            rt, viewer.principal, location_id=location_id, since=since, until=until
        )
    except ValidationError as exc:
        errors.append(exc.message)
        since = until = None
        history = inventory.accuracy_history(rt, viewer.principal, location_id=location_id)
    page = page_number(params.get("page"))
    found = inventory.list_counts(
        rt, viewer.principal, location_id=location_id, limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )  # fmt: skip
    places = organizations.list_locations(rt, viewer.principal)
    stores = [p for p in places if p.kind is LocationKind.STORE] + [
        p for p in places if p.kind is not LocationKind.STORE
    ]
    query = {
        k: v
        for k, v in {
            "location_id": str(location_id or ""),
            "since": since.isoformat() if since else "",
            "until": until.isoformat() if until else "",
        }.items()
        if v
    }
    return render(
        request,
        "inventory.html",
        viewer,
        counts=found.items,
        pager=pager(request, found),
        locations=stores,
        history=history,
        bars=_bars(history),
        chart={"width": CHART_WIDTH, "height": CHART_HEIGHT},
        filters={
            "location_id": location_id or "",
            "since": params.get("since", "") if since else "",
            "until": params.get("until", "") if until else "",
        },
        accuracy_url="/api/v1/inventory-counts/accuracy?" + urlencode(query),
        form_errors=errors,
        status_code=status_code,
        **({"form": {}} | extra),
    )


@router.get("/inventory")
def counts(request: Request, rt: RuntimeDep, viewer: ViewerDep) -> HTMLResponse:
    return _list_page(request, rt, viewer)


@router.post("/inventory")
def start(request: Request, rt: RuntimeDep, viewer: ViewerDep, form: CheckedForm) -> Response:
    values = text_fields(form)
    try:
        view = inventory.start_count(
            rt,
            viewer.principal,
            location_id=optional_int(values.get("location_id")) or 0,
            note=values.get("note", ""),
        )
    except _Failure as exc:
        return _list_page(
            request, rt, viewer, form=values, form_errors=problems(exc), status_code=_status(exc)
        )
    return redirect(f"/inventory/{view.id}?done=opened")


def _count_page(
    request: Request,
    rt: Runtime,
    viewer: Viewer,
    count_id: int,
    *,
    status_code: int = 200,
    **extra: Any,
) -> HTMLResponse:
    detail = inventory.get_count(rt, viewer.principal, count_id)
    groups: dict[str, list[Any]] = {"missing": [], "unexpected": [], "wrong_location": []}
    for difference in detail.differences:
        groups[difference.kind].append(difference)
    return render(
        request,
        "inventory_count.html",
        viewer,
        count=detail.count,
        groups=groups,
        status_code=status_code,
        **({"form": {}, "form_errors": [], "done": ""} | extra),
    )


@router.get("/inventory/{count_id:int}")
def count_details(
    request: Request,
    rt: RuntimeDep,
    viewer: ViewerDep,
    count_id: int,
    done: Annotated[str, Query(max_length=20)] = "",
) -> HTMLResponse:
    return _count_page(request, rt, viewer, count_id, done=done)


def _act(
    request: Request, rt: Runtime, viewer: Viewer, count_id: int, values: dict[str, str], call: Any
) -> Response:
    try:
        done = call()
    except _Failure as exc:
        return _count_page(
            request, rt, viewer, count_id, form=values, form_errors=problems(exc),
            status_code=_status(exc),
        )  # fmt: skip
    return redirect(f"/inventory/{count_id}?{urlencode(done)}")


@router.post("/inventory/{count_id:int}/scans")
def add_scans(
    request: Request, rt: RuntimeDep, viewer: ViewerDep, form: CheckedForm, count_id: int
) -> Response:
    values = text_fields(form)

    def call() -> dict[str, str]:
        batch = inventory.add_scans(
            rt, viewer.principal, count_id, scans=scan_lines(values.get("scans", "")),
            area=values.get("area", ""),
        )  # fmt: skip
        return {"done": "scanned", "added": str(batch.added), "unknown": str(len(batch.unknown))}

    return _act(request, rt, viewer, count_id, values, call)


@router.post("/inventory/{count_id:int}/close")
def close(
    request: Request, rt: RuntimeDep, viewer: ViewerDep, form: CheckedForm, count_id: int
) -> Response:
    def call() -> dict[str, str]:
        inventory.close_count(rt, viewer.principal, count_id)
        return {"done": "closed"}

    return _act(request, rt, viewer, count_id, text_fields(form), call)


@router.post("/inventory/{count_id:int}/resolve")
def resolve(
    request: Request, rt: RuntimeDep, viewer: ViewerDep, form: CheckedForm, count_id: int
) -> Response:
    values = text_fields(form)

    def call() -> dict[str, str]:
        done = inventory.resolve(
            rt, viewer.principal, count_id, code=values.get("code", ""),
            resolution=values.get("resolution", ""), note=values.get("note", ""),
        )  # fmt: skip
        return {"done": "resolved", "resolution": done.resolution}

    return _act(request, rt, viewer, count_id, values, call)
