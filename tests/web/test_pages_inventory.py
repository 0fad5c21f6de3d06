"""The inventory pages through the real app, as plain forms (no script): a retailer opens a
count, pastes scans by area, closes it, resolves differences with the buttons, and reads the
accuracy chart and its table; another organization's count is a 404; forms need their token."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.inventory_data import stocked_store
from tests.web.test_pages import email_of, hidden, log_in
from unitrace.domain.model import Principal
from unitrace.services import units
from unitrace.services.runtime import Runtime


def _client(app: FastAPI, principal: Principal) -> TestClient:
    client = TestClient(app, follow_redirects=False)
    assert log_in(client, email_of(principal)).status_code == 303
    return client


def _row(html: str, code: str) -> str:
    match = re.search(rf'<tr data-code="{code}">(.*?)</tr>', html, re.S)
    assert match, f"no row for {code}"
    return match.group(1)


def test_a_retailer_counts_a_store_closes_and_resolves_from_the_pages(
    app: FastAPI, rt: Runtime
) -> None:
    s = stocked_store(rt)
    c = s.c
    client = _client(app, s.retailer)
    page = client.get("/inventory")
    assert page.status_code == 200 and 'href="/inventory" aria-current="page"' in page.text
    assert "No inventory count yet." in page.text
    token = hidden(page.text, "csrf_token")
    refused = client.post("/inventory", data={"location_id": str(s.north)})
    assert refused.status_code == 403
    opened = client.post("/inventory", data={"csrf_token": token, "location_id": str(s.north)})
    assert opened.status_code == 303
    url = opened.headers["location"].split("?")[0]

    scans = "\n".join([s.case, c[4], c[5], c[6], c[8], c[9], c[10], s.never_issued, ""])
    added = client.post(f"{url}/scans", data={"csrf_token": token, "scans": scans, "area": "A"})
    assert added.status_code == 303
    shown = client.get(added.headers["location"]).text
    assert "Added 11 unit(s) or code(s); 1 unknown to you." in shown
    bad = client.post(f"{url}/scans", data={"csrf_token": token, "scans": "hello there"})
    assert bad.status_code == 422 and "is not a unit code, unit link or SSCC" in bad.text
    assert client.post(f"{url}/close", data={"csrf_token": token}).status_code == 303

    closed = client.get(url).text
    assert re.search(r'data-testid="count-accuracy">50\.0%<', closed)  # 6 of 12
    assert "Report stolen" in _row(closed, c[7]) and "Receive" in _row(closed, c[9])
    assert "Receive" not in _row(closed, c[8]) and "Note" in _row(closed, c[8])
    assert "Mark lost" in _row(closed, c[7]) and "Moved here" in _row(closed, c[8])
    assert 'data-testid="count-event"' in closed
    assert "unknown code" in _row(closed, s.never_issued)

    stolen = client.post(
        f"{url}/resolve", data={"csrf_token": token, "code": c[7], "resolution": "stolen"}
    )
    assert stolen.status_code == 303
    after = client.get(stolen.headers["location"]).text
    assert "Resolved as stolen." in after and "Report stolen" not in _row(after, c[7])
    assert units.get_unit(rt, s.retailer, c[7]).unit.disposition.value == "stolen"
    twice = client.post(
        f"{url}/resolve", data={"csrf_token": token, "code": c[7], "resolution": "found"}
    )
    assert twice.status_code == 409 and "already resolved as stolen" in twice.text
    moved = client.post(
        f"{url}/resolve", data={"csrf_token": token, "code": c[8], "resolution": "moved_here"}
    )
    assert moved.status_code == 303
    row = _row(client.get(moved.headers["location"]).text, c[8])
    assert "<strong>Moved here</strong>" in row and 'value="moved_here"' not in row
    assert units.get_unit(rt, s.retailer, c[8]).unit.location_id == s.north

    listing = client.get("/inventory").text
    assert 'data-testid="accuracy-chart"' in listing and "50.0%" in listing
    assert "/api/v1/inventory-counts/accuracy?format=csv" in listing
    csv = client.get(f"/api/v1/inventory-counts/{url.rsplit('/', 1)[1]}/differences.csv")
    assert csv.status_code == 200 and c[7] in csv.text

    outsider = _client(app, s.other_retailer)
    assert outsider.get(url).status_code == 404
