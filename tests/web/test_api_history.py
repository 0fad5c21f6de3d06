"""Event histories as EPCIS 2.0 documents over the API, and the chain check."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.epcis import assert_valid_epcis
from tests.factories import make_batch, make_org
from tests.web.conftest import Headers, HeadersFor
from unitrace.domain.codes import generate_codes
from unitrace.domain.model import OrganizationKind, Principal, Role
from unitrace.services import serialization, units
from unitrace.services.runtime import Runtime


@pytest.fixture
def code(rt: Runtime, brand: Principal) -> str:
    batch = make_batch(rt, brand)
    serialization.commission_units(rt, brand, batch_id=batch.id, quantity=4)
    return units.list_units(rt, brand).items[0].unit.code


def test_a_units_events_are_an_epcis_document(
    client: TestClient, viewer: Headers, code: str
) -> None:
    response = client.get(f"/api/v1/units/{code.lower()}/events", headers=viewer)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/ld+json"
    document = response.json()
    assert document["type"] == "EPCISDocument"
    assert [e["bizStep"] for e in document["epcisBody"]["eventList"]] == ["commissioning"]
    assert_valid_epcis(document)


def test_another_organizations_unit_events_are_a_404_like_an_unknown_unit(
    client: TestClient, outsider: Headers, code: str
) -> None:
    theirs = client.get(f"/api/v1/units/{code}/events", headers=outsider)
    unknown = client.get(f"/api/v1/units/{generate_codes(1)[0]}/events", headers=outsider)

    assert theirs.status_code == 404
    assert theirs.json()["error"]["code"] == unknown.json()["error"]["code"]


def test_unknown_containers_and_shipments_are_404(client: TestClient, viewer: Headers) -> None:
    assert client.get("/api/v1/shipments/12345/events", headers=viewer).status_code == 404
    container = client.get(f"/api/v1/containers/{generate_codes(1)[0]}/events", headers=viewer)
    assert container.status_code == 404


def test_verify_reports_the_callers_own_chain(
    client: TestClient, viewer: Headers, code: str, brand: Principal
) -> None:
    report = client.get("/api/v1/audit/verify", headers=viewer).json()

    assert report["ok"] is True
    assert (report["organization_id"], report["checked"], report["broken"]) == (
        brand.organization_id,
        1,
        None,
    )


def test_only_a_regulator_may_verify_another_organizations_chain(
    client: TestClient,
    rt: Runtime,
    outsider: Headers,
    headers_for: HeadersFor,
    brand: Principal,
    code: str,
) -> None:
    regulator = headers_for(make_org(rt, kind=OrganizationKind.REGULATOR), Role.VIEWER)
    params = {"organization_id": brand.organization_id}

    refused = client.get("/api/v1/audit/verify", params=params, headers=outsider)
    allowed = client.get("/api/v1/audit/verify", params=params, headers=regulator)

    assert refused.status_code == 403
    assert allowed.status_code == 200
    assert (allowed.json()["organization_id"], allowed.json()["checked"]) == (
        brand.organization_id,
        1,
    )
