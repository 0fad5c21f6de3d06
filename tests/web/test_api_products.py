"""Products over the API: create, read, update, search, paginate, validate."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import Headers

BLUE_DREAM = {
    "name": "Blue Dream 3.5 g",
    "category": "flower",
    "strain": "Blue Dream",
    "net_content": 3.5,
    "net_content_unit": "g",
    "gtin": "850012345671",
}


def test_an_operator_creates_a_product_and_reads_it_back(
    client: TestClient, operator: Headers
) -> None:
    created = client.post("/api/v1/products", json=BLUE_DREAM, headers=operator)

    assert created.status_code == 201
    product = created.json()
    assert product["gtin"] == "00850012345671"  # GTIN-12 stored as GTIN-14
    assert product["net_content"] == 3.5
    assert product["created_at"] == "2026-11-24T12:00:00Z"
    fetched = client.get(f"/api/v1/products/{product['id']}", headers=operator)
    assert fetched.json() == product


def test_a_bad_gtin_is_a_422_naming_the_gtin_field(client: TestClient, operator: Headers) -> None:
    response = client.post(
        "/api/v1/products", json={**BLUE_DREAM, "gtin": "850012345670"}, headers=operator
    )

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert [d["field"] for d in error["details"]] == ["gtin"]
    assert "check digit" in error["details"][0]["message"]


def test_a_request_missing_a_required_field_is_a_422_naming_it(
    client: TestClient, operator: Headers
) -> None:
    response = client.post("/api/v1/products", json={"category": "flower"}, headers=operator)

    assert response.status_code == 422
    assert [d["field"] for d in response.json()["error"]["details"]] == ["name"]


def test_an_unknown_field_is_refused_rather_than_ignored(
    client: TestClient, operator: Headers
) -> None:
    response = client.post(
        "/api/v1/products", json={**BLUE_DREAM, "gtim": "00850012345671"}, headers=operator
    )

    assert response.status_code == 422
    assert [d["field"] for d in response.json()["error"]["details"]] == ["gtim"]


def test_a_second_product_with_the_same_name_is_a_409(
    client: TestClient, operator: Headers
) -> None:
    client.post("/api/v1/products", json=BLUE_DREAM, headers=operator)

    response = client.post("/api/v1/products", json={**BLUE_DREAM, "gtin": None}, headers=operator)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"


def test_patch_changes_only_the_fields_sent(client: TestClient, operator: Headers) -> None:
    product = client.post("/api/v1/products", json=BLUE_DREAM, headers=operator).json()

    response = client.patch(
        f"/api/v1/products/{product['id']}",
        json={"strain": "Blue Dream #2", "gtin": None},
        headers=operator,
    )

    assert response.status_code == 200
    updated = response.json()
    assert updated["strain"] == "Blue Dream #2"
    assert updated["gtin"] is None
    assert {k: v for k, v in updated.items() if k not in ("strain", "gtin")} == {
        k: v for k, v in product.items() if k not in ("strain", "gtin")
    }


def test_patch_refuses_null_for_a_required_field(client: TestClient, operator: Headers) -> None:
    product = client.post("/api/v1/products", json=BLUE_DREAM, headers=operator).json()

    response = client.patch(
        f"/api/v1/products/{product['id']}", json={"name": None}, headers=operator
    )

    assert response.status_code == 422
    assert [d["field"] for d in response.json()["error"]["details"]] == ["name"]
    assert client.get(f"/api/v1/products/{product['id']}", headers=operator).json() == product


def test_a_viewer_cannot_update_a_product(
    client: TestClient, operator: Headers, viewer: Headers
) -> None:
    product = client.post("/api/v1/products", json=BLUE_DREAM, headers=operator).json()

    response = client.patch(
        f"/api/v1/products/{product['id']}", json={"strain": "x"}, headers=viewer
    )

    assert response.status_code == 403


@pytest.fixture
def seven_products(client: TestClient, operator: Headers) -> list[str]:
    names = [f"Gummies {n}" for n in range(5)] + ["Pre-roll A", "Pre-roll B"]
    for name in names:
        response = client.post(
            "/api/v1/products", json={"name": name, "category": "edible"}, headers=operator
        )
        assert response.status_code == 201
    return names


def test_pages_report_total_limit_and_offset(
    client: TestClient, viewer: Headers, seven_products: list[str]
) -> None:
    response = client.get("/api/v1/products?limit=3&offset=3", headers=viewer)

    assert response.status_code == 200
    page = response.json()
    assert (page["total"], page["limit"], page["offset"]) == (7, 3, 3)
    assert [p["name"] for p in page["items"]] == sorted(seven_products)[3:6]


def test_the_last_page_can_be_short_and_past_the_end_is_empty(
    client: TestClient, viewer: Headers, seven_products: list[str]
) -> None:
    last = client.get("/api/v1/products?limit=5&offset=5", headers=viewer).json()
    beyond = client.get("/api/v1/products?limit=5&offset=50", headers=viewer).json()

    assert len(last["items"]) == 2
    assert beyond["items"] == []
    assert beyond["total"] == 7


def test_search_matches_part_of_the_name_in_any_case(
    client: TestClient, viewer: Headers, seven_products: list[str]
) -> None:
    page = client.get("/api/v1/products", params={"search": "PRE-ROLL"}, headers=viewer).json()

    assert page["total"] == 2
    assert [p["name"] for p in page["items"]] == ["Pre-roll A", "Pre-roll B"]


@pytest.mark.parametrize(
    ("query", "field"),
    [("limit=501", "query.limit"), ("limit=0", "query.limit"), ("offset=-1", "query.offset")],
)
def test_out_of_range_pagination_is_refused(
    client: TestClient, viewer: Headers, query: str, field: str
) -> None:
    response = client.get(f"/api/v1/products?{query}", headers=viewer)

    assert response.status_code == 422
    assert [d["field"] for d in response.json()["error"]["details"]] == [field]


def test_the_largest_page_is_accepted(client: TestClient, viewer: Headers) -> None:
    response = client.get("/api/v1/products?limit=500", headers=viewer)

    assert response.status_code == 200
    assert response.json()["limit"] == 500
