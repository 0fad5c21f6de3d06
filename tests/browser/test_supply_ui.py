"""The scanner screens in a real Chromium: receiving with a keyboard-wedge scanner, and the
store counter selling a basket exactly once."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_ui import log_in
from tests.factories import make_batch
from unitrace.domain.model import LocationKind, Principal
from unitrace.services import (
    access,
    containers,
    history,
    organizations,
    serialization,
    shipments,
)
from unitrace.services.demo import DEMO_PASSWORD
from unitrace.services.runtime import Runtime

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
Shot = Callable[[Page, str], Path]
RETAILER = "admin@highstreet.example"


@pytest.fixture(scope="module")
def retailer(demo_rt: Runtime) -> Principal:
    user = access.authenticate_password(demo_rt, email=RETAILER, password=DEMO_PASSWORD)
    return access.principal_for_user(user)


@pytest.fixture(scope="module")
def store(demo_rt: Runtime, retailer: Principal) -> int:
    places = organizations.list_locations(demo_rt, retailer)
    return next(p.id for p in places if p.kind is LocationKind.STORE)


def shipped_pallet(
    rt: Runtime, brand: Principal, retailer: Principal, store: int, quantity: int
) -> tuple[int, str, list[str]]:
    """``quantity`` new units on a pallet in transit to the store: (shipment, pallet, codes)."""
    batch = make_batch(rt, brand)
    done = serialization.commission_units(rt, brand, batch_id=batch.id, quantity=quantity)
    codes = sorted(serialization.iter_commissioned_codes(rt, brand, event_id=done.event_id))
    pallet = containers.create_containers(rt, brand, kind="pallet")[0].code
    containers.pack(rt, brand, container=pallet, items=codes)
    draft = shipments.create_shipment(
        rt,
        brand,
        destination_organization_id=retailer.organization_id,
        destination_location_id=store,
        items=[pallet],
    )
    shipments.ship(rt, brand, draft.id)
    return draft.id, pallet, codes


def test_fast_scans_are_all_classified_counted_and_the_receipt_completes(
    page: Page,
    demo_rt: Runtime,
    demo_brand: Principal,
    retailer: Principal,
    store: int,
    screenshot: Shot,
) -> None:
    shipment_id, pallet, _codes = shipped_pallet(demo_rt, demo_brand, retailer, store, 3)
    log_in(page, RETAILER)
    page.goto(f"/shipments/{shipment_id}/receive")
    scan = page.get_by_label("Scan a pallet, case or unit")
    expect(scan).to_be_focused()

    # A wedge scanner types fast and presses Enter; nothing waits between scans.
    for text in (f"https://id.example.test/{pallet.lower()}", pallet, "garbage-42"):
        page.keyboard.type(text, delay=2)
        page.keyboard.press("Enter")

    lines = page.get_by_test_id("scan-list").locator("li")
    expect(lines).to_have_count(3)
    expect(lines.nth(0)).to_have_attribute("data-result", "unknown")
    expect(lines.nth(1)).to_have_attribute("data-result", "duplicate")
    expect(lines.nth(2)).to_have_attribute("data-result", "expected")
    expect(page.get_by_test_id("scanned-count")).to_have_text("3")
    expect(page.get_by_test_id("expected-count")).to_have_text("3")
    expect(page.get_by_test_id("discrepancy-list")).to_contain_text("garbage-42")
    expect(scan).to_have_value("")
    expect(scan).to_be_focused()
    screenshot(page, "receiving-scans-desktop")

    page.get_by_role("button", name="Complete receipt").click()

    expect(page).to_have_url(re.compile(rf"/shipments/{shipment_id}\?done=received"))
    expect(page.get_by_test_id("report-received")).to_have_text("3")
    expect(page.get_by_test_id("report-missing")).to_have_text("0")
    expect(page.locator("#receipt-report")).to_contain_text("garbage-42")
    screenshot(page, "receiving-report-desktop")


def test_the_counter_sells_a_basket_and_refuses_a_sold_unit(
    page: Page,
    demo_rt: Runtime,
    demo_brand: Principal,
    retailer: Principal,
    store: int,
    screenshot: Shot,
) -> None:
    shipment_id, pallet, codes = shipped_pallet(demo_rt, demo_brand, retailer, store, 3)
    shipments.scan(demo_rt, retailer, pallet, shipment_id=shipment_id)
    shipments.complete_receipt(demo_rt, retailer, shipment_id)
    log_in(page, RETAILER)
    page.goto(f"/pos?location_id={store}")
    scan = page.get_by_label("Scan a unit")
    expect(scan).to_be_focused()

    for code in codes[:2]:
        page.keyboard.type(f"https://id.example.test/{code.lower()}", delay=2)
        page.keyboard.press("Enter")
    basket = page.get_by_test_id("basket").locator("tr")
    expect(basket).to_have_count(2)
    expect(basket.filter(has_text="Can be sold")).to_have_count(2)
    sell = page.get_by_role("button", name="Sell")
    expect(sell).to_be_enabled()
    sell.dblclick()

    confirmation = page.get_by_test_id("sale-result")
    expect(confirmation).to_contain_text("Sold 2 units")
    expect(basket).to_have_count(0)
    screenshot(page, "pos-sale-desktop")

    page.keyboard.type(codes[0], delay=2)
    page.keyboard.press("Enter")

    expect(basket).to_have_count(1)
    expect(basket.first).to_contain_text("already been sold")
    expect(sell).to_be_disabled()
    # The double click sold the basket once: one sale event per unit.
    for code in codes[:2]:
        steps = [e.biz_step for e in history.timeline(demo_rt, retailer, code)]
        assert steps.count("retail_selling") == 1
    screenshot(page, "pos-refused-desktop")
