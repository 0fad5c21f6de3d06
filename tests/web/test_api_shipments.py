"""Shipments over the API: brand to pallet to shipment to the retailer's receiving dock."""

from __future__ import annotations

import csv
import io
import itertools
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.factories import make_location, make_org
from tests.web.conftest import Headers, HeadersFor
from unitrace.domain.model import OrganizationKind, Principal, Role
from unitrace.services.runtime import Runtime

API = "/api/v1"
_lots = itertools.count(1)
LAB: dict[str, Any] = {
    "status": "passed",
    "lab_name": "Evergreen Labs",
    "tested_on": "2026-11-20",
    "analytes": [{"kind": "cannabinoid", "name": "total_thc", "amount": 21.5, "unit": "%"}],
    "panels": [{"name": "microbials", "result": "pass"}],
}


@dataclass(frozen=True)
class Retailer:
    principal: Principal
    store: int
    admin: Headers
    viewer: Headers


def make_retailer(rt: Runtime, headers_for: HeadersFor) -> Retailer:
    """A retailer with a store, and its admin and viewer keys."""
    principal = make_org(rt, kind=OrganizationKind.RETAILER, name="Green Door Dispensary")
    store = make_location(rt, principal)
    return Retailer(
        principal, store, headers_for(principal, Role.ADMIN), headers_for(principal, Role.VIEWER)
    )


@pytest.fixture
def retailer(rt: Runtime, headers_for: HeadersFor) -> Retailer:
    return make_retailer(rt, headers_for)


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def commission(client: TestClient, headers: Headers, quantity: int) -> list[str]:
    """New units of a fresh, released batch, made entirely through the API."""
    n = next(_lots)
    product = ok(
        client.post(
            f"{API}/products",
            json={
                "name": f"Blue Dream {n}",
                "category": "flower",
                "net_content": 3.5,
                "net_content_unit": "g",
            },
            headers=headers,
        ),
        201,
    )
    batch = ok(
        client.post(
            f"{API}/batches",
            json={
                "product_id": product["id"],
                "lot_number": f"BD-{n}",
                "produced_on": "2026-11-01",
                "expires_on": "2027-11-01",
                "lab": LAB,
            },
            headers=headers,
        ),
        201,
    )
    result = ok(
        client.post(
            f"{API}/units/commission",
            json={"batch_id": batch["id"], "quantity": quantity},
            headers=headers,
        ),
        201,
    )
    csv_text = client.get(f"{API}/commissionings/{result['key']}/codes", headers=headers).text
    return sorted(row["code"] for row in csv.DictReader(io.StringIO(csv_text)))


def container(client: TestClient, headers: Headers, kind: str, items: list[str]) -> str:
    (created,) = ok(client.post(f"{API}/containers", json={"kind": kind}, headers=headers), 201)[
        "items"
    ]
    ok(
        client.post(
            f"{API}/containers/{created['code']}/pack", json={"items": items}, headers=headers
        )
    )
    code: str = created["code"]
    return code


def draft(client: TestClient, headers: Headers, retailer: Retailer, items: list[str]) -> Any:
    body = {
        "destination_organization_id": retailer.principal.organization_id,
        "destination_location_id": retailer.store,
        "items": items,
    }
    return ok(client.post(f"{API}/shipments", json=body, headers=headers), 201)


def shipped(client: TestClient, headers: Headers, retailer: Retailer, items: list[str]) -> int:
    shipment = draft(client, headers, retailer, items)
    ok(client.post(f"{API}/shipments/{shipment['id']}/ship", headers=headers))
    shipment_id: int = shipment["id"]
    return shipment_id


def deliver(client: TestClient, brand: Headers, retailer: Retailer, codes: list[str]) -> None:
    """Ship ``codes`` to the retailer's store and receive them there, all through the API."""
    shipment_id = shipped(client, brand, retailer, codes)
    ok(
        client.post(
            f"{API}/shipments/{shipment_id}/receive", json={"scans": codes}, headers=retailer.admin
        )
    )


def test_a_pallet_is_shipped_scanned_once_and_received_at_the_store(
    client: TestClient, admin: Headers, retailer: Retailer
) -> None:
    codes = commission(client, admin, 12)
    cases = [container(client, admin, "case", codes[i : i + 6]) for i in (0, 6)]
    pallet = container(client, admin, "pallet", cases)

    shipment = draft(client, admin, retailer, [pallet.lower()])
    assert (shipment["status"], shipment["items"]) == ("draft", [pallet])
    sent = ok(client.post(f"{API}/shipments/{shipment['id']}/ship", headers=admin))
    assert (sent["status"], sent["unit_count"], sent["manifest"]) == (
        "shipped",
        12,
        {"in_transit": 12},
    )
    incoming = ok(
        client.get(f"{API}/shipments", params={"direction": "incoming"}, headers=retailer.admin)
    )
    assert [s["id"] for s in incoming["items"]] == [shipment["id"]]

    scan = client.post(f"{API}/receiving/scans", json={"raw": pallet}, headers=retailer.admin)
    again = client.post(
        f"{API}/receiving/scans",
        json={"raw": cases[0], "shipment_id": shipment["id"]},
        headers=retailer.admin,
    )
    outcome = ok(scan, 201)
    assert (outcome["result"], outcome["kind"], outcome["units"]) == ("expected", "pallet", 12)
    assert (outcome["shipment_id"], outcome["scanned_units"]) == (shipment["id"], 12)
    assert ok(again, 201)["result"] == "duplicate"
    scans = ok(client.get(f"{API}/shipments/{shipment['id']}/scans", headers=retailer.viewer))
    assert [s["result"] for s in scans["items"]] == ["expected", "duplicate"]

    report = ok(
        client.post(f"{API}/shipments/{shipment['id']}/receive", json={}, headers=retailer.admin)
    )
    assert (report["status"], report["received"], report["missing"]) == ("received", 12, 0)
    assert report["event_id"].startswith("ni:///sha-256;")
    unit = ok(client.get(f"{API}/units/{codes[0]}", headers=retailer.viewer))
    assert (unit["disposition"], unit["location_id"]) == ("sellable_accessible", retailer.store)
    held = ok(client.get(f"{API}/containers/{pallet}", headers=retailer.viewer))
    assert (held["custodian_organization_id"], held["total_units"]) == (
        retailer.principal.organization_id,
        12,
    )
    again_report = ok(client.get(f"{API}/shipments/{shipment['id']}/receipt", headers=admin))
    assert (again_report["status"], again_report["received"]) == ("received", 12)


def test_missing_and_unexpected_items_are_reported_and_never_received(
    client: TestClient, admin: Headers, retailer: Retailer
) -> None:
    codes = commission(client, admin, 4)
    shipment_id = shipped(client, admin, retailer, codes[:3])
    stray = shipped(client, admin, retailer, codes[3:])

    report = ok(
        client.post(
            f"{API}/shipments/{shipment_id}/receive",
            json={"scans": [codes[0], codes[3], "7k3m-q9xw-2d4h-br"]},
            headers=retailer.admin,
        )
    )

    assert (report["status"], report["received"], report["missing"]) == (
        "received_with_discrepancies",
        1,
        2,
    )
    assert report["missing_codes"] == sorted(codes[1:3])
    assert report["unexpected"] == [codes[3]]
    assert report["unknown"] == ["7k3m-q9xw-2d4h-br"]
    other = ok(client.get(f"{API}/shipments/{stray}", headers=retailer.admin))
    assert other["manifest"] == {"in_transit": 1}


def test_ship_refuses_with_a_reason_for_every_item_and_changes_nothing(
    client: TestClient, admin: Headers, retailer: Retailer
) -> None:
    codes = commission(client, admin, 3)
    case = container(client, admin, "case", codes[:2])

    response = client.post(
        f"{API}/shipments",
        json={
            "destination_organization_id": retailer.principal.organization_id,
            "destination_location_id": retailer.store,
            "items": [codes[0], codes[1], codes[2]],
        },
        headers=admin,
    )

    error = response.json()["error"]
    assert (response.status_code, error["code"]) == (409, "refused")
    assert {(d["code"], d["reason"]) for d in error["details"]} == {
        (codes[0], "packed"),
        (codes[1], "packed"),
    }
    assert all(case in d["message"] for d in error["details"])
    assert ok(client.get(f"{API}/shipments", headers=admin))["total"] == 0


def test_drafts_take_items_on_and_off_and_can_be_cancelled(
    client: TestClient, admin: Headers, retailer: Retailer
) -> None:
    codes = commission(client, admin, 3)
    shipment = draft(client, admin, retailer, codes[:1])
    path = f"{API}/shipments/{shipment['id']}"

    added = ok(client.post(f"{path}/items", json={"items": codes[1:]}, headers=admin))
    removed = ok(client.post(f"{path}/items/remove", json={"items": [codes[0]]}, headers=admin))
    cancelled = ok(client.post(f"{path}/cancel", headers=admin))
    ship = client.post(f"{path}/ship", headers=admin)

    assert sorted(added["items"]) == codes
    assert sorted(removed["items"]) == codes[1:]
    assert cancelled["status"] == "cancelled"
    assert (ship.status_code, ship.json()["error"]["code"]) == (409, "conflict")
    drafts = ok(client.get(f"{API}/shipments", params={"status": "cancelled"}, headers=admin))
    assert drafts["total"] == 1


def test_voiding_brings_what_was_not_received_back_to_stock(
    client: TestClient, admin: Headers, retailer: Retailer
) -> None:
    codes = commission(client, admin, 2)
    shipment_id = shipped(client, admin, retailer, codes)

    voided = ok(
        client.post(
            f"{API}/shipments/{shipment_id}/void", json={"reason": "wrong store"}, headers=admin
        )
    )
    scan = client.post(
        f"{API}/receiving/scans",
        json={"raw": codes[0], "shipment_id": shipment_id},
        headers=retailer.admin,
    )

    assert (voided["status"], voided["manifest"]) == ("voided", {"voided": 2})
    assert ok(client.get(f"{API}/units/{codes[0]}", headers=admin))["disposition"] == "active"
    assert scan.status_code == 409


def test_ship_and_receive_replay_with_the_same_idempotency_key(
    client: TestClient, admin: Headers, retailer: Retailer
) -> None:
    codes = commission(client, admin, 2)
    shipment = draft(client, admin, retailer, codes)
    ship = f"{API}/shipments/{shipment['id']}/ship"
    receive = f"{API}/shipments/{shipment['id']}/receive"
    key = {"Idempotency-Key": "desadv-0042"}

    first = client.post(ship, headers={**admin, **key})
    second = client.post(ship, headers={**admin, **key})
    unkeyed = client.post(ship, headers=admin)
    got = client.post(receive, json={"scans": codes}, headers={**retailer.admin, **key})
    got_again = client.post(receive, json={"scans": codes}, headers={**retailer.admin, **key})
    different = client.post(receive, json={"scans": codes[:1]}, headers={**retailer.admin, **key})

    assert (first.status_code, second.status_code) == (200, 200)
    assert first.json() == second.json()
    assert unkeyed.status_code == 409
    assert got.status_code == got_again.status_code == 200
    assert got.json() == got_again.json()
    assert got.json()["received"] == 2
    assert different.json()["error"]["code"] == "idempotency_key_reused"


def test_another_organizations_shipment_is_the_same_404_as_an_unknown_one(
    client: TestClient, admin: Headers, outsider: Headers, retailer: Retailer
) -> None:
    codes = commission(client, admin, 1)
    shipment = draft(client, admin, retailer, codes)
    unknown_id = shipment["id"] + 1000

    for suffix in ("", "/scans", "/receipt"):
        theirs = client.get(f"{API}/shipments/{shipment['id']}{suffix}", headers=outsider)
        unknown = client.get(f"{API}/shipments/{unknown_id}{suffix}", headers=outsider)
        assert theirs.status_code == unknown.status_code == 404
        assert theirs.content == unknown.content.replace(
            str(unknown_id).encode(), str(shipment["id"]).encode()
        )
    # the receiver does not see a draft either
    assert (
        client.get(f"{API}/shipments/{shipment['id']}", headers=retailer.admin).status_code == 404
    )
    ship = client.post(f"{API}/shipments/{shipment['id']}/ship", headers=outsider)
    assert ship.status_code == 404


def test_a_viewer_may_read_shipments_but_not_write(
    client: TestClient, admin: Headers, viewer: Headers, retailer: Retailer
) -> None:
    codes = commission(client, admin, 1)
    shipment = draft(client, admin, retailer, [])
    path = f"{API}/shipments/{shipment['id']}"
    writes = [
        (f"{API}/shipments", {"destination_organization_id": 1, "destination_location_id": 1}),
        (f"{path}/items", {"items": codes}),
        (f"{path}/items/remove", {"items": codes}),
        (f"{path}/ship", None),
        (f"{path}/void", None),
        (f"{path}/cancel", None),
        (f"{path}/receive", {}),
        (f"{API}/receiving/scans", {"raw": codes[0]}),
    ]

    assert client.get(path, headers=viewer).status_code == 200
    assert client.get(f"{API}/shipments", headers=viewer).status_code == 200
    for url, body in writes:
        response = client.post(url, json=body, headers=viewer)
        assert (url, response.status_code) == (url, 403)
        assert response.json()["error"]["code"] == "permission_denied"
    assert ok(client.get(path, headers=admin))["status"] == "draft"


def test_a_receipt_is_undone_through_the_api_and_the_shipment_received_again(
    client: TestClient, admin: Headers, retailer: Retailer
) -> None:
    codes = commission(client, admin, 2)
    shipment_id = shipped(client, admin, retailer, codes)
    url = f"{API}/shipments/{shipment_id}"
    ok(client.post(f"{url}/receive", json={"scans": codes}, headers=retailer.admin))

    by_shipper = client.post(f"{url}/undo-receipt", json={}, headers=admin)
    undone = ok(
        client.post(f"{url}/undo-receipt", json={"reason": "wrong store"}, headers=retailer.admin)
    )
    again = client.post(f"{url}/undo-receipt", headers=retailer.admin)

    assert by_shipper.status_code == 404  # only the receiver may
    assert (undone["status"], undone["manifest"]) == ("shipped", {"in_transit": 2})
    assert ok(client.get(f"{API}/units/{codes[0]}", headers=admin))["disposition"] == "in_transit"
    assert again.status_code == 409
    received = ok(client.post(f"{url}/receive", json={"scans": codes}, headers=retailer.admin))
    assert received["received"] == 2
