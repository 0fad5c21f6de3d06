"""The public consumer page in a real Chromium at phone size: what a shopper sees after
scanning a unit's QR code (genuine, sold, recalled, unknown, malformed), the COA, and the
forms to register a purchase and report a problem.

The public pages are rate-limited per client address, so every test browses from its own
address (``X-Forwarded-For``; the server trusts the loopback proxy).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, ConsoleMessage, Locator, Page, expect

from tests.browser.conftest import PHONE
from unitrace.domain.codes import generate_code, is_valid
from unitrace.domain.model import Principal
from unitrace.services import support
from unitrace.services.runtime import Runtime
from unitrace.storage import schema

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
Shot = Callable[[Page, str], Path]

BLUE_DREAM_GTIN = "09506000134352"
CONSENT = "The brand may store my name and email for this purchase."
_addresses = itertools.count(1)

# Collects Content-Security-Policy violations; added through the DevTools protocol, so the
# page's own policy (no scripts at all) does not apply to it and the page loads no script.
_WATCH_CSP = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


class Consumer:
    """A phone-sized page from its own client address, recording console errors."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.errors: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(f"{message.text} ({message.location['url']})")

    def csp_violations(self) -> list[str]:
        found: list[str] = self.page.evaluate("window.__cspViolations")
        return found


@pytest.fixture
def consumer(browser: Browser, base_url: str) -> Iterator[Consumer]:
    n = next(_addresses)
    context = browser.new_context(
        base_url=base_url,
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        device_scale_factor=1,
        extra_http_headers={"X-Forwarded-For": f"10.77.{n // 250}.{n % 250 + 1}"},
    )
    context.set_default_timeout(10_000)
    context.add_init_script(_WATCH_CSP)
    yield Consumer(context.new_page())
    context.close()


def demo_codes(rt: Runtime, lot: str, disposition: str) -> list[str]:
    """Codes of the demo lot's units in a disposition, oldest first."""
    u, b = schema.units, schema.batches
    query = (
        sa.select(u.c.code)
        .join(b, b.c.id == u.c.batch_id)
        .where(b.c.lot_number == lot, u.c.disposition == disposition)
        .order_by(u.c.id)
    )
    with rt.db.read() as conn:
        codes = [str(code) for code in conn.execute(query).scalars()]
    assert codes, f"the demo has no {disposition} unit of lot {lot}"
    return codes


def sale_city(rt: Runtime, code: str) -> str:
    """The city of the store that sold the unit."""
    u, loc = schema.units, schema.locations
    query = sa.select(loc.c.city).join(u, u.c.location_id == loc.c.id).where(u.c.code == code)
    with rt.db.read() as conn:
        city = conn.execute(query).scalar_one()
    assert city
    return str(city)


def fits_the_screen(page: Page) -> bool:
    return bool(page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth"))


def unlabelled_fields(page: Page) -> list[str]:
    """Form fields (not hidden ones) that have no label."""
    found: list[str] = page.evaluate(
        """[...document.querySelectorAll("input, select, textarea")]
            .filter((el) => el.type !== "hidden" && el.labels.length === 0
                             && !el.getAttribute("aria-label"))
            .map((el) => el.name || el.outerHTML)"""
    )
    return found


def verdict(page: Page) -> Locator:
    return page.get_by_role("status").get_by_role("heading", level=1)


def test_an_authentic_unit_shows_its_product_lab_results_and_coa(
    consumer: Consumer, demo_rt: Runtime, screenshot: Shot
) -> None:
    code = demo_codes(demo_rt, "GV-2611-A", "active")[-1]
    page = consumer.page

    response = page.goto(f"/{code.lower()}")

    assert response is not None and response.status == 200
    expect(verdict(page)).to_have_text("Genuine product")
    expect(page.get_by_role("status")).to_contain_text(f"{code[:4]}-{code[4:8]}")
    expect(page.get_by_role("heading", name="Blue Dream 3.5 g", level=2)).to_be_visible()
    facts = page.locator("dl.facts").first
    expect(facts).to_contain_text("Strain")
    expect(facts).to_contain_text("Blue Dream")
    potency = page.locator(".potency")
    expect(potency).to_contain_text("22.4%")
    expect(potency).to_contain_text("THC")
    expect(potency).to_contain_text("0.1%")
    expect(potency).to_contain_text("CBD")
    expect(page.get_by_role("heading", name="Terpene profile")).to_be_visible()
    meters = page.locator("meter")
    expect(meters).to_have_count(3)
    expect(page.get_by_role("row", name=re.compile("Myrcene"))).to_contain_text("0.9 %")
    panels = page.locator("ul.panels li")
    expect(panels).to_have_count(5)
    for panel in ("Microbials", "Mycotoxins", "Heavy metals", "Pesticides", "Residual solvents"):
        expect(panels.filter(has_text=panel)).to_contain_text("pass")
    expect(page.get_by_text("Evergreen Analytical Labs", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Register my purchase")).to_have_count(0)

    coa = page.get_by_role("link", name="Certificate of Analysis (PDF)")
    expect(coa).to_have_attribute("href", f"/{code}/coa.pdf")
    pdf = page.request.get(f"/{code}/coa.pdf")
    assert pdf.status == 200
    assert pdf.headers["content-type"].startswith("application/pdf")
    assert pdf.body().startswith(b"%PDF-")

    assert fits_the_screen(page)
    assert page.evaluate("document.scripts.length") == 0
    assert page.locator("h1").count() == 1
    assert page.locator("h2").count() >= 4
    assert page.locator("select, textarea, input").count() >= 5
    assert unlabelled_fields(page) == []
    screenshot(page, "consumer-authentic")
    assert consumer.csp_violations() == []
    assert consumer.errors == []


def test_a_sold_unit_can_be_registered_once(
    consumer: Consumer, demo_rt: Runtime, screenshot: Shot
) -> None:
    code = demo_codes(demo_rt, "GV-2611-A", "retail_sold")[-1]
    city = sale_city(demo_rt, code)
    page = consumer.page

    page.goto(f"/{code}")

    expect(verdict(page)).to_have_text("Genuine product, sold")
    expect(page.locator("ol.journey")).to_contain_text(f"Sold by a licensed store in {city}")
    assert fits_the_screen(page)
    screenshot(page, "consumer-sold")
    page.get_by_role("link", name="Register my purchase").click()

    expect(page).to_have_url(re.compile(f"/{code}/register$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Register your purchase")
    assert unlabelled_fields(page) == []
    page.get_by_label("Email (optional)").fill("shopper@example.test")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="Register").click()

    assert answer.value.status == 422  # an email without consent is not stored
    expect(page.get_by_role("alert")).to_contain_text("tick the consent box")
    expect(page.get_by_label("Email (optional)")).to_have_value("shopper@example.test")
    page.get_by_label(CONSENT).check()
    screenshot(page, "consumer-register")
    page.get_by_role("button", name="Register").click()

    expect(page).to_have_url(re.compile(f"/{code}/registration/[0-9A-Z]{{12}}$"))
    reference = page.url.rsplit("/", 1)[1]
    expect(page.get_by_role("heading", level=1)).to_have_text("Proof of purchase")
    proof = page.locator("dl.facts")
    expect(proof).to_contain_text(reference)
    expect(proof).to_contain_text(code)
    expect(proof).to_contain_text("Blue Dream 3.5 g")
    expect(proof).to_contain_text("GV-2611-A")
    expect(proof).to_contain_text(f"in {city}")
    assert fits_the_screen(page)
    screenshot(page, "consumer-proof-of-purchase")

    page.goto(f"/{code}/register")
    page.get_by_label("Email (optional)").fill("someone-else@example.test")
    page.get_by_label(CONSENT).check()
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="Register").click()

    assert answer.value.status == 409
    expect(page.get_by_role("status")).to_contain_text("this unit's purchase is already registered")
    screenshot(page, "consumer-register-conflict")
    assert consumer.csp_violations() == []


def test_a_recalled_unit_shows_the_recall_notice(
    consumer: Consumer, demo_rt: Runtime, screenshot: Shot
) -> None:
    code = demo_codes(demo_rt, "GV-2611-B", "recalled")[-1]
    page = consumer.page

    page.goto(f"/{code}")

    expect(verdict(page)).to_have_text("Recalled: do not use")
    notice = page.locator("section.recall")
    expect(notice.get_by_role("heading")).to_have_text(
        re.compile(r"^Recall \S+: OG Kush GV-2611-B: Aspergillus in retest$")
    )
    expect(notice).to_contain_text("Class II")
    expect(notice).to_contain_text("Aspergillus above the action level")
    expect(notice.locator(".instructions")).to_have_text(
        "Do not use this product. Bring it back to the store for a full refund."
    )
    expect(page.get_by_role("heading", name="OG Kush Pre-Roll 1 g")).to_be_visible()
    assert fits_the_screen(page)
    screenshot(page, "consumer-recalled")
    assert consumer.csp_violations() == []
    assert consumer.errors == []


def test_a_reported_problem_reaches_the_brand(
    consumer: Consumer, demo_rt: Runtime, demo_brand: Principal, screenshot: Shot
) -> None:
    code = demo_codes(demo_rt, "GV-2611-A", "active")[-2]
    message = f"The seal of {code[:6]} was broken when I opened the bag."
    page = consumer.page
    page.goto(f"/{code}")

    page.get_by_label("What happened?").select_option("damaged")
    page.get_by_label("Tell us more").fill(message)
    screenshot(page, "consumer-report-form")
    page.get_by_role("button", name="Send report").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you")
    expect(page.get_by_role("status")).to_contain_text("Your report reached the brand")
    expect(page.get_by_role("link", name="Back to the product")).to_have_attribute(
        "href", f"/{code}"
    )
    screenshot(page, "consumer-report-thanks")
    reports = support.list_reports(demo_rt, demo_brand, limit=200).items
    mine = [r for r in reports if r.message == message]
    assert len(mine) == 1
    assert mine[0].code == code
    assert mine[0].kind == "damaged"
    assert mine[0].lot_number == "GV-2611-A"
    assert consumer.errors == []


def test_an_unknown_code_and_a_malformed_code_get_their_own_pages(
    consumer: Consumer, screenshot: Shot
) -> None:
    page = consumer.page
    unknown = generate_code()

    response = page.goto(f"/{unknown}")

    assert response is not None and response.status == 404
    expect(verdict(page)).to_have_text("Code not recognised")
    expect(page.get_by_role("heading", name="What now?")).to_be_visible()
    expect(page.get_by_role("button", name="Send report")).to_have_count(0)
    assert fits_the_screen(page)
    screenshot(page, "consumer-unknown")

    malformed = "ABCDEFGHJKMNPQ"
    assert not is_valid(malformed)
    response = page.goto(f"/{malformed}")

    assert response is not None and response.status == 400
    expect(verdict(page)).to_have_text("This is not a valid code")
    expect(page.get_by_role("status")).to_contain_text("check character")
    expect(page.get_by_text("type the 14 characters printed under it")).to_be_visible()
    assert fits_the_screen(page)
    screenshot(page, "consumer-malformed")
    assert consumer.csp_violations() == []


def test_the_digital_link_form_shows_the_same_verdict_page(
    consumer: Consumer, demo_rt: Runtime, screenshot: Shot
) -> None:
    code = demo_codes(demo_rt, "GV-2611-A", "active")[-3]
    page = consumer.page

    response = page.goto(f"/01/{BLUE_DREAM_GTIN}/10/GV-2611-A/21/{code}")

    assert response is not None and response.status == 200
    expect(verdict(page)).to_have_text("Genuine product")
    expect(page.get_by_role("status")).to_contain_text(f"{code[:4]}-{code[4:8]}")
    expect(page.get_by_role("heading", name="Blue Dream 3.5 g")).to_be_visible()
    expect(page.get_by_role("link", name="Certificate of Analysis (PDF)")).to_have_attribute(
        "href", f"/{code}/coa.pdf"
    )
    assert fits_the_screen(page)
    screenshot(page, "consumer-digital-link")
    assert consumer.csp_violations() == []
