"""Batches (lots): lab results and the Certificate of Analysis."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, File, Response, UploadFile

from unitrace.domain.model import LabStatus
from unitrace.services import catalog
from unitrace.web.api.params import IdPath, IdQuery, Limit, Offset
from unitrace.web.deps import ApiPrincipal, RuntimeDep
from unitrace.web.schemas import BatchCreate, BatchesPublic, BatchPublic, LabResultsCreate

router = APIRouter(tags=["batches"])


@router.get("/batches")
def list_batches(
    rt: RuntimeDep,
    principal: ApiPrincipal,
    product_id: IdQuery = None,
    lab_status: LabStatus | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> BatchesPublic:
    page = catalog.list_batches(
        rt, principal, limit=limit, offset=offset, product_id=product_id, lab_status=lab_status
    )
    return BatchesPublic.of(page)


@router.post("/batches", status_code=201)
def create_batch(body: BatchCreate, rt: RuntimeDep, principal: ApiPrincipal) -> BatchPublic:
    """Record a production run with its lab results (operator). Only ``passed`` batches
    can be serialized."""
    return BatchPublic.of(catalog.create_batch(rt, principal, body.to_draft()))


@router.get("/batches/{batch_id}")
def get_batch(batch_id: IdPath, rt: RuntimeDep, principal: ApiPrincipal) -> BatchPublic:
    return BatchPublic.of(catalog.get_batch(rt, principal, batch_id))


@router.put("/batches/{batch_id}/lab-results")
def replace_lab_results(
    batch_id: IdPath, body: LabResultsCreate, rt: RuntimeDep, principal: ApiPrincipal
) -> BatchPublic:
    """Replace the batch's lab results, e.g. after a retest (operator)."""
    batch = catalog.record_lab_results(rt, principal, batch_id=batch_id, lab=body.to_draft())
    return BatchPublic.of(batch)


@router.post("/batches/{batch_id}/coa")
def upload_coa(
    batch_id: IdPath,
    file: Annotated[UploadFile, File(description="The COA: a PDF, PNG or JPEG file.")],
    rt: RuntimeDep,
    principal: ApiPrincipal,
) -> BatchPublic:
    """Attach the Certificate of Analysis (multipart field ``file``), replacing any earlier one.

    The type is read from the file's first bytes, not trusted from the upload."""
    # One byte past the limit is enough for the service to refuse an oversized file.
    content = file.file.read(rt.settings.max_upload_bytes + 1)
    batch = catalog.attach_coa(
        rt,
        principal,
        batch_id=batch_id,
        filename=file.filename or "coa",
        content_type=file.content_type or "",
        content=content,
    )
    return BatchPublic.of(batch)


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII fallback name and the exact name per RFC 6266/5987."""
    fallback = "".join(c if c.isascii() and c.isprintable() else "_" for c in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


@router.get(
    "/batches/{batch_id}/coa",
    response_class=Response,
    responses={
        200: {
            "content": {"application/pdf": {}, "image/png": {}, "image/jpeg": {}},
            "description": "The COA file, byte for byte as uploaded.",
        }
    },
)
def download_coa(batch_id: IdPath, rt: RuntimeDep, principal: ApiPrincipal) -> Response:
    """Download the batch's Certificate of Analysis (404 when none was uploaded)."""
    document, content = catalog.read_coa(rt, principal, batch_id=batch_id)
    headers = {
        "Content-Disposition": content_disposition(document.filename),
        "X-Content-Type-Options": "nosniff",
    }
    return Response(content, media_type=document.content_type, headers=headers)
