"""Batches over the API: lab results, filters, and the Certificate of Analysis."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.factories import make_batch, make_product
from tests.web.conftest import Headers
from unitrace.domain.model import LabStatus, Principal
from unitrace.services.catalog import LabResultsDraft
from unitrace.services.runtime import Runtime

PDF = b"%PDF-1.4\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n"
PASSED_LAB: dict[str, Any] = {
    "status": "passed",
    "lab_name": "Evergreen Labs",
    "tested_on": "2026-11-20",
    "analytes": [
        {"kind": "cannabinoid", "name": "total_thc", "amount": 21.5, "unit": "%"},
        {"kind": "terpene", "name": "myrcene", "amount": "0.85", "unit": "%"},
    ],
    "panels": [{"name": "microbials", "result": "pass"}, {"name": "pesticides", "result": "pass"}],
}


def _batch_body(product_id: int, **overrides: Any) -> dict[str, Any]:
    return {
        "product_id": product_id,
        "lot_number": "BD-2611-A",
        "produced_on": "2026-11-01",
        "expires_on": "2027-11-01",
        "lab": PASSED_LAB,
        **overrides,
    }


def test_an_operator_creates_a_batch_with_its_lab_results(
    rt: Runtime, brand: Principal, client: TestClient, operator: Headers
) -> None:
    product = make_product(rt, brand)

    response = client.post("/api/v1/batches", json=_batch_body(product.id), headers=operator)

    assert response.status_code == 201
    batch = response.json()
    assert batch["released"] is True
    assert batch["lab"]["status"] == "passed"
    assert batch["lab"]["analytes"] == [
        {"kind": "cannabinoid", "name": "total_thc", "amount": 21.5, "unit": "%"},
        {"kind": "terpene", "name": "myrcene", "amount": 0.85, "unit": "%"},
    ]
    assert [p["name"] for p in batch["lab"]["panels"]] == ["microbials", "pesticides"]
    assert batch["coa"] is None
    assert batch["unit_count"] == 0
    assert client.get(f"/api/v1/batches/{batch['id']}", headers=operator).json() == batch


def test_a_batch_for_a_pending_lab_is_not_released(
    rt: Runtime, brand: Principal, client: TestClient, operator: Headers
) -> None:
    product = make_product(rt, brand)

    response = client.post(
        "/api/v1/batches",
        json=_batch_body(product.id, lab={"status": "pending"}),
        headers=operator,
    )

    assert response.status_code == 201
    assert response.json()["released"] is False


def test_lab_problems_are_reported_field_by_field(
    rt: Runtime, brand: Principal, client: TestClient, operator: Headers
) -> None:
    product = make_product(rt, brand)
    lab = {**PASSED_LAB, "lab_name": None, "panels": [{"name": "microbials", "result": "fail"}]}

    response = client.post(
        "/api/v1/batches", json=_batch_body(product.id, lab=lab), headers=operator
    )

    assert response.status_code == 422
    fields = {d["field"] for d in response.json()["error"]["details"]}
    assert fields == {"lab.lab_name", "lab.status"}


def test_putting_new_lab_results_releases_a_pending_batch(
    rt: Runtime, brand: Principal, client: TestClient, operator: Headers
) -> None:
    batch = make_batch(rt, brand, lab=LabResultsDraft(LabStatus.PENDING))

    response = client.put(
        f"/api/v1/batches/{batch.id}/lab-results", json=PASSED_LAB, headers=operator
    )

    assert response.status_code == 200
    assert response.json()["released"] is True
    assert (
        client.get(f"/api/v1/batches/{batch.id}", headers=operator).json()["lab"]["lab_name"]
        == "Evergreen Labs"
    )


def test_batches_are_filtered_by_product_and_lab_status(
    rt: Runtime, brand: Principal, client: TestClient, viewer: Headers
) -> None:
    flower, edible = make_product(rt, brand), make_product(rt, brand, category="edible")
    passed = make_batch(rt, brand, flower)
    make_batch(rt, brand, flower, lab=LabResultsDraft(LabStatus.PENDING))
    make_batch(rt, brand, edible)

    by_product = client.get(f"/api/v1/batches?product_id={flower.id}", headers=viewer).json()
    by_both = client.get(
        f"/api/v1/batches?product_id={flower.id}&lab_status=passed", headers=viewer
    ).json()
    everything = client.get("/api/v1/batches?limit=2", headers=viewer).json()

    assert by_product["total"] == 2
    assert [b["id"] for b in by_both["items"]] == [passed.id]
    assert (everything["total"], everything["limit"], len(everything["items"])) == (3, 2, 2)


def test_an_unknown_lab_status_filter_is_a_422(client: TestClient, viewer: Headers) -> None:
    response = client.get("/api/v1/batches?lab_status=maybe", headers=viewer)

    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "query.lab_status"


def test_a_coa_uploaded_as_pdf_downloads_byte_for_byte(
    rt: Runtime, brand: Principal, client: TestClient, operator: Headers, viewer: Headers
) -> None:
    batch = make_batch(rt, brand)

    uploaded = client.post(
        f"/api/v1/batches/{batch.id}/coa",
        files={"file": ("COA BD-2611-A.pdf", PDF, "application/pdf")},
        headers=operator,
    )
    downloaded = client.get(f"/api/v1/batches/{batch.id}/coa", headers=viewer)

    assert uploaded.status_code == 200
    assert uploaded.json()["coa"]["content_type"] == "application/pdf"
    assert uploaded.json()["coa"]["size"] == len(PDF)
    assert downloaded.status_code == 200
    assert downloaded.content == PDF
    assert downloaded.headers["content-type"] == "application/pdf"
    assert downloaded.headers["content-disposition"].startswith(
        'attachment; filename="COA BD-2611-A.pdf"'
    )


def test_the_coa_type_comes_from_the_content_not_the_declared_type(
    rt: Runtime, brand: Principal, client: TestClient, operator: Headers
) -> None:
    batch = make_batch(rt, brand)
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32

    client.post(
        f"/api/v1/batches/{batch.id}/coa",
        files={"file": ("scan.pdf", png, "application/pdf")},
        headers=operator,
    )
    downloaded = client.get(f"/api/v1/batches/{batch.id}/coa", headers=operator)

    assert downloaded.headers["content-type"] == "image/png"
    assert downloaded.content == png


def test_a_non_ascii_coa_name_is_sent_in_rfc_5987_form(
    rt: Runtime, brand: Principal, client: TestClient, operator: Headers
) -> None:
    batch = make_batch(rt, brand)
    client.post(
        f"/api/v1/batches/{batch.id}/coa",
        files={"file": ("Analyse – Lot 7.pdf", PDF, "application/pdf")},
        headers=operator,
    )

    disposition = client.get(f"/api/v1/batches/{batch.id}/coa", headers=operator).headers[
        "content-disposition"
    ]

    assert disposition == (
        'attachment; filename="Analyse _ Lot 7.pdf"; '
        "filename*=UTF-8''Analyse%20%E2%80%93%20Lot%207.pdf"
    )


@pytest.mark.parametrize(
    ("filename", "content", "declared"),
    [
        ("coa.txt", b"lab results: all fine", "text/plain"),
        ("coa.pdf", b"<html>not a pdf</html>", "application/pdf"),
        ("empty.pdf", b"", "application/pdf"),
    ],
)
def test_a_coa_that_is_not_a_pdf_png_or_jpeg_is_a_422(
    rt: Runtime,
    brand: Principal,
    client: TestClient,
    operator: Headers,
    filename: str,
    content: bytes,
    declared: str,
) -> None:
    batch = make_batch(rt, brand)

    response = client.post(
        f"/api/v1/batches/{batch.id}/coa",
        files={"file": (filename, content, declared)},
        headers=operator,
    )

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"
    assert client.get(f"/api/v1/batches/{batch.id}", headers=operator).json()["coa"] is None


def test_an_upload_without_the_file_field_is_a_422_naming_it(
    rt: Runtime, brand: Principal, client: TestClient, operator: Headers
) -> None:
    batch = make_batch(rt, brand)

    response = client.post(
        f"/api/v1/batches/{batch.id}/coa", files={"document": ("coa.pdf", PDF)}, headers=operator
    )

    assert response.status_code == 422
    assert [d["field"] for d in response.json()["error"]["details"]] == ["file"]


def test_a_viewer_cannot_upload_a_coa(
    rt: Runtime, brand: Principal, client: TestClient, viewer: Headers
) -> None:
    batch = make_batch(rt, brand)

    response = client.post(
        f"/api/v1/batches/{batch.id}/coa",
        files={"file": ("coa.pdf", PDF, "application/pdf")},
        headers=viewer,
    )

    assert response.status_code == 403


def test_a_batch_without_a_coa_answers_404_on_download(
    rt: Runtime, brand: Principal, client: TestClient, viewer: Headers
) -> None:
    batch = make_batch(rt, brand)

    response = client.get(f"/api/v1/batches/{batch.id}/coa", headers=viewer)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
