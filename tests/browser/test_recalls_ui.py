"""A recall in a real Chromium: the brand drafts it, reads the preview, confirms and activates
it; the retailer finds it under "Recalls" and confirms quarantine with scanner-wedge scans."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_supply_ui import RETAILER, retailer, shipped_pallet, store
from tests.browser.test_ui import log_in
from unitrace.domain.model import Principal
from unitrace.services import shipments, units
from unitrace.services.runtime import Runtime

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
__all__ = ["retailer", "store"]  # module fixtures shared with the supply-chain tests
Shot = Callable[[Page, str], Path]


def test_a_brand_activates_a_recall_and_the_retailer_confirms_quarantine_by_scanning(
    page: Page,
    demo_rt: Runtime,
    demo_brand: Principal,
    retailer: Principal,
    store: int,
    screenshot: Shot,
) -> None:
    shipment_id, _pallet, codes = shipped_pallet(demo_rt, demo_brand, retailer, store, 4)
    shipments.receive(demo_rt, retailer, shipment_id, scans=[_pallet])
    batch_id = units.get_unit(demo_rt, demo_brand, codes[0]).unit.batch_id

    log_in(page)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Recalls").click()
    page.get_by_role("link", name="New recall").click()
    page.get_by_label("Title").fill("Mould found in retest")
    page.get_by_label("Reason").fill("The lot failed a microbial retest")
    page.get_by_label("Severity").select_option("I")
    page.get_by_label("Instructions for retailers").fill("Pull from the shelf, then scan.")
    page.get_by_label("Batch IDs").fill(str(batch_id))
    page.get_by_role("button", name="Save draft").click()

    expect(page.get_by_test_id("recall-status")).to_have_text("Draft")
    expect(page.get_by_test_id("preview-total")).to_have_text("4")
    expect(page.get_by_test_id("preview-will-recall")).to_have_text("4")
    expect(page.get_by_test_id("preview")).to_contain_text("High Street")
    number = page.locator("h1 .mono").inner_text()
    page.get_by_role("link", name="Activate…").click()
    expect(page.get_by_test_id("confirm-activation")).to_contain_text("4 units will become")
    screenshot(page, "recall-confirm-activation-desktop")
    page.get_by_role("button", name="Activate the recall now").click()
    expect(page.get_by_test_id("recall-status")).to_have_text("Active")
    expect(page.get_by_test_id("count-at_holder")).to_have_text("4")
    expect(page.get_by_test_id("progress-share")).to_have_text("0%")
    screenshot(page, "recall-monitor-desktop")
    recall_url = page.url.split("?")[0]
    page.get_by_role("button", name="Log out").click()

    log_in(page, RETAILER)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Recalls").click()
    expect(page).to_have_url(re.compile(r"/recalls/held$"))
    mine = page.get_by_test_id("held-recall").filter(has_text=number)
    expect(mine.get_by_test_id("held-units")).to_have_text("4")
    expect(mine).to_contain_text("Pull from the shelf, then scan.")
    scans = page.get_by_label("Scan the units, one a line")
    expect(scans).to_be_focused()
    for code in codes[:3]:  # a wedge scanner types fast and ends each scan with Enter
        page.keyboard.type(code.lower(), delay=2)
        page.keyboard.press("Enter")
    page.get_by_label("They are").select_option("quarantined")
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_test_id("confirmed")).to_have_text("Confirmed quarantined: 3 unit(s).")
    expect(mine.get_by_test_id("held-confirmed")).to_have_text("3")
    screenshot(page, "recalled-stock-desktop")
    page.get_by_role("button", name="Log out").click()

    log_in(page)
    page.goto(recall_url)
    expect(page.get_by_test_id("count-quarantined")).to_have_text("3")
    expect(page.get_by_test_id("progress-share")).to_have_text("75%")
