"""Case and pallet labels: a print-ready file for several containers, one label as SVG."""

from __future__ import annotations

import io
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response
from pydantic import Field

from unitrace.domain.model import LabelFormat
from unitrace.services import container_labels
from unitrace.services.container_labels import DEFAULT_CONTAINER_LAYOUT, MAX_CONTAINERS
from unitrace.web.deps import ApiPrincipal, RuntimeDep
from unitrace.web.downloads import COUNT_HEADER, JOB_HEADER, MEDIA_TYPES, SVG_HEADERS, attachment
from unitrace.web.schemas import NO_NUL
from unitrace.web.schemas.common import Schema

router = APIRouter(tags=["labels"])

Code = Annotated[str, Path(max_length=100, examples=["7k3m-q9xw-2d4h-br"])]
Dpi = Annotated[int, Query(ge=1, le=2400, description="Printer resolution: 203, 300 or 600.")]


class ContainerLabelsCreate(Schema):
    codes: list[Annotated[str, Field(max_length=100, pattern=NO_NUL)]] = Field(
        min_length=1,
        max_length=MAX_CONTAINERS,
        description="Cases or pallets: codes, short URLs, SSCCs or SSCC Digital Links.",
    )
    format: Literal["pdf", "zpl", "svg-zip"] = "pdf"
    layout: str = Field(
        default=DEFAULT_CONTAINER_LAYOUT,
        max_length=50,
        pattern=NO_NUL,
        description="`roll-4x6` (the 4 × 6 in shipping label) or a sheet or roll layout of "
        "labels of at least 50 × 25 mm.",
    )
    dpi: int | None = Field(
        default=None, ge=1, le=2400, description="203, 300 or 600 (default 203 for ZPL, else 300)."
    )


@router.post(
    "/containers/labels",
    response_class=Response,
    responses={
        200: {
            "content": {"application/pdf": {}, "text/plain": {"description": "ZPL"}},
            "description": f"The label file; `{JOB_HEADER}` names the recorded print job.",
        },
        422: {"description": "`validation_error`, or `preflight_failed` with the failing codes."},
    },
)
def download_container_labels(
    body: ContainerLabelsCreate, rt: RuntimeDep, principal: ApiPrincipal
) -> Response:
    """A label per case or pallet (operator): the QR code of its SSCC Digital Link or short
    URL, its code, SSCC, kind, owner and contents. Every QR code is decoded back before the
    file is returned; the download is recorded as a print job."""
    fmt = LabelFormat(body.format)
    out = io.BytesIO()
    job = container_labels.render_container_labels(
        rt, principal, body.codes, fmt=fmt, layout=body.layout, dpi=body.dpi, out=out
    )
    headers = {
        "Content-Disposition": attachment(f"containers-job{job.id}.{fmt.extension}"),
        JOB_HEADER: str(job.id),
        COUNT_HEADER: str(job.quantity),
    }
    return Response(out.getvalue(), media_type=MEDIA_TYPES[fmt], headers=headers)


@router.get(
    "/containers/{code}/label.svg",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}, "description": "The container's label."}},
)
def container_label(
    code: Code,
    rt: RuntimeDep,
    principal: ApiPrincipal,
    layout: Annotated[str, Query(max_length=50, pattern=NO_NUL)] = DEFAULT_CONTAINER_LAYOUT,
    dpi: Dpi = 300,
) -> Response:
    """A case or pallet label as SVG, scan-checked (its owner or holder; not recorded)."""
    svg = container_labels.container_label_svg(rt, principal, code, layout=layout, dpi=dpi)
    return Response(svg, media_type="image/svg+xml", headers=SVG_HEADERS)
