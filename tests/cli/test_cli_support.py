"""``unitrace alerts``, ``reports`` and ``scans``: a brand lists and investigates its clone
alerts, reads and closes consumer problem reports, and applies the scan log's retention."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any

from typer.testing import Result

from tests.cli.conftest import BRAND, Unitrace, ok
from tests.factories import make_org
from tests.support_data import make_support_world
from unitrace.adapters.clock import FixedClock
from unitrace.domain.model import Principal
from unitrace.services import scanlog, support, verification
from unitrace.services.runtime import Runtime


def as_json(result: Result) -> Any:
    return json.loads(ok(result).stdout)


def failed(result: Result) -> str:
    assert result.exit_code == 1, (result.stdout, result.stderr)
    return result.stderr


def test_alerts_are_listed_and_investigated_once(
    unitrace: Unitrace, rt: Runtime, brand: Principal
) -> None:
    world = make_support_world(rt, brand)
    listed = ok(unitrace("alerts", "list", "--org", BRAND)).stdout
    assert "1 alerts" in listed and world.codes[0] in listed and "many_origins" in listed
    page = as_json(unitrace("alerts", "list", "--org", BRAND, "--json"))
    assert (page["total"], page["items"][0]["id"]) == (1, world.alert_id)

    aid = str(world.alert_id)
    done = ok(unitrace("alerts", "investigate", aid, "--org", BRAND, "--note", "Staff scans"))
    assert f"Alert {aid} (many_origins, unit {world.codes[0]}) marked investigated." in done.stdout
    again = unitrace("alerts", "investigate", aid, "--org", BRAND, "--note", "again")
    assert "already investigated" in failed(again)
    assert as_json(unitrace("alerts", "list", "--org", BRAND, "--json"))["total"] == 0
    investigated = as_json(
        unitrace("alerts", "list", "--org", BRAND, "--status", "investigated", "--json")
    )
    assert [(a["id"], a["note"]) for a in investigated["items"]] == [
        (world.alert_id, "Staff scans")
    ]
    assert (
        as_json(unitrace("alerts", "list", "--org", BRAND, "--status", "all", "--json"))["total"]
        == 1
    )
    assert unitrace("alerts", "list", "--org", BRAND, "--status", "closed").exit_code == 2

    make_org(rt, name="Other Farms")
    assert as_json(unitrace("alerts", "list", "--org", "Other Farms", "--json"))["total"] == 0
    theirs = unitrace("alerts", "investigate", aid, "--org", "Other Farms", "--note", "x")
    assert "not found" in failed(theirs)


def test_reports_are_listed_shown_and_closed_once(
    unitrace: Unitrace, rt: Runtime, brand: Principal
) -> None:
    world = make_support_world(rt, brand)
    first, second = (str(i) for i in world.report_ids)
    listed = ok(unitrace("reports", "list", "--org", BRAND)).stdout
    assert "2 reports" in listed and "Damaged or tampered package" in listed
    assert "The seal was broken" in listed

    shown = ok(unitrace("reports", "show", first, "--org", BRAND)).stdout
    assert "The seal was broken" in shown and world.codes[0] in shown
    assert "suspicious" in shown and "History" in shown and "retail_selling" in shown
    case = as_json(unitrace("reports", "show", first, "--org", BRAND, "--json"))
    assert case["report"]["id"] == world.report_ids[0]
    assert case["verification"]["verdict"] == "suspicious"
    assert case["timeline"][0]["biz_step"] == "commissioning"

    closed = ok(unitrace("reports", "close", first, "--org", BRAND, "--resolution", "Refunded"))
    assert f"Report {first} closed." in closed.stdout
    again = unitrace("reports", "close", first, "--org", BRAND, "--resolution", "x")
    assert "already closed" in failed(again)
    still_open = as_json(unitrace("reports", "list", "--org", BRAND, "--json"))
    assert [r["id"] for r in still_open["items"]] == [int(second)]
    done = as_json(unitrace("reports", "list", "--org", BRAND, "--status", "closed", "--json"))
    assert [(r["id"], r["resolution"]) for r in done["items"]] == [(int(first), "Refunded")]

    make_org(rt, name="Other Farms")
    assert "not found" in failed(unitrace("reports", "show", first, "--org", "Other Farms"))
    assert as_json(unitrace("reports", "list", "--org", "Other Farms", "--json"))["total"] == 0
    assert "not found" in failed(unitrace("reports", "show", "999999", "--org", BRAND))


def test_scans_purge_applies_the_retention_settings(
    unitrace: Unitrace, rt: Runtime, brand: Principal, clock: FixedClock
) -> None:
    world = make_support_world(rt, brand)
    # Two scans and a report with contact details from long ago, beside today's.
    log = scanlog.ScanLog(rt)
    origin = scanlog.describe_origin(rt, "192.0.2.1", "curl/8")
    long_ago = clock() - dt.timedelta(days=5000)
    for code in world.codes[:2]:
        log.record(dataclasses.replace(verification.verify(rt, code), checked_at=long_ago), origin)
    log.flush()
    clock.advance(days=-5000)
    contact = support.Contact(name="Ada", email="ada@example.com", consent=True)
    old = support.report_problem(
        rt, world.codes[1], kind="other", message="Old", contact=contact, origin=origin
    )
    clock.advance(days=5000)

    env: dict[str, str | None] = {
        "UNITRACE_SCAN_RETENTION_DAYS": "4000",
        "UNITRACE_CONTACT_RETENTION_DAYS": "4000",
    }
    done = ok(unitrace("scans", "purge", env=env)).stdout
    assert "Deleted 2 scan(s); erased the contact details of 1 record(s)." in done
    assert as_json(unitrace("scans", "purge", "--json", env=env)) == {"scans": 0, "contacts": 0}
    report = support.get_report(rt, brand, old).report
    assert (report.contact_name, report.contact_email, report.message) == (None, None, "Old")
    _, scans = support.alert_scans(rt, brand, world.alert_id)
    assert len(scans) == 4  # today's scans are kept
