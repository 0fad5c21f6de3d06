"""Imports: upload a CSV file of a kind (check only, or import), the problems as a table or
the summary, past imports, and each kind's template."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import UploadFile

from unitrace.domain.imports import LAYOUTS
from unitrace.services import imports
from unitrace.services.imports import ImportResult
from unitrace.services.runtime import Runtime
from unitrace.web.deps import PageSession, RuntimeDep
from unitrace.web.pages.common import (
    PAGE_SIZE,
    CheckedForm,
    Viewer,
    ViewerDep,
    page_number,
    pager,
    render,
)

router = APIRouter()


def _page(
    request: Request,
    rt: Runtime,
    viewer: Viewer,
    *,
    kind: str = "",
    outcome: ImportResult | None = None,
    errors: list[str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    page = page_number(request.query_params.get("page"))
    found = imports.list_imports(
        rt, viewer.principal, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    return render(
        request,
        "imports.html",
        viewer,
        layouts=list(LAYOUTS.values()),
        kind=kind or next(iter(LAYOUTS)),
        outcome=outcome,
        errors=errors or [],
        imports=found.items,
        pager=pager(request, found),
        max_bytes=rt.settings.import_max_bytes,
        status_code=status_code,
    )


@router.get("/imports")
def imports_page(request: Request, rt: RuntimeDep, viewer: ViewerDep) -> Response:
    return _page(request, rt, viewer)


@router.post("/imports")
def upload(request: Request, rt: RuntimeDep, viewer: ViewerDep, form: CheckedForm) -> Response:
    kind = str(form.get("kind") or "")
    upload = form.get("file")
    if kind not in LAYOUTS:
        return _page(request, rt, viewer, errors=["Choose what the file holds."], status_code=422)
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _page(request, rt, viewer, kind=kind, errors=["Choose a file."], status_code=422)
    limit = rt.settings.import_max_bytes
    if upload.size is not None and upload.size > limit:
        message = f"The file is larger than {limit:,} bytes."
        return _page(request, rt, viewer, kind=kind, errors=[message], status_code=413)
    outcome = imports.run_import(
        rt,
        viewer.principal,
        kind,
        upload.file,
        filename=upload.filename,
        dry_run=form.get("action") == "check",
        allow_guessable=form.get("allow_guessable") == "yes",
    )
    status = 200 if outcome.ok else 422
    return _page(request, rt, viewer, kind=kind, outcome=outcome, status_code=status)


@router.get("/imports/{import_id:int}")
def show_import(request: Request, rt: RuntimeDep, viewer: ViewerDep, import_id: int) -> Response:
    outcome = imports.get_import(rt, viewer.principal, import_id)
    return _page(request, rt, viewer, kind=outcome.kind, outcome=outcome)


@router.get("/imports/templates/{kind}")
def template(kind: str, session: PageSession) -> Response:
    return Response(
        imports.template(kind),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{kind}-template.csv"'},
    )
