"""Products (SKUs) of the caller's brand."""

from __future__ import annotations

from fastapi import APIRouter

from unitrace.services import catalog
from unitrace.web.api.params import IdPath, Limit, Offset, SearchText
from unitrace.web.deps import ApiPrincipal, RuntimeDep
from unitrace.web.schemas import ProductCreate, ProductPublic, ProductsPublic, ProductUpdate

router = APIRouter(tags=["products"])


@router.get("/products")
def list_products(
    rt: RuntimeDep,
    principal: ApiPrincipal,
    search: SearchText = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> ProductsPublic:
    """Products ordered by name; ``search`` matches part of the name, any case."""
    page = catalog.list_products(rt, principal, limit=limit, offset=offset, search=search)
    return ProductsPublic.of(page)


@router.post("/products", status_code=201)
def create_product(body: ProductCreate, rt: RuntimeDep, principal: ApiPrincipal) -> ProductPublic:
    """Define a product (operator). A GTIN may be given as GTIN-8/12/13/14; it is stored as 14."""
    return ProductPublic.of(catalog.create_product(rt, principal, body.to_draft()))


@router.get("/products/{product_id}")
def get_product(product_id: IdPath, rt: RuntimeDep, principal: ApiPrincipal) -> ProductPublic:
    return ProductPublic.of(catalog.get_product(rt, principal, product_id))


@router.patch("/products/{product_id}")
def update_product(
    product_id: IdPath, body: ProductUpdate, rt: RuntimeDep, principal: ApiPrincipal
) -> ProductPublic:
    """Change a product (operator); fields left out keep their value, null clears optional ones."""
    draft = body.merged_with(catalog.get_product(rt, principal, product_id))
    updated = catalog.update_product(rt, principal, product_id=product_id, draft=draft)
    return ProductPublic.of(updated)
