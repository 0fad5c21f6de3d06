"""An organization's admin keeps its units out of public verification, and back."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.factories import make_batch
from tests.web.conftest import Headers
from unitrace.domain.model import Principal
from unitrace.services import serialization
from unitrace.services.runtime import Runtime


def test_an_admin_makes_the_units_private_and_they_answer_like_unknown_codes(
    client: TestClient, rt: Runtime, brand: Principal, admin: Headers, operator: Headers
) -> None:
    batch = make_batch(rt, brand)
    done = serialization.commission_units(rt, brand, batch_id=batch.id, quantity=1)
    (code,) = serialization.iter_commissioned_codes(rt, brand, event_id=done.event_id)
    as_json = {"Accept": "application/json", "X-Forwarded-For": "198.51.100.10"}
    assert client.get(f"/{code}", headers=as_json).json()["verdict"] == "authentic"
    assert client.get("/api/v1/organization", headers=admin).json()["public_verification"] is True

    refused = client.patch(
        "/api/v1/organization", headers=operator, json={"public_verification": False}
    )
    assert refused.status_code == 403
    changed = client.patch(
        "/api/v1/organization", headers=admin, json={"public_verification": False}
    )
    assert changed.status_code == 200 and changed.json()["public_verification"] is False
    hidden = client.get(f"/{code}", headers=as_json)
    assert (hidden.status_code, hidden.json()["verdict"], hidden.json()["product"]) == (
        404,
        "unknown",
        None,
    )
    null = client.patch("/api/v1/organization", headers=admin, json={"public_verification": None})
    assert null.status_code == 422

    client.patch("/api/v1/organization", headers=admin, json={"public_verification": True})
    assert client.get(f"/{code}", headers=as_json).json()["verdict"] == "authentic"
