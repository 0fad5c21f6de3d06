"""All pages under one router (no prefix, left out of the OpenAPI schema)."""

from __future__ import annotations

from fastapi import APIRouter

from unitrace.web.pages import api_keys, auth, batches, dashboard, labels, products, units

router = APIRouter(include_in_schema=False)
for module in (auth, dashboard, products, batches, units, labels, api_keys):
    router.include_router(module.router)
