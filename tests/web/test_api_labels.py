"""Labels over HTTP: the /api/v1 endpoints, and the /labels page with its forms."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from typing import Any

import pytest
import zxingcpp
from fastapi.testclient import TestClient
from PIL import Image

from tests.factories import make_batch, make_product
from tests.web.conftest import Headers
from tests.web.test_pages import email_of, error_of, hidden, log_in
from unitrace.domain.codes import format_code
from unitrace.domain.gs1 import short_link
from unitrace.domain.model import Principal
from unitrace.services import serialization, units
from unitrace.services.labels import SAMPLE_CODE
from unitrace.services.runtime import Runtime

API = "/api/v1"
BASE = "https://id.example.test"


def serialized_batch(rt: Runtime, brand: Principal, quantity: int = 4, **product: Any) -> int:
    batch = make_batch(rt, brand, make_product(rt, brand, **product))
    serialization.commission_units(rt, brand, batch_id=batch.id, quantity=quantity)
    return batch.id


def codes_of(rt: Runtime, brand: Principal, batch_id: int) -> list[str]:
    return [v.unit.code for v in units.list_units(rt, brand, batch_id=batch_id).items]


@pytest.fixture
def batch_id(rt: Runtime, brand: Principal) -> int:
    return serialized_batch(rt, brand)


# --- files -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "media_type", "extension", "magic"),
    [
        ("pdf", "application/pdf", "pdf", b"%PDF-"),
        ("zpl", "text/plain; charset=utf-8", "zpl", b"^XA"),
        ("svg-zip", "application/zip", "zip", b"PK"),
        ("csv", "text/csv; charset=utf-8", "csv", "\ufeffcode".encode()),
    ],
)
def test_each_format_downloads_as_an_attachment_and_records_a_print_job(
    client: TestClient,
    operator: Headers,
    batch_id: int,
    fmt: str,
    media_type: str,
    extension: str,
    magic: bytes,
) -> None:
    body = {"selection": {"batch_id": batch_id}, "layout": "roll-2x1"}

    response = client.post(f"{API}/labels/{fmt}", json=body, headers=operator)

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == media_type
    assert response.content.lstrip().startswith(magic)
    job_id = response.headers["x-print-job-id"]
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;") and f'-job{job_id}.{extension}"' in disposition
    assert response.headers["x-label-count"] == "4"
    assert int(response.headers["content-length"]) == len(response.content)
    job = client.get(f"{API}/print-jobs/{job_id}", headers=operator).json()
    assert (job["format"], job["quantity"], job["selection"]) == (fmt, 4, {"batch_id": batch_id})


def test_a_range_of_explicit_codes_prints_only_those(
    client: TestClient, operator: Headers, rt: Runtime, brand: Principal, batch_id: int
) -> None:
    codes = codes_of(rt, brand, batch_id)
    body = {"selection": {"codes": [format_code(codes[2]).lower(), codes[0]]}}

    response = client.post(f"{API}/labels/csv", json=body, headers=operator)

    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [r["code"] for r in rows] == [codes[2], codes[0]]
    assert rows[0]["qr_payload"] == short_link(BASE, codes[2])


def test_the_svg_zip_names_each_file_by_its_code(
    client: TestClient, operator: Headers, rt: Runtime, brand: Principal, batch_id: int
) -> None:
    body = {"selection": {"batch_id": batch_id, "first": 2, "count": 2}}

    response = client.post(f"{API}/labels/svg-zip", json=body, headers=operator)

    names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    assert names == [f"{c}.svg" for c in codes_of(rt, brand, batch_id)[1:3]]


def test_a_viewer_may_not_print_labels(client: TestClient, viewer: Headers, batch_id: int) -> None:
    response = client.post(
        f"{API}/labels/pdf", json={"selection": {"batch_id": batch_id}}, headers=viewer
    )

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_unknown_codes_are_listed_in_one_422(
    client: TestClient, operator: Headers, other_brand: Principal, rt: Runtime, batch_id: int
) -> None:
    other = codes_of(rt, other_brand, serialized_batch(rt, other_brand, 1))
    body = {"selection": {"codes": [other[0], SAMPLE_CODE]}}

    response = client.post(f"{API}/labels/pdf", json=body, headers=operator)

    assert response.status_code == 422
    details = response.json()["error"]["details"]
    assert [d["message"] for d in details] == [
        f"{other[0]}: not found",
        f"{SAMPLE_CODE}: not found",
    ]
    assert client.get(f"{API}/print-jobs", headers=operator).json()["total"] == 0


def test_a_failed_scan_check_is_a_422_naming_every_label(
    client: TestClient, operator: Headers, rt: Runtime, brand: Principal
) -> None:
    batch = serialized_batch(rt, brand, 2, gtin="09506000134352", label_template="finished_goods")
    body = {"selection": {"batch_id": batch}, "layout": "a4-1x1", "dpi": 203, "check": True}

    response = client.post(f"{API}/labels/pdf", json=body, headers=operator)

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "preflight_failed"
    assert sorted(d["code"] for d in error["details"]) == sorted(codes_of(rt, brand, batch))


def test_a_selection_naming_two_things_is_refused(
    client: TestClient, operator: Headers, batch_id: int
) -> None:
    body = {"selection": {"batch_id": batch_id, "container_id": 1}}

    response = client.post(f"{API}/labels/pdf", json=body, headers=operator)

    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "selection"


def test_an_unknown_format_is_a_422(client: TestClient, operator: Headers, batch_id: int) -> None:
    response = client.post(
        f"{API}/labels/docx", json={"selection": {"batch_id": batch_id}}, headers=operator
    )

    assert response.status_code == 422


def test_a_reprint_is_logged_against_its_original_job(
    client: TestClient, operator: Headers, rt: Runtime, brand: Principal, batch_id: int
) -> None:
    first = client.post(
        f"{API}/labels/zpl", json={"selection": {"batch_id": batch_id}}, headers=operator
    )
    original = int(first.headers["x-print-job-id"])
    damaged = codes_of(rt, brand, batch_id)[0]
    body = {"selection": {"codes": [damaged]}, "reprint_of": original, "reason": "torn"}

    again = client.post(f"{API}/labels/zpl", json=body, headers=operator)

    job = client.get(f"{API}/print-jobs/{again.headers['x-print-job-id']}", headers=operator).json()
    assert (job["is_reprint"], job["reprint_of_job_id"], job["reason"]) == (True, original, "torn")
    history = client.get(f"{API}/print-jobs", params={"code": damaged}, headers=operator).json()
    assert [j["id"] for j in history["items"]] == [job["id"], original]
    status = client.get(f"{API}/batches/{batch_id}/label-status", headers=operator).json()
    assert status == {
        "batch_id": batch_id,
        "units": 4,
        "printed": 4,
        "not_printed": 0,
        "reprinted": 1,
        "jobs": 2,
    }


# --- checks, previews, single labels ------------------------------------------------------------


def test_the_check_endpoint_reports_and_records_nothing(
    client: TestClient, viewer: Headers, batch_id: int
) -> None:
    body = {"selection": {"batch_id": batch_id}, "format": "zpl", "layout": "roll-1x1"}

    response = client.post(f"{API}/labels/check", json=body, headers=viewer)

    assert response.status_code == 200
    assert response.json() == {
        "format": "zpl",
        "dpi": 203,
        "layout": "roll-1x1",
        "checked": 4,
        "ok": True,
        "failures": [],
    }
    assert client.get(f"{API}/print-jobs", headers=viewer).json()["total"] == 0


def test_a_preview_is_an_svg_that_cannot_run_script(
    client: TestClient, viewer: Headers, rt: Runtime, brand: Principal, batch_id: int
) -> None:
    response = client.get(
        f"{API}/labels/preview.svg",
        params={"batch_id": batch_id, "layout": "roll-2x1"},
        headers=viewer,
    )

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert format_code(codes_of(rt, brand, batch_id)[0]) in response.text


def test_a_layout_too_small_for_the_qr_code_is_a_422_on_the_preview(
    client: TestClient, viewer: Headers, rt: Runtime, brand: Principal
) -> None:
    batch = serialized_batch(rt, brand, 1, gtin="09506000134352", label_template="finished_goods")

    response = client.get(
        f"{API}/labels/preview.svg",
        params={"batch_id": batch, "layout": "a4-1x1", "dpi": 203},
        headers=viewer,
    )

    assert response.status_code == 422
    assert "does not fit" in response.json()["error"]["message"]


def test_a_units_qr_png_and_label_svg_are_served_to_its_owner_only(
    client: TestClient,
    viewer: Headers,
    outsider: Headers,
    rt: Runtime,
    brand: Principal,
    batch_id: int,
) -> None:
    code = codes_of(rt, brand, batch_id)[0]

    png = client.get(f"{API}/units/{format_code(code)}/qr.png?module_px=6", headers=viewer)
    svg = client.get(f"{API}/units/{code}/label.svg", headers=viewer)

    assert png.headers["content-type"] == "image/png"
    decoded = [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(png.content)))]
    assert decoded == [short_link(BASE, code)]
    assert svg.status_code == 200 and format_code(code) in svg.text
    assert client.get(f"{API}/units/{code}/qr.png", headers=outsider).status_code == 404
    assert client.get(f"{API}/units/{code}/qr.png?module_px=0", headers=viewer).status_code == 422


def test_the_layouts_are_listed_with_their_sizes(client: TestClient, viewer: Headers) -> None:
    response = client.get(f"{API}/labels/layouts", headers=viewer)

    layouts = {item["name"]: item for item in response.json()["items"]}
    assert layouts["letter-30up"]["per_page"] == 30
    assert layouts["letter-30up"]["label_width_in"] == 2.625
    assert (layouts["roll-4x6"]["kind"], layouts["roll-4x6"]["label_height_in"]) == ("roll", 6.0)


def test_print_jobs_of_another_organization_are_not_found(
    client: TestClient, operator: Headers, outsider: Headers, batch_id: int
) -> None:
    made = client.post(
        f"{API}/labels/csv", json={"selection": {"batch_id": batch_id}}, headers=operator
    )
    job_id = made.headers["x-print-job-id"]

    assert client.get(f"{API}/print-jobs/{job_id}", headers=outsider).status_code == 404
    assert client.get(f"{API}/print-jobs", headers=outsider).json()["total"] == 0
    assert client.get(f"{API}/batches/{batch_id}/label-status", headers=outsider).status_code == 404


# --- product label settings --------------------------------------------------------------------


def test_products_carry_their_label_template_and_qr_form(
    client: TestClient, operator: Headers
) -> None:
    created = client.post(
        f"{API}/products", json={"name": "Gelato 1 g", "category": "pre_roll"}, headers=operator
    ).json()
    assert (created["label_template"], created["qr_form"]) == ("qr_only", "digital_link")

    changed = client.patch(
        f"{API}/products/{created['id']}",
        json={"label_template": "finished_goods", "qr_form": "short_url"},
        headers=operator,
    )

    assert (changed.json()["label_template"], changed.json()["qr_form"]) == (
        "finished_goods",
        "short_url",
    )
    refused = client.patch(
        f"{API}/products/{created['id']}", json={"qr_form": None}, headers=operator
    )
    assert refused.status_code == 422


# --- the /labels page ---------------------------------------------------------------------------


@pytest.fixture
def signed_in(client: TestClient, brand: Principal) -> TestClient:
    assert log_in(client, email_of(brand)).status_code == 303
    return client


def test_the_labels_page_previews_the_chosen_batch_and_lists_print_jobs(
    signed_in: TestClient, batch_id: int
) -> None:
    page = signed_in.get(f"/labels?batch_id={batch_id}&layout=roll-2x1&dpi=203")

    assert page.status_code == 200
    preview = re.search(r'<img id="label-preview" src="([^"]+)"', page.text)
    assert preview is not None
    image = signed_in.get(preview.group(1).replace("&amp;", "&"))
    assert image.headers["content-type"].startswith("image/svg+xml")
    assert "No labels printed yet." in page.text


def test_the_preview_button_works_without_javascript(signed_in: TestClient, batch_id: int) -> None:
    token = hidden(signed_in.get("/labels").text, "csrf_token")
    form = {
        "csrf_token": token,
        "batch_id": str(batch_id),
        "layout": "a4-24up",
        "dpi": "600",
        "action": "preview",
    }

    response = signed_in.post("/labels", data=form, follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == f"/labels?batch_id={batch_id}&layout=a4-24up&dpi=600"


def test_the_download_button_sends_the_file_and_the_job_shows_on_the_page(
    signed_in: TestClient, batch_id: int
) -> None:
    token = hidden(signed_in.get("/labels").text, "csrf_token")
    form = {
        "csrf_token": token,
        "batch_id": str(batch_id),
        "first": "2",
        "count": "2",
        "layout": "letter-30up",
        "format": "pdf",
        "dpi": "300",
        "check": "on",
        "action": "download",
    }

    response = signed_in.post("/labels", data=form)

    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["x-label-count"] == "2"
    listing = signed_in.get("/labels").text
    assert "Passed" in listing and "letter-30up · 300 dpi" in listing


def test_a_bad_range_is_shown_next_to_its_field(signed_in: TestClient, batch_id: int) -> None:
    token = hidden(signed_in.get("/labels").text, "csrf_token")
    form = {
        "csrf_token": token,
        "batch_id": str(batch_id),
        "first": "3",
        "count": "9",
        "format": "csv",
        "action": "download",
    }

    response = signed_in.post("/labels", data=form)

    assert response.status_code == 422
    assert "at most 2 from unit 3" in error_of(response.text, "count")


def test_the_labels_form_needs_its_csrf_token(signed_in: TestClient, batch_id: int) -> None:
    form = {"batch_id": str(batch_id), "format": "csv", "action": "download"}

    response = signed_in.post("/labels", data=form)

    assert response.status_code == 403


def test_the_product_page_changes_the_label_settings(
    signed_in: TestClient, rt: Runtime, brand: Principal
) -> None:
    product = make_product(rt, brand)
    token = hidden(signed_in.get(f"/products/{product.id}").text, "csrf_token")
    form = {"csrf_token": token, "label_template": "finished_goods", "qr_form": "short_url"}

    response = signed_in.post(f"/products/{product.id}/label-settings", data=form)

    assert "Label settings saved." in response.text
    assert "Finished goods" in response.text
    bad = signed_in.post(
        f"/products/{product.id}/label-settings", data={**form, "qr_form": "barcode"}
    )
    assert bad.status_code == 422 and error_of(bad.text, "qr_form")
