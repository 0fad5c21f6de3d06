"""Recalls over the API: a brand drafts, previews and activates a recall; the retailer sees
what it holds and confirms quarantine; the report (JSON, CSV, EPCIS), release, destruction
and closing; other tenants, wrong statuses and bad input."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.epcis import assert_valid_epcis
from tests.factories import make_batch, make_location, make_org, make_product
from tests.web.conftest import Headers, HeadersFor
from unitrace.domain.model import OrganizationKind, Principal, Role
from unitrace.services import containers, retail, serialization, shipments
from unitrace.services.runtime import Runtime

API = "/api/v1"


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def error(response: Any) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


@dataclass
class Market:
    batch: int
    codes: list[str]  # 12 units: [0:6] in a case at the store ([0] sold), [6:] at the brand
    case: str
    retailer: Principal
    store: int
    retailer_admin: Headers
    regulator: Headers


@pytest.fixture
def market(rt: Runtime, brand: Principal, headers_for: HeadersFor) -> Market:
    batch = make_batch(rt, brand, make_product(rt, brand, name="=1+2 Blue Dream")).id
    result = serialization.commission_units(rt, brand, batch_id=batch, quantity=12)
    codes = sorted(serialization.iter_commissioned_codes(rt, brand, event_id=result.event_id))
    case = containers.create_containers(rt, brand, kind="case")[0].code
    containers.pack(rt, brand, container=case, items=codes[:6])
    retailer = make_org(rt, kind=OrganizationKind.RETAILER, name="Green Door")
    store = make_location(rt, retailer)
    shipment = shipments.create_shipment(
        rt,
        brand,
        destination_organization_id=retailer.organization_id,
        destination_location_id=store,
        items=[case],
    )
    shipments.ship(rt, brand, shipment.id)
    shipments.receive(rt, retailer, shipment.id, scans=[case])
    retail.sell(rt, retailer, location_id=store, codes=codes[:1])
    regulator = make_org(rt, kind=OrganizationKind.REGULATOR)
    return Market(
        batch,
        codes,
        case,
        retailer,
        store,
        headers_for(retailer, Role.ADMIN),
        headers_for(regulator, Role.VIEWER),
    )


def recall_body(**scope: Any) -> dict[str, Any]:
    return {
        "title": "Aspergillus found in retest",
        "reason": '=HYPERLINK("x") lot failed a microbial retest',
        "severity": "I",
        "retailer_instructions": "Pull from shelves, scan to confirm quarantine.",
        "consumer_instructions": "Do not consume.",
        **scope,
    }


def test_a_recall_goes_from_draft_to_closed_and_the_retailer_confirms_by_scanning(
    client: TestClient, admin: Headers, operator: Headers, market: Market
) -> None:
    draft = ok(
        client.post(
            f"{API}/recalls", json=recall_body(unit_codes=market.codes[6:8]), headers=operator
        ),
        201,
    )
    assert (draft["status"], draft["scope"]["unit_code_count"]) == ("draft", 2)
    edited = ok(
        client.put(
            f"{API}/recalls/{draft['id']}",
            json=recall_body(batch_ids=[market.batch]),
            headers=operator,
        )
    )
    assert edited["scope"]["batch_ids"] == [market.batch]
    listed = ok(client.get(f"{API}/recalls", params={"status": "draft"}, headers=admin))
    assert [r["id"] for r in listed["items"]] == [draft["id"]] and listed["total"] == 1

    preview = ok(client.get(f"{API}/recalls/{draft['id']}/preview", headers=admin))
    assert (preview["total"], preview["will_recall"]) == (12, 11)
    assert preview["by_disposition"] == {"retail_sold": 1, "sellable_accessible": 5, "active": 6}
    assert sorted(c["units"] for c in preview["by_custodian"]) == [6, 6]
    # a draft has no reach yet
    assert error(client.get(f"{API}/recalls/{draft['id']}/report.csv", headers=admin)) == (
        409,
        "conflict",
    )
    # an operator may draft but not activate
    assert client.post(f"{API}/recalls/{draft['id']}/activate", headers=operator).status_code == 403

    activation = ok(client.post(f"{API}/recalls/{draft['id']}/activate", headers=admin))
    counted = (activation["units"], activation["flagged"], activation["holders_notified"])
    assert counted == (12, 11, 2)  # holders: the brand itself and the retailer
    assert activation["recall"]["status"] == "active"
    recall_id = draft["id"]
    for edit in (
        client.put(
            f"{API}/recalls/{recall_id}", json=recall_body(batch_ids=[market.batch]), headers=admin
        ),
        client.delete(f"{API}/recalls/{recall_id}", headers=admin),
        client.post(f"{API}/recalls/{recall_id}/activate", headers=admin),
    ):
        assert error(edit) == (409, "conflict")

    # the retailer: what it holds, then quarantine by scanning (a code it does not hold: refused)
    held = ok(client.get(f"{API}/recalls/held", headers=market.retailer_admin))["items"]
    assert [(h["recall_id"], h["units"], h["confirmed"]) for h in held] == [(recall_id, 5, 0)]
    assert held[0]["retailer_instructions"].startswith("Pull from shelves")
    codes = ok(client.get(f"{API}/recalls/{recall_id}/held", headers=market.retailer_admin))
    assert sorted(c["code"] for c in codes["items"]) == market.codes[1:6]
    refused = client.post(
        f"{API}/recalls/confirm",
        json={"codes": [market.codes[1], market.codes[7]], "action": "quarantined"},
        headers=market.retailer_admin,
    )
    assert error(refused) == (409, "refused")
    assert [d["code"] for d in refused.json()["error"]["details"]] == [market.codes[7]]
    confirmed = ok(
        client.post(
            f"{API}/recalls/confirm",
            json={"codes": market.codes[1:4], "action": "quarantined", "location_id": market.store},
            headers=market.retailer_admin,
        )
    )
    assert (confirmed["recall_id"], confirmed["units"]) == (recall_id, 3)

    report = ok(client.get(f"{API}/recalls/{recall_id}/report", headers=admin))
    assert report["counts"] == {
        "destroyed": 0,
        "sold": 1,
        "released": 0,
        "returned": 0,
        "quarantined": 3,
        "in_transit": 0,
        "at_issuer": 6,
        "at_holder": 2,
    }
    assert report["progress"] == {"secured": 9, "to_secure": 11, "share": round(9 / 11, 4)}
    assert [s["code"] for s in report["sold"]] == market.codes[:1]
    # the regulator reads every recall of the market, and may not change one
    assert (
        ok(client.get(f"{API}/recalls/{recall_id}/report", headers=market.regulator))["counts"]
        == report["counts"]
    )
    assert ok(client.get(f"{API}/recalls", headers=market.regulator))["total"] == 1

    response = client.get(f"{API}/recalls/{recall_id}/report.csv", headers=admin)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert "RC-" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 12
    by_code = {r["code"]: r for r in rows}
    assert by_code[market.codes[0]]["category"] == "sold"
    assert by_code[market.codes[2]]["category"] == "quarantined"
    assert by_code[market.codes[9]]["category"] == "at_issuer"
    assert {r["product"] for r in rows} == {"'=1+2 Blue Dream"}  # no formula for a spreadsheet

    events = client.get(f"{API}/recalls/{recall_id}/events", headers=admin)
    assert events.headers["content-type"].startswith("application/ld+json")
    document = events.json()
    assert_valid_epcis(document)
    assert len(document["epcisBody"]["eventList"]) == 2  # activation, confirmation

    # release needs a reason and either codes or all; destroy takes what the caller holds
    bad = client.post(f"{API}/recalls/{recall_id}/release", json={"reason": "x"}, headers=admin)
    assert bad.status_code == 422
    released = ok(
        client.post(
            f"{API}/recalls/{recall_id}/release",
            json={"codes": [market.codes[11]], "reason": "wrong unit named"},
            headers=admin,
        )
    )
    assert released["units"] == 1
    destroyed = ok(
        client.post(
            f"{API}/recalls/{recall_id}/destroy", json={"reason": "incinerated"}, headers=admin
        )
    )
    assert destroyed["units"] == 5
    closed = ok(client.post(f"{API}/recalls/{recall_id}/close", headers=admin))
    assert closed["status"] == "closed"
    assert closed["final_report"]["counts"]["destroyed"] == 5
    assert closed["final_report"]["counts"]["released"] == 1
    assert error(client.post(f"{API}/recalls/{recall_id}/close", headers=admin)) == (
        409,
        "conflict",
    )


def test_recalls_are_invisible_to_other_tenants_and_bad_input_is_refused(
    client: TestClient, admin: Headers, outsider: Headers, market: Market
) -> None:
    recall = ok(
        client.post(f"{API}/recalls", json=recall_body(batch_ids=[market.batch]), headers=admin),
        201,
    )
    rid = recall["id"]
    for response in (
        client.get(f"{API}/recalls/{rid}", headers=outsider),
        client.get(f"{API}/recalls/{rid}/preview", headers=outsider),
        client.post(f"{API}/recalls/{rid}/activate", headers=outsider),
        client.delete(f"{API}/recalls/{rid}", headers=outsider),
        client.get(f"{API}/recalls/{rid}/events", headers=outsider),
        client.get(f"{API}/recalls/999999", headers=admin),
    ):
        assert error(response) == (404, "not_found")
    assert ok(client.get(f"{API}/recalls", headers=outsider))["total"] == 0
    # another brand cannot recall this brand's batch: same answer as an unknown batch
    foreign = client.post(
        f"{API}/recalls", json=recall_body(batch_ids=[market.batch]), headers=outsider
    )
    unknown = client.post(f"{API}/recalls", json=recall_body(batch_ids=[999999]), headers=outsider)
    assert foreign.status_code == unknown.status_code == 422
    assert foreign.json()["error"]["code"] == unknown.json()["error"]["code"]
    # a retailer does not issue recalls
    by_retailer = client.post(
        f"{API}/recalls", json=recall_body(batch_ids=[market.batch]), headers=market.retailer_admin
    )
    assert error(by_retailer) == (409, "refused")
    for body in (
        recall_body(),  # no scope
        recall_body(produced_from="2026-11-02", produced_to="2026-11-01"),
        recall_body(batch_ids=[market.batch], severity="IV"),
        recall_body(batch_ids=[market.batch], title=""),
        {**recall_body(batch_ids=[market.batch]), "colour": "red"},
    ):
        assert error(client.post(f"{API}/recalls", json=body, headers=admin)) == (
            422,
            "validation_error",
        ), body
    assert client.get(f"{API}/recalls", params={"status": "open"}, headers=admin).status_code == 422
    confirm = client.post(
        f"{API}/recalls/confirm",
        json={"codes": [market.codes[1]], "action": "lost"},
        headers=market.retailer_admin,
    )
    assert confirm.status_code == 422
    ok(client.delete(f"{API}/recalls/{rid}", headers=admin), 204)
    assert error(client.get(f"{API}/recalls/{rid}", headers=admin)) == (404, "not_found")
