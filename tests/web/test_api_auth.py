"""Who may call the API: API keys, sessions, and roles."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.factories import PASSWORD
from tests.web.conftest import Headers
from unitrace.domain.model import Principal
from unitrace.services import access
from unitrace.services.runtime import Runtime
from unitrace.web.deps import SESSION_COOKIE

PRODUCT = {"name": "Blue Dream 3.5 g", "category": "flower"}


def test_a_request_without_a_key_gets_401_with_the_json_error_shape(client: TestClient) -> None:
    response = client.get("/api/v1/products")

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == "unauthenticated"
    assert "API key" in body["error"]["message"]


@pytest.mark.parametrize(
    "key",
    [
        "ut_000000000000_notarealsecretnotarealsecretnotarealsec",
        "not-even-shaped-like-a-key",
        "ut_",
    ],
)
def test_a_bad_key_gets_401(client: TestClient, key: str) -> None:
    response = client.get("/api/v1/products", headers={"Authorization": f"Bearer {key}"})

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"


def test_a_key_with_a_tampered_secret_gets_401(client: TestClient, admin: Headers) -> None:
    secret = admin["Authorization"]
    tampered = secret[:-1] + ("A" if secret[-1] != "A" else "B")

    response = client.get("/api/v1/products", headers={"Authorization": tampered})

    assert response.status_code == 401


def test_a_key_works_in_the_x_api_key_header_too(client: TestClient, admin: Headers) -> None:
    secret = admin["Authorization"].removeprefix("Bearer ")

    response = client.get("/api/v1/products", headers={"X-API-Key": secret})

    assert response.status_code == 200


def test_a_revoked_key_gets_401(client: TestClient, admin: Headers, operator: Headers) -> None:
    keys = client.get("/api/v1/api-keys", headers=admin).json()["items"]
    operator_key = next(k for k in keys if k["role"] == "operator")
    assert client.get("/api/v1/products", headers=operator).status_code == 200

    revoked = client.delete(f"/api/v1/api-keys/{operator_key['id']}", headers=admin)

    assert revoked.status_code == 204
    response = client.get("/api/v1/products", headers=operator)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"


def test_a_viewer_cannot_create_products(client: TestClient, viewer: Headers) -> None:
    response = client.post("/api/v1/products", json=PRODUCT, headers=viewer)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert client.get("/api/v1/products", headers=viewer).json()["total"] == 0


def test_a_viewer_can_read(client: TestClient, admin: Headers, viewer: Headers) -> None:
    client.post("/api/v1/products", json=PRODUCT, headers=admin)

    response = client.get("/api/v1/products", headers=viewer)

    assert response.status_code == 200
    assert [p["name"] for p in response.json()["items"]] == [PRODUCT["name"]]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/v1/users", None),
        ("POST", "/api/v1/users", {"email": "x@example.com", "password": "long enough pw"}),
        ("GET", "/api/v1/api-keys", None),
        ("POST", "/api/v1/api-keys", {"name": "sneaky", "role": "admin"}),
        ("POST", "/api/v1/locations", {"name": "Back room", "kind": "warehouse"}),
        ("PATCH", "/api/v1/organization", {"name": "Renamed"}),
    ],
)
def test_an_operator_cannot_manage_users_keys_locations_or_the_organization(
    client: TestClient, operator: Headers, method: str, path: str, body: object
) -> None:
    response = client.request(method, path, json=body, headers=operator)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def _login(rt: Runtime, brand: Principal) -> access.NewSession:
    user = access.authenticate_password(rt, email=brand.display, password=PASSWORD)
    return access.start_session(rt, user)


def test_a_session_cookie_reads_but_cannot_write_without_the_csrf_token(
    rt: Runtime, client: TestClient, brand: Principal
) -> None:
    session = _login(rt, brand)
    client.cookies.set(SESSION_COOKIE, session.token)

    assert client.get("/api/v1/products").status_code == 200
    refused = client.post("/api/v1/products", json=PRODUCT)
    accepted = client.post(
        "/api/v1/products", json=PRODUCT, headers={"X-CSRF-Token": session.csrf_token}
    )

    assert refused.status_code == 401
    assert accepted.status_code == 201
