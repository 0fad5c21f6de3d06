"""GET /health: unauthenticated liveness for load balancers and monitors."""

from __future__ import annotations

from fastapi import APIRouter, Response

from unitrace.services.health import check_health
from unitrace.web.deps import RuntimeDep
from unitrace.web.schemas import HealthPublic

router = APIRouter(tags=["health"])


@router.get(
    "/health",
    responses={503: {"model": HealthPublic, "description": "The database is unreachable."}},
)
def health(rt: RuntimeDep, response: Response) -> HealthPublic:
    """Version and database backend; 503 when the database cannot be reached. No key needed."""
    found = check_health(rt)
    if not found.ok:
        response.status_code = 503
    return HealthPublic(
        status="ok" if found.ok else "unavailable", version=found.version, database=found.database
    )
