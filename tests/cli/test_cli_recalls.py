"""``unitrace recalls``: a brand creates, previews, activates, reports and closes a recall;
a retailer lists what it holds and confirms quarantine by scanning."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from typer.testing import Result

from tests.cli.conftest import BRAND, Unitrace, ok
from tests.factories import make_batch, make_location, make_org
from unitrace.domain.model import OrganizationKind, Principal
from unitrace.services import containers, serialization, shipments
from unitrace.services.runtime import Runtime

RETAILER = "Corner Dispensary"


def as_json(result: Result) -> Any:
    return json.loads(ok(result).stdout)


def test_a_recall_is_created_previewed_activated_confirmed_reported_and_closed(
    unitrace: Unitrace, rt: Runtime, brand: Principal, tmp_path: Path
) -> None:
    retailer = make_org(rt, kind=OrganizationKind.RETAILER, name=RETAILER)
    store = make_location(rt, retailer)
    batch = make_batch(rt, brand)
    other_batch = make_batch(rt, brand)
    done = serialization.commission_units(rt, brand, batch_id=batch.id, quantity=8)
    codes = sorted(serialization.iter_commissioned_codes(rt, brand, event_id=done.event_id))
    serialization.commission_units(rt, brand, batch_id=other_batch.id, quantity=3)
    case = containers.create_containers(rt, brand, kind="case")[0].code
    containers.pack(rt, brand, container=case, items=codes[:4])
    shipment = shipments.create_shipment(
        rt, brand, destination_organization_id=retailer.organization_id,
        destination_location_id=store, items=[case],
    )  # fmt: skip
    shipments.ship(rt, brand, shipment.id)
    shipments.receive(rt, retailer, shipment.id, scans=[case])
    codes_file = tmp_path / "codes.txt"
    codes_file.write_text(f"{codes[6]}\n\n{codes[7]}\n", encoding="utf-8")

    # a case's contents plus two codes from a file; a second batch with --batch
    created = as_json(unitrace(
        "recalls", "create", "--org", BRAND, "--title", "Mould in retest",
        "--reason", "Failed microbial retest", "--severity", "II", "--container", case,
        "--codes-file", str(codes_file), "--batch", str(other_batch.id),
        "--retailer-instructions", "Pull and scan to confirm.", "--json",
    ))  # fmt: skip
    rid = str(created["id"])
    assert (created["status"], created["scope"]["unit_code_count"]) == ("draft", 2)
    assert created["scope"]["batch_ids"] == [other_batch.id]
    shown = ok(unitrace("recalls", "show", rid, "--org", BRAND)).stdout
    assert "Mould in retest" in shown and "Class II" in shown
    preview = as_json(unitrace("recalls", "preview", rid, "--org", BRAND, "--json"))
    assert (preview["total"], preview["will_recall"]) == (9, 9)
    assert "9 unit(s) in scope" in ok(unitrace("recalls", "preview", rid, "--org", BRAND)).stdout

    activated = ok(unitrace("recalls", "activate", rid, "--org", BRAND)).stdout
    assert "9 of 9 unit(s) recalled" in activated
    again = unitrace("recalls", "activate", rid, "--org", BRAND)
    assert again.exit_code != 0 and "draft" in again.stderr

    held = as_json(unitrace("recalls", "held", "--org", RETAILER, "--json"))
    assert [(h["recall_id"], h["units"]) for h in held] == [(created["id"], 4)]
    assert sorted(c["code"] for c in as_json(
        unitrace("recalls", "held", rid, "--org", RETAILER, "--json"))) == codes[:4]  # fmt: skip
    refused = unitrace("recalls", "confirm", "--org", RETAILER, "--action", "quarantined",
                       codes[0], codes[6])  # fmt: skip
    assert refused.exit_code != 0 and codes[6] in refused.stderr
    confirmed = ok(unitrace(
        "recalls", "confirm", "--org", RETAILER, "--action", "quarantined",
        "--location", str(store), *codes[:3],
    )).stdout  # fmt: skip
    assert "3 unit(s)" in confirmed

    report = as_json(unitrace("recalls", "report", rid, "--org", BRAND, "--json"))
    assert report["counts"]["quarantined"] == 3
    assert report["counts"]["at_holder"] == 1
    assert report["counts"]["at_issuer"] == 5
    table = ok(unitrace("recalls", "report", rid, "--org", BRAND)).stdout
    assert "quarantined" in table and RETAILER in table and "(89%)" in table
    out = tmp_path / "reach.csv"
    assert (
        "Wrote" in ok(unitrace("recalls", "report", rid, "--org", BRAND, "--csv", str(out))).stdout
    )
    rows = list(csv.DictReader(out.read_text(encoding="utf-8-sig").splitlines()))
    assert len(rows) == 9
    assert {r["code"] for r in rows if r["category"] == "quarantined"} == set(codes[:3])

    bad = unitrace("recalls", "release", rid, "--org", BRAND, "--reason", "x")
    assert bad.exit_code == 2  # neither codes nor --all
    released = as_json(unitrace("recalls", "release", rid, "--org", BRAND, "--reason",
                                "named by mistake", codes[7], "--json"))  # fmt: skip
    assert released["units"] == 1
    assert "Destroyed 4" in ok(unitrace("recalls", "destroy", rid, "--org", BRAND)).stdout
    listed = as_json(unitrace("recalls", "list", "--org", BRAND, "--status", "active", "--json"))
    assert [r["id"] for r in listed["items"]] == [created["id"]]
    closed = as_json(unitrace("recalls", "close", rid, "--org", BRAND, "--json"))
    assert closed["status"] == "closed" and closed["final_report"]["counts"]["destroyed"] == 4
    assert "closed" in ok(unitrace("recalls", "list", "--org", BRAND)).stdout
    # another organization sees nothing of it
    unknown = unitrace("recalls", "show", rid, "--org", RETAILER)
    assert unknown.exit_code != 0 and "not found" in unknown.stderr
