"""Path and query parameters shared by the API modules, and the documented error replies."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query

from unitrace.services.catalog import MAX_PAGE
from unitrace.web.schemas import MAX_ID, NO_NUL, ErrorPublic

IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
IdQuery = Annotated[int | None, Query(ge=1, le=MAX_ID)]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description=f"Items per page, at most {MAX_PAGE}.")]
Offset = Annotated[int, Query(ge=0, le=2**62, description="How many items to skip.")]
SearchText = Annotated[str | None, Query(max_length=200, pattern=NO_NUL)]


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorPublic, "description": description}


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: _error("No valid API key (or session) was presented."),
    403: _error("The caller's role does not allow this."),
    404: _error("Not found — or it belongs to another organization (the same answer)."),
    422: _error("The request is not valid; `details` names the fields."),
}
