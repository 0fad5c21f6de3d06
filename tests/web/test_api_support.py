"""The brand's support edges over the API: clone alerts and their investigation, the inbox
of consumer problem reports, and the authenticated scan lookup; other tenants, roles,
repeated actions and bad input."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support_data import SupportWorld, make_support_world
from tests.web.conftest import Headers, HeadersFor
from unitrace.domain.model import Principal, Role
from unitrace.services.runtime import Runtime

API = "/api/v1"


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def error(response: Any) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


@pytest.fixture
def world(rt: Runtime, brand: Principal) -> SupportWorld:
    return make_support_world(rt, brand)


def test_alerts_are_listed_shown_with_scans_and_investigated_once(
    client: TestClient, admin: Headers, operator: Headers, world: SupportWorld
) -> None:
    listed = ok(client.get(f"{API}/alerts", headers=admin))
    assert (listed["total"], listed["limit"], listed["offset"]) == (1, 50, 0)
    (alert,) = listed["items"]
    assert alert["id"] == world.alert_id
    assert (alert["code"], alert["reason"], alert["status"]) == (
        world.codes[0], "many_origins", "open"
    )  # fmt: skip
    assert (alert["disposition"], alert["scan_count"], alert["note"]) == ("retail_sold", 4, "")

    shown = ok(client.get(f"{API}/alerts/{world.alert_id}", headers=admin))
    assert shown["alert"] == alert
    assert len(shown["recent_scans"]) == 4
    assert len({s["origin"] for s in shown["recent_scans"]}) == 4
    scan = shown["recent_scans"][0]
    assert (scan["verdict"], scan["region"], scan["agent"]) == (
        "authentic_already_sold", "CA", "Safari iOS"
    )  # fmt: skip
    assert "203.0" not in str(shown)  # origins are anonymous

    url = f"{API}/alerts/{world.alert_id}/investigate"
    done = ok(client.post(url, json={"note": "  Staff scans at the counter  "}, headers=operator))
    assert (done["status"], done["note"]) == ("investigated", "Staff scans at the counter")
    assert done["investigated_by"] and done["investigated_at"]
    assert error(client.post(url, json={"note": "again"}, headers=admin)) == (409, "conflict")

    assert ok(client.get(f"{API}/alerts", headers=admin))["total"] == 0
    investigated = ok(client.get(f"{API}/alerts?status=investigated", headers=admin))
    assert [a["id"] for a in investigated["items"]] == [world.alert_id]
    every = ok(client.get(f"{API}/alerts?status=all&limit=1&offset=0", headers=admin))
    assert (every["total"], len(every["items"])) == (1, 1)
    assert ok(client.get(f"{API}/alerts?status=all&offset=1", headers=admin))["items"] == []


def test_problem_reports_are_listed_shown_with_the_facts_and_closed_once(
    client: TestClient, admin: Headers, operator: Headers, world: SupportWorld
) -> None:
    inbox = ok(client.get(f"{API}/problem-reports", headers=admin))
    assert inbox["total"] == 2
    assert [r["id"] for r in inbox["items"]] == world.report_ids[::-1]  # newest first
    first = inbox["items"][1]
    assert (first["kind"], first["kind_label"], first["message"]) == (
        "damaged", "Damaged or tampered package", "The seal was broken"
    )  # fmt: skip
    assert (first["contact_email"], first["consent"], first["status"]) == (None, False, "open")

    case = ok(client.get(f"{API}/problem-reports/{world.report_ids[0]}", headers=admin))
    assert case["report"] == first
    assert case["verification"]["code"] == world.codes[0]
    assert case["verification"]["verdict"] == "suspicious"  # the open clone alert
    assert case["verification"]["sale"]["city"] == "Sacramento"
    steps = [e["biz_step"] for e in case["timeline"]]
    assert steps[0] == "commissioning" and steps[-1] == "retail_selling"
    assert all(e["event_id"] and e["summary"] for e in case["timeline"])

    url = f"{API}/problem-reports/{world.report_ids[0]}/close"
    closed = ok(client.post(url, json={"resolution": "Replacement sent"}, headers=operator))
    assert (closed["status"], closed["resolution"]) == ("closed", "Replacement sent")
    assert closed["closed_by"] and closed["closed_at"]
    assert error(client.post(url, json={}, headers=admin)) == (409, "conflict")

    assert [r["id"] for r in ok(client.get(f"{API}/problem-reports", headers=admin))["items"]] == [
        world.report_ids[1]
    ]
    closed_ones = ok(client.get(f"{API}/problem-reports?status=closed", headers=admin))
    assert [r["id"] for r in closed_ones["items"]] == [world.report_ids[0]]
    assert ok(client.get(f"{API}/problem-reports?status=all", headers=admin))["total"] == 2


def test_another_organization_sees_nothing_and_finds_nothing(
    client: TestClient, admin: Headers, outsider: Headers, world: SupportWorld
) -> None:
    for status in ("open", "investigated", "all"):
        page = ok(client.get(f"{API}/alerts?status={status}", headers=outsider))
        assert (page["total"], page["items"]) == (0, [])
    for status in ("open", "closed", "all"):
        page = ok(client.get(f"{API}/problem-reports?status={status}", headers=outsider))
        assert (page["total"], page["items"]) == (0, [])
    alert, report = world.alert_id, world.report_ids[0]
    refused = [
        client.get(f"{API}/alerts/{alert}", headers=outsider),
        client.post(f"{API}/alerts/{alert}/investigate", json={"note": "x"}, headers=outsider),
        client.get(f"{API}/problem-reports/{report}", headers=outsider),
        client.post(f"{API}/problem-reports/{report}/close", json={}, headers=outsider),
        client.get(f"{API}/lookup", params={"scan": world.codes[0]}, headers=outsider),
    ]
    assert [error(r) for r in refused] == [(404, "not_found")] * 5
    # nothing changed for the owner
    assert ok(client.get(f"{API}/alerts/{alert}", headers=admin))["alert"]["status"] == "open"
    assert ok(client.get(f"{API}/problem-reports", headers=admin))["total"] == 2


def test_a_viewer_reads_but_cannot_investigate_or_close(
    client: TestClient, viewer: Headers, world: SupportWorld
) -> None:
    assert ok(client.get(f"{API}/alerts", headers=viewer))["total"] == 1
    assert ok(client.get(f"{API}/problem-reports", headers=viewer))["total"] == 2
    investigate = f"{API}/alerts/{world.alert_id}/investigate"
    close = f"{API}/problem-reports/{world.report_ids[0]}/close"
    assert client.post(investigate, json={"note": "x"}, headers=viewer).status_code == 403
    assert client.post(close, json={"resolution": "x"}, headers=viewer).status_code == 403


def test_unknown_ids_bad_filters_and_bodies_are_refused(
    client: TestClient, admin: Headers, world: SupportWorld
) -> None:
    assert error(client.get(f"{API}/alerts/999999", headers=admin)) == (404, "not_found")
    assert error(client.get(f"{API}/problem-reports/999999", headers=admin)) == (404, "not_found")
    for url in (
        f"{API}/alerts?status=closed",
        f"{API}/problem-reports?status=investigated",
        f"{API}/alerts?limit=0",
        f"{API}/alerts/0",
    ):
        assert client.get(url, headers=admin).status_code == 422, url
    investigate = f"{API}/alerts/{world.alert_id}/investigate"
    assert (
        client.post(investigate, json={"note": "x", "extra": 1}, headers=admin).status_code == 422
    )
    assert client.post(investigate, json={"note": "x" * 2001}, headers=admin).status_code == 422
    assert client.get(f"{API}/alerts").status_code == 401


def test_the_lookup_answers_raw_scans_for_the_owner_and_the_holder(
    client: TestClient,
    admin: Headers,
    rt: Runtime,
    headers_for: HeadersFor,
    world: SupportWorld,
) -> None:
    short_link = f"{rt.settings.resolver_base_url.rstrip('/')}/{world.codes[0]}"
    found = ok(client.get(f"{API}/lookup", params={"scan": short_link}, headers=admin))
    unit = ok(client.get(f"{API}/units/{world.codes[0]}", headers=admin))
    assert {k: found[k] for k in unit} == unit  # the unit as the units API shows it
    assert found["verification"]["verdict"] == "suspicious"
    assert found["verification"]["product"]["name"] == unit["product_name"]
    assert [a["id"] for a in found["alerts"]] == [world.alert_id]
    assert len(found["recent_scans"]) == 4

    retailer = headers_for(world.retailer, Role.VIEWER)
    theirs = ok(client.get(f"{API}/lookup", params={"scan": world.codes[1]}, headers=retailer))
    assert (theirs["code"], theirs["disposition"]) == (world.codes[1], "sellable_accessible")
    assert theirs["verification"]["verdict"] == "authentic"
    assert theirs["alerts"] == []  # alerts are the owner's
    sold = ok(client.get(f"{API}/lookup", params={"scan": world.codes[0]}, headers=retailer))
    assert sold["alerts"] == [] and sold["verification"]["verdict"] == "suspicious"


def test_the_lookup_refuses_garbage_containers_and_missing_scans(
    client: TestClient, admin: Headers, world: SupportWorld
) -> None:
    garbage = client.get(f"{API}/lookup", params={"scan": "!!not a code!!"}, headers=admin)
    assert error(garbage) == (422, "validation_error")
    pallet = client.get(f"{API}/lookup", params={"scan": "(00)009506000000000019"}, headers=admin)
    assert error(pallet) == (422, "validation_error")
    assert "container" in pallet.json()["error"]["message"]
    assert client.get(f"{API}/lookup", headers=admin).status_code == 422
    assert client.get(f"{API}/lookup", params={"scan": ""}, headers=admin).status_code == 422
