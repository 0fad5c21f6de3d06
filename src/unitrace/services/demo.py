"""Demo data: a small but complete market to click through after ``make run``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from unitrace.domain.labels import LabelTemplate, QrForm
from unitrace.domain.model import (
    Analyte,
    AnalyteKind,
    LabStatus,
    LocationKind,
    OrganizationKind,
    Panel,
    PanelResult,
    Role,
)
from unitrace.services import access, catalog, organizations, serialization
from unitrace.services.runtime import Runtime
from unitrace.storage import orgs as org_store

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
    return DemoSummary(loaded=True, logins=DEMO_LOGINS, units=total)
