"""Administration over the API: the organization, its locations, users and API keys."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.web.conftest import Headers
from unitrace.domain.model import Principal, Role
from unitrace.services import access
from unitrace.services.runtime import Runtime


def test_anyone_in_the_organization_reads_it(client: TestClient, viewer: Headers) -> None:
    response = client.get("/api/v1/organization", headers=viewer)

    assert response.status_code == 200
    assert response.json()["name"] == "Sunrise Farms"
    assert response.json()["kind"] == "brand"


def test_an_admin_updates_the_organization_and_unsent_fields_are_kept(
    client: TestClient, admin: Headers
) -> None:
    before = client.get("/api/v1/organization", headers=admin).json()

    response = client.patch(
        "/api/v1/organization",
        json={"market": "or", "gs1_company_prefix": "0614141"},
        headers=admin,
    )

    assert response.status_code == 200
    assert response.json() == {**before, "market": "OR", "gs1_company_prefix": "0614141"}


def test_a_bad_gs1_company_prefix_is_a_422_naming_it(client: TestClient, admin: Headers) -> None:
    response = client.patch(
        "/api/v1/organization", json={"gs1_company_prefix": "12ab"}, headers=admin
    )

    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "gs1_company_prefix"


def test_the_kind_of_organization_cannot_be_changed(client: TestClient, admin: Headers) -> None:
    response = client.patch("/api/v1/organization", json={"kind": "retailer"}, headers=admin)

    assert response.status_code == 422
    assert client.get("/api/v1/organization", headers=admin).json()["kind"] == "brand"


def test_an_admin_adds_and_updates_a_location(
    client: TestClient, admin: Headers, viewer: Headers
) -> None:
    created = client.post(
        "/api/v1/locations",
        json={"name": "Eugene store", "kind": "store", "city": "Eugene", "gln": "0614141000012"},
        headers=admin,
    )
    location_id = created.json()["id"]

    updated = client.patch(
        f"/api/v1/locations/{location_id}", json={"address": "1 Main St"}, headers=admin
    )

    assert created.status_code == 201
    assert updated.status_code == 200
    assert updated.json() == {**created.json(), "address": "1 Main St"}
    names = [loc["name"] for loc in client.get("/api/v1/locations", headers=viewer).json()["items"]]
    assert len(names) == 2  # the facility every test organization starts with, and this one
    assert "Eugene store" in names


def test_a_gln_with_a_wrong_check_digit_is_a_422(client: TestClient, admin: Headers) -> None:
    response = client.post(
        "/api/v1/locations",
        json={"name": "Depot", "kind": "warehouse", "gln": "0614141000013"},
        headers=admin,
    )

    assert response.status_code == 422
    assert "check digit" in response.json()["error"]["message"]


def test_updating_an_unknown_location_is_a_404(client: TestClient, admin: Headers) -> None:
    response = client.patch("/api/v1/locations/987654", json={"city": "Bend"}, headers=admin)

    assert response.status_code == 404
    assert response.json()["error"]["message"] == "location 987654 not found"


def test_an_admin_creates_lists_and_deactivates_users(
    rt: Runtime, client: TestClient, admin: Headers
) -> None:
    created = client.post(
        "/api/v1/users",
        json={
            "email": "Sam@Sunrise.example",
            "name": "Sam",
            "password": "a long password",
            "role": "operator",
        },
        headers=admin,
    )
    user = created.json()

    deactivated = client.patch(
        f"/api/v1/users/{user['id']}", json={"is_active": False}, headers=admin
    )

    assert created.status_code == 201
    assert (user["email"], user["role"], user["is_active"]) == (
        "sam@sunrise.example",
        "operator",
        True,
    )
    assert "password" not in str(user) and "hash" not in str(user)
    assert deactivated.json()["is_active"] is False
    listed = client.get("/api/v1/users", headers=admin).json()["items"]
    assert {u["email"]: u["is_active"] for u in listed}["sam@sunrise.example"] is False


def test_a_short_password_and_a_duplicate_email_are_refused(
    client: TestClient, admin: Headers, brand: Principal
) -> None:
    short = client.post(
        "/api/v1/users", json={"email": "kim@sunrise.example", "password": "short"}, headers=admin
    )
    duplicate = client.post(
        "/api/v1/users", json={"email": brand.display, "password": "a long password"}, headers=admin
    )

    assert (short.status_code, short.json()["error"]["code"]) == (422, "validation_error")
    assert (duplicate.status_code, duplicate.json()["error"]["code"]) == (409, "conflict")


def test_a_new_api_key_shows_its_secret_once_and_works(client: TestClient, admin: Headers) -> None:
    created = client.post(
        "/api/v1/api-keys", json={"name": "POS integration", "role": "viewer"}, headers=admin
    )
    key = created.json()

    assert created.status_code == 201
    assert created.headers["cache-control"] == "no-store"
    assert key["secret"].startswith(f"ut_{key['prefix']}_")
    listed = client.get("/api/v1/api-keys", headers=admin)
    assert key["secret"] not in listed.text
    assert "secret" not in listed.json()["items"][0]
    as_new_key = {"Authorization": f"Bearer {key['secret']}"}
    assert client.get("/api/v1/products", headers=as_new_key).status_code == 200
    refused = client.post(
        "/api/v1/products", json={"name": "x", "category": "flower"}, headers=as_new_key
    )
    assert refused.status_code == 403


def test_a_revoked_key_is_listed_with_its_revocation_time_and_cannot_be_revoked_again(
    rt: Runtime, client: TestClient, admin: Headers, brand: Principal
) -> None:
    spare = access.create_api_key(rt, brand, name="spare", role=Role.OPERATOR)

    first = client.delete(f"/api/v1/api-keys/{spare.key.id}", headers=admin)
    second = client.delete(f"/api/v1/api-keys/{spare.key.id}", headers=admin)

    assert (first.status_code, second.status_code) == (204, 404)
    listed = {k["id"]: k for k in client.get("/api/v1/api-keys", headers=admin).json()["items"]}
    assert listed[spare.key.id]["revoked_at"] == "2026-11-24T12:00:00Z"


def test_an_admin_cannot_revoke_another_organizations_key(
    rt: Runtime, client: TestClient, admin: Headers, other_brand: Principal
) -> None:
    theirs = access.create_api_key(rt, other_brand, name="theirs", role=Role.ADMIN)

    response = client.delete(f"/api/v1/api-keys/{theirs.key.id}", headers=admin)

    assert response.status_code == 404
    assert (
        client.get("/api/v1/organization", headers={"X-API-Key": theirs.secret}).status_code == 200
    )
