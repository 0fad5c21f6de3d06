"""A store to count, made through the services: what is on its shelves, what was sold, what
is on its way, what is elsewhere."""

from __future__ import annotations

from dataclasses import dataclass

from tests.factories import make_location, make_org
from tests.sell_through_data import commission, deliver
from unitrace.domain.codes import generate_code
from unitrace.domain.lifecycle import Operation
from unitrace.domain.model import OrganizationKind, Principal
from unitrace.services import containers, retail, shipments
from unitrace.services.runtime import Runtime


@dataclass(frozen=True)
class Store:
    brand: Principal
    retailer: Principal
    other_retailer: Principal
    north: int  # the store counted
    south: int  # another store of the same retailer
    case: str  # a case of c[0:4], received at north
    shipment_id: int  # c[9] and c[10], in transit to north
    c: list[str]
    never_issued: str


def stocked_store(rt: Runtime) -> Store:
    """``c[0:8]`` received at north (``c[0:4]`` in a case), ``c[5]`` quarantined there,
    ``c[6]`` sold; ``c[8]`` at south; ``c[9:11]`` shipped to north, not received; ``c[11]``
    at another retailer's store; ``c[12]`` still with the brand."""
    brand = make_org(rt)
    retailer = make_org(rt, kind=OrganizationKind.RETAILER)
    other = make_org(rt, kind=OrganizationKind.RETAILER)
    north, south = make_location(rt, retailer), make_location(rt, retailer)
    elsewhere = make_location(rt, other)
    _, c = commission(rt, brand, 13)
    (case,) = containers.create_containers(rt, brand, kind="case")
    containers.pack(rt, brand, container=case.code, items=c[0:4])
    shipment = shipments.create_shipment(
        rt, brand, destination_organization_id=retailer.organization_id,
        destination_location_id=north, items=[case.code, *c[4:8]],
    )  # fmt: skip
    shipments.ship(rt, brand, shipment.id)
    shipments.receive(rt, retailer, shipment.id, scans=[case.code, *c[4:8]])
    retail.change_disposition(rt, retailer, operation=Operation.QUARANTINE, codes=[c[5]])
    retail.sell(rt, retailer, location_id=north, codes=[c[6]])
    deliver(rt, brand, retailer, south, [c[8]])
    on_way = shipments.create_shipment(
        rt, brand, destination_organization_id=retailer.organization_id,
        destination_location_id=north, items=c[9:11],
    )  # fmt: skip
    shipments.ship(rt, brand, on_way.id)
    deliver(rt, brand, other, elsewhere, [c[11]])
    return Store(brand, retailer, other, north, south, case.code, on_way.id, c, generate_code())
