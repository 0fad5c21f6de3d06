"""The Inventory pages in a real Chromium: a dispensary counts a store by pasting scans,
closes the count, reads its differences and resolves one; the accuracy chart is drawn."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_ui import log_in
from unitrace.domain.model import Disposition
from unitrace.services import access, units
from unitrace.services.demo import DEMO_PASSWORD
from unitrace.services.runtime import Runtime

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
Shot = Callable[[Page, str], Path]
RETAILER = "admin@highstreet.example"


def test_a_dispensary_counts_a_store_and_resolves_a_difference(
    page: Page, demo_rt: Runtime, screenshot: Shot
) -> None:
    retailer = access.principal_for_user(
        access.authenticate_password(demo_rt, email=RETAILER, password=DEMO_PASSWORD)
    )
    held = [
        v.unit
        for v in units.list_units(demo_rt, retailer, limit=200).items
        if v.unit.disposition is Disposition.SELLABLE_ACCESSIBLE
        and v.unit.custodian_organization_id == retailer.organization_id
    ]
    store = held[0].location_id
    here = [u.code for u in held if u.location_id == store]
    assert len(here) >= 3, "the demo dispensary has stock on its shelves"
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if m.type == "error" else None)

    log_in(page, RETAILER)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Inventory").click()
    expect(page.get_by_role("heading", name="Inventory counts", exact=True)).to_be_visible()
    page.get_by_label("Location", exact=True).first.select_option(str(store))
    page.get_by_role("button", name="Start counting").click()
    expect(page.get_by_test_id("count-status")).to_have_text("Open")
    page.get_by_label("Area").fill("front shelf")
    page.get_by_label("Scans, one a line").fill("\n".join(here[1:]))
    page.get_by_role("button", name="Add scans").click()
    expect(page.get_by_test_id("scan-result")).to_contain_text(f"Added {len(here) - 1}")
    page.get_by_role("button", name="Close the count").click()
    expect(page.get_by_test_id("count-status")).to_have_text("Closed")
    row = page.get_by_test_id("differences-missing").locator(f'tr[data-code="{here[0]}"]')
    expect(row).to_contain_text("believed here, not scanned")
    row.get_by_role("button", name="Found").click()
    expect(page.get_by_text("Resolved as found.")).to_be_visible()
    expect(row).to_contain_text("Found")
    expect(row.get_by_role("button")).to_have_count(0)
    screenshot(page, "inventory-count")

    page.get_by_role("link", name="All counts").click()
    expect(page.get_by_test_id("accuracy-chart")).to_be_visible()
    expect(page.get_by_test_id("accuracy")).to_contain_text("%")
    assert violations == []
    screenshot(page, "inventory")
