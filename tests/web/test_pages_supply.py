"""The supply-chain pages through the real app: containers, shipments, receiving, the store
counter and the unit's history, with their CSRF checks and role limits."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.factories import as_role, make_batch, make_location, make_org
from tests.web.test_pages import email_of, hidden, log_in
from unitrace.domain.model import OrganizationKind, Principal, Role
from unitrace.services import access, containers, serialization, shipments, units
from unitrace.services.runtime import Runtime


@dataclass(frozen=True)
class Market:
    brand: Principal
    retailer: Principal
    store: int
    codes: list[str]


def commission(rt: Runtime, brand: Principal, quantity: int) -> list[str]:
    batch = make_batch(rt, brand)
    done = serialization.commission_units(rt, brand, batch_id=batch.id, quantity=quantity)
    return sorted(serialization.iter_commissioned_codes(rt, brand, event_id=done.event_id))


@pytest.fixture
def market(rt: Runtime, brand: Principal) -> Market:
    retailer = make_org(rt, kind=OrganizationKind.RETAILER, name="Corner Store")
    store = make_location(rt, retailer)
    return Market(brand, retailer, store, commission(rt, brand, 6))


def signed_in_as(app: FastAPI, principal: Principal) -> Iterator[TestClient]:
    with TestClient(app) as client:
        assert log_in(client, email_of(principal)).status_code == 303
        yield client


@pytest.fixture
def shipper(app: FastAPI, brand: Principal) -> Iterator[TestClient]:
    yield from signed_in_as(app, brand)


@pytest.fixture
def receiver(app: FastAPI, market: Market) -> Iterator[TestClient]:
    yield from signed_in_as(app, market.retailer)


def token(client: TestClient, url: str = "/containers") -> str:
    return hidden(client.get(url).text, "csrf_token")


def in_transit(rt: Runtime, market: Market, codes: list[str]) -> int:
    """A pallet holding ``codes``, shipped to the retailer's store; the shipment's id."""
    pallet = containers.create_containers(rt, market.brand, kind="pallet")[0].code
    containers.pack(rt, market.brand, container=pallet, items=codes)
    draft = shipments.create_shipment(
        rt,
        market.brand,
        destination_organization_id=market.retailer.organization_id,
        destination_location_id=market.store,
        items=[pallet],
    )
    shipments.ship(rt, market.brand, draft.id)
    return draft.id


def on_shelf(rt: Runtime, market: Market, codes: list[str]) -> None:
    shipment_id = in_transit(rt, market, codes)
    for code in codes:
        shipments.scan(rt, market.retailer, code, shipment_id=shipment_id)
    shipments.complete_receipt(rt, market.retailer, shipment_id)


# --- containers --------------------------------------------------------------------------


def test_a_case_created_from_the_form_opens_on_its_own_page(shipper: TestClient) -> None:
    response = shipper.post(
        "/containers",
        data={"kind": "case", "count": "1", "csrf_token": token(shipper)},
        follow_redirects=False,
    )

    assert response.status_code == 303
    assert re.fullmatch(r"/containers/[0-9A-Z]+\?created=1", response.headers["location"])
    page = shipper.get(response.headers["location"])
    assert "Case created" in page.text and "Pack" in page.text


def test_creating_containers_without_the_form_token_is_refused(shipper: TestClient) -> None:
    response = shipper.post("/containers", data={"kind": "case", "count": "1"})

    assert response.status_code == 403
    assert "security token" in response.text


def test_packing_scans_puts_the_units_in_the_case_and_shows_them(
    rt: Runtime, shipper: TestClient, market: Market
) -> None:
    case = containers.create_containers(rt, market.brand, kind="case")[0].code
    scans = "\n".join(f"https://id.example.test/{c.lower()}" for c in market.codes[:3])

    page = shipper.post(
        f"/containers/{case}/pack", data={"items": scans + "\n\n", "csrf_token": token(shipper)}
    )

    assert page.status_code == 200
    assert "3 items packed" in page.text
    assert containers.get_container(rt, market.brand, case).total_units == 3
    assert all(f'href="/units/{c}"' in page.text for c in market.codes[:3])


def test_a_refused_pack_names_the_code_and_packs_nothing(
    rt: Runtime, shipper: TestClient, market: Market
) -> None:
    case = containers.create_containers(rt, market.brand, kind="case")[0].code
    containers.pack(rt, market.brand, container=case, items=market.codes[:1])

    page = shipper.post(
        f"/containers/{case}/pack",
        data={"items": f"{market.codes[0]}\n{market.codes[1]}", "csrf_token": token(shipper)},
    )

    assert page.status_code == 409
    assert f"{market.codes[0]}: already inside {case}" in page.text
    assert containers.get_container(rt, market.brand, case).total_units == 1


def test_a_pallet_page_shows_the_tree_of_cases_inside(
    rt: Runtime, shipper: TestClient, market: Market
) -> None:
    case = containers.create_containers(rt, market.brand, kind="case")[0].code
    containers.pack(rt, market.brand, container=case, items=market.codes[:2])
    pallet = containers.create_containers(rt, market.brand, kind="pallet")[0].code
    containers.pack(rt, market.brand, container=pallet, items=[case])

    page = shipper.get(f"/containers/{pallet}").text

    assert f'href="/containers/{case}"' in page
    assert "case · 2 units" in page


# --- shipments ---------------------------------------------------------------------------


def test_a_shipment_is_drafted_shipped_and_shows_its_manifest(
    rt: Runtime, shipper: TestClient, market: Market
) -> None:
    form_page = shipper.get("/shipments/new").text
    destination = f"{market.retailer.organization_id}:{market.store}"
    assert f'value="{destination}"' in form_page

    created = shipper.post(
        "/shipments",
        data={
            "destination": destination,
            "items": "\n".join(market.codes[:2]),
            "csrf_token": hidden(form_page, "csrf_token"),
        },
        follow_redirects=False,
    )
    assert created.status_code == 303
    url = created.headers["location"].split("?")[0]
    detail = shipper.get(url).text
    assert "Draft saved" not in detail and "Draft" in detail

    shipped = shipper.post(
        f"{url}/ship",
        data={
            "csrf_token": hidden(detail, "csrf_token"),
            "idempotency_key": hidden(detail, "idempotency_key"),
        },
    )

    assert shipped.status_code == 200
    assert "Shipped: everything on it is now in transit." in shipped.text
    assert 'data-testid="manifest-in_transit">2<' in shipped.text
    shipment_id = int(url.rsplit("/", 1)[1])
    assert shipments.get_shipment(rt, market.brand, shipment_id).status == "shipped"


def test_a_draft_with_an_unknown_destination_is_shown_again_with_the_problem(
    shipper: TestClient,
) -> None:
    response = shipper.post(
        "/shipments",
        data={"destination": "", "items": "", "csrf_token": token(shipper, "/shipments/new")},
    )

    assert response.status_code == 422
    assert "choose where the shipment goes" in response.text


def test_the_incoming_tab_lists_only_shipments_to_the_organization(
    rt: Runtime, market: Market, receiver: TestClient
) -> None:
    shipment_id = in_transit(rt, market, market.codes[:2])
    number = shipments.get_shipment(rt, market.brand, shipment_id).number

    assert number in receiver.get("/shipments?direction=incoming").text
    assert number not in receiver.get("/shipments?direction=outgoing").text
    assert number in receiver.get("/receiving").text


# --- receiving ---------------------------------------------------------------------------


def test_a_json_scan_is_classified_at_once_and_counted(
    rt: Runtime, market: Market, receiver: TestClient
) -> None:
    shipment_id = in_transit(rt, market, market.codes[:4])
    page = receiver.get(f"/shipments/{shipment_id}/receive")
    assert 'data-testid="scanned-count">0<' in page.text
    assert 'data-testid="expected-count">4<' in page.text
    headers = {"X-CSRF-Token": hidden(page.text, "csrf_token")}
    url = f"/shipments/{shipment_id}/scan.json"

    first = receiver.post(url, json={"raw": market.codes[0].lower()}, headers=headers)
    again = receiver.post(url, json={"raw": market.codes[0]}, headers=headers)
    junk = receiver.post(url, json={"raw": "not a code"}, headers=headers)

    assert first.status_code == 200
    assert (first.json()["result"], first.json()["scanned_units"]) == ("expected", 1)
    assert first.json()["expected_units"] == 4
    assert again.json()["result"] == "duplicate"
    assert junk.json()["result"] == "unknown"


def test_a_json_scan_without_the_csrf_header_is_refused_as_json(
    rt: Runtime, market: Market, receiver: TestClient
) -> None:
    shipment_id = in_transit(rt, market, market.codes[:1])

    response = receiver.post(f"/shipments/{shipment_id}/scan.json", json={"raw": market.codes[0]})

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert shipments.scans(rt, market.retailer, shipment_id) == []


def test_without_javascript_a_scan_posts_and_comes_back_to_the_list(
    rt: Runtime, market: Market, receiver: TestClient
) -> None:
    shipment_id = in_transit(rt, market, market.codes[:2])
    page = receiver.get(f"/shipments/{shipment_id}/receive").text

    response = receiver.post(
        f"/shipments/{shipment_id}/scan",
        data={"raw": market.codes[1], "csrf_token": hidden(page, "csrf_token")},
        follow_redirects=False,
    )

    assert response.status_code == 303
    after = receiver.get(response.headers["location"]).text
    assert 'class="scan scan-expected"' in after
    assert 'data-testid="scanned-count">1<' in after


def test_completing_a_receipt_reports_the_missing_units(
    rt: Runtime, market: Market, receiver: TestClient
) -> None:
    shipment_id = in_transit(rt, market, market.codes[:3])
    shipments.scan(rt, market.retailer, market.codes[0], shipment_id=shipment_id)
    page = receiver.get(f"/shipments/{shipment_id}/receive").text

    response = receiver.post(
        f"/shipments/{shipment_id}/receipt",
        data={
            "decision": "accept",
            "csrf_token": hidden(page, "csrf_token"),
            "idempotency_key": hidden(page, "idempotency_key"),
        },
    )

    assert response.status_code == 200
    assert 'data-testid="report-received">1<' in response.text
    assert 'data-testid="report-missing">2<' in response.text
    assert all(f'href="/units/{c}"' in response.text for c in market.codes[1:3])


def test_the_receiver_undoes_a_receipt_from_the_shipment_page(
    rt: Runtime, market: Market, receiver: TestClient, shipper: TestClient
) -> None:
    shipment_id = in_transit(rt, market, market.codes[:2])
    shipments.receive(rt, market.retailer, shipment_id, scans=market.codes[:2])
    page = receiver.get(f"/shipments/{shipment_id}").text
    assert "Undo receipt" in page
    assert "Undo receipt" not in shipper.get(f"/shipments/{shipment_id}").text

    response = receiver.post(
        f"/shipments/{shipment_id}/undo-receipt",
        data={"reason": "wrong store", "csrf_token": hidden(page, "csrf_token")},
        follow_redirects=True,
    )

    assert response.status_code == 200
    assert "Receipt undone" in response.text
    assert shipments.get_shipment(rt, market.brand, shipment_id).status == "shipped"
    again = receiver.post(
        f"/shipments/{shipment_id}/undo-receipt",
        data={"reason": "", "csrf_token": hidden(page, "csrf_token")},
    )
    assert again.status_code == 409


def test_a_receipt_with_a_rejected_item_keeps_it_with_the_shipper(
    rt: Runtime, market: Market, receiver: TestClient
) -> None:
    shipment_id = in_transit(rt, market, market.codes[:2])
    for code in market.codes[:2]:
        shipments.scan(rt, market.retailer, code, shipment_id=shipment_id)
    page = receiver.get(f"/shipments/{shipment_id}/receive").text
    assert f'name="reject" value="{market.codes[1]}"' in page

    receiver.post(
        f"/shipments/{shipment_id}/receipt",
        data={
            "decision": "accept",
            "reject": market.codes[1],
            "csrf_token": hidden(page, "csrf_token"),
            "idempotency_key": hidden(page, "idempotency_key"),
        },
    )

    report = shipments.receipt_report(rt, market.retailer, shipment_id)
    assert (report.received, report.rejected_codes) == (1, (market.codes[1],))


# --- the store counter -------------------------------------------------------------------


def test_a_lookup_says_whether_a_unit_can_be_sold_at_this_store(
    rt: Runtime, market: Market, receiver: TestClient
) -> None:
    on_shelf(rt, market, market.codes[:1])

    scanned = f"https://id.example.test/{market.codes[0].lower()}"
    here = receiver.get(
        "/pos/lookup.json", params={"code": scanned, "location_id": market.store}
    ).json()
    elsewhere = receiver.get(
        "/pos/lookup.json", params={"code": market.codes[0], "location_id": market.store + 999}
    ).json()
    unknown = receiver.get("/pos/lookup.json", params={"code": market.codes[5]})

    assert (here["sellable"], here["disposition"]) == (True, "sellable_accessible")
    assert (elsewhere["sellable"], elsewhere["reason"]) == (False, "not_at_this_store")
    assert unknown.status_code == 404


def test_selling_a_basket_twice_with_one_key_sells_it_once(
    rt: Runtime, market: Market, receiver: TestClient
) -> None:
    on_shelf(rt, market, market.codes[:2])
    headers = {"X-CSRF-Token": token(receiver, "/pos")}
    body = {"location_id": market.store, "codes": market.codes[:2], "idempotency_key": "basket-1"}

    first = receiver.post("/pos/sell.json", json=body, headers=headers)
    second = receiver.post("/pos/sell.json", json=body, headers=headers)

    assert first.status_code == second.status_code == 200
    assert (first.json()["count"], first.json()["replayed"]) == (2, False)
    assert second.json()["replayed"] is True
    assert second.json()["event_id"] == first.json()["event_id"]
    sold = receiver.get("/pos/lookup.json", params={"code": market.codes[0]}).json()
    assert (sold["sellable"], sold["reason"]) == (False, "already_sold")


def test_a_refused_sale_lists_each_refused_unit_with_its_reason(
    rt: Runtime, market: Market, receiver: TestClient
) -> None:
    on_shelf(rt, market, market.codes[:2])
    headers = {"X-CSRF-Token": token(receiver, "/pos")}
    receiver.post(
        "/pos/sell.json",
        json={"location_id": market.store, "codes": market.codes[:1]},
        headers=headers,
    )

    response = receiver.post(
        "/pos/sell.json",
        json={"location_id": market.store, "codes": market.codes[:2]},
        headers=headers,
    )

    assert response.status_code == 409
    refused = {d["code"]: d["reason"] for d in response.json()["error"]["details"]}
    assert refused == {market.codes[0]: "already_sold"}
    assert units.get_unit(rt, market.retailer, market.codes[1]).unit.disposition.value == (
        "sellable_accessible"
    )


def test_without_javascript_the_sale_form_sells_and_confirms(
    rt: Runtime, market: Market, receiver: TestClient
) -> None:
    on_shelf(rt, market, market.codes[:1])
    page = receiver.get(f"/pos?location_id={market.store}").text

    response = receiver.post(
        "/pos/sell",
        data={
            "location_id": str(market.store),
            "codes": market.codes[0],
            "csrf_token": hidden(page, "csrf_token"),
            "idempotency_key": hidden(page, "idempotency_key"),
        },
    )

    assert response.status_code == 200
    assert "Sold 1 unit" in response.text


def test_a_sold_unit_is_returned_to_stock_from_the_return_tab(
    rt: Runtime, market: Market, receiver: TestClient
) -> None:
    on_shelf(rt, market, market.codes[:1])
    headers = {"X-CSRF-Token": token(receiver, "/pos")}
    receiver.post(
        "/pos/sell.json",
        json={"location_id": market.store, "codes": market.codes[:1]},
        headers=headers,
    )
    page = receiver.get(f"/pos?tab=return&location_id={market.store}").text

    response = receiver.post(
        "/pos/return",
        data={
            "location_id": str(market.store),
            "code": market.codes[0],
            "action": "restock",
            "csrf_token": hidden(page, "csrf_token"),
            "idempotency_key": hidden(page, "idempotency_key"),
        },
    )

    assert response.status_code == 200, response.text
    assert "back on sale" in response.text
    disposition = units.get_unit(rt, market.retailer, market.codes[0]).unit.disposition
    assert disposition.value == "sellable_accessible"


# --- the unit's history and roles ------------------------------------------------------


def test_the_unit_page_shows_its_history_newest_first_and_oldest_first(
    rt: Runtime, market: Market, shipper: TestClient
) -> None:
    case = containers.create_containers(rt, market.brand, kind="case")[0].code
    containers.pack(rt, market.brand, container=case, items=market.codes[:1])

    newest = shipper.get(f"/units/{market.codes[0]}").text
    oldest = shipper.get(f"/units/{market.codes[0]}?order=oldest").text

    assert newest.index(f"Packed into {case}") < newest.index("Commissioned 6 units")
    assert oldest.index("Commissioned 6 units") < oldest.index(f"Packed into {case}")


def test_a_viewer_sees_the_pages_but_no_write_forms(
    rt: Runtime, app: FastAPI, market: Market
) -> None:
    user = access.create_user(
        rt,
        market.brand,
        organization_id=market.brand.organization_id,
        email="viewer@sunrise.example",
        name="Viewer",
        password="correct horse battery",
        role=Role.VIEWER,
    )
    viewer = access.principal_for_user(user)
    case = containers.create_containers(rt, as_role(market.brand, Role.ADMIN), kind="case")[0]

    with TestClient(app) as client:
        assert log_in(client, email_of(viewer)).status_code == 303
        listing = client.get("/containers").text
        detail = client.get(f"/containers/{case.code}").text
        refused = client.post(
            f"/containers/{case.code}/pack",
            data={"items": market.codes[0], "csrf_token": hidden(listing, "csrf_token")},
        )

    assert case.code in listing
    assert 'method="post" action="/containers"' not in listing
    assert "/pack" not in detail
    assert refused.status_code == 403
