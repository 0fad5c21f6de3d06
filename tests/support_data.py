"""Test data for the brand's support edges: a sold unit scanned from many networks (an
open ``many_origins`` alert) and consumer problem reports, made through the services."""

from __future__ import annotations

from dataclasses import dataclass

from tests.factories import make_batch, make_location, make_org
from unitrace.domain.model import OrganizationKind, Principal
from unitrace.services import retail, scanlog, serialization, shipments, support, verification
from unitrace.services.runtime import Runtime


@dataclass(frozen=True)
class SupportWorld:
    brand: Principal
    retailer: Principal
    store: int
    codes: list[str]  # codes[0] is sold, the others are at the store
    alert_id: int
    report_ids: list[int]  # two reports on codes[0], newest last


def scan(rt: Runtime, log: scanlog.ScanLog, code: str, address: str) -> None:
    """One public scan of ``code`` from the network of ``address``."""
    origin = scanlog.describe_origin(rt, address, "Mozilla/5.0 (iPhone)", region="US-CA")
    log.record(verification.verify(rt, code), origin)


def make_support_world(rt: Runtime, brand: Principal) -> SupportWorld:
    retailer = make_org(rt, kind=OrganizationKind.RETAILER)
    store = make_location(rt, retailer)
    batch = make_batch(rt, brand)
    done = serialization.commission_units(rt, brand, batch_id=batch.id, quantity=3)
    codes = sorted(serialization.iter_commissioned_codes(rt, brand, event_id=done.event_id))
    shipment = shipments.create_shipment(
        rt, brand, destination_organization_id=retailer.organization_id,
        destination_location_id=store, items=codes,
    )  # fmt: skip
    shipments.ship(rt, brand, shipment.id)
    shipments.receive(rt, retailer, shipment.id, scans=codes)
    retail.sell(rt, retailer, location_id=store, codes=[codes[0]])

    log = scanlog.ScanLog(rt)
    for network in range(1, 5):  # four distinct /24 networks after the sale
        scan(rt, log, codes[0], f"203.0.{network}.7")
    scan(rt, log, codes[1], "203.0.1.7")
    log.flush()
    alerts = support.list_alerts(rt, brand, status="open")
    assert [a.reason for a in alerts.items] == ["many_origins"], alerts.items

    origin = scanlog.describe_origin(rt, "198.51.100.4", "Mozilla/5.0", region="US-CA")
    report_ids = [
        support.report_problem(
            rt, codes[0], kind=kind, message=message, contact=support.Contact(), origin=origin
        )
        for kind, message in (("damaged", "The seal was broken"), ("other", "Smells odd"))
    ]
    return SupportWorld(brand, retailer, store, codes, alerts.items[0].id, report_ids)
