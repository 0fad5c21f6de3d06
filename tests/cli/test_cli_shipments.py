"""``unitrace shipments``: drafts, shipping, voiding, scanning and receiving with a report."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

from tests.cli.conftest import BRAND, Unitrace, ok
from tests.factories import first_location, make_batch, make_location, make_org
from unitrace.domain.model import OrganizationKind, Principal
from unitrace.services import containers, serialization, shipments, units
from unitrace.services.runtime import Runtime

RETAILER = "Corner Dispensary"
OTHER = "Elsewhere Distribution"


@dataclass(frozen=True)
class Parties:
    brand: Principal
    retailer: Principal
    store: int
    codes: list[str]  # ten units of the brand
    case: str  # a case holding codes[:4]


def as_json(result: Result) -> Any:
    return json.loads(ok(result).stdout)


@pytest.fixture
def parties(rt: Runtime, brand: Principal) -> Parties:
    retailer = make_org(rt, kind=OrganizationKind.RETAILER, name=RETAILER)
    store = make_location(rt, retailer)
    batch = make_batch(rt, brand)
    done = serialization.commission_units(rt, brand, batch_id=batch.id, quantity=10)
    codes = sorted(serialization.iter_commissioned_codes(rt, brand, event_id=done.event_id))
    case = containers.create_containers(rt, brand, kind="case")[0].code
    containers.pack(rt, brand, container=case, items=codes[:4])
    return Parties(brand, retailer, store, codes, case)


def _draft(unitrace: Unitrace, p: Parties, *items: str) -> dict[str, Any]:
    value: dict[str, Any] = as_json(unitrace(
        "shipments", "create", "--org", BRAND, "--to", str(p.retailer.organization_id),
        "--to-location", str(p.store), "--json", *items,
    ))  # fmt: skip
    return value


def _shipped(unitrace: Unitrace, p: Parties, *items: str) -> int:
    draft = _draft(unitrace, p, *items)
    ok(unitrace("shipments", "ship", str(draft["id"]), "--org", BRAND))
    return int(draft["id"])


def test_a_draft_is_built_changed_shown_and_cancelled(
    unitrace: Unitrace, rt: Runtime, parties: Parties
) -> None:
    p = parties
    draft = _draft(unitrace, p, p.case)
    sid = str(draft["id"])

    added = as_json(unitrace("shipments", "add", sid, p.codes[4], p.codes[5], "--org", BRAND,
                             "--json"))  # fmt: skip
    removed = as_json(unitrace("shipments", "remove", sid, p.codes[4], "--org", BRAND, "--json"))
    shown = ok(unitrace("shipments", "show", sid, "--org", BRAND)).stdout
    cancelled = ok(unitrace("shipments", "cancel", sid, "--org", BRAND))

    assert draft["status"] == "draft" and draft["items"] == [p.case]
    assert set(added["items"]) == {p.case, p.codes[4], p.codes[5]}
    assert set(removed["items"]) == {p.case, p.codes[5]}
    assert draft["number"] in shown and RETAILER in shown
    assert f"Cancelled draft shipment {draft['number']}." in cancelled.stdout
    assert shipments.get_shipment(rt, p.brand, draft["id"]).status == "cancelled"
    again = unitrace("shipments", "add", sid, p.codes[6], "--org", BRAND)
    assert again.exit_code == 1
    assert "no longer a draft" in again.stderr


def test_create_takes_the_source_location_arrival_date_and_notes(
    unitrace: Unitrace, rt: Runtime, parties: Parties
) -> None:
    p = parties
    origin = first_location(rt, p.brand)
    draft = _draft(unitrace, p, "--from-location", str(origin), "--expected-arrival",
                   "2026-12-01", "--notes", "dock 4")  # fmt: skip
    bad_date = unitrace("shipments", "create", "--org", BRAND, "--to", "1", "--to-location", "1",
                        "--expected-arrival", "next week")  # fmt: skip

    assert (draft["source_location_id"], draft["expected_arrival"], draft["notes"]) == (
        origin,
        "2026-12-01",
        "dock 4",
    )
    assert bad_date.exit_code == 2
    assert "is not a date" in bad_date.stderr


def test_a_clean_receipt_from_a_scans_file_exits_zero(
    unitrace: Unitrace, rt: Runtime, parties: Parties, tmp_path: Path
) -> None:
    p = parties
    sid = _shipped(unitrace, p, p.case)
    scans = tmp_path / "scans.txt"
    # the case's short link in lower case, then one of its units again, with a scanner's CR
    scans.write_bytes(f"https://id.example.test/{p.case.lower()}\r\n{p.codes[0]}\r\n".encode())

    result = ok(unitrace("shipments", "receive", str(sid), "--scans-file", str(scans),
                         "--org", RETAILER))  # fmt: skip

    assert "received. Received 4, missing 0, rejected 0, unexpected 0, unknown 0." in result.stdout
    assert "Event: ni:///sha-256;" in result.stdout
    held = {units.get_unit(rt, p.retailer, c).unit.disposition for c in p.codes[:4]}
    assert held == {"sellable_accessible"}


def test_discrepancies_are_reported_with_codes_and_exit_status_3(
    unitrace: Unitrace, rt: Runtime, parties: Parties
) -> None:
    p = parties
    sid = _shipped(unitrace, p, p.case, p.codes[4], p.codes[5])
    not_shipped = p.codes[8]

    result = unitrace("shipments", "receive", str(sid), p.case, not_shipped, "NOT-A-CODE",
                      "--org", RETAILER, "--json")  # fmt: skip

    assert result.exit_code == 3, (result.stdout, result.stderr)
    report = json.loads(result.stdout)
    assert report["status"] == "received_with_discrepancies"
    assert (report["received"], report["missing"], report["rejected"]) == (4, 2, 0)
    assert sorted(report["missing_codes"]) == [p.codes[4], p.codes[5]]
    # the brand's unshipped unit is as unknown to the retailer as a code that does not exist
    assert report["unknown"] == [not_shipped, "NOT-A-CODE"]
    assert not_shipped not in report["missing_codes"]
    assert units.get_unit(rt, p.brand, not_shipped).unit.disposition == "active"


def test_the_report_for_people_lists_each_kind_of_discrepancy(
    unitrace: Unitrace, parties: Parties
) -> None:
    p = parties
    sid = _shipped(unitrace, p, p.case, p.codes[4], p.codes[5])

    result = unitrace("shipments", "receive", str(sid), p.case, "zzz", "--reject", p.codes[4],
                      "--org", RETAILER)  # fmt: skip

    assert result.exit_code == 3
    out = result.stdout
    assert "Received 4, missing 1, rejected 1, unexpected 0, unknown 1." in out
    assert "Missing: 1" in out and p.codes[5] in out
    assert "Rejected: 1" in out and p.codes[4] in out
    assert "Unknown: 1" in out and "zzz" in out


def test_rejecting_the_whole_shipment_receives_nothing_and_the_shipper_can_void_it(
    unitrace: Unitrace, rt: Runtime, parties: Parties
) -> None:
    p = parties
    sid = _shipped(unitrace, p, p.case)

    refused = unitrace("shipments", "receive", str(sid), "--reject-shipment", "--org", RETAILER,
                       "--json")  # fmt: skip
    voided = ok(unitrace("shipments", "void", str(sid), "--reason", "refused at the door",
                         "--org", BRAND))  # fmt: skip

    assert refused.exit_code == 3
    assert json.loads(refused.stdout)["status"] == "rejected"
    assert "Voided" in voided.stdout and "4 unit(s) back in stock" in voided.stdout
    assert {units.get_unit(rt, p.brand, c).unit.disposition for c in p.codes[:4]} == {"active"}


def test_reject_shipment_with_reject_is_a_usage_error(unitrace: Unitrace, parties: Parties) -> None:
    result = unitrace("shipments", "receive", "1", "--reject-shipment", "--reject", "X",
                      "--org", RETAILER)  # fmt: skip

    assert result.exit_code == 2


def test_single_scans_are_classified_at_once(unitrace: Unitrace, parties: Parties) -> None:
    p = parties
    sid = _shipped(unitrace, p, p.case, p.codes[4])

    first = as_json(unitrace("shipments", "scan", p.case, "--org", RETAILER, "--json"))
    again = ok(unitrace("shipments", "scan", p.codes[0], "--shipment", str(sid),
                        "--org", RETAILER))  # fmt: skip
    stranger = unitrace("shipments", "scan", "garbage!", "--shipment", str(sid), "--org", RETAILER)

    assert (first["result"], first["units"], first["shipment_id"]) == ("expected", 4, sid)
    assert (first["scanned_units"], first["expected_units"]) == (4, 5)
    assert again.stdout.startswith("duplicate:")
    assert f"Shipment {sid}: 4 of 5 unit(s) in transit scanned." in again.stdout
    assert stranger.exit_code == 3
    assert stranger.stdout.startswith("unknown:")
    partial = unitrace("shipments", "receive", str(sid), "--org", RETAILER, "--json")
    assert partial.exit_code == 3
    assert json.loads(partial.stdout)["missing_codes"] == [p.codes[4]]


def test_list_by_direction_and_status(unitrace: Unitrace, parties: Parties) -> None:
    p = parties
    sid = _shipped(unitrace, p, p.case)
    draft = _draft(unitrace, p, p.codes[6])

    outgoing = as_json(unitrace("shipments", "list", "--outgoing", "--org", BRAND, "--json"))
    drafts = as_json(unitrace("shipments", "list", "--status", "draft", "--org", BRAND, "--json"))
    incoming = as_json(unitrace("shipments", "list", "--incoming", "--org", RETAILER, "--json"))
    table = ok(unitrace("shipments", "list", "--org", RETAILER)).stdout
    both = unitrace("shipments", "list", "--incoming", "--outgoing", "--org", BRAND)

    assert {s["id"] for s in outgoing["items"]} == {sid, draft["id"]}
    assert [s["id"] for s in drafts["items"]] == [draft["id"]]
    assert [s["id"] for s in incoming["items"]] == [sid]  # drafts are not shown to the receiver
    assert "1 shipments" in table and "shipped" in table
    assert both.exit_code == 2


def test_another_organization_sees_no_shipment_and_none_of_its_codes(
    unitrace: Unitrace, rt: Runtime, parties: Parties
) -> None:
    p = parties
    make_org(rt, kind=OrganizationKind.DISTRIBUTOR, name=OTHER)
    sid = _shipped(unitrace, p, p.case)

    shown = unitrace("shipments", "show", str(sid), "--org", OTHER)
    received = unitrace("shipments", "receive", str(sid), p.case, "--org", OTHER)
    drafted = unitrace("shipments", "create", "--org", OTHER, "--to",
                       str(p.retailer.organization_id), "--to-location", str(p.store),
                       p.codes[6])  # fmt: skip

    assert shown.exit_code == received.exit_code == 1
    assert shown.stderr.strip() == f"Error: shipment {sid} not found"
    assert received.stderr.strip() == f"Error: shipment {sid} not found"
    assert drafted.exit_code == 1
    assert drafted.stderr.startswith(f"Error: not found: {p.codes[6]}")


def test_receiving_from_stdin_in_a_real_process(
    cli_env: dict[str, str | None], parties: Parties, unitrace: Unitrace
) -> None:
    p = parties
    sid = _shipped(unitrace, p, p.case)
    env = {k: v for k, v in cli_env.items() if v is not None}
    scans = f"{p.case.lower()}\r\n\r\n{p.codes[1]}\r\n".encode()

    done = subprocess.run(  # noqa: S603 - our own interpreter and module, fixed arguments
        [sys.executable, "-m", "unitrace", "shipments", "receive", str(sid), "--scans-file", "-",
         "--org", RETAILER, "--json"],
        input=scans, env={**_base_env(), **env}, capture_output=True, timeout=120, check=False,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert (report["status"], report["received"], report["missing"]) == ("received", 4, 0)


def _base_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("UNITRACE_")}
