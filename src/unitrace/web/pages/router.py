"""All pages under one router (no prefix, left out of the OpenAPI schema)."""

from __future__ import annotations

from fastapi import APIRouter

from unitrace.web.pages import (
    api_keys,
    auth,
    batches,
    container_labels,
    containers,
    dashboard,
    imports,
    inventory,
    labels,
    pos,
    products,
    recalls,
    receiving,
    reports,
    shipments,
    support,
    units,
)

router = APIRouter(include_in_schema=False)
for module in (auth, dashboard, products, batches, units, labels, api_keys):
    router.include_router(module.router)
for module in (containers, shipments, receiving, pos):  # the supply chain
    router.include_router(module.router)
router.include_router(container_labels.router)
router.include_router(recalls.router)
router.include_router(imports.router)
router.include_router(support.router)
router.include_router(reports.router)
router.include_router(inventory.router)
