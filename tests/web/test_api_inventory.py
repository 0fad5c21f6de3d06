"""Inventory counts through the HTTP API: open, scan by area, close, the differences as JSON
and formula-safe CSV, resolve once, accuracy over time; another organization sees nothing."""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient

from tests.inventory_data import stocked_store
from tests.web.conftest import HeadersFor
from unitrace.domain.model import Role
from unitrace.services.runtime import Runtime

API = "/api/v1/inventory-counts"


def test_a_count_is_opened_scanned_closed_and_resolved_over_http(
    rt: Runtime, client: TestClient, headers_for: HeadersFor
) -> None:
    s = stocked_store(rt)
    c = s.c
    h = headers_for(s.retailer, Role.OPERATOR)
    created = client.post(API, json={"location_id": s.north, "note": "monthly"}, headers=h)
    assert created.status_code == 201, created.text
    count = created.json()
    assert (count["status"], count["accuracy"], count["location_id"]) == ("open", None, s.north)
    url = f"{API}/{count['id']}"

    bad = client.post(f"{url}/scans", json={"scans": [c[0], "=cmd|' /C calc'!A0"]}, headers=h)
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "validation_error"
    first = client.post(
        f"{url}/scans", json={"scans": [s.case, c[4], c[5]], "area": "shelf A"}, headers=h
    )
    assert first.json() == {
        "count_id": count["id"], "area": "shelf A", "added": 6, "repeated": 0, "unknown": [],
        "scanned": 6,
    }  # fmt: skip
    second = client.post(
        f"{url}/scans",
        json={"scans": [c[4], c[6], c[8], c[9], c[10], c[11], c[12], s.never_issued]},
        headers=h,
    ).json()
    assert (second["added"], second["repeated"], second["scanned"]) == (7, 1, 13)
    early = client.post(f"{url}/resolve", json={"code": c[7], "resolution": "found"}, headers=h)
    assert early.status_code == 409

    closed = client.post(f"{url}/close", headers=h)
    assert closed.status_code == 200, closed.text
    figures = closed.json()["count"]
    assert (figures["matched"], figures["missing"], figures["unexpected"]) == (6, 1, 6)
    assert (figures["wrong_location"], figures["accuracy"]) == (1, round(6 / 14, 4))
    kinds = {d["code"]: (d["kind"], d["reason"]) for d in closed.json()["differences"]}
    assert kinds[c[7]] == ("missing", "not_scanned")
    assert kinds[c[9]] == ("unexpected", "not_received")
    assert kinds[c[11]] == kinds[s.never_issued] == ("unexpected", "unknown")
    assert figures["event_id"]  # the units found in place, recorded as counted
    moved = client.post(
        f"{url}/resolve", json={"code": c[8], "resolution": "moved_here"}, headers=h
    ).json()
    assert moved["resolution"] == "moved_here" and moved["event_id"]
    assert client.get(f"/api/v1/units/{c[8]}", headers=h).json()["location_id"] == s.north

    stolen = client.post(
        f"{url}/resolve", json={"code": c[7], "resolution": "stolen"}, headers=h
    ).json()
    assert stolen["event_id"] and stolen["replayed"] is False
    again = client.post(f"{url}/resolve", json={"code": c[7], "resolution": "stolen"}, headers=h)
    assert again.json()["replayed"] is True
    other = client.post(f"{url}/resolve", json={"code": c[7], "resolution": "found"}, headers=h)
    assert other.status_code == 409 and "already resolved" in other.json()["error"]["message"]
    unit = client.get(f"/api/v1/units/{c[7]}", headers=h).json()
    assert unit["disposition"] == "stolen"
    note = client.post(f"{url}/resolve", json={"code": c[6], "resolution": "noted"}, headers=h)
    assert note.status_code == 422

    detail = client.get(url, headers=h).json()
    assert detail["count"]["resolved"] == 2
    assert detail["count"]["event_id"] == figures["event_id"]
    sheet = client.get(f"{url}/differences.csv", headers=h)
    assert sheet.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(sheet.text.lstrip("\ufeff"))))
    assert {r["code"]: r["resolution"] for r in rows}[c[7]] == "stolen"
    assert len(rows) == 8

    history = client.get(f"{API}/accuracy", params={"location_id": s.north}, headers=h).json()
    assert [(i["id"], i["accuracy"]) for i in history["items"]] == [(count["id"], round(6 / 14, 4))]
    table = client.get(f"{API}/accuracy", params={"format": "csv"}, headers=h)
    (row,) = csv.DictReader(io.StringIO(table.text.lstrip("\ufeff")))
    assert (row["matched"], row["accuracy"]) == ("6", str(round(6 / 14, 4)))
    listed = client.get(API, params={"status": "closed"}, headers=h).json()
    assert [i["id"] for i in listed["items"]] == [count["id"]]


def test_another_organization_and_a_viewer_cannot_touch_a_count(
    rt: Runtime, client: TestClient, headers_for: HeadersFor
) -> None:
    s = stocked_store(rt)
    h = headers_for(s.retailer, Role.OPERATOR)
    count = client.post(API, json={"location_id": s.north}, headers=h).json()
    outsider = headers_for(s.other_retailer)
    for response in (
        client.get(f"{API}/{count['id']}", headers=outsider),
        client.post(f"{API}/{count['id']}/scans", json={"scans": [s.c[0]]}, headers=outsider),
        client.get(f"{API}/{count['id']}/differences.csv", headers=outsider),
        client.post(API, json={"location_id": s.north}, headers=outsider),
    ):
        assert response.status_code == 404
    assert client.get(API, headers=outsider).json()["total"] == 0
    viewer = headers_for(s.retailer, Role.VIEWER)
    assert client.post(f"{API}/{count['id']}/close", headers=viewer).status_code == 403
    assert client.get(f"{API}/{count['id']}", headers=viewer).status_code == 200


def test_a_formula_in_a_scanned_code_cannot_reach_a_spreadsheet_cell(
    rt: Runtime, client: TestClient, headers_for: HeadersFor
) -> None:
    s = stocked_store(rt)
    h = headers_for(s.retailer, Role.OPERATOR)
    count = client.post(API, json={"location_id": s.north, "note": "=HYPERLINK(1)"}, headers=h)
    url = f"{API}/{count.json()['id']}"
    client.post(f"{url}/close", headers=h)
    client.post(
        f"{url}/resolve",
        json={"code": s.c[0], "resolution": "noted", "note": "=1+1 on the shelf"},
        headers=h,
    )
    text = client.get(f"{url}/differences.csv", headers=h).text
    assert ",=1+1" not in text and "'=1+1 on the shelf" in text
