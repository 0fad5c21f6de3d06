"""The Reports page in a real Chromium: a brand manager reads sell-through and scans."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_ui import log_in
from unitrace.domain.model import Principal
from unitrace.services import scanlog, units, verification
from unitrace.services.runtime import Runtime

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
Shot = Callable[[Page, str], Path]


def test_the_reports_page_draws_its_charts_without_script_or_policy_violations(
    page: Page, demo_rt: Runtime, demo_brand: Principal, screenshot: Shot
) -> None:
    sold = units.list_units(demo_rt, demo_brand, limit=3).items
    log = scanlog.ScanLog(demo_rt)
    for n, view in enumerate(sold):
        origin = scanlog.describe_origin(demo_rt, f"203.0.{n + 50}.9", region="US-CA")
        log.record(verification.verify(demo_rt, view.unit.code), origin)
    log.flush()
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if m.type == "error" else None)

    log_in(page)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Reports").click()
    expect(page.get_by_role("heading", name="Reports")).to_be_visible()
    expect(page.get_by_test_id("sell-through")).to_be_visible()  # the demo sold units
    expect(page.get_by_test_id("sell-through-chart")).to_be_visible()
    page.get_by_label("Sell-through by", exact=True).select_option("retailer")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("heading", name="Sell-through by retailer")).to_be_visible()
    expect(page.get_by_test_id("sell-through")).to_contain_text("Weeks of supply")
    page.get_by_label("Scans by", exact=True).select_option("region")
    page.get_by_label("Period", exact=True).select_option("month")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("heading", name="Consumer scans by region and month")).to_be_visible()
    expect(page.get_by_test_id("scans-chart")).to_be_visible()
    expect(page.get_by_test_id("scans")).to_contain_text("CA")
    assert violations == []
    screenshot(page, "reports")
