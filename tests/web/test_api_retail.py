"""The store counter over the API: sell, return, undo, dispositions — and sold exactly once
when eight terminals sell the same unit at the same moment over real HTTP."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient

from tests.factories import make_location
from tests.web.conftest import Headers, HeadersFor
from tests.web.test_api_shipments import (
    API,
    Retailer,
    commission,
    container,
    deliver,
    draft,
    make_retailer,
    ok,
)
from unitrace.domain.codes import generate_codes
from unitrace.services.runtime import Runtime
from unitrace.web.app import create_app

TERMINALS = 8


@pytest.fixture
def retailer(rt: Runtime, headers_for: HeadersFor) -> Retailer:
    return make_retailer(rt, headers_for)


@pytest.fixture
def stock(client: TestClient, admin: Headers, retailer: Retailer) -> list[str]:
    """Four units on sale at the retailer's store."""
    codes = commission(client, admin, 4)
    deliver(client, admin, retailer, codes)
    return codes


def sell(
    client: TestClient, retailer: Retailer, codes: list[str], **extra: object
) -> httpx.Response:
    body = {"location_id": retailer.store, "codes": codes, **extra}
    return client.post(f"{API}/sales", json=body, headers=retailer.admin)


def disposition_of(client: TestClient, headers: Headers, code: str) -> str:
    value: str = ok(client.get(f"{API}/units/{code}", headers=headers))["disposition"]
    return value


def test_brand_to_pallet_to_store_to_customer_and_back_through_the_api(
    client: TestClient, admin: Headers, retailer: Retailer
) -> None:
    codes = commission(client, admin, 8)
    cases = [container(client, admin, "case", codes[i : i + 4]) for i in (0, 4)]
    pallet = container(client, admin, "pallet", cases)
    shipment = draft(client, admin, retailer, [pallet])
    ok(client.post(f"{API}/shipments/{shipment['id']}/ship", headers=admin))
    scan = ok(
        client.post(f"{API}/receiving/scans", json={"raw": pallet}, headers=retailer.admin), 201
    )
    report = ok(
        client.post(
            f"{API}/shipments/{shipment['id']}/receive",
            json={"decision": "accept"},
            headers=retailer.admin,
        )
    )

    sale = sell(client, retailer, [codes[0].lower(), codes[1]], terminal="till-1")
    returned = client.post(
        f"{API}/returns",
        json={"location_id": retailer.store, "code": codes[0], "action": "restock"},
        headers=retailer.admin,
    )

    assert (scan["result"], scan["units"], report["received"]) == ("expected", 8, 8)
    assert sale.status_code == 201
    assert sale.headers["idempotent-replayed"] == "false"
    assert (sale.json()["codes"], sale.json()["terminal"]) == ([codes[0], codes[1]], "till-1")
    assert ok(returned, 201)["disposition"] == "sellable_accessible"
    assert returned.json()["action"] == "restock"
    assert disposition_of(client, retailer.admin, codes[0]) == "sellable_accessible"
    assert disposition_of(client, retailer.admin, codes[1]) == "retail_sold"
    assert disposition_of(client, retailer.admin, codes[2]) == "sellable_accessible"


def test_a_refused_sale_lists_every_code_with_its_reason_and_sells_nothing(
    client: TestClient, retailer: Retailer, stock: list[str]
) -> None:
    ok(sell(client, retailer, stock[:1]), 201)

    response = sell(client, retailer, stock[:3])

    error = response.json()["error"]
    assert (response.status_code, error["code"]) == (409, "refused")
    assert error["details"] == [
        {"code": stock[0], "reason": "already_sold", "message": "the unit has already been sold"}
    ]
    assert disposition_of(client, retailer.admin, stock[1]) == "sellable_accessible"


def test_a_sale_replays_with_the_same_idempotency_key(
    client: TestClient, retailer: Retailer, stock: list[str]
) -> None:
    body = {"location_id": retailer.store, "codes": stock[:2], "terminal": "till-2"}
    key = {**retailer.admin, "Idempotency-Key": "receipt-0007"}

    first = client.post(f"{API}/sales", json=body, headers=key)
    second = client.post(f"{API}/sales", json=body, headers=key)
    other = client.post(f"{API}/sales", json={**body, "codes": stock[2:3]}, headers=key)

    assert (first.status_code, second.status_code) == (201, 200)
    assert second.headers["idempotent-replayed"] == "true"
    assert second.json()["replayed"] is True
    assert second.json()["event_id"] == first.json()["event_id"]
    assert (other.status_code, other.json()["error"]["code"]) == (409, "idempotency_key_reused")
    assert disposition_of(client, retailer.admin, stock[2]) == "sellable_accessible"


def test_a_sale_made_by_mistake_is_undone(
    client: TestClient, retailer: Retailer, stock: list[str]
) -> None:
    sale = ok(sell(client, retailer, stock[:2]), 201)

    undone = client.post(
        f"{API}/sales/undo",
        json={"code": stock[0], "reason": "scanned twice"},
        headers=retailer.admin,
    )
    twice = client.post(f"{API}/sales/undo", json={"code": stock[0]}, headers=retailer.admin)

    result = ok(undone)
    assert (result["sale_event_id"], result["disposition"]) == (
        sale["event_id"],
        "sellable_accessible",
    )
    assert len(result["corrective_event_ids"]) == 2  # the unit back; the rest of the basket
    assert disposition_of(client, retailer.admin, stock[0]) == "sellable_accessible"
    assert disposition_of(client, retailer.admin, stock[1]) == "retail_sold"
    assert twice.status_code == 409


def test_dispositions_change_named_units_and_refuse_the_impossible_per_code(
    client: TestClient, retailer: Retailer, stock: list[str]
) -> None:
    path = f"{API}/units/dispositions"
    damaged = client.post(
        path,
        json={"operation": "mark_damaged", "codes": stock[:2], "reason": "water damage"},
        headers=retailer.admin,
    )
    ok(sell(client, retailer, stock[2:3]), 201)
    refused = client.post(
        path, json={"operation": "quarantine", "codes": stock[2:]}, headers=retailer.admin
    )
    unknown_op = client.post(
        path, json={"operation": "teleport", "codes": stock[:1]}, headers=retailer.admin
    )

    assert (ok(damaged)["units"], damaged.json()["operation"]) == (2, "mark_damaged")
    assert disposition_of(client, retailer.admin, stock[0]) == "damaged"
    assert refused.status_code == 409
    assert [d["code"] for d in refused.json()["error"]["details"]] == [stock[2]], refused.text
    assert disposition_of(client, retailer.admin, stock[3]) == "sellable_accessible"
    assert unknown_op.status_code == 422


def test_a_unit_marked_lost_is_not_sold_until_it_is_found_again(
    client: TestClient, retailer: Retailer, stock: list[str]
) -> None:
    path = f"{API}/units/dispositions"
    lost = client.post(
        path, json={"operation": "mark_lost", "codes": stock[:1]}, headers=retailer.admin
    )
    assert (ok(lost)["disposition"], disposition_of(client, retailer.admin, stock[0])) == (
        "unknown", "unknown",
    )  # fmt: skip
    refused = sell(client, retailer, stock[:1])
    assert refused.status_code == 409
    assert refused.json()["error"]["details"][0]["reason"] == "lost"
    again = client.post(
        path, json={"operation": "mark_found", "codes": stock[1:2]}, headers=retailer.admin
    )
    assert again.json()["error"]["details"] == [
        {"code": stock[1], "reason": "not_lost", "message": "the unit is not marked lost"}
    ]
    found = client.post(
        path, json={"operation": "mark_found", "codes": stock[:1]}, headers=retailer.admin
    )
    assert ok(found)["disposition"] == "sellable_accessible"
    ok(sell(client, retailer, stock[:1]), 201)


def test_units_move_between_the_retailers_own_stores(
    rt: Runtime, client: TestClient, retailer: Retailer, stock: list[str]
) -> None:
    other = make_location(rt, retailer.principal)
    path = f"{API}/units/relocations"
    body = {"codes": stock[:2], "location_id": other, "reason": "balancing"}
    moved = ok(client.post(path, json=body, headers=retailer.admin))
    assert (moved["units"], moved["codes"], moved["location_id"]) == (2, stock[:2], other)
    unit = ok(client.get(f"{API}/units/{stock[0]}", headers=retailer.admin))
    assert (unit["location_id"], unit["disposition"]) == (other, "sellable_accessible")
    here = client.post(path, json=body, headers=retailer.admin)
    assert here.status_code == 409
    assert {d["reason"] for d in here.json()["error"]["details"]} == {"already_here"}
    elsewhere = client.post(
        path, json={"codes": stock[2:3], "location_id": 999_999}, headers=retailer.admin
    )
    assert elsewhere.status_code == 404
    viewer = client.post(path, json=body, headers=retailer.viewer)
    assert viewer.status_code == 403
    assert ok(client.get(f"{API}/units/{stock[2]}", headers=retailer.admin))["location_id"] == (
        retailer.store
    )


def test_a_viewer_may_not_sell_return_undo_or_change_dispositions(
    client: TestClient, retailer: Retailer, stock: list[str]
) -> None:
    writes = [
        ("/sales", {"location_id": retailer.store, "codes": stock[:1]}),
        ("/returns", {"location_id": retailer.store, "code": stock[0], "action": "restock"}),
        ("/sales/undo", {"code": stock[0]}),
        ("/units/dispositions", {"operation": "destroy", "codes": stock[:1]}),
    ]

    for path, body in writes:
        response = client.post(f"{API}{path}", json=body, headers=retailer.viewer)
        assert (path, response.status_code) == (path, 403)
    assert disposition_of(client, retailer.viewer, stock[0]) == "sellable_accessible"


def test_another_organizations_unit_is_the_same_404_as_an_unknown_one_at_the_till(
    client: TestClient, admin: Headers, retailer: Retailer, stock: list[str]
) -> None:
    (theirs,) = commission(client, admin, 1)  # still the brand's, never shipped
    (unknown,) = generate_codes(1)
    bodies = {
        theirs: sell(client, retailer, [theirs]),
        unknown: sell(client, retailer, [unknown]),
    }

    assert {code: r.status_code for code, r in bodies.items()} == {theirs: 404, unknown: 404}
    assert bodies[theirs].content == bodies[unknown].content.replace(
        unknown.encode(), theirs.encode()
    )


# --- over real HTTP ----------------------------------------------------------------------


@pytest.fixture
def base_url(rt: Runtime) -> Iterator[str]:
    """The real app under uvicorn on a loopback port, for the length of one test."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        create_app(runtime=rt), lifespan="off", ws="none", log_level="warning", access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        for _ in range(500):
            if server.started:
                break
            thread.join(0.01)
        assert server.started, "uvicorn did not start"
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def test_eight_terminals_selling_one_unit_at_once_sell_it_exactly_once(
    client: TestClient, retailer: Retailer, stock: list[str], base_url: str
) -> None:
    start = threading.Barrier(TERMINALS)

    def till(n: int) -> httpx.Response:
        body = {"location_id": retailer.store, "codes": [stock[0]], "terminal": f"till-{n}"}
        with httpx.Client(base_url=base_url, headers=retailer.admin, timeout=60) as http:
            start.wait()  # every terminal presses "pay" at the same moment
            return http.post(f"{API}/sales", json=body)

    with ThreadPoolExecutor(TERMINALS) as pool:
        responses = list(pool.map(till, range(TERMINALS)))

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * (TERMINALS - 1)
    refusals = [r.json()["error"] for r in responses if r.status_code == 409]
    assert {(e["code"], d["code"], d["reason"]) for e in refusals for d in e["details"]} == {
        ("refused", stock[0], "already_sold")
    }
    assert disposition_of(client, retailer.admin, stock[0]) == "retail_sold"
    assert disposition_of(client, retailer.admin, stock[1]) == "sellable_accessible"
