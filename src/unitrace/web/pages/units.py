"""Units: browse with filters, and one unit by its code."""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from unitrace.domain.model import Disposition
from unitrace.services import catalog, history, units
from unitrace.web.deps import RuntimeDep
from unitrace.web.pages.common import (
    PAGE_SIZE,
    ViewerDep,
    optional_enum,
    optional_int,
    page_number,
    pager,
    render,
)

router = APIRouter()
_SEPARATORS = re.compile(r"[\s-]")


@router.get("/units")
def list_units(request: Request, rt: RuntimeDep, viewer: ViewerDep) -> HTMLResponse:
    params = request.query_params
    batch_id = optional_int(params.get("batch_id"))
    disposition = optional_enum(Disposition, params.get("disposition"))
    code_prefix = _SEPARATORS.sub("", params.get("code", "")).upper()
    event_id = params.get("event", "").strip()
    page = page_number(params.get("page"))
    found = units.list_units(
        rt,
        viewer.principal,
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
        batch_id=batch_id,
        disposition=disposition,
        code_prefix=code_prefix or None,
        event_id=event_id or None,
    )
    filters = {
        "batch_id": batch_id,
        "disposition": disposition,
        "code": code_prefix,
        "event": event_id,
    }
    return render(
        request,
        "units.html",
        viewer,
        units=found.items,
        pager=pager(request, found),
        filters=filters,
        batches=catalog.list_batches(rt, viewer.principal, limit=100).items,
        dispositions=list(Disposition),
    )


@router.get("/units/{code}")
def unit_details(request: Request, rt: RuntimeDep, viewer: ViewerDep, code: str) -> HTMLResponse:
    view = units.get_unit(rt, viewer.principal, code)
    oldest_first = request.query_params.get("order") == "oldest"
    timeline = history.timeline(rt, viewer.principal, view.unit.code)
    events = timeline if oldest_first else list(reversed(timeline))
    return render(
        request, "unit.html", viewer, view=view, timeline=events, oldest_first=oldest_first
    )
