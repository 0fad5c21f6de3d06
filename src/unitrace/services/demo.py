"""Demo data: a small but complete market to click through after ``make run``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from unitrace.domain.labels import LabelTemplate, QrForm
from unitrace.domain.model import (
    Analyte,
    AnalyteKind,
    Disposition,
    LabStatus,
    LocationKind,
    OrganizationKind,
    Panel,
    PanelResult,
    Principal,
    Role,
)
from unitrace.domain.recalls import Scope
from unitrace.services import (
    access,
    catalog,
    containers,
    organizations,
    recalls,
    retail,
    serialization,
    shipments,
    units,
)
from unitrace.services.runtime import Runtime
from unitrace.storage import orgs as org_store

SUPPLY_CHAIN_MIN_UNITS = 16  # per batch: enough for four cases, a basket and a return
DEMO_PASSWORD = "unitrace-demo"  # noqa: S105 - published demo login, printed by `make run`


@dataclass(frozen=True)
class DemoLogin:
    email: str
    organization: str
    role: Role


@dataclass(frozen=True)
class DemoSummary:
    loaded: bool
    logins: tuple[DemoLogin, ...]
    units: int
    password: str = DEMO_PASSWORD


DEMO_LOGINS = (
    DemoLogin("admin@greenvalley.example", "Green Valley Farms", Role.ADMIN),
    DemoLogin("operator@greenvalley.example", "Green Valley Farms", Role.OPERATOR),
    DemoLogin("admin@northstar.example", "North Star Distribution", Role.ADMIN),
    DemoLogin("admin@highstreet.example", "High Street Dispensary", Role.ADMIN),
    DemoLogin("admin@riverside.example", "Riverside Cannabis Co.", Role.ADMIN),
)


def _coa_pdf(lot: str) -> bytes:
    """A small valid one-page PDF standing in for a lab's Certificate of Analysis."""
    text = f"Certificate of Analysis - lot {lot} - Evergreen Analytical Labs".encode()
    stream = b"BT /F1 14 Tf 50 750 Td (" + text + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)


def _lab(today: dt.date, thc: str, cbd: str, terpenes: dict[str, str]) -> catalog.LabResultsDraft:
    analytes = [
        Analyte(AnalyteKind.CANNABINOID, "total_thc", Decimal(thc), "%"),
        Analyte(AnalyteKind.CANNABINOID, "total_cbd", Decimal(cbd), "%"),
        Analyte(AnalyteKind.CANNABINOID, "cbg", Decimal("0.8"), "%"),
    ] + [Analyte(AnalyteKind.TERPENE, n, Decimal(v), "%") for n, v in terpenes.items()]
    panels = [
        Panel(name, PanelResult.PASS)
        for name in ("microbials", "mycotoxins", "heavy_metals", "pesticides", "residual_solvents")
    ]
    return catalog.LabResultsDraft(
        status=LabStatus.PASSED,
        lab_name="Evergreen Analytical Labs",
        tested_on=today - dt.timedelta(days=9),
        analytes=tuple(analytes),
        panels=tuple(panels),
    )


def load_demo(rt: Runtime, *, if_empty: bool = True, units_per_batch: int = 2000) -> DemoSummary:
    """Create the demo market. With ``if_empty`` nothing happens when organizations exist."""
    with rt.db.read() as conn:
        has_data = org_store.count_organizations(conn) > 0
    if has_data and if_empty:
        return DemoSummary(loaded=False, logins=DEMO_LOGINS, units=0)
    today = rt.clock().date()
    orgs = {}
    for name, kind, license_number in (
        ("Green Valley Farms", OrganizationKind.BRAND, "CCL21-0000123"),
        ("North Star Distribution", OrganizationKind.DISTRIBUTOR, "C11-0000456-LIC"),
        ("High Street Dispensary", OrganizationKind.RETAILER, "C10-0000789-LIC"),
        ("Riverside Cannabis Co.", OrganizationKind.RETAILER, "C10-0000987-LIC"),
    ):
        orgs[name] = organizations.create_organization(
            rt,
            organizations.OrganizationDraft(
                name,
                kind,
                license_number,
                "CA",
                "0950600" if kind is OrganizationKind.BRAND else None,
            ),
        )
    sites: tuple[tuple[str, LocationKind, str], ...] = (
        ("Green Valley Farms", LocationKind.FACILITY, "Salinas"),
        ("North Star Distribution", LocationKind.WAREHOUSE, "Oakland"),
        ("High Street Dispensary", LocationKind.STORE, "Sacramento"),
        ("High Street Dispensary", LocationKind.STORE, "Davis"),
        ("Riverside Cannabis Co.", LocationKind.STORE, "Los Angeles"),
    )
    for name, site_kind, city in sites:
        label = {"facility": "Cultivation & Packaging", "warehouse": "Main Warehouse"}.get(
            site_kind.value, f"{city} Store"
        )
        organizations.create_location(
            rt,
            None,
            organizations.LocationDraft(label, site_kind, f"1 Main St, {city}, CA", city),
            organization_id=orgs[name].id,
        )
    for login in DEMO_LOGINS:
        access.create_user(
            rt,
            None,
            organization_id=orgs[login.organization].id,
            email=login.email,
            name=login.email.split("@")[0].title(),
            password=DEMO_PASSWORD,
            role=login.role,
        )
    brand = access.principal_for_user(
        access.authenticate_password(rt, email=DEMO_LOGINS[0].email, password=DEMO_PASSWORD)
    )
    facility = organizations.list_locations(rt, brand)[0]
    products = [
        catalog.create_product(
            rt,
            brand,
            catalog.ProductDraft(
                name="Blue Dream 3.5 g",
                category="flower",
                strain="Blue Dream",
                net_content=Decimal("3.5"),
                net_content_unit="g",
                gtin="09506000134352",
                label_template=LabelTemplate.FINISHED_GOODS,
                description="Sativa-dominant hybrid, sun-grown in the Salinas Valley.",
                warnings="For use only by adults 21 and older. Keep out of reach of children.",
            ),
        ),
        catalog.create_product(
            rt,
            brand,
            catalog.ProductDraft(
                name="OG Kush Pre-Roll 1 g",
                category="pre_roll",
                strain="OG Kush",
                net_content=Decimal("1"),
                net_content_unit="g",
                qr_form=QrForm.SHORT_URL,  # a small QR for a pre-roll tube
                description="Hand-rolled indica-dominant pre-roll.",
                warnings="For use only by adults 21 and older. Keep out of reach of children.",
            ),
        ),
    ]
    labs = [
        _lab(today, "22.4", "0.1", {"myrcene": "0.9", "pinene": "0.5", "caryophyllene": "0.3"}),
        _lab(today, "19.8", "0.2", {"limonene": "0.7", "caryophyllene": "0.6", "linalool": "0.2"}),
    ]
    total = 0
    for product, lab, lot in zip(products, labs, ("GV-2611-A", "GV-2611-B"), strict=True):
        batch = catalog.create_batch(
            rt,
            brand,
            catalog.BatchDraft(
                product_id=product.id,
                lot_number=lot,
                produced_on=today - dt.timedelta(days=14),
                expires_on=today + dt.timedelta(days=365),
                lab=lab,
            ),
        )
        catalog.attach_coa(
            rt,
            brand,
            batch_id=batch.id,
            filename=f"COA-{lot}.pdf",
            content_type="application/pdf",
            content=_coa_pdf(lot),
        )
        serialization.commission_units(
            rt,
            brand,
            batch_id=batch.id,
            quantity=units_per_batch,
            location_id=facility.id,
            idempotency_key=f"demo-{lot}",
        )
        total += units_per_batch
    catalog.create_batch(
        rt,
        brand,
        catalog.BatchDraft(
            product_id=products[0].id,
            lot_number="GV-2612-A",
            produced_on=today - dt.timedelta(days=2),
            expires_on=today + dt.timedelta(days=365),
        ),
    )
    if units_per_batch >= SUPPLY_CHAIN_MIN_UNITS:  # tiny demos (tests) skip the journeys
        _supply_chain(rt, brand, facility.id, units_per_batch)
    return DemoSummary(loaded=True, logins=DEMO_LOGINS, units=total)


def _login(rt: Runtime, email: str) -> Principal:
    return access.principal_for_user(
        access.authenticate_password(rt, email=email, password=DEMO_PASSWORD)
    )


def _codes(rt: Runtime, principal: Principal, lot: str, count: int) -> list[str]:
    """The first ``count`` codes of a demo lot still at the brand."""
    page = units.list_units(
        rt,
        principal,
        batch_id=_batch_id(rt, principal, lot),
        disposition=Disposition.ACTIVE,
        limit=count,
    )
    return [view.unit.code for view in page.items]


def _supply_chain(rt: Runtime, brand: Principal, facility_id: int, units_per_batch: int) -> None:
    """Cases, a pallet, shipments through a distributor to two retailers, a few sales and a
    return, and one shipment left in transit for the receiving screen."""
    distributor = _login(rt, "admin@northstar.example")
    high_street = _login(rt, "admin@highstreet.example")
    riverside = _login(rt, "admin@riverside.example")
    warehouse = organizations.list_locations(rt, distributor)[0].id
    sacramento, davis = (loc.id for loc in organizations.list_locations(rt, high_street))
    la_store = organizations.list_locations(rt, riverside)[0].id

    per_case = min(60, units_per_batch // 8)  # 4 cases of 60 with the default demo
    blue_dream = _codes(rt, brand, "GV-2611-A", 4 * per_case)
    cases = containers.create_containers(rt, brand, kind="case", count=4, location_id=facility_id)
    for i, case in enumerate(cases):
        items = blue_dream[i * per_case : (i + 1) * per_case]
        containers.pack(rt, brand, container=case.code, items=items)
    (pallet,) = containers.create_containers(rt, brand, kind="pallet", location_id=facility_id)
    containers.pack(rt, brand, container=pallet.code, items=[c.code for c in cases])
    to_warehouse = shipments.create_shipment(
        rt,
        brand,
        destination_organization_id=distributor.organization_id,
        destination_location_id=warehouse,
        source_location_id=facility_id,
        items=[pallet.code],
        notes="Weekly pallet to North Star",
    )
    shipments.ship(rt, brand, to_warehouse.id)
    shipments.receive(rt, distributor, to_warehouse.id, scans=[pallet.code])
    containers.unpack(rt, distributor, container=pallet.code)

    def forward(to: Principal, location: int, items: list[str]) -> int:
        draft = shipments.create_shipment(
            rt,
            distributor,
            destination_organization_id=to.organization_id,
            destination_location_id=location,
            source_location_id=warehouse,
            items=items,
        )
        shipments.ship(rt, distributor, draft.id)
        return draft.id

    to_sacramento = forward(high_street, sacramento, [cases[0].code, cases[1].code])
    shipments.receive(rt, high_street, to_sacramento, scans=[cases[0].code, cases[1].code])
    forward(riverside, la_store, [cases[2].code])  # left in transit: scan it at /receiving

    og_kush = _codes(rt, brand, "GV-2611-B", min(50, units_per_batch // 4))
    to_davis = shipments.create_shipment(
        rt,
        brand,
        destination_organization_id=high_street.organization_id,
        destination_location_id=davis,
        source_location_id=facility_id,
        items=og_kush,
    )
    shipments.ship(rt, brand, to_davis.id)
    shipments.receive(rt, high_street, to_davis.id, scans=og_kush[:-2])  # two went missing

    on_shelf = blue_dream[: 2 * per_case]
    for basket in (on_shelf[0:1], on_shelf[1:3], on_shelf[3:4], on_shelf[4:8]):
        if basket:
            retail.sell(rt, high_street, location_id=sacramento, codes=basket, terminal="till-1")
    retail.sell(rt, high_street, location_id=davis, codes=og_kush[:1], terminal="davis-1")
    retail.return_unit(rt, high_street, location_id=sacramento, code=on_shelf[1], action="restock")
    _recalls(rt, brand, cases[3].code)


def _recalls(rt: Runtime, brand: Principal, spare_case: str) -> None:
    """An active recall of the OG Kush lot (on the Davis store's shelves, one sold) and a
    draft for one case still at the distributor, to preview and activate."""
    og_kush = recalls.create_recall(
        rt,
        brand,
        recalls.RecallDraft(
            title="OG Kush GV-2611-B: Aspergillus in retest",
            reason="A retest of retained samples found Aspergillus above the action level.",
            severity="II",
            scope=Scope(batch_ids=(_batch_id(rt, brand, "GV-2611-B"),)),
            retailer_instructions="Take every unit off the shelf and scan it to confirm "
            "quarantine; we collect them on the next delivery.",
            consumer_instructions="Do not use this product. Bring it back to the store for a "
            "full refund.",
        ),
    )
    recalls.activate(rt, brand, og_kush.id)
    recalls.create_recall(
        rt,
        brand,
        recalls.RecallDraft(
            title="Blue Dream case: damaged seals",
            reason="Tamper-evident seals of one case were found damaged at the warehouse.",
            severity="III",
            scope=Scope(container_codes=(spare_case,)),
            retailer_instructions="Hold the case; do not open it.",
        ),
    )


def _batch_id(rt: Runtime, principal: Principal, lot: str) -> int:
    return next(
        b.id for b in catalog.list_batches(rt, principal, limit=50).items if b.lot_number == lot
    )
