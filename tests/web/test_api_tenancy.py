"""Tenant isolation: another organization's things answer exactly like things that do not exist."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.factories import make_batch
from tests.web.conftest import Headers
from unitrace.domain.codes import generate_code
from unitrace.domain.model import Principal
from unitrace.services.runtime import Runtime

PDF = b"%PDF-1.7\n%%EOF\n"
UNKNOWN_ID = "987654"


@pytest.fixture
def theirs(rt: Runtime, brand: Principal, client: TestClient, admin: Headers) -> dict[str, str]:
    """Ids of Sunrise Farms' product, batch (with a COA), unit and commissioning."""
    batch = make_batch(rt, brand)
    client.post(
        f"/api/v1/batches/{batch.id}/coa",
        files={"file": ("coa.pdf", PDF, "application/pdf")},
        headers=admin,
    )
    result = client.post(
        "/api/v1/units/commission", json={"batch_id": batch.id, "quantity": 2}, headers=admin
    ).json()
    code = client.get("/api/v1/units?limit=1", headers=admin).json()["items"][0]["code"]
    return {
        "product": str(batch.product_id),
        "batch": str(batch.id),
        "unit": code,
        "event": result["key"],
    }


Request = Callable[[TestClient, Headers, str], Any]
REQUESTS: dict[str, tuple[str, Request, Callable[[], str]]] = {
    "get product": (
        "product",
        lambda c, h, i: c.get(f"/api/v1/products/{i}", headers=h),
        lambda: UNKNOWN_ID,
    ),
    "update product": (
        "product",
        lambda c, h, i: c.patch(f"/api/v1/products/{i}", json={"strain": "x"}, headers=h),
        lambda: UNKNOWN_ID,
    ),
    "get batch": (
        "batch",
        lambda c, h, i: c.get(f"/api/v1/batches/{i}", headers=h),
        lambda: UNKNOWN_ID,
    ),
    "put lab results": (
        "batch",
        lambda c, h, i: c.put(
            f"/api/v1/batches/{i}/lab-results", json={"status": "pending"}, headers=h
        ),
        lambda: UNKNOWN_ID,
    ),
    "download COA": (
        "batch",
        lambda c, h, i: c.get(f"/api/v1/batches/{i}/coa", headers=h),
        lambda: UNKNOWN_ID,
    ),
    "upload COA": (
        "batch",
        lambda c, h, i: c.post(
            f"/api/v1/batches/{i}/coa", files={"file": ("x.pdf", PDF)}, headers=h
        ),
        lambda: UNKNOWN_ID,
    ),
    "commission": (
        "batch",
        lambda c, h, i: c.post(
            "/api/v1/units/commission", json={"batch_id": int(i), "quantity": 1}, headers=h
        ),
        lambda: UNKNOWN_ID,
    ),
    "get unit": (
        "unit",
        lambda c, h, i: c.get(f"/api/v1/units/{i}", headers=h),
        generate_code,
    ),
    "codes of a commissioning": (
        "event",
        lambda c, h, i: c.get(f"/api/v1/commissionings/{i}/codes", headers=h),
        lambda: "0f" * 32,
    ),
}


@pytest.mark.parametrize("name", REQUESTS)
def test_another_organizations_thing_is_a_404_identical_to_an_unknown_one(
    client: TestClient, outsider: Headers, theirs: dict[str, str], name: str
) -> None:
    kind, request, make_unknown = REQUESTS[name]
    unknown = make_unknown()

    foreign = request(client, outsider, theirs[kind])
    missing = request(client, outsider, unknown)

    assert foreign.status_code == missing.status_code == 404
    assert foreign.json()["error"]["code"] == "not_found"
    assert foreign.content.replace(theirs[kind].encode(), b"<id>") == missing.content.replace(
        unknown.encode(), b"<id>"
    )


def test_lists_show_only_the_callers_organization(
    client: TestClient, outsider: Headers, theirs: dict[str, str]
) -> None:
    for path in ("/api/v1/products", "/api/v1/batches", "/api/v1/units"):
        page = client.get(path, headers=outsider).json()
        assert (page["total"], page["items"]) == (0, []), path
    filtered = client.get(
        "/api/v1/units", params={"event_id": theirs["event"]}, headers=outsider
    ).json()
    assert filtered["total"] == 0


def test_the_owner_still_sees_everything(
    client: TestClient, admin: Headers, theirs: dict[str, str]
) -> None:
    assert client.get(f"/api/v1/products/{theirs['product']}", headers=admin).status_code == 200
    assert client.get(f"/api/v1/batches/{theirs['batch']}/coa", headers=admin).content == PDF
    assert client.get(f"/api/v1/units/{theirs['unit']}", headers=admin).status_code == 200
