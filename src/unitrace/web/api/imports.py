"""CSV imports: upload a file (checked whole, applied all or nothing, exactly once), follow
an import, download a kind's template."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Path, Query, Response, UploadFile
from fastapi.responses import JSONResponse

from unitrace.services import imports
from unitrace.web.api.params import IdPath, Limit, Offset
from unitrace.web.api.shipments import IdempotencyKey
from unitrace.web.api.units import REPLAY_HEADER
from unitrace.web.deps import ApiPrincipal, RuntimeDep
from unitrace.web.errors import error_body
from unitrace.web.schemas.imports import ImportPublic, ImportsPublic

router = APIRouter(tags=["imports"])

Kind = Annotated[str, Path(max_length=40, description="products, batches, serialization, sales, …")]


def invalid_body(result: imports.ImportResult) -> dict[str, object]:
    """The 422 answer to a file with problems: the error shape, ``details`` the import."""
    return error_body(
        "invalid_file",
        f"{result.problem_count} problem(s) in the file: nothing was applied",
        ImportPublic.of(result).model_dump(mode="json"),
    )


@router.post(
    "/imports/{kind}",
    responses={
        413: {"description": "`file_too_large`: over `UNITRACE_IMPORT_MAX_BYTES`."},
        422: {
            "description": "`invalid_file`: `details` is the import (status `invalid`, or "
            "`dry_run` for a dry run) with every problem: `line`, `column`, `value`, `message`."
        },
    },
)
def upload(
    kind: Kind,
    file: Annotated[UploadFile, File(description="The CSV file.")],
    rt: RuntimeDep,
    principal: ApiPrincipal,
    response: Response,
    dry_run: Annotated[bool, Query(description="Check everything, change nothing.")] = False,
    idempotency_key: IdempotencyKey = None,
    allow_guessable: Annotated[
        bool,
        Query(
            description="`serials`: accept serials that could be guessed; the units are "
            "marked and their public verification says the code alone is weak evidence."
        ),
    ] = False,
) -> Any:
    """Import a CSV file of ``kind``: the whole file is checked first and applied in one
    transaction, or not at all. The same file (or ``Idempotency-Key``) again answers with the
    first result (``replayed: true``) and changes nothing. The upload is spooled to disk."""
    limit = rt.settings.import_max_bytes
    if file.size is not None and file.size > limit:
        message = f"the file is larger than {limit:,} bytes"
        return JSONResponse(error_body("file_too_large", message), status_code=413)
    result = imports.run_import(
        rt,
        principal,
        kind,
        file.file,
        filename=file.filename or "",
        dry_run=dry_run,
        idempotency_key=idempotency_key,
        allow_guessable=allow_guessable,
    )
    if not result.ok:
        return JSONResponse(invalid_body(result), status_code=422)
    response.headers[REPLAY_HEADER] = "true" if result.replayed else "false"
    return ImportPublic.of(result)


@router.get(
    "/imports/templates/{kind}",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "Header and example row."}},
)
def template(kind: Kind, principal: ApiPrincipal) -> Response:
    """The CSV template of ``kind``: its header row and an example row (see docs/csv.md)."""
    return Response(
        imports.template(kind),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{kind}-template.csv"'},
    )


@router.get("/imports")
def list_imports(
    rt: RuntimeDep, principal: ApiPrincipal, limit: Limit = 50, offset: Offset = 0
) -> ImportsPublic:
    """Your organization's imports, newest first (dry runs are not kept)."""
    page = imports.list_imports(rt, principal, limit=limit, offset=offset)
    return ImportsPublic.of(page)


@router.get("/imports/{import_id}")
def get_import(import_id: IdPath, rt: RuntimeDep, principal: ApiPrincipal) -> ImportPublic:
    """One import: its status, rows, problems and result."""
    return ImportPublic.of(imports.get_import(rt, principal, import_id))
