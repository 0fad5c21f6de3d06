"""Recalls: the brand's list, new-recall form, a draft with its preview and activation (after
a confirmation step), an active recall's monitor with its ending actions; the holder's
"Recalled stock" with scan-to-confirm; the regulator reads every recall of its market."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from unitrace.domain.model import OrganizationKind
from unitrace.domain.recalls import Scope
from unitrace.errors import ConflictError, NotFoundError, OperationRefusedError, ValidationError
from unitrace.services import organizations, recalls
from unitrace.services.recalls import RecallDraft
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
STATUSES = ("draft", "active", "closed")
ISSUERS = (OrganizationKind.BRAND, OrganizationKind.REGULATOR)
_Failure = (ValidationError, NotFoundError, ConflictError, OperationRefusedError)


def _status(exc: Exception) -> int:
    return 422 if isinstance(exc, ValidationError) else 409


@router.get("/recalls")
def list_recalls(request: Request, rt: RuntimeDep, viewer: ViewerDep) -> Response:
    if viewer.organization.kind not in ISSUERS:
        return redirect("/recalls/held")
    params = request.query_params
    status = params.get("status") if params.get("status") in STATUSES else None
    page = page_number(params.get("page"))
    found = recalls.list_recalls(
        rt, viewer.principal, status=status, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    return render(
        request,
        "recalls.html",
        viewer,
        recalls=found.items,
        pager=pager(request, found),
        status=status,
        statuses=STATUSES,
    )


def _new_page(
    request: Request,
    viewer: Viewer,
    *,
    form: dict[str, str],
    form_errors: list[str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "recall_new.html",
        viewer,
        form=form,
        form_errors=form_errors or [],
        status_code=status_code,
    )


@router.get("/recalls/new")
def new_recall(request: Request, viewer: ViewerDep) -> HTMLResponse:
    return _new_page(request, viewer, form={"severity": "I"})


def _ids(raw: str, what: str) -> tuple[int, ...]:
    parts = raw.replace(",", " ").split()
    if not all(p.isdigit() for p in parts):
        raise ValidationError(f"{what} are numbers, separated by commas or spaces")
    return tuple(int(p) for p in parts)


def _date(raw: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(raw) if raw.strip() else None
    except ValueError:
        raise ValidationError(f"'{raw}' is not a date; use YYYY-MM-DD") from None


def _draft(values: dict[str, str]) -> RecallDraft:
    return RecallDraft(
        title=values.get("title", "").strip(),
        reason=values.get("reason", "").strip(),
        severity=values.get("severity", ""),
        retailer_instructions=values.get("retailer_instructions", "").strip(),
        consumer_instructions=values.get("consumer_instructions", "").strip(),
        scope=Scope(
            batch_ids=_ids(values.get("batch_ids", ""), "batch IDs"),
            product_ids=_ids(values.get("product_ids", ""), "product IDs"),
            produced_from=_date(values.get("produced_from", "")),
            produced_to=_date(values.get("produced_to", "")),
            container_codes=tuple(scan_lines(values.get("container_codes", ""))),
            unit_codes=tuple(scan_lines(values.get("unit_codes", ""))),
        ),
    )


@router.post("/recalls")
def create_recall(
    request: Request, rt: RuntimeDep, viewer: ViewerDep, form: CheckedForm
) -> Response:
    values = text_fields(form)
    try:
        view = recalls.create_recall(rt, viewer.principal, _draft(values))
    except _Failure as exc:
        return _new_page(
            request, viewer, form=values, form_errors=problems(exc), status_code=_status(exc)
        )
    return redirect(f"/recalls/{view.id}?done=created")


def _recall_page(
    request: Request,
    rt: Runtime,
    viewer: Viewer,
    recall_id: int,
    *,
    status_code: int = 200,
    confirm_activation: bool = False,
    **extra: Any,
) -> HTMLResponse:
    view = recalls.get_recall(rt, viewer.principal, recall_id)
    draft = view.status == "draft"
    return render(
        request,
        "recall.html",
        viewer,
        view=view,
        issuer=view.organization_id == viewer.principal.organization_id,
        preview=recalls.preview(rt, viewer.principal, recall_id) if draft else None,
        report=None
        if draft
        else recalls.report_json(recalls.report(rt, viewer.principal, recall_id)),
        confirm_activation=confirm_activation and draft,
        status_code=status_code,
        **({"form": {}, "form_errors": [], "done": ""} | extra),
    )


@router.get("/recalls/{recall_id:int}")
def recall_details(
    request: Request,
    rt: RuntimeDep,
    viewer: ViewerDep,
    recall_id: int,
    done: Annotated[str, Query()] = "",
) -> HTMLResponse:
    return _recall_page(request, rt, viewer, recall_id, done=done)


@router.get("/recalls/{recall_id:int}/activate")
def confirm_activation(
    request: Request, rt: RuntimeDep, viewer: ViewerDep, recall_id: int
) -> HTMLResponse:
    """The confirmation step: the preview again, and the button that activates."""
    return _recall_page(request, rt, viewer, recall_id, confirm_activation=True)


def _act(
    request: Request,
    rt: Runtime,
    viewer: Viewer,
    recall_id: int,
    values: dict[str, str],
    call: Callable[[], object],
    done: str,
    then: str | None = None,
) -> Response:
    """Run one action on the recall; its refusal is shown on the recall's page."""
    try:
        result = call()
    except _Failure as exc:
        return _recall_page(
            request,
            rt,
            viewer,
            recall_id,
            form=values,
            form_errors=problems(exc),
            status_code=_status(exc),
        )
    units = getattr(result, "units", None)
    suffix = f"&units={units}" if isinstance(units, int) else ""
    return redirect(then or f"/recalls/{recall_id}?done={done}{suffix}")


@router.post("/recalls/{recall_id:int}/activate")
def activate(
    request: Request, rt: RuntimeDep, viewer: ViewerDep, form: CheckedForm, recall_id: int
) -> Response:
    call = lambda: recalls.activate(rt, viewer.principal, recall_id)  # noqa: E731
    return _act(request, rt, viewer, recall_id, text_fields(form), call, "activated")


@router.post("/recalls/{recall_id:int}/discard")
def discard(
    request: Request, rt: RuntimeDep, viewer: ViewerDep, form: CheckedForm, recall_id: int
) -> Response:
    call = lambda: recalls.discard_recall(rt, viewer.principal, recall_id)  # noqa: E731
    values = text_fields(form)
    return _act(request, rt, viewer, recall_id, values, call, "", then="/recalls?done=discarded")


@router.post("/recalls/{recall_id:int}/release")
def release(
    request: Request, rt: RuntimeDep, viewer: ViewerDep, form: CheckedForm, recall_id: int
) -> Response:
    values = text_fields(form)
    codes = scan_lines(values.get("codes", ""))
    reason = values.get("reason", "")

    def call() -> object:
        if not codes and values.get("all") != "yes":
            raise ValidationError("paste the codes to release, or tick every unit")
        return recalls.release(rt, viewer.principal, recall_id, reason=reason, codes=codes or None)

    return _act(request, rt, viewer, recall_id, values, call, "released")


@router.post("/recalls/{recall_id:int}/destroy")
def destroy(
    request: Request, rt: RuntimeDep, viewer: ViewerDep, form: CheckedForm, recall_id: int
) -> Response:
    values = text_fields(form)
    codes = scan_lines(values.get("codes", ""))
    call = lambda: recalls.destroy(  # noqa: E731
        rt, viewer.principal, recall_id, codes=codes or None, reason=values.get("reason", "")
    )
    return _act(request, rt, viewer, recall_id, values, call, "destroyed")


@router.post("/recalls/{recall_id:int}/close")
def close(
    request: Request, rt: RuntimeDep, viewer: ViewerDep, form: CheckedForm, recall_id: int
) -> Response:
    call = lambda: recalls.close(rt, viewer.principal, recall_id)  # noqa: E731
    return _act(request, rt, viewer, recall_id, text_fields(form), call, "closed")


# --- the holder's side -------------------------------------------------------------------


def _held_page(
    request: Request,
    rt: Runtime,
    viewer: Viewer,
    *,
    status_code: int = 200,
    **extra: Any,
) -> HTMLResponse:
    return render(
        request,
        "recalls_held.html",
        viewer,
        held=recalls.held(rt, viewer.principal),
        locations=organizations.list_locations(rt, viewer.principal),
        status_code=status_code,
        **({"form": {}, "form_errors": [], "done": "", "units": None} | extra),
    )


@router.get("/recalls/held")
def held(
    request: Request,
    rt: RuntimeDep,
    viewer: ViewerDep,
    done: Annotated[str, Query()] = "",
    units: Annotated[int | None, Query()] = None,
) -> HTMLResponse:
    return _held_page(request, rt, viewer, done=done, units=units)


@router.post("/recalls/held/confirm")
def confirm(request: Request, rt: RuntimeDep, viewer: ViewerDep, form: CheckedForm) -> Response:
    values = text_fields(form)
    try:
        done = recalls.confirm(
            rt,
            viewer.principal,
            codes=scan_lines(values.get("codes", "")),
            action=values.get("action", ""),
            location_id=optional_int(values.get("location_id")),
        )
    except _Failure as exc:
        return _held_page(
            request,
            rt,
            viewer,
            form=values,
            form_errors=problems(exc),
            status_code=_status(exc),
        )
    return redirect(f"/recalls/held?done={values.get('action')}&units={done.units}")
