"""A small selling scenario for the sell-through tests, made through the services."""

from __future__ import annotations

from dataclasses import dataclass

from tests.factories import make_batch, make_location, make_org, make_product
from unitrace.domain.model import OrganizationKind, Principal
from unitrace.services import retail, serialization, shipments
from unitrace.services.runtime import Runtime


def commission(rt: Runtime, brand: Principal, n: int) -> tuple[int, list[str]]:
    """A new product of ``brand`` with ``n`` units: (product id, codes)."""
    product = make_product(rt, brand)
    batch = make_batch(rt, brand, product)
    done = serialization.commission_units(rt, brand, batch_id=batch.id, quantity=n)
    codes = sorted(serialization.iter_commissioned_codes(rt, brand, event_id=done.event_id))
    return product.id, codes


def deliver(
    rt: Runtime, brand: Principal, retailer: Principal, store: int, codes: list[str]
) -> None:
    """Ship ``codes`` to ``store`` and receive them there."""
    shipment = shipments.create_shipment(
        rt, brand, destination_organization_id=retailer.organization_id,
        destination_location_id=store, items=codes,
    )  # fmt: skip
    shipments.ship(rt, brand, shipment.id)
    shipments.receive(rt, retailer, shipment.id, scans=codes)


@dataclass(frozen=True)
class Shop:
    brand: Principal
    retailer: Principal
    store: int
    product: int
    codes: list[str]


def one_store_selling(rt: Runtime, brand: Principal | None = None) -> Shop:
    """Four units delivered to one store, one of them sold."""
    brand = brand or make_org(rt)
    retailer = make_org(rt, kind=OrganizationKind.RETAILER)
    store = make_location(rt, retailer)
    product, codes = commission(rt, brand, 4)
    deliver(rt, brand, retailer, store, codes)
    retail.sell(rt, retailer, location_id=store, codes=[codes[0]])
    return Shop(brand, retailer, store, product, codes)
