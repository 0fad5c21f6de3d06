"""The server-rendered pages through the real app: login, CSRF, forms, redirects."""

from __future__ import annotations

import re
from decimal import Decimal
from html import unescape

import pytest
from fastapi.testclient import TestClient

from tests.factories import PASSWORD, as_role, make_batch, make_product
from unitrace.domain.model import LabStatus, Principal, Role
from unitrace.services import access, catalog, serialization, units
from unitrace.services.runtime import Runtime
from unitrace.web.app import create_app
from unitrace.web.pages.auth import safe_next
from unitrace.web.pages.forms import batch_draft


def hidden(html: str, name: str) -> str:
    """The value of the first hidden input called ``name`` on the page."""
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no hidden input {name} on the page"
    return unescape(match.group(1))


def error_of(html: str, field: str) -> str:
    """The error text shown next to the input called ``field`` ('' when there is none)."""
    match = re.search(rf'<div class="field-error" id="f-{field}-error">(.*?)</div>', html, re.S)
    return unescape(re.sub(r"<[^>]+>", " ", match.group(1))).strip() if match else ""


def log_in(client: TestClient, email: str, password: str = PASSWORD, next_url: str = "/"):
    page = client.get("/login")
    return client.post(
        "/login",
        data={
            "email": email,
            "password": password,
            "next": next_url,
            "csrf_token": hidden(page.text, "csrf_token"),
        },
        follow_redirects=False,
    )


def email_of(principal: Principal) -> str:
    return principal.display


@pytest.fixture
def signed_in(client: TestClient, brand: Principal) -> TestClient:
    """The client, logged in as the brand's admin."""
    assert log_in(client, email_of(brand)).status_code == 303
    return client


def csrf(client: TestClient) -> str:
    return hidden(client.get("/").text, "csrf_token")


# --- logging in and out ---------------------------------------------------------------


def test_a_page_without_a_session_redirects_to_the_login_form(client: TestClient) -> None:
    response = client.get("/batches", follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/batches"


def test_the_login_redirect_keeps_the_query_of_the_page_asked_for(client: TestClient) -> None:
    response = client.get("/units?batch_id=3&disposition=active", follow_redirects=False)

    expected = "/login?next=/units%3Fbatch_id%3D3%26disposition%3Dactive"
    assert response.headers["location"] == expected


def test_logging_in_sets_an_httponly_lax_cookie_and_goes_to_the_next_page(
    client: TestClient, brand: Principal
) -> None:
    response = log_in(client, email_of(brand), next_url="/products")

    assert response.status_code == 303
    assert response.headers["location"] == "/products"
    cookie = next(c for c in response.headers.get_list("set-cookie") if "unitrace_session=" in c)
    assert "HttpOnly" in cookie
    assert "samesite=lax" in cookie.lower()
    assert "Secure" not in cookie
    assert client.get("/products").status_code == 200


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x"]
)
def test_login_never_sends_you_to_another_site(
    client: TestClient, brand: Principal, target: str
) -> None:
    response = log_in(client, email_of(brand), next_url=target)

    assert response.headers["location"] == "/"


def test_only_local_paths_are_accepted_as_the_next_page() -> None:
    assert safe_next("/units?batch_id=3") == "/units?batch_id=3"
    assert safe_next("/login?next=/") == "/"
    assert safe_next("/x\r\nSet-Cookie: a=b") == "/"
    assert safe_next(None) == "/"


def test_the_session_cookie_is_secure_when_the_settings_say_so(
    rt: Runtime, brand: Principal
) -> None:
    secure = Runtime(
        settings=rt.settings.model_copy(update={"secure_cookies": True}),
        db=rt.db,
        files=rt.files,
        clock=rt.clock,
    )
    with TestClient(create_app(runtime=secure), base_url="https://testserver") as client:
        response = log_in(client, email_of(brand))

    cookie = next(c for c in response.headers.get_list("set-cookie") if "unitrace_session=" in c)
    assert "Secure" in cookie


def test_a_wrong_password_shows_the_form_again_with_an_error(
    client: TestClient, brand: Principal
) -> None:
    response = log_in(client, email_of(brand), password="not the password")

    assert response.status_code == 400
    assert "Wrong e-mail or password" in response.text
    assert f'value="{email_of(brand)}"' in response.text
    assert "unitrace_session" not in client.cookies


def test_a_login_without_its_form_token_is_refused(client: TestClient, brand: Principal) -> None:
    client.get("/login")
    response = client.post(
        "/login",
        data={"email": email_of(brand), "password": PASSWORD, "csrf_token": "forged"},
        follow_redirects=False,
    )

    assert response.status_code == 403
    assert "unitrace_session" not in client.cookies


def test_repeated_failed_logins_are_rate_limited_even_with_the_right_password(
    client: TestClient, brand: Principal, rt: Runtime
) -> None:
    for _ in range(rt.settings.login_rate_limit):
        assert log_in(client, email_of(brand), password="guess").status_code == 400

    response = log_in(client, email_of(brand))

    assert response.status_code == 429
    assert "Too many attempts" in response.text
    assert "unitrace_session" not in client.cookies


def test_logging_out_ends_the_session(signed_in: TestClient) -> None:
    token = signed_in.cookies["unitrace_session"]

    response = signed_in.post(
        "/logout", data={"csrf_token": csrf(signed_in)}, follow_redirects=False
    )

    assert response.headers["location"] == "/login"
    signed_in.cookies.set("unitrace_session", token)  # even a copy kept aside no longer works
    assert signed_in.get("/", follow_redirects=False).headers["location"] == "/login?next=/"


# --- CSRF -----------------------------------------------------------------------------


@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_a_form_without_the_right_csrf_token_is_refused_and_changes_nothing(
    signed_in: TestClient, rt: Runtime, brand: Principal, token: str | None
) -> None:
    data = {"name": "Sneaky Kush", "category": "flower"}
    if token is not None:
        data["csrf_token"] = token

    response = signed_in.post("/products", data=data)

    assert response.status_code == 403
    assert catalog.list_products(rt, brand, search="Sneaky").total == 0


def test_logout_without_the_csrf_token_keeps_the_session(signed_in: TestClient) -> None:
    assert signed_in.post("/logout", data={}).status_code == 403
    assert signed_in.get("/", follow_redirects=False).status_code == 200


# --- pages ----------------------------------------------------------------------------


def test_pages_may_not_be_framed_by_other_sites(signed_in: TestClient) -> None:
    policy = signed_in.get("/products").headers["content-security-policy"]

    assert "frame-ancestors 'none'" in policy
    assert "script-src" not in policy  # default-src 'self': no inline script runs


def test_the_dashboard_shows_the_organization_and_its_counts(
    signed_in: TestClient, rt: Runtime, brand: Principal
) -> None:
    batch = make_batch(rt, brand)
    serialization.commission_units(rt, brand, batch_id=batch.id, quantity=7)

    html = signed_in.get("/").text

    assert "Sunrise Farms" in html
    assert re.search(r'data-testid="count-products">1<', html)
    assert re.search(r'data-testid="count-batches">1<', html)
    assert re.search(r'data-testid="count-units">7<', html)


def test_creating_a_product_leads_to_its_page(
    signed_in: TestClient, rt: Runtime, brand: Principal
) -> None:
    response = signed_in.post(
        "/products",
        data={
            "csrf_token": csrf(signed_in),
            "name": "Sour Diesel 1 g",
            "category": "flower",
            "net_content": "1",
            "net_content_unit": "g",
        },
        follow_redirects=False,
    )

    [product] = catalog.list_products(rt, brand, search="Sour Diesel").items
    assert response.headers["location"] == f"/products/{product.id}?created=1"
    assert "Product created" in signed_in.get(response.headers["location"]).text


def test_a_bad_gtin_is_shown_next_to_its_field_and_the_input_is_kept(
    signed_in: TestClient, rt: Runtime, brand: Principal
) -> None:
    response = signed_in.post(
        "/products",
        data={
            "csrf_token": csrf(signed_in),
            "name": "Gelato 3.5 g",
            "category": "flower",
            "gtin": "09506000134353",
        },
    )

    assert response.status_code == 422
    assert "check digit" in error_of(response.text, "gtin")
    assert error_of(response.text, "name") == ""
    assert 'value="Gelato 3.5 g"' in response.text
    assert 'aria-invalid="true"' in response.text
    assert catalog.list_products(rt, brand).total == 0


def test_products_can_be_searched_and_paged(
    signed_in: TestClient, rt: Runtime, brand: Principal
) -> None:
    for n in range(30):
        make_product(rt, brand, name=f"Haze {n:02d}")
    make_product(rt, brand, name="Purple Punch")

    first = signed_in.get("/products?q=haze").text
    second = signed_in.get("/products?q=haze&page=2").text

    assert "Showing 1–25 of 30 products" in first
    assert 'href="/products?q=haze&amp;page=2"' in first
    assert "Showing 26–30 of 30 products" in second
    assert "Purple Punch" not in first + second


def _batch_form(token: str, product_id: int, **overrides: str) -> dict[str, str]:
    form = {
        "csrf_token": token,
        "product_id": str(product_id),
        "lot_number": "SD-2611-A",
        "produced_on": "2026-11-10",
        "lab_status": "passed",
        "lab_name": "Evergreen Labs",
        "tested_on": "2026-11-20",
        "total_thc": "24.1",
        "total_cbd": "0.2",
        "cannabinoid_unit": "%",
        "terpene_name_0": "limonene",
        "terpene_amount_0": "0.9",
        "panel_microbials": "pass",
        "panel_pesticides": "pass",
    }
    form.update(overrides)
    return form


def test_a_batch_is_created_with_its_lab_results(
    signed_in: TestClient, rt: Runtime, brand: Principal
) -> None:
    product = make_product(rt, brand)

    response = signed_in.post("/batches", data=_batch_form(csrf(signed_in), product.id))

    [batch] = catalog.list_batches(rt, brand).items
    assert response.url.path == f"/batches/{batch.id}"
    assert batch.lab.status is LabStatus.PASSED
    assert batch.lab.total("total_thc") == Decimal("24.1")
    assert [(a.name, a.amount) for a in batch.lab.analytes if a.kind == "terpene"] == [
        ("limonene", Decimal("0.9"))
    ]
    assert sorted(p.name for p in batch.lab.panels) == ["microbials", "pesticides"]
    assert "24.1 %" in response.text


def test_batch_form_problems_are_shown_next_to_their_inputs(
    signed_in: TestClient, rt: Runtime, brand: Principal
) -> None:
    product = make_product(rt, brand)
    form = _batch_form(
        csrf(signed_in), product.id, lab_name="", terpene_amount_0="120", panel_pesticides="fail"
    )

    response = signed_in.post("/batches", data=form)

    assert response.status_code == 422
    assert "names the lab" in error_of(response.text, "lab_name")
    assert "more than 100%" in error_of(response.text, "terpene_amount_0")
    assert "cannot pass" in error_of(response.text, "lab_status")
    assert 'value="SD-2611-A"' in response.text
    assert catalog.list_batches(rt, brand).total == 0


def test_a_number_the_form_cannot_read_is_reported_without_calling_the_service() -> None:
    parsed = batch_draft({"product_id": "1", "lot_number": "A1", "total_thc": "lots"})

    assert parsed.draft is None
    assert parsed.errors == {"total_thc": ["'lots' is not a number; write it like 21.5"]}


def test_submitting_the_commission_form_twice_commissions_once(
    signed_in: TestClient, rt: Runtime, brand: Principal
) -> None:
    batch = make_batch(rt, brand)
    page = signed_in.get(f"/batches/{batch.id}").text
    form = {
        "csrf_token": hidden(page, "csrf_token"),
        "idempotency_key": hidden(page, "idempotency_key"),
        "quantity": "25",
        "location_id": "",
    }

    first = signed_in.post(f"/batches/{batch.id}/commission", data=form)
    second = signed_in.post(f"/batches/{batch.id}/commission", data=form)

    assert first.status_code == second.status_code == 200
    assert "25 units commissioned" in first.text
    assert "already been submitted" in second.text
    assert units.list_units(rt, brand, batch_id=batch.id).total == 25
    assert hidden(first.text, "idempotency_key") != form["idempotency_key"]


def test_a_bad_quantity_is_shown_next_to_the_quantity_field(
    signed_in: TestClient, rt: Runtime, brand: Principal
) -> None:
    batch = make_batch(rt, brand)
    page = signed_in.get(f"/batches/{batch.id}").text
    form = {"csrf_token": hidden(page, "csrf_token"), "idempotency_key": "k1", "quantity": "0"}

    response = signed_in.post(f"/batches/{batch.id}/commission", data=form)

    assert response.status_code == 422
    assert "quantity must be between 1" in error_of(response.text, "quantity")
    assert units.list_units(rt, brand, batch_id=batch.id).total == 0


def test_a_batch_that_has_not_passed_testing_offers_no_commission_form(
    signed_in: TestClient, rt: Runtime, brand: Principal
) -> None:
    batch = make_batch(rt, brand, lab=catalog.LabResultsDraft(LabStatus.PENDING))

    html = signed_in.get(f"/batches/{batch.id}").text

    assert "only a batch that passed testing can be serialized" in html
    assert f'action="/batches/{batch.id}/commission"' not in html


def test_batches_can_be_filtered_by_lab_status(
    signed_in: TestClient, rt: Runtime, brand: Principal
) -> None:
    make_batch(rt, brand, lot_number="PASSED-1")
    make_batch(rt, brand, lot_number="WAITING-1", lab=catalog.LabResultsDraft(LabStatus.PENDING))

    html = signed_in.get("/batches?lab_status=pending").text

    assert "WAITING-1" in html
    assert "PASSED-1" not in html


def test_an_uploaded_coa_can_be_downloaded_again(
    signed_in: TestClient, rt: Runtime, brand: Principal
) -> None:
    batch = make_batch(rt, brand)
    pdf = b"%PDF-1.4\n% a stand-in Certificate of Analysis\n%%EOF\n"

    response = signed_in.post(
        f"/batches/{batch.id}/coa",
        data={"csrf_token": csrf(signed_in)},
        files={"coa": ("COA Ünïcode.pdf", pdf, "application/pdf")},
    )
    download = signed_in.get(f"/batches/{batch.id}/coa")

    assert "Certificate of Analysis saved" in response.text
    assert download.content == pdf
    assert download.headers["content-type"] == "application/pdf"
    assert "attachment" in download.headers["content-disposition"]
    assert "UTF-8''COA%20%C3%9Cn%C3%AFcode.pdf" in download.headers["content-disposition"]


def test_a_coa_that_is_not_a_pdf_or_image_is_refused_next_to_the_file_field(
    signed_in: TestClient, rt: Runtime, brand: Principal
) -> None:
    batch = make_batch(rt, brand)

    response = signed_in.post(
        f"/batches/{batch.id}/coa",
        data={"csrf_token": csrf(signed_in)},
        files={"coa": ("coa.pdf", b"<html>not a pdf</html>", "application/pdf")},
    )

    assert response.status_code == 422
    assert "must be a PDF, PNG or JPEG" in error_of(response.text, "coa")
    assert catalog.get_batch(rt, brand, batch.id).coa is None


def test_units_can_be_filtered_by_code_prefix(
    signed_in: TestClient, rt: Runtime, brand: Principal
) -> None:
    batch = make_batch(rt, brand)
    serialization.commission_units(rt, brand, batch_id=batch.id, quantity=30)
    code = units.list_units(rt, brand, limit=1).items[0].unit.code
    typed = f"{code[:4].lower()}-{code[4:6]}"  # as a person would type the start of it

    html = signed_in.get(f"/units?code={typed}").text

    shown = set(re.findall(r'href="/units/([0-9A-Z]{14})"', html))
    assert code in shown
    assert all(c.startswith(code[:6]) for c in shown)


def test_a_unit_page_shows_the_formatted_code_and_its_links(
    signed_in: TestClient, rt: Runtime, brand: Principal
) -> None:
    product = make_product(rt, brand, gtin="09506000134352")
    batch = make_batch(rt, brand, product, lot_number="GV-1")
    serialization.commission_units(rt, brand, batch_id=batch.id, quantity=1)
    code = units.list_units(rt, brand).items[0].unit.code

    html = signed_in.get(f"/units/{code.lower()}").text

    assert f"{code[:4]}-{code[4:8]}-{code[8:12]}-{code[12:]}" in html
    assert f"https://id.example.test/{code}" in html
    assert f"https://id.example.test/01/09506000134352/10/GV-1/21/{code}" in html


def test_another_organizations_unit_is_not_found(
    signed_in: TestClient, rt: Runtime, other_brand: Principal
) -> None:
    batch = make_batch(rt, other_brand)
    serialization.commission_units(rt, other_brand, batch_id=batch.id, quantity=1)
    code = units.list_units(rt, other_brand).items[0].unit.code

    response = signed_in.get(f"/units/{code}")

    assert response.status_code == 404
    assert "not found" in response.text


def test_a_viewer_sees_the_pages_without_create_forms(
    client: TestClient, rt: Runtime, brand: Principal
) -> None:
    access.create_user(
        rt,
        brand,
        organization_id=brand.organization_id,
        email="viewer@sunrise.example",
        name="Viewer",
        password=PASSWORD,
        role=Role.VIEWER,
    )
    log_in(client, "viewer@sunrise.example")

    html = client.get("/products").text

    assert 'action="/products"' in html  # the search form
    assert 'method="post" action="/products"' not in html
    assert "API keys" not in client.get("/").text
    assert client.get("/settings/api-keys").status_code == 403


def test_an_admin_creates_an_api_key_sees_it_once_and_revokes_it(
    signed_in: TestClient, rt: Runtime, brand: Principal
) -> None:
    token = csrf(signed_in)

    created = signed_in.post(
        "/settings/api-keys", data={"csrf_token": token, "name": "POS", "role": "operator"}
    )
    secret = re.search(r'value="(ut_[^"]+)"', created.text)

    assert created.status_code == 201
    assert created.headers["cache-control"] == "no-store"
    assert secret is not None
    assert access.authenticate_api_key(rt, secret.group(1)).role is Role.OPERATOR
    assert secret.group(1) not in signed_in.get("/settings/api-keys").text
    [key] = access.list_api_keys(rt, brand)
    signed_in.post(f"/settings/api-keys/{key.id}/revoke", data={"csrf_token": token})
    assert access.list_api_keys(rt, brand)[0].revoked_at is not None


def test_an_operator_cannot_manage_api_keys(
    client: TestClient, rt: Runtime, brand: Principal
) -> None:
    operator = access.create_user(
        rt,
        brand,
        organization_id=brand.organization_id,
        email="op@sunrise.example",
        name="Op",
        password=PASSWORD,
        role=Role.OPERATOR,
    )
    log_in(client, operator.email)

    response = client.post(
        "/settings/api-keys", data={"csrf_token": csrf(client), "name": "x", "role": "admin"}
    )

    assert response.status_code == 403
    assert access.list_api_keys(rt, as_role(brand, Role.ADMIN)) == []
