"""``unitrace report sell-through``."""

from __future__ import annotations

import json

from tests.cli.conftest import BRAND, Unitrace, ok
from tests.sell_through_data import one_store_selling
from unitrace.domain.model import Principal
from unitrace.services.runtime import Runtime


def test_the_report_lists_each_product_and_store(
    unitrace: Unitrace, rt: Runtime, brand: Principal
) -> None:
    shop = one_store_selling(rt, brand)
    rows = json.loads(ok(unitrace("report", "sell-through", "--org", BRAND, "--json")).stdout)
    assert [(r["store_id"], r["supplied"], r["sold"], r["sell_through"]) for r in rows] == [
        (shop.store, 4, 1, 0.25)
    ]
    table = ok(unitrace("report", "sell-through", "--org", BRAND)).stdout
    assert "25%" in table and "Sell-through" in table
    later = json.loads(
        ok(
            unitrace("report", "sell-through", "--org", BRAND, "--since", "2099-01-01", "--json")
        ).stdout
    )
    assert later == []


def test_the_scan_report_prints_periods_and_shares(
    unitrace: Unitrace, rt: Runtime, brand: Principal
) -> None:
    from unitrace.services import scanlog, verification

    shop = one_store_selling(rt, brand)
    log = scanlog.ScanLog(rt)
    log.record(verification.verify(rt, shop.codes[1]), scanlog.describe_origin(rt, "203.0.9.9"))
    log.flush()
    report = json.loads(ok(unitrace("report", "scans", "--org", BRAND, "--json")).stdout)
    assert [r["scans"] for r in report["periods"]] == [1]
    assert report["share"][0]["units_scanned"] == 1
    table = ok(unitrace("report", "scans", "--org", BRAND, "--by", "batch")).stdout
    assert "Units scanned by consumers" in table and "25%" in table
    bad = unitrace("report", "scans", "--org", BRAND, "--by", "store")
    assert bad.exit_code == 1 and "by must be one of" in bad.stderr
