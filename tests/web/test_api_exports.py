"""GET /api/v1/exports/{kind}: CSV and JSON, streamed, scoped, formula-safe."""

from __future__ import annotations

import io
import json

from fastapi.testclient import TestClient

from tests.factories import make_batch, make_location, make_org, make_product
from tests.web.conftest import HeadersFor
from unitrace.domain.model import OrganizationKind, Principal
from unitrace.services import imports, organizations, serialization
from unitrace.services.runtime import Runtime
from unitrace.storage.schema import units


def test_sales_export_as_csv_and_json(
    rt: Runtime, client: TestClient, headers_for: HeadersFor, brand: Principal
) -> None:
    retailer = make_org(rt, kind=OrganizationKind.RETAILER, name="Green Leaf")
    store = make_location(rt, retailer)
    batch = make_batch(rt, brand, make_product(rt, brand, name="=SUM(A1:A9)"))
    done = serialization.commission_units(rt, brand, batch_id=batch.id, quantity=3)
    codes = sorted(serialization.iter_commissioned_codes(rt, brand, event_id=done.event_id))
    with rt.db.transaction() as conn:  # test setup: on the shelves of the store
        conn.execute(
            units.update().values(
                disposition="sellable_accessible",
                custodian_organization_id=retailer.organization_id,
                location_id=store,
            )
        )
    store_name = organizations.list_locations(rt, retailer)[-1].name
    sold = imports.run_import(
        rt,
        retailer,
        "sales",
        io.BytesIO(f"code,store,sold_at\n{codes[0]},{store_name},2026-11-20T10:00:00Z\n".encode()),
    )
    assert sold.status == "applied", sold.problems

    answer = client.get("/api/v1/exports/sales", headers=headers_for(retailer))
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert "attachment" in answer.headers["content-disposition"]
    lines = answer.text.removeprefix("\ufeff").splitlines()
    assert lines[0] == "code,store,sold_at,price,city,retailer,product,gtin,lot_number"
    assert lines[1].startswith(f"{codes[0]},{store_name},2026-11-20T10:00:00+00:00,")
    assert ",'=SUM(A1:A9)," in lines[1]

    as_json = client.get("/api/v1/exports/units?format=json", headers=headers_for(brand))
    assert as_json.status_code == 200
    assert sorted(u["code"] for u in json.loads(as_json.text)) == codes
    only_sold = client.get(
        "/api/v1/exports/units?format=json&disposition=retail_sold", headers=headers_for(brand)
    )
    assert [u["code"] for u in json.loads(only_sold.text)] == codes[:1]
    stranger = make_org(rt)
    nothing = client.get("/api/v1/exports/units", headers=headers_for(stranger))
    assert nothing.text.removeprefix("\ufeff").count("\r\n") == 1
    bad = client.get("/api/v1/exports/units?disposition=lost", headers=headers_for(brand))
    assert bad.status_code == 422
    assert client.get("/api/v1/exports/secrets", headers=headers_for(brand)).status_code == 422
    assert client.get("/api/v1/exports/units").status_code == 401
