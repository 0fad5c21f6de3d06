"""The Imports page in a real Chromium: a broken file dropped on the form shows the problem
table; a good one is checked, then imported, and shows its summary."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_ui import log_in
from unitrace.domain.model import Principal
from unitrace.services import catalog
from unitrace.services.runtime import Runtime

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
Shot = Callable[[Page, str], Path]


def _drop(page: Page, name: str, text: str) -> None:
    """Drop a file on the form's drop zone, as a person dragging it from their desktop."""
    transfer = page.evaluate_handle(
        """([name, text]) => {
            const data = new DataTransfer();
            data.items.add(new File([text], name, {type: "text/csv"}));
            return data;
        }""",
        [name, text],
    )
    page.locator("[data-drop-zone]").dispatch_event("drop", {"dataTransfer": transfer})


def test_a_broken_file_shows_its_problems_and_a_good_one_its_summary(
    page: Page, demo_rt: Runtime, demo_brand: Principal, tmp_path: Path, screenshot: Shot
) -> None:
    log_in(page)
    page.get_by_role("link", name="Imports").click()
    expect(page.get_by_role("heading", name="Imports", level=1)).to_be_visible()
    expect(page.get_by_role("link", name="Sales template (CSV)")).to_be_visible()

    page.get_by_label("What the file holds").select_option("products")
    _drop(page, "broken.csv", "name,category,net_content,net_content_unit\nOne,flower,12;5,g\n")
    page.get_by_role("button", name="Import", exact=True).click()
    table = page.locator("table.import-problems")
    expect(table).to_be_visible()
    expect(page.get_by_text("1 problem in the file: nothing was imported.")).to_be_visible()
    cells = table.locator("tbody tr").first.locator("td")
    expect(cells).to_have_text(["2", "net_content", "12;5", "`12;5` is not a number"])
    screenshot(page, "imports-problems-desktop")

    name = f"Import test {secrets.token_hex(4)}"
    good = tmp_path / "good.csv"
    good.write_text(f"name,category\n{name},flower\n", encoding="utf-8")
    page.get_by_label("What the file holds").select_option("products")
    page.get_by_label("CSV file", exact=True).set_input_files(str(good))
    page.get_by_role("button", name="Check only (dry run)").click()
    expect(page.locator(".import-summary")).to_contain_text("1 row checked: no problems")
    assert catalog.list_products(demo_rt, demo_brand, search=name).total == 0

    page.get_by_label("What the file holds").select_option("products")
    page.get_by_label("CSV file", exact=True).set_input_files(str(good))
    page.get_by_role("button", name="Import", exact=True).click()
    summary = page.locator(".import-summary")
    expect(summary).to_contain_text("1 row imported")
    expect(summary).to_contain_text("Created")
    expect(page.locator("table.import-problems")).to_have_count(0)
    assert [p.name for p in catalog.list_products(demo_rt, demo_brand, search=name).items] == [name]
    screenshot(page, "imports-summary-desktop")
