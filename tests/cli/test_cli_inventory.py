"""``unitrace inventory``: a store is counted from arguments and a file of scans, closed,
shown (table, JSON, CSV), a difference resolved, and the counts listed with accuracy."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

from tests.cli.conftest import Unitrace, ok
from tests.inventory_data import stocked_store
from unitrace.adapters.clock import FixedClock
from unitrace.services import inventory, organizations, units
from unitrace.services.runtime import Runtime


def test_a_store_is_counted_closed_resolved_and_listed(
    unitrace: Unitrace, rt: Runtime, tmp_path: Path
) -> None:
    s = stocked_store(rt)
    c = s.c
    org = organizations.get_my_organization(rt, s.retailer).name
    started = json.loads(
        ok(
            unitrace("inventory", "start", "--org", org, "--location", str(s.north), "--json")
        ).stdout
    )
    count = str(started["id"])
    assert (started["status"], started["accuracy"]) == ("open", None)

    shelf = tmp_path / "shelf.txt"
    shelf.write_text(f"{s.case}\r\n{c[4]}\n\n{c[5]}\n", encoding="utf-8")
    first = ok(unitrace("inventory", "scan", count, "--org", org, "--codes-file", str(shelf),
                        "--area", "shelf A"))  # fmt: skip
    assert "Added 6 (0 already counted); 6 distinct code(s)" in first.stdout
    second = ok(
        unitrace("inventory", "scan", count, "--org", org, c[6], c[8], "--codes-file", "-",
                 input=f"{c[9]}\n{c[10]}\n{s.never_issued}\n")
    )  # fmt: skip
    assert f"Unknown to you: {s.never_issued}" in second.stdout
    bad = unitrace("inventory", "scan", count, "--org", org, "nonsense")
    assert bad.exit_code == 1 and "not readable" in bad.stderr

    closed = json.loads(ok(unitrace("inventory", "close", count, "--org", org, "--json")).stdout)
    figures = closed["count"]
    assert (figures["matched"], figures["missing"], figures["unexpected"]) == (6, 1, 4)
    assert (figures["wrong_location"], figures["accuracy"]) == (1, round(6 / 12, 4))
    table = ok(unitrace("inventory", "show", count, "--org", org)).stdout
    assert c[7] in table and "believed here, not scanned" in table

    done = ok(unitrace("inventory", "resolve", count, c[7], "stolen", "--org", org))
    assert f"Resolved {c[7]} as stolen" in done.stdout
    refused = unitrace("inventory", "resolve", count, c[7], "found", "--org", org)
    assert refused.exit_code == 1 and "already resolved as stolen" in refused.stderr
    noted = unitrace("inventory", "resolve", count, c[8], "noted", "--org", org)
    assert noted.exit_code == 1 and "say why" in noted.stderr
    assert figures["event_id"] and "Count event" in table

    sheet = tmp_path / "differences.csv"
    ok(unitrace("inventory", "show", count, "--org", org, "--csv", str(sheet)))
    with sheet.open(encoding="utf-8-sig", newline="") as handle:
        rows = {r["code"]: r for r in csv.DictReader(handle)}
    assert set(rows) == {c[6], c[7], c[8], c[9], c[10], s.never_issued}
    assert rows[c[7]]["resolution"] == "stolen" and rows[c[9]]["reason"] == "not_received"

    listed = json.loads(
        ok(unitrace("inventory", "list", "--org", org, "--status", "closed", "--json")).stdout
    )
    assert [(i["id"], i["accuracy"]) for i in listed["items"]] == [(int(count), 0.5)]
    assert "50.0%" in ok(unitrace("inventory", "list", "--org", org)).stdout


def test_the_accuracy_report_lists_closed_counts_oldest_first(
    unitrace: Unitrace, rt: Runtime, clock: FixedClock, tmp_path: Path
) -> None:
    s = stocked_store(rt)
    org = organizations.get_my_organization(rt, s.retailer).name
    first = inventory.start_count(rt, s.retailer, location_id=s.north)
    inventory.close_count(rt, s.retailer, first.id)  # nothing scanned: 0 %
    clock.advance(days=2)
    second = inventory.start_count(rt, s.retailer, location_id=s.north)
    inventory.add_scans(rt, s.retailer, second.id, scans=[s.case, *s.c[4:6], s.c[7]])
    inventory.close_count(rt, s.retailer, second.id)
    inventory.start_count(rt, s.retailer, location_id=s.south)  # open: not listed

    report = json.loads(ok(unitrace("report", "inventory-accuracy", "--org", org, "--json")).stdout)
    assert [(r["id"], r["accuracy"]) for r in report] == [(first.id, 0.0), (second.id, 1.0)]
    since = (clock.now - dt.timedelta(days=1)).isoformat()
    recent = ok(unitrace("report", "inventory-accuracy", "--org", org, "--since", since))
    assert "1 closed count(s)" in recent.stdout and "100.0%" in recent.stdout
    sheet = tmp_path / "accuracy.csv"
    ok(unitrace("report", "inventory-accuracy", "--org", org, "--csv", str(sheet)))
    with sheet.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["id"], r["matched"], r["accuracy"]) for r in rows] == [
        (str(first.id), "0", "0.0"), (str(second.id), "7", "1.0"),
    ]  # fmt: skip


def test_a_misplaced_unit_is_moved_here_and_a_missing_one_marked_lost_then_found(
    unitrace: Unitrace, rt: Runtime
) -> None:
    s = stocked_store(rt)
    c = s.c
    org = organizations.get_my_organization(rt, s.retailer).name
    count = inventory.start_count(rt, s.retailer, location_id=s.north)
    inventory.add_scans(rt, s.retailer, count.id, scans=[s.case, c[4], c[5], c[8]])
    inventory.close_count(rt, s.retailer, count.id)

    moved = ok(unitrace("inventory", "resolve", str(count.id), c[8], "moved_here", "--org", org))
    assert f"Resolved {c[8]} as moved_here; event " in moved.stdout
    assert units.get_unit(rt, s.retailer, c[8]).unit.location_id == s.north
    lost = ok(unitrace("inventory", "resolve", str(count.id), c[7], "lost", "--org", org))
    assert f"Resolved {c[7]} as lost; event " in lost.stdout
    assert units.get_unit(rt, s.retailer, c[7]).unit.disposition.value == "unknown"
    found = ok(unitrace("dispositions", "mark-found", c[7], "--reason", "behind a shelf",
                        "--org", org))  # fmt: skip
    assert "1 unit(s) now sellable_accessible." in found.stdout
    # sold: not held stock
    again = unitrace("dispositions", "mark-lost", c[6], "--reason", "x", "--org", org)
    assert again.exit_code == 1 and "already been sold" in again.stderr


def test_units_are_relocated_between_the_retailers_stores(unitrace: Unitrace, rt: Runtime) -> None:
    s = stocked_store(rt)
    c = s.c
    org = organizations.get_my_organization(rt, s.retailer).name
    moved = json.loads(
        ok(unitrace("units", "relocate", s.case, c[4], "--location", str(s.south),
                    "--reason", "balancing", "--org", org, "--json")).stdout
    )  # fmt: skip
    assert (moved["units"], moved["location_id"]) == (5, s.south)
    assert {units.get_unit(rt, s.retailer, code).unit.location_id for code in c[0:5]} == {s.south}
    plain = ok(unitrace("units", "relocate", c[7], "--location", str(s.south), "--org", org))
    assert "1 unit(s) now at " in plain.stdout and f"(ID {s.south})" in plain.stdout
    refused = unitrace("units", "relocate", c[7], "--location", str(s.south), "--org", org)
    assert refused.exit_code == 1 and "already at this location" in refused.stderr
