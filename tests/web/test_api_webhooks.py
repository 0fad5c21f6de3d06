"""/api/v1/webhooks: admin-only CRUD, secrets shown once, deliveries, tenant isolation."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import NOW
from tests.web.conftest import Headers
from unitrace.domain.model import Principal
from unitrace.services import webhooks
from unitrace.services.runtime import Runtime

HOOK = {"url": "https://erp.example.com/hooks", "topics": ["shipment.shipped", "*"]}


def _create(client: TestClient, headers: Headers) -> dict[str, object]:
    response = client.post("/api/v1/webhooks", json=HOOK, headers=headers)
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


def test_an_admin_creates_lists_and_deletes_a_webhook(client: TestClient, admin: Headers) -> None:
    response = client.post("/api/v1/webhooks", json={**HOOK, "description": "ERP"}, headers=admin)

    assert response.status_code == 201
    assert response.headers["cache-control"] == "no-store"
    created = response.json()
    assert created["secret"].startswith("whsec_")
    assert created["topics"] == ["*", "shipment.shipped"]
    listed = client.get("/api/v1/webhooks", headers=admin).json()["items"]
    assert [w["id"] for w in listed] == [created["id"]]
    assert "secret" not in listed[0]
    one = client.get(f"/api/v1/webhooks/{created['id']}", headers=admin).json()
    assert one["description"] == "ERP"
    assert client.delete(f"/api/v1/webhooks/{created['id']}", headers=admin).status_code == 204
    assert client.get("/api/v1/webhooks", headers=admin).json()["items"] == []


def test_rotating_returns_a_new_secret(client: TestClient, admin: Headers) -> None:
    created = _create(client, admin)
    rotated = client.post(f"/api/v1/webhooks/{created['id']}/rotate-secret", headers=admin)
    assert rotated.status_code == 200
    assert rotated.json()["secret"] not in (None, created["secret"])


def test_another_organization_gets_the_same_404_as_for_nothing(
    client: TestClient, admin: Headers, outsider: Headers
) -> None:
    created = _create(client, admin)
    for method, suffix in [
        ("GET", ""),
        ("DELETE", ""),
        ("POST", "/rotate-secret"),
        ("GET", "/deliveries"),
    ]:
        theirs = client.request(
            method, f"/api/v1/webhooks/{created['id']}{suffix}", headers=outsider
        )
        missing = client.request(method, f"/api/v1/webhooks/987654{suffix}", headers=outsider)
        assert theirs.status_code == missing.status_code == 404
        assert theirs.json()["error"]["code"] == missing.json()["error"]["code"] == "not_found"
    assert client.get("/api/v1/webhooks", headers=outsider).json()["items"] == []
    assert client.get(f"/api/v1/webhooks/{created['id']}", headers=admin).status_code == 200


def test_operators_and_viewers_cannot_manage_webhooks(
    client: TestClient, operator: Headers, viewer: Headers
) -> None:
    for headers in (operator, viewer):
        assert client.get("/api/v1/webhooks", headers=headers).status_code == 403
        assert client.post("/api/v1/webhooks", json=HOOK, headers=headers).status_code == 403


def test_bad_urls_and_topics_are_422_naming_the_field(client: TestClient, admin: Headers) -> None:
    cases = [
        ({**HOOK, "url": "http://erp.example.com/h"}, "url"),
        ({**HOOK, "url": "https://me:pw@erp.example.com/h"}, "url"),
        ({**HOOK, "topics": ["unit.eaten"]}, "topics"),
        ({**HOOK, "topics": []}, "topics"),
    ]
    for body, field in cases:
        response = client.post("/api/v1/webhooks", json=body, headers=admin)
        assert response.status_code == 422, body
        assert field in {d["field"] for d in response.json()["error"]["details"]}


def test_deliveries_are_listed_newest_first_and_filtered_by_status(
    client: TestClient, admin: Headers, rt: Runtime, brand: Principal
) -> None:
    created = _create(client, admin)
    with rt.db.transaction() as conn:
        for n in range(3):
            webhooks.enqueue(
                conn,
                organization_ids=[brand.organization_id],
                topic="shipment.shipped",
                payload={"n": n},
                at=NOW,
            )

    page = client.get(f"/api/v1/webhooks/{created['id']}/deliveries?limit=2", headers=admin).json()

    assert page["total"] == 3
    assert [d["payload"]["n"] for d in page["items"]] == [2, 1]
    assert {d["status"] for d in page["items"]} == {"pending"}
    delivered = client.get(
        f"/api/v1/webhooks/{created['id']}/deliveries?status=delivered", headers=admin
    ).json()
    assert delivered["total"] == 0
