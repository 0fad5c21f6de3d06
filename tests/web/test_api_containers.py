"""Cases and pallets over the API: create, pack, repack, unpack, and who may see them."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.web.conftest import Headers
from tests.web.test_api_shipments import API, commission, container, ok
from unitrace.domain.codes import generate_codes


def test_containers_are_created_with_their_own_codes_and_an_optional_sscc(
    client: TestClient, operator: Headers
) -> None:
    cases = ok(
        client.post(f"{API}/containers", json={"kind": "case", "count": 3}, headers=operator), 201
    )
    pallet = ok(
        client.post(
            f"{API}/containers",
            json={"kind": "pallet", "sscc": "106141410000000019"},
            headers=operator,
        ),
        201,
    )["items"][0]

    assert [c["kind"] for c in cases["items"]] == ["case"] * 3
    assert len({c["code"] for c in cases["items"]}) == 3
    assert all(c["short_url"].endswith(c["code"]) for c in cases["items"])
    assert (pallet["sscc"], pallet["disposition"], pallet["total_units"]) == (
        "106141410000000019",
        "active",
        0,
    )
    by_sscc = ok(client.get(f"{API}/containers/106141410000000019", headers=operator))
    assert by_sscc["code"] == pallet["code"]
    listed = ok(client.get(f"{API}/containers", params={"kind": "case"}, headers=operator))
    assert listed["total"] == 3


def test_an_sscc_names_one_container_and_a_bad_kind_is_a_422(
    client: TestClient, operator: Headers
) -> None:
    two = client.post(
        f"{API}/containers",
        json={"kind": "pallet", "count": 2, "sscc": "106141410000000019"},
        headers=operator,
    )
    crate = client.post(f"{API}/containers", json={"kind": "crate"}, headers=operator)

    assert (two.status_code, two.json()["error"]["code"]) == (422, "validation_error")
    assert crate.status_code == 422
    assert crate.json()["error"]["details"][0]["field"] == "kind"


def test_packing_nests_cases_in_a_pallet_and_repacking_records_where_items_came_from(
    client: TestClient, operator: Headers
) -> None:
    codes = commission(client, operator, 6)
    case_a = container(client, operator, "case", codes[:3])
    case_b = container(client, operator, "case", codes[3:])
    pallet = container(client, operator, "pallet", [case_a, case_b])

    moved = ok(
        client.post(f"{API}/containers/{case_b}/pack", json={"items": [codes[0]]}, headers=operator)
    )
    view = ok(client.get(f"{API}/containers/{pallet}", headers=operator))
    top = ok(client.get(f"{API}/containers", params={"top_level_only": True}, headers=operator))

    assert (moved["packed"], moved["units"], moved["repacked_from"]) == (1, 4, [case_a])
    assert moved["event_id"].startswith("ni:///sha-256;")
    assert (sorted(view["children"]), view["units"], view["total_units"]) == (
        sorted([case_a, case_b]),
        [],
        6,
    )
    assert [c["code"] for c in top["items"]] == [pallet]


def test_packing_refuses_every_bad_item_with_its_reason(
    client: TestClient, operator: Headers
) -> None:
    codes = commission(client, operator, 2)
    case = container(client, operator, "case", codes[:1])
    pallet = container(client, operator, "pallet", [case])

    response = client.post(
        f"{API}/containers/{case}/pack", json={"items": [pallet, codes[0]]}, headers=operator
    )

    error = response.json()["error"]
    assert (response.status_code, error["code"]) == (409, "refused")
    assert {(d["code"], d["reason"]) for d in error["details"]} == {
        (pallet, "cycle"),
        (codes[0], "already_packed"),
    }
    assert all(d["message"] for d in error["details"])


def test_unpacking_named_items_or_everything(client: TestClient, operator: Headers) -> None:
    codes = commission(client, operator, 3)
    case = container(client, operator, "case", codes)

    some = ok(
        client.post(f"{API}/containers/{case}/unpack", json={"items": [codes[0]]}, headers=operator)
    )
    rest = ok(client.post(f"{API}/containers/{case}/unpack", headers=operator))
    outside = client.post(
        f"{API}/containers/{case}/unpack", json={"items": [codes[0]]}, headers=operator
    )

    assert (some["packed"], some["units"]) == (1, 2)
    assert (rest["packed"], rest["units"]) == (2, 0)
    assert outside.status_code == 409
    assert outside.json()["error"]["details"] == [
        {"code": codes[0], "reason": "not_inside", "message": f"not inside {case}"}
    ]


def test_another_organizations_container_is_the_same_404_as_an_unknown_one(
    client: TestClient, operator: Headers, outsider: Headers
) -> None:
    codes = commission(client, operator, 1)
    case = container(client, operator, "case", codes)
    (unknown,) = generate_codes(1)

    for method, suffix, body in (
        ("GET", "", None),
        ("POST", "/pack", {"items": [unknown]}),
        ("POST", "/unpack", None),
    ):
        theirs = client.request(
            method, f"{API}/containers/{case}{suffix}", json=body, headers=outsider
        )
        nobody = client.request(
            method, f"{API}/containers/{unknown}{suffix}", json=body, headers=outsider
        )
        assert theirs.status_code == nobody.status_code == 404
        assert theirs.content == nobody.content.replace(unknown.encode(), case.encode())
    assert ok(client.get(f"{API}/containers", headers=outsider))["total"] == 0


def test_a_viewer_may_read_containers_but_not_write(
    client: TestClient, operator: Headers, viewer: Headers
) -> None:
    codes = commission(client, operator, 1)
    case = container(client, operator, "case", codes)
    writes = [
        (f"{API}/containers", {"kind": "case"}),
        (f"{API}/containers/{case}/pack", {"items": codes}),
        (f"{API}/containers/{case}/unpack", None),
    ]

    assert ok(client.get(f"{API}/containers/{case}", headers=viewer))["units"] == codes
    for url, body in writes:
        response = client.post(url, json=body, headers=viewer)
        assert (url, response.status_code) == (url, 403)
    assert ok(client.get(f"{API}/containers", headers=viewer))["total"] == 1
