"""The web UI in a real Chromium: the paths a brand's operator walks every day."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import BRAND_ADMIN
from tests.factories import make_batch, make_product
from unitrace.domain.model import Principal
from unitrace.services import units
from unitrace.services.demo import DEMO_PASSWORD
from unitrace.services.runtime import Runtime

# One xdist worker runs them all (make test uses --dist loadgroup): one server, one Chromium.
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
Shot = Callable[[Page, str], Path]


def log_in(
    page: Page, email: str = BRAND_ADMIN, password: str = DEMO_PASSWORD, *, go: bool = True
) -> None:
    if go:
        page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def fits_the_screen(page: Page) -> bool:
    """No sideways scrolling of the whole page (wide tables scroll inside their box)."""
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def test_a_wrong_password_shows_an_error(page: Page, phone: Page, screenshot: Shot) -> None:
    for target in (page, phone):
        log_in(target, password="not-the-password")

        expect(target.get_by_role("alert")).to_contain_text("Wrong e-mail or password")
        expect(target.get_by_label("E-mail")).to_have_value(BRAND_ADMIN)
        assert target.url.endswith("/login")
    screenshot(phone, "login-error-phone")


def test_logging_in_leads_to_the_dashboard(page: Page, phone: Page, screenshot: Shot) -> None:
    for target, name in ((page, "dashboard-desktop"), (phone, "dashboard-phone")):
        log_in(target)

        expect(target).to_have_url(re.compile(r"/$"))
        expect(target.get_by_role("heading", level=1)).to_have_text("Green Valley Farms")
        expect(target.get_by_test_id("count-units")).to_have_text(re.compile(r"^1\d\d$"))
        expect(target.get_by_role("navigation", name="Main")).to_be_visible()
        assert fits_the_screen(target)
        screenshot(target, name)


def test_a_page_asked_for_before_login_opens_after_it(page: Page) -> None:
    page.goto("/units")
    expect(page).to_have_url(re.compile(r"/login\?next=/units$"))

    log_in(page, go=False)

    expect(page).to_have_url(re.compile(r"/units$"))


def test_creating_a_product_reports_a_bad_gtin_next_to_the_field(
    page: Page, screenshot: Shot
) -> None:
    log_in(page)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Products").click()
    form = page.locator("form[action='/products'][method='post']")
    form.get_by_label("Name").fill("Wedding Cake 3.5 g")
    form.get_by_label("Category").select_option("flower")
    form.get_by_label("Net content").fill("3.5")
    form.get_by_label("GTIN").fill("09506000134368")
    form.get_by_role("button", name="Create product").click()

    gtin = page.get_by_label("GTIN")
    expect(gtin).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#f-gtin-error")).to_contain_text("check digit")
    expect(page.get_by_label("Name")).to_have_value("Wedding Cake 3.5 g")
    screenshot(page, "product-gtin-error-desktop")

    gtin.fill("09506000134369")
    page.get_by_role("button", name="Create product").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Wedding Cake 3.5 g")
    expect(page.get_by_text("Product created.")).to_be_visible()


def test_a_batch_with_lab_results_is_created_from_the_form(phone: Page, screenshot: Shot) -> None:
    log_in(phone)
    phone.goto("/batches/new")
    phone.get_by_label("Product").select_option(label="OG Kush Pre-Roll 1 g")
    phone.get_by_label("Lot number").fill("GV-2611-C")
    phone.get_by_label("Produced on").fill("2026-11-18")
    phone.get_by_label("Lab status").select_option("passed")
    phone.get_by_label("Test date").fill("2026-11-21")
    phone.get_by_label("Testing lab").fill("Evergreen Analytical Labs")
    phone.get_by_label("Total THC").fill("23.7")
    phone.get_by_label("Total CBD").fill("0.4")
    phone.get_by_label("Terpene 1").fill("myrcene")
    phone.locator("#f-terpene_amount_0").fill("1.1")
    phone.get_by_label("Microbials").select_option("pass")
    phone.get_by_label("Pesticides").select_option("pass")
    assert fits_the_screen(phone)
    screenshot(phone, "batch-new-phone")
    phone.get_by_role("button", name="Create batch").click()

    expect(phone.get_by_role("heading", level=1)).to_contain_text("Lot GV-2611-C")
    expect(phone.get_by_text("Batch created.")).to_be_visible()
    cannabinoids = phone.get_by_role("table").filter(has_text="Cannabinoids")
    expect(cannabinoids.get_by_role("row", name="Total THC")).to_contain_text("23.7 %")
    expect(phone.get_by_role("table").filter(has_text="Terpenes")).to_contain_text("Myrcene")


def test_commissioning_25_units_shows_them_in_the_unit_list(
    page: Page, phone: Page, demo_rt: Runtime, demo_brand: Principal, screenshot: Shot
) -> None:
    product = make_product(demo_rt, demo_brand, name="Browser Test Gummies")
    batch = make_batch(demo_rt, demo_brand, product, lot_number="BT-25")
    log_in(page)
    page.goto(f"/batches/{batch.id}")
    page.get_by_label("Quantity").fill("25")
    page.get_by_role("button", name="Commission units").click()

    result = page.locator("#commission-result")
    expect(result).to_contain_text("25 units commissioned")
    screenshot(page, "batch-commissioned-desktop")
    result.get_by_role("link", name=re.compile("See the 25 new units")).click()

    expect(page.get_by_text("Showing 1–25 of 25 units")).to_be_visible()
    expect(page.locator("table.units-table tbody tr")).to_have_count(25)
    assert units.list_units(demo_rt, demo_brand, batch_id=batch.id).total == 25
    log_in(phone)
    phone.goto(f"/batches/{batch.id}")
    assert fits_the_screen(phone)
    screenshot(phone, "batch-phone")


def test_a_unit_page_opens_by_its_code(
    page: Page, phone: Page, demo_rt: Runtime, demo_brand: Principal, screenshot: Shot
) -> None:
    view = units.list_units(demo_rt, demo_brand, limit=1).items[0]
    code = view.unit.code
    formatted = "-".join(code[i : i + 4] for i in range(0, 14, 4))
    log_in(page)
    page.goto("/units")
    page.get_by_label("Code starts with").fill(formatted[:7].lower())
    page.get_by_role("button", name="Filter").click()
    page.get_by_role("link", name=formatted).click()

    expect(page.get_by_role("heading", level=1)).to_contain_text(formatted)
    expect(page.get_by_text(f"https://id.example.test/{code}", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name=view.lot_number, exact=True)).to_be_visible()
    screenshot(page, "unit-desktop")
    log_in(phone)
    phone.goto(f"/units/{code}")
    assert fits_the_screen(phone)
    screenshot(phone, "unit-phone")


def test_logging_out_ends_the_session(page: Page) -> None:
    log_in(page)
    page.get_by_role("button", name="Log out").click()

    expect(page).to_have_url(re.compile(r"/login$"))
    page.goto("/products")
    expect(page).to_have_url(re.compile(r"/login\?next=/products$"))
