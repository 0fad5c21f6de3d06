"""A case or pallet label in the browser: the 4 × 6 in label as SVG, at true size to print."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from unitrace.services import container_labels
from unitrace.services.container_labels import DEFAULT_CONTAINER_LAYOUT
from unitrace.web.deps import PageSession, RuntimeDep
from unitrace.web.downloads import SVG_HEADERS

router = APIRouter()


@router.get("/containers/{code}/label.svg")
def container_label(code: str, request: Request, rt: RuntimeDep, session: PageSession) -> Response:
    layout = request.query_params.get("layout") or DEFAULT_CONTAINER_LAYOUT
    svg = container_labels.container_label_svg(rt, session[0], code, layout=layout)
    return Response(svg, media_type="image/svg+xml", headers=SVG_HEADERS)
