"""The /api/v1 router: health without a key, everything else behind an API key."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.security import APIKeyHeader, HTTPBearer

from unitrace.web.api import (
    api_keys,
    batches,
    container_labels,
    containers,
    exports,
    health,
    history,
    imports,
    inventory,
    labels,
    locations,
    organizations,
    products,
    recalls,
    reports,
    retail,
    shipments,
    support,
    units,
    users,
    webhooks,
)
from unitrace.web.api.params import ERROR_RESPONSES

# These two only declare the schemes in the OpenAPI document (so /docs has an "Authorize"
# button); authentication itself is ``unitrace.web.deps.ApiPrincipal`` on each route.
_bearer = HTTPBearer(
    auto_error=False, scheme_name="ApiKeyBearer", description="Authorization: Bearer ut_…"
)
_header = APIKeyHeader(name="X-API-Key", auto_error=False, scheme_name="ApiKeyHeader")

router = APIRouter(prefix="/api/v1")
router.include_router(health.router)

_authenticated = APIRouter(
    dependencies=[Depends(_bearer), Depends(_header)], responses=ERROR_RESPONSES
)
for module in (organizations, locations, users, api_keys, products, batches, units, labels):
    _authenticated.include_router(module.router)
_authenticated.include_router(history.router)
_authenticated.include_router(webhooks.router)
for module in (containers, shipments, retail):
    _authenticated.include_router(module.router)
_authenticated.include_router(container_labels.router)
_authenticated.include_router(exports.router)
_authenticated.include_router(recalls.router)
_authenticated.include_router(reports.router)
_authenticated.include_router(imports.router)
_authenticated.include_router(support.router)
_authenticated.include_router(inventory.router)
router.include_router(_authenticated)
