"""Commissioning units over the API, idempotently, and finding them again."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.factories import make_batch, make_product
from tests.web.conftest import Headers
from unitrace.domain.codes import is_valid
from unitrace.domain.model import Batch, LabStatus, Panel, PanelResult, Principal
from unitrace.services.catalog import LabResultsDraft
from unitrace.services.runtime import Runtime


@pytest.fixture
def batch(rt: Runtime, brand: Principal) -> Batch:
    return make_batch(rt, brand, make_product(rt, brand, gtin="850012345671"))


def _commission(
    client: TestClient, headers: Headers, body: dict[str, Any], key: str | None = None
) -> Any:
    extra = {"Idempotency-Key": key} if key else {}
    return client.post("/api/v1/units/commission", json=body, headers={**headers, **extra})


def _unit_total(client: TestClient, headers: Headers, **filters: object) -> int:
    total: int = client.get("/api/v1/units", params=filters, headers=headers).json()["total"]
    return total


def test_commissioning_creates_the_units_and_answers_201(
    client: TestClient, operator: Headers, batch: Batch
) -> None:
    response = _commission(client, operator, {"batch_id": batch.id, "quantity": 25})

    assert response.status_code == 201
    result = response.json()
    assert result["event_id"].startswith("ni:///sha-256;")
    assert result["event_id"] == f"ni:///sha-256;{result['key']}?ver=CBV2.0"
    assert (result["batch_id"], result["quantity"], result["replayed"]) == (batch.id, 25, False)
    assert result["lot_number"] == batch.lot_number
    assert response.headers["idempotent-replayed"] == "false"
    assert _unit_total(client, operator, batch_id=batch.id) == 25


def test_the_same_idempotency_key_twice_replays_the_first_result(
    client: TestClient, operator: Headers, batch: Batch
) -> None:
    body = {"batch_id": batch.id, "quantity": 10}
    first = _commission(client, operator, body, key="order-4711")

    second = _commission(client, operator, body, key="order-4711")

    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json()["event_id"] == first.json()["event_id"]
    assert second.json()["replayed"] is True
    assert second.headers["idempotent-replayed"] == "true"
    assert {k: v for k, v in second.json().items() if k != "replayed"} == {
        k: v for k, v in first.json().items() if k != "replayed"
    }
    assert _unit_total(client, operator, batch_id=batch.id) == 10


def test_the_same_idempotency_key_with_a_different_body_is_a_409(
    client: TestClient, operator: Headers, batch: Batch
) -> None:
    _commission(client, operator, {"batch_id": batch.id, "quantity": 10}, key="order-4712")

    response = _commission(
        client, operator, {"batch_id": batch.id, "quantity": 11}, key="order-4712"
    )

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert _unit_total(client, operator, batch_id=batch.id) == 10


def test_without_a_key_every_request_commissions_again(
    client: TestClient, operator: Headers, batch: Batch
) -> None:
    body = {"batch_id": batch.id, "quantity": 3}

    first, second = _commission(client, operator, body), _commission(client, operator, body)

    assert first.json()["event_id"] != second.json()["event_id"]
    assert _unit_total(client, operator, batch_id=batch.id) == 6


@pytest.mark.parametrize(
    "lab",
    [
        LabResultsDraft(LabStatus.PENDING),
        LabResultsDraft(
            LabStatus.FAILED,
            lab_name="Evergreen Labs",
            tested_on=dt.date(2026, 11, 20),
            panels=(Panel("pesticides", PanelResult.FAIL),),
        ),
    ],
    ids=["pending", "failed"],
)
def test_a_batch_that_has_not_passed_testing_cannot_be_commissioned(
    rt: Runtime, brand: Principal, client: TestClient, operator: Headers, lab: LabResultsDraft
) -> None:
    batch = make_batch(rt, brand, lab=lab)

    response = _commission(client, operator, {"batch_id": batch.id, "quantity": 5}, key="k-1")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "batch_not_released"
    assert _unit_total(client, operator) == 0


def test_a_refused_request_does_not_burn_its_idempotency_key(
    rt: Runtime, brand: Principal, client: TestClient, operator: Headers
) -> None:
    batch = make_batch(rt, brand, lab=LabResultsDraft(LabStatus.PENDING))
    body = {"batch_id": batch.id, "quantity": 5}
    _commission(client, operator, body, key="after-retest")
    client.put(
        f"/api/v1/batches/{batch.id}/lab-results",
        json={"status": "passed", "lab_name": "Evergreen Labs", "tested_on": "2026-11-23"},
        headers=operator,
    )

    retried = _commission(client, operator, body, key="after-retest")

    assert retried.status_code == 201
    assert _unit_total(client, operator, batch_id=batch.id) == 5


@pytest.mark.parametrize("quantity", [0, -1, 100_001])
def test_a_quantity_outside_the_limits_is_a_422(
    client: TestClient, operator: Headers, batch: Batch, quantity: int
) -> None:
    response = _commission(client, operator, {"batch_id": batch.id, "quantity": quantity})

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"
    assert "quantity" in str(response.json()["error"])
    assert _unit_total(client, operator) == 0


def test_a_viewer_cannot_commission(client: TestClient, viewer: Headers, batch: Batch) -> None:
    response = _commission(client, viewer, {"batch_id": batch.id, "quantity": 1})

    assert response.status_code == 403


def test_commissioning_at_an_unknown_location_is_a_404_and_creates_nothing(
    client: TestClient, operator: Headers, batch: Batch
) -> None:
    response = _commission(
        client, operator, {"batch_id": batch.id, "quantity": 2, "location_id": 999_999}
    )

    assert response.status_code == 404
    assert _unit_total(client, operator) == 0


@pytest.fixture
def commissioned(client: TestClient, operator: Headers, batch: Batch) -> dict[str, Any]:
    response = _commission(client, operator, {"batch_id": batch.id, "quantity": 12})
    assert response.status_code == 201
    result: dict[str, Any] = response.json()
    return result


def _first_code(client: TestClient, headers: Headers) -> str:
    code: str = client.get("/api/v1/units?limit=1", headers=headers).json()["items"][0]["code"]
    return code


def test_a_unit_is_found_by_its_code_in_lower_case_and_with_hyphens(
    client: TestClient, viewer: Headers, batch: Batch, commissioned: dict[str, Any]
) -> None:
    code = _first_code(client, viewer)
    typed = "-".join(code[i : i + 4] for i in range(0, len(code), 4)).lower()

    response = client.get(f"/api/v1/units/{typed}", headers=viewer)

    assert response.status_code == 200
    unit = response.json()
    assert unit["code"] == code
    assert unit["batch_id"] == batch.id
    assert unit["disposition"] == "active"
    assert unit["short_url"] == f"https://id.example.test/{code}"
    assert unit["digital_link"] == (
        f"https://id.example.test/01/00850012345671/10/{batch.lot_number}/21/{code}"
    )


def test_a_mistyped_code_is_a_422_and_an_unknown_one_a_404(
    client: TestClient, viewer: Headers, commissioned: dict[str, Any]
) -> None:
    code = _first_code(client, viewer)
    mistyped_code = ("2" if code[0] != "2" else "3") + code[1:]  # one substitution
    unknown = "0" * 13
    unknown += next(c for c in "0123456789ABCDEFGHJKMNPQRSTVWXYZ" if is_valid(unknown + c))

    mistyped = client.get(f"/api/v1/units/{mistyped_code}", headers=viewer)
    missing = client.get(f"/api/v1/units/{unknown}", headers=viewer)

    assert (mistyped.status_code, mistyped.json()["error"]["code"]) == (422, "validation_error")
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "not_found")


def test_units_are_listed_in_pages_with_totals(
    client: TestClient, viewer: Headers, commissioned: dict[str, Any]
) -> None:
    everything = client.get("/api/v1/units?limit=500", headers=viewer).json()
    page = client.get("/api/v1/units?limit=5&offset=10", headers=viewer).json()

    assert (page["total"], page["limit"], page["offset"]) == (12, 5, 10)
    assert [u["code"] for u in page["items"]] == [u["code"] for u in everything["items"]][10:]


def test_units_are_filtered_by_commissioning_product_disposition_and_code_prefix(
    rt: Runtime,
    brand: Principal,
    client: TestClient,
    operator: Headers,
    batch: Batch,
    commissioned: dict[str, Any],
) -> None:
    other = make_batch(rt, brand)
    _commission(client, operator, {"batch_id": other.id, "quantity": 4})
    code = _first_code(client, operator)

    def total(**filters: object) -> int:
        return _unit_total(client, operator, **filters)

    assert total() == 16
    assert total(event_id=commissioned["event_id"]) == 12
    assert total(event_id="urn:uuid:00000000-0000-0000-0000-000000000000") == 0
    assert total(product_id=other.product_id) == 4
    assert total(batch_id=other.id, disposition="active") == 4
    assert total(disposition="retail_sold") == 0
    assert total(code_prefix=code.lower()) == 1
    assert total(code_prefix=code[:1]) >= 1


def test_limit_over_500_is_refused_for_units(client: TestClient, viewer: Headers) -> None:
    response = client.get("/api/v1/units?limit=501", headers=viewer)

    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "query.limit"


def test_the_codes_of_a_commissioning_stream_as_csv(
    client: TestClient, operator: Headers, commissioned: dict[str, Any]
) -> None:
    listed = client.get(
        "/api/v1/units", params={"event_id": commissioned["event_id"]}, headers=operator
    ).json()

    response = client.get(f"/api/v1/commissionings/{commissioned['key']}/codes", headers=operator)

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"].startswith("attachment;")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["code"] for r in rows] == [u["code"] for u in listed["items"]]
    assert all(r["short_url"] == f"https://id.example.test/{r['code']}" for r in rows)


def test_codes_of_an_unknown_commissioning_are_a_404(client: TestClient, operator: Headers) -> None:
    response = client.get(
        "/api/v1/commissionings/urn:uuid:00000000-0000-0000-0000-000000000000/codes",
        headers=operator,
    )

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_an_over_long_idempotency_key_is_a_422_naming_the_header(
    client: TestClient, operator: Headers, batch: Batch
) -> None:
    response = _commission(client, operator, {"batch_id": batch.id, "quantity": 1}, key="k" * 201)

    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "header.idempotency-key"
    assert _unit_total(client, operator) == 0
