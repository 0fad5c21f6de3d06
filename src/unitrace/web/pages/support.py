"""After the scan: the brand's clone alerts (marked investigated with a note) and its inbox
of consumer problem reports, each shown with the unit's verdict and history, then closed
with a resolution."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from unitrace.errors import ConflictError, ValidationError
from unitrace.services import support
from unitrace.services.runtime import Runtime
from unitrace.web.deps import RuntimeDep
from unitrace.web.pages.common import (
    PAGE_SIZE,
    CheckedForm,
    Viewer,
    ViewerDep,
    page_number,
    pager,
    redirect,
    render,
    text_fields,
)
from unitrace.web.pages.supply import problems

router = APIRouter()
ALERT_STATUSES = ("open", "investigated")
REPORT_STATUSES = ("open", "closed")
# Not found and not allowed are left to the error page; these are shown beside the form.
_Failure = (ValidationError, ConflictError)


def _status_code(exc: Exception) -> int:
    return 422 if isinstance(exc, ValidationError) else 409


def _chosen(request: Request, statuses: tuple[str, ...]) -> str:
    """``?status=``: one of ``statuses`` or ``all``; open unless told otherwise."""
    raw = request.query_params.get("status", "open")
    return raw if raw in (*statuses, "all") else "open"


def _alerts_page(
    request: Request, rt: Runtime, viewer: Viewer, *, status_code: int = 200, **extra: Any
) -> HTMLResponse:
    status = _chosen(request, ALERT_STATUSES)
    page = page_number(request.query_params.get("page"))
    found = support.list_alerts(
        rt,
        viewer.principal,
        status=None if status == "all" else status,
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    return render(
        request,
        "alerts.html",
        viewer,
        alerts=found.items,
        pager=pager(request, found),
        status=status,
        statuses=ALERT_STATUSES,
        status_code=status_code,
        **({"form": {}, "form_errors": [], "failed_id": None, "done": ""} | extra),
    )


@router.get("/alerts")
def list_alerts(
    request: Request, rt: RuntimeDep, viewer: ViewerDep, done: Annotated[str, Query()] = ""
) -> HTMLResponse:
    return _alerts_page(request, rt, viewer, done=done)


@router.post("/alerts/{alert_id:int}/investigate")
def investigate(
    request: Request, rt: RuntimeDep, viewer: ViewerDep, form: CheckedForm, alert_id: int
) -> Response:
    values = text_fields(form)
    try:
        support.investigate_alert(rt, viewer.principal, alert_id, note=values.get("note", ""))
    except _Failure as exc:
        return _alerts_page(
            request,
            rt,
            viewer,
            form=values,
            form_errors=problems(exc),
            failed_id=alert_id,
            status_code=_status_code(exc),
        )
    return redirect("/alerts?done=investigated")


@router.get("/inbox")
def inbox(request: Request, rt: RuntimeDep, viewer: ViewerDep) -> HTMLResponse:
    status = _chosen(request, REPORT_STATUSES)
    page = page_number(request.query_params.get("page"))
    found = support.list_reports(
        rt,
        viewer.principal,
        status=None if status == "all" else status,
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    return render(
        request,
        "inbox.html",
        viewer,
        reports=found.items,
        pager=pager(request, found),
        status=status,
        statuses=REPORT_STATUSES,
    )


def _report_page(
    request: Request,
    rt: Runtime,
    viewer: Viewer,
    report_id: int,
    *,
    status_code: int = 200,
    **extra: Any,
) -> HTMLResponse:
    case = support.get_report(rt, viewer.principal, report_id)
    oldest_first = request.query_params.get("order") == "oldest"
    return render(
        request,
        "inbox_report.html",
        viewer,
        report=case.report,
        verification=case.verification,
        timeline=case.timeline if oldest_first else list(reversed(case.timeline)),
        oldest_first=oldest_first,
        status_code=status_code,
        **({"form": {}, "form_errors": [], "done": ""} | extra),
    )


@router.get("/inbox/{report_id:int}")
def report_details(
    request: Request,
    rt: RuntimeDep,
    viewer: ViewerDep,
    report_id: int,
    done: Annotated[str, Query()] = "",
) -> HTMLResponse:
    return _report_page(request, rt, viewer, report_id, done=done)


@router.post("/inbox/{report_id:int}/close")
def close_report(
    request: Request, rt: RuntimeDep, viewer: ViewerDep, form: CheckedForm, report_id: int
) -> Response:
    values = text_fields(form)
    try:
        support.close_report(
            rt, viewer.principal, report_id, resolution=values.get("resolution", "")
        )
    except _Failure as exc:
        return _report_page(
            request,
            rt,
            viewer,
            report_id,
            form=values,
            form_errors=problems(exc),
            status_code=_status_code(exc),
        )
    return redirect(f"/inbox/{report_id}?done=closed")
