"""The labels page in a real Chromium: choose a batch, watch the preview, download labels."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_ui import log_in

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
Shot = Callable[[Page, str], Path]
PREVIEW_LOADED = (
    "() => { const img = document.getElementById('label-preview');"
    " return !img.hidden && img.complete && img.naturalWidth > 0; }"
)


def test_the_preview_follows_the_choice_and_the_download_is_recorded(
    page: Page, screenshot: Shot
) -> None:
    log_in(page)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Labels").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Labels")
    preview = page.locator("#label-preview")
    expect(preview).to_be_hidden()

    page.get_by_label("Batch").select_option(index=1)
    page.wait_for_function(PREVIEW_LOADED)
    page.get_by_label("Layout").select_option("roll-2x1")

    expect(preview).to_have_attribute("src", re.compile(r"layout=roll-2x1"))
    page.wait_for_function(PREVIEW_LOADED)
    page.get_by_label("Format").select_option("pdf")
    page.get_by_label("From unit").fill("3")
    page.get_by_label("How many").fill("5")
    page.get_by_label("Scan-check every label before download").check()
    screenshot(page, "labels-desktop")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download labels").click()

    assert re.fullmatch(r"labels-GV-\d{4}-[A-Z]-job\d+\.pdf", download.value.suggested_filename)
    page.reload()
    jobs = page.get_by_role("table")
    expect(jobs).to_contain_text("roll-2x1 · 300 dpi")
    expect(jobs).to_contain_text("Passed")
