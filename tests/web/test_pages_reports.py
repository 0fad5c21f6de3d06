"""The Reports page: charts over the tables behind them, and the downloads."""

from __future__ import annotations

import csv
import io
import re

from fastapi.testclient import TestClient

from tests.factories import make_org
from tests.sell_through_data import one_store_selling
from tests.web.test_pages import email_of, log_in
from unitrace.domain.model import OrganizationKind, Principal
from unitrace.services import scanlog, verification
from unitrace.services.runtime import Runtime


def test_the_reports_page_shows_sell_through_and_scans_with_their_downloads(
    rt: Runtime, client: TestClient, brand: Principal
) -> None:
    shop = one_store_selling(rt, brand)
    log = scanlog.ScanLog(rt)
    for network in (1, 2, 3):
        origin = scanlog.describe_origin(rt, f"203.0.{network}.9", region="US-CA")
        log.record(verification.verify(rt, shop.codes[network - 1]), origin)
    log.flush()
    assert log_in(client, email_of(brand)).status_code == 303
    page = client.get("/reports", params={"by": "region", "period": "month"})
    assert page.status_code == 200
    assert 'data-testid="sell-through"' in page.text and "25%" in page.text
    assert 'data-testid="scans-chart"' in page.text and "<rect" in page.text
    assert "Consumer scans by region and month" in page.text
    csv_text = client.get("/api/v1/reports/sell-through?format=csv").text
    rows = list(csv.DictReader(io.StringIO(csv_text.removeprefix("\ufeff"))))
    assert [(r["store_id"], r["supplied"], r["sold"], r["sell_through"]) for r in rows] == [
        (str(shop.store), "4", "1", "0.25")
    ]
    periods = client.get("/api/v1/reports/scans?by=region&format=csv&table=periods").text
    assert periods.removeprefix("\ufeff").splitlines()[1].startswith("CA,CA,")
    # the trend chart: one bar per month for the sale, the supplied line over it
    assert 'data-testid="sell-through-chart"' in page.text and "<polyline" in page.text
    # grouped by market: one row, CA, with what is on hand now
    by_market = client.get("/reports", params={"st_by": "market"})
    table = by_market.text.split('data-testid="sell-through"')[1].split("</table>")[0]
    assert ">CA</th>" in table and "Sell-through by market" in by_market.text
    assert "On hand" in table and ">3</td>" in table  # 4 delivered, 1 sold
    # an unknown grouping falls back to the usual one
    assert "Sell-through by product and store" in client.get("/reports?st_by=colour").text
    trend = client.get("/api/v1/reports/sell-through?by=market&period=month").json()
    assert [(i["market"], i["supplied"], i["sold"]) for i in trend["items"]] == [("CA", 4, 1)]
    bad = client.get("/reports", params={"since": "yesterday"})
    assert bad.status_code == 200 and "is not a date" in bad.text


def test_a_regulator_reads_its_market_and_a_retailer_its_stores(
    rt: Runtime, client: TestClient, brand: Principal
) -> None:
    shop = one_store_selling(rt, brand)
    regulator = make_org(rt, kind=OrganizationKind.REGULATOR)
    assert log_in(client, email_of(regulator)).status_code == 303
    page = client.get("/reports")
    assert page.status_code == 200
    assert "Sell-through by market" in page.text
    choices = re.findall(r'<option value="([^"]+)"', page.text.split('id="f-st-by"')[1])
    assert choices[:5] == ["market", "market,brand", "brand", "retailer", "product"]
    table = page.text.split('data-testid="sell-through"')[1].split("</table>")[0]
    assert ">CA</th>" in table and "25%" in table
    # a store-level grouping is not offered, and asking for it falls back to the market
    assert "Sell-through by market" in client.get("/reports?st_by=product,store").text
    api = client.get("/api/v1/reports/sell-through?by=store")
    assert api.status_code == 422 and "cannot group by 'store'" in api.text
    client.cookies.clear()
    assert log_in(client, email_of(shop.retailer)).status_code == 303
    mine = client.get("/reports?st_by=brand").text
    assert "Sell-through by brand" in mine and 'value="retailer"' not in mine
