"""The dashboard: who you are working for, and how much is in the system."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from unitrace.services import catalog, units
from unitrace.web.deps import RuntimeDep
from unitrace.web.pages.common import ViewerDep, render

router = APIRouter()


@router.get("/")
def dashboard(request: Request, rt: RuntimeDep, viewer: ViewerDep) -> HTMLResponse:
    principal = viewer.principal
    recent = catalog.list_batches(rt, principal, limit=5)
    counts = {
        "products": catalog.list_products(rt, principal, limit=1).total,
        "batches": recent.total,
        "units": units.list_units(rt, principal, limit=1).total,
    }
    return render(request, "dashboard.html", viewer, counts=counts, recent_batches=recent.items)
