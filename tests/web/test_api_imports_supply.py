"""POST /api/v1/imports/{returns,shipments,receipts}: the supply-chain uploads over HTTP."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from tests.factories import make_batch, make_product
from tests.factories import make_org as _make_org
from tests.web.conftest import Headers, HeadersFor
from unitrace.domain.model import LocationKind, OrganizationKind, Principal, Role
from unitrace.services import organizations, retail, serialization, shipments
from unitrace.services.runtime import Runtime


@dataclass
class Partners:
    retailer: Principal
    store: int  # "Main Street"
    codes: list[str]  # 6 units of the brand, in stock at the brand
    shop: Headers  # an operator key of the retailer


@pytest.fixture
def partners(rt: Runtime, brand: Principal, headers_for: HeadersFor) -> Partners:
    retailer = _make_org(rt, kind=OrganizationKind.RETAILER, name="Green Leaf")
    store = organizations.create_location(
        rt, retailer, organizations.LocationDraft("Main Street", LocationKind.STORE)
    ).id
    batch = make_batch(rt, brand, make_product(rt, brand))
    done = serialization.commission_units(rt, brand, batch_id=batch.id, quantity=6)
    codes = sorted(serialization.iter_commissioned_codes(rt, brand, event_id=done.event_id))
    return Partners(retailer, store, codes, headers_for(retailer, Role.OPERATOR))


def _post(client: TestClient, kind: str, headers: Headers, body: str, query: str = "") -> Any:
    return client.post(
        f"/api/v1/imports/{kind}{query}",
        headers=headers,
        files={"file": (f"{kind}.csv", body.encode(), "text/csv")},
    )


def _count(rt: Runtime, sql: str) -> int:
    with rt.db.read() as conn:
        return int(conn.execute(text(sql)).scalar_one())


def test_a_returns_file_over_http(rt: Runtime, client: TestClient, partners: Partners) -> None:
    c = partners.codes
    with rt.db.transaction() as conn:  # test setup: on the retailer's shelves
        conn.execute(
            text(
                "UPDATE units SET disposition = 'sellable_accessible', "
                "custodian_organization_id = :o, location_id = :l"
            ),
            {"o": partners.retailer.organization_id, "l": partners.store},
        )
    retail.sell(rt, partners.retailer, location_id=partners.store, codes=c[:2])
    bad = _post(client, "returns", partners.shop, f"code,store\n{c[0]},Main Street\n{c[2]},X\n")
    assert bad.status_code == 422
    assert [(p["line"], p["column"]) for p in bad.json()["error"]["details"]["problems"]] == [
        (3, "store")
    ]
    good = f"code,store,action\n{c[0]},Main Street,restock\n{c[1]},Main Street,quarantine\n"
    done = _post(client, "returns", partners.shop, good)
    assert done.status_code == 200, done.text
    assert done.json()["result"]["returned"] == 2 and len(done.json()["result"]["events"]) == 4
    again = _post(client, "returns", partners.shop, good)
    assert again.json()["replayed"] is True and again.headers["Idempotent-Replayed"] == "true"
    template = client.get("/api/v1/imports/templates/returns", headers=partners.shop)
    assert template.text.splitlines()[0] == "code,store,returned_at,action,reason"


def test_a_manifest_file_over_http(
    rt: Runtime, client: TestClient, operator: Headers, partners: Partners
) -> None:
    c = partners.codes
    body = (
        "shipment,destination,destination_location,code\n"
        f"A,Green Leaf,Main Street,{c[0]}\nA,Green Leaf,Main Street,{c[1]}\n"
        f"B,Green Leaf,Main Street,{c[2]}\n"
    )
    checked = _post(client, "shipments", operator, body, "?dry_run=true")
    assert checked.status_code == 200 and checked.json()["status"] == "dry_run"
    assert _count(rt, "SELECT count(*) FROM shipments") == 0
    done = _post(client, "shipments", operator, body)
    assert done.status_code == 200, done.text
    made = done.json()["result"]["shipments"]
    assert [(s["reference"], s["items"]) for s in made] == [("A", 2), ("B", 1)]
    assert all(s["number"].startswith("SH-") for s in made)
    bad = _post(client, "shipments", operator, body.replace("Green Leaf,Main", "Nobody,Main"))
    assert bad.status_code == 422
    assert _count(rt, "SELECT count(*) FROM shipments") == 2


def test_a_receipts_file_over_http(
    rt: Runtime, client: TestClient, brand: Principal, partners: Partners
) -> None:
    c = partners.codes
    draft = shipments.create_shipment(
        rt,
        brand,
        destination_organization_id=partners.retailer.organization_id,
        destination_location_id=partners.store,
        items=c[:3],
    )
    shipped = shipments.ship(rt, brand, draft.id)
    bad = _post(client, "receipts", partners.shop, f"shipment,code\n{shipped.number},{c[4]}\n")
    assert bad.status_code == 422
    assert bad.json()["error"]["details"]["problems"][0]["message"] == (
        "unknown code: not on any shipment to you"
    )
    body = f"shipment,code\n{shipped.number},{c[0]}\n{shipped.number},{c[1]}\n"
    done = _post(client, "receipts", partners.shop, body)
    assert done.status_code == 200, done.text
    (report,) = done.json()["result"]["shipments"]
    assert (report["status"], report["received"], report["missing"]) == (
        "received_with_discrepancies",
        2,
        1,
    )
    again = _post(client, "receipts", partners.shop, body)
    assert again.json()["replayed"] is True
