"""``unitrace import returns|shipments|receipts``: a broken file's problems (exit 1), a dry
run, and a file applied once."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.cli.conftest import BRAND, Unitrace, ok
from tests.factories import make_batch, make_org, make_product
from unitrace.domain.model import LocationKind, OrganizationKind, Principal
from unitrace.services import organizations, retail, serialization, shipments
from unitrace.services.runtime import Runtime

SHOP = "Green Leaf"


@dataclass
class Partners:
    retailer: Principal
    store: int  # "Main Street"
    codes: list[str]  # 6 units of the brand, in stock at the brand


@pytest.fixture
def partners(rt: Runtime, brand: Principal) -> Partners:
    retailer = make_org(rt, kind=OrganizationKind.RETAILER, name=SHOP)
    store = organizations.create_location(
        rt, retailer, organizations.LocationDraft("Main Street", LocationKind.STORE)
    ).id
    batch = make_batch(rt, brand, make_product(rt, brand))
    done = serialization.commission_units(rt, brand, batch_id=batch.id, quantity=6)
    codes = sorted(serialization.iter_commissioned_codes(rt, brand, event_id=done.event_id))
    return Partners(retailer, store, codes)


def _count(rt: Runtime, sql: str) -> int:
    with rt.db.read() as conn:
        return int(conn.execute(text(sql)).scalar_one())


def test_import_returns(
    rt: Runtime, unitrace: Unitrace, partners: Partners, tmp_path: Path
) -> None:
    c = partners.codes
    with rt.db.transaction() as conn:  # test setup: on the retailer's shelves
        conn.execute(
            text(
                "UPDATE units SET disposition = 'sellable_accessible', "
                "custodian_organization_id = :o, location_id = :l"
            ),
            {"o": partners.retailer.organization_id, "l": partners.store},
        )
    retail.sell(rt, partners.retailer, location_id=partners.store, codes=c[:1])
    broken = tmp_path / "broken.csv"
    broken.write_text(f"code,store\n{c[1]},Main Street\n")
    refused = unitrace("import", "returns", str(broken), "--org", SHOP)
    assert refused.exit_code == 1 and "the unit has not been sold" in refused.stdout
    good = tmp_path / "returns.csv"
    good.write_text(f"code,store,action\n{c[0]},Main Street,quarantine\n")
    ok(unitrace("import", "returns", str(good), "--org", SHOP, "--dry-run"))
    done = json.loads(ok(unitrace("import", "returns", str(good), "--org", SHOP, "--json")).stdout)
    assert done["status"] == "applied" and done["result"]["returned"] == 1
    again = json.loads(ok(unitrace("import", "returns", str(good), "--org", SHOP, "--json")).stdout)
    assert again["replayed"] is True
    assert _count(rt, "SELECT count(*) FROM units WHERE disposition = 'non_sellable_other'") == 1


def test_import_shipments(
    rt: Runtime, unitrace: Unitrace, partners: Partners, tmp_path: Path
) -> None:
    c = partners.codes
    broken = tmp_path / "broken.csv"
    broken.write_text(f"shipment,destination,destination_location,code\nA,{SHOP},Back,{c[0]}\n")
    refused = unitrace("import", "shipments", str(broken), "--org", BRAND)
    assert refused.exit_code == 1 and "has no location with this name" in refused.stdout
    good = tmp_path / "manifest.csv"
    good.write_text(
        f"shipment,destination,destination_location,code\nA,{SHOP},Main Street,{c[0]}\n"
        f"A,{SHOP},Main Street,{c[1]}\n"
    )
    done = ok(unitrace("import", "shipments", str(good), "--org", BRAND))
    assert "Imported 2 rows" in done.stdout
    again = json.loads(
        ok(unitrace("import", "shipments", str(good), "--org", BRAND, "--json")).stdout
    )
    assert again["replayed"] is True
    assert again["result"]["shipments"][0]["number"].startswith("SH-")
    assert _count(rt, "SELECT count(*) FROM shipments WHERE status = 'draft'") == 1


def test_import_receipts(
    rt: Runtime, unitrace: Unitrace, brand: Principal, partners: Partners, tmp_path: Path
) -> None:
    c = partners.codes
    draft = shipments.create_shipment(
        rt,
        brand,
        destination_organization_id=partners.retailer.organization_id,
        destination_location_id=partners.store,
        items=c[:2],
    )
    number = shipments.ship(rt, brand, draft.id).number
    broken = tmp_path / "broken.csv"
    broken.write_text(f"shipment,code\n{number},{c[3]}\n")
    refused = unitrace("import", "receipts", str(broken), "--org", SHOP)
    assert refused.exit_code == 1 and "not on any shipment to you" in refused.stdout
    good = tmp_path / "scans.csv"
    good.write_text(f"shipment,code\n{number},{c[0]}\n{number},{c[1]}\n")
    done = json.loads(ok(unitrace("import", "receipts", str(good), "--org", SHOP, "--json")).stdout)
    assert done["result"]["shipments"][0]["status"] == "received"
    shown = ok(unitrace("import", "show", str(done["id"]), "--org", SHOP)).stdout
    assert "received" in shown
    assert ok(unitrace("import", "template", "receipts")).stdout.startswith("shipment,code\n")
