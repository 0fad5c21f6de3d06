"""GET /api/v1/reports/sell-through over the real app."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.sell_through_data import one_store_selling
from tests.web.conftest import Headers, HeadersFor
from unitrace.domain.model import Principal
from unitrace.services.runtime import Runtime


def test_sell_through_answers_per_product_and_store(
    rt: Runtime, client: TestClient, brand: Principal, viewer: Headers, headers_for: HeadersFor
) -> None:
    shop = one_store_selling(rt, brand)
    answer = client.get("/api/v1/reports/sell-through", headers=viewer)
    assert answer.status_code == 200
    (item,) = answer.json()["items"]
    assert (item["product_id"], item["store_id"]) == (shop.product, shop.store)
    assert (item["supplied"], item["sold"], item["returned"], item["net_sold"]) == (4, 1, 0, 1)
    assert item["sell_through"] == 0.25
    as_retailer = client.get("/api/v1/reports/sell-through", headers=headers_for(shop.retailer))
    assert as_retailer.json()["items"] == answer.json()["items"]
    bad = client.get(
        "/api/v1/reports/sell-through",
        params={"since": "2026-12-01T00:00:00Z", "until": "2026-11-01T00:00:00Z"},
        headers=viewer,
    )
    assert bad.status_code == 422
    assert client.get("/api/v1/reports/sell-through").status_code == 401


def test_sell_through_groups_and_periods_as_asked_in_json_and_csv(
    rt: Runtime, client: TestClient, brand: Principal, viewer: Headers
) -> None:
    shop = one_store_selling(rt, brand)
    today = rt.clock().date().isoformat()
    weekly = client.get(
        "/api/v1/reports/sell-through",
        params={"by": "batch,retailer", "period": "day", "since": today},
        headers=viewer,
    ).json()
    assert (weekly["by"], weekly["period"], weekly["since"]) == ("batch,retailer", "day", today)
    (item,) = weekly["items"]
    assert (item["period"], item["supplied"], item["sold"]) == (today, 4, 1)
    assert item["lot_number"] and item["retailer_id"] == shop.retailer.organization_id
    assert "on_hand" not in item  # on hand is now, not per period
    csv_text = client.get(
        "/api/v1/reports/sell-through",
        params={"by": "market", "format": "csv"},
        headers=viewer,
    ).text.removeprefix("\ufeff")
    header, row = csv_text.splitlines()[:2]
    assert header == (
        "market,supplied,sold,returned,net_sold,sell_through,on_hand,weeks_of_supply,"
        "median_days,mean_days"
    )
    assert row.startswith("CA,4,1,0,1,0.25,3,")
    for params, message in (
        ({"by": "colour"}, "cannot group by 'colour'"),
        ({"period": "fortnight"}, "period"),
        ({"since": "yesterday"}, "since"),
    ):
        bad = client.get("/api/v1/reports/sell-through", params=params, headers=viewer)
        assert bad.status_code == 422 and message in bad.text, bad.text


def test_the_scan_report_counts_consumer_scans(
    rt: Runtime, client: TestClient, brand: Principal, viewer: Headers
) -> None:
    from unitrace.services import scanlog, verification

    shop = one_store_selling(rt, brand)
    log = scanlog.ScanLog(rt)
    for network in (1, 2):
        origin = scanlog.describe_origin(rt, f"203.0.{network}.9", region="US-CA")
        log.record(verification.verify(rt, shop.codes[0]), origin)
    log.flush()
    answer = client.get("/api/v1/reports/scans", params={"by": "region"}, headers=viewer)
    assert answer.status_code == 200
    body = answer.json()
    assert [(r["key"], r["scans"], r["units_scanned"]) for r in body["periods"]] == [("CA", 2, 1)]
    by_product = client.get("/api/v1/reports/scans", headers=viewer).json()
    assert by_product["share"][0]["share_scanned"] == 0.25
    refused = client.get("/api/v1/reports/scans", params={"period": "year"}, headers=viewer)
    assert refused.status_code == 422
