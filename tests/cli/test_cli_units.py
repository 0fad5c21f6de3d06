"""``unitrace units``: commissioning in bulk, looking units up, listing them."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tests.cli.conftest import BRAND, Unitrace, ok
from tests.factories import make_batch, make_org
from unitrace.domain.model import Batch, LabStatus, Principal
from unitrace.services import catalog, organizations, units
from unitrace.services.runtime import Runtime


@pytest.fixture
def released(rt: Runtime, brand: Principal) -> Batch:
    return make_batch(rt, brand)


def _commission(unitrace: Unitrace, batch_id: int, count: int, *extra: str) -> dict[str, object]:
    result = unitrace(
        "units", "commission", "--org", BRAND, "--batch", str(batch_id), "--count", str(count),
        "--json", *extra,
    )  # fmt: skip
    value: dict[str, object] = json.loads(ok(result).stdout)
    return value


def test_commissioning_prints_one_json_object_and_creates_the_units(
    unitrace: Unitrace, brand: Principal, rt: Runtime, released: Batch
) -> None:
    location = organizations.list_locations(rt, brand)[0]

    result = _commission(unitrace, released.id, 25, "--location", str(location.id))

    assert result["batch_id"] == released.id
    assert result["quantity"] == 25
    assert result["replayed"] is False
    assert str(result["event_id"]).startswith("ni:///sha-256;")
    assert "commissioned_at" in result
    page = units.list_units(rt, brand, batch_id=released.id, limit=100)
    assert page.total == 25
    assert {v.location_name for v in page.items} == {location.name}


def test_commissioning_for_people_reports_quantity_and_rate(
    unitrace: Unitrace, released: Batch
) -> None:
    result = ok(
        unitrace("units", "commission", "--org", BRAND, "--batch", str(released.id), "--count", "7")
    )

    assert (
        f"Commissioned 7 units of lot {released.lot_number} (batch {released.id})" in result.stdout
    )
    assert "units/s" in result.stdout
    assert "Event: ni:///sha-256;" in result.stdout


def test_the_same_idempotency_key_twice_creates_the_units_once(
    unitrace: Unitrace, brand: Principal, rt: Runtime, released: Batch
) -> None:
    first = _commission(unitrace, released.id, 10, "--idempotency-key", "run-42")
    second = _commission(unitrace, released.id, 10, "--idempotency-key", "run-42")

    assert second["replayed"] is True
    assert second["event_id"] == first["event_id"]
    assert units.list_units(rt, brand, batch_id=released.id).total == 10
    again = ok(unitrace("units", "commission", "--org", BRAND, "--batch", str(released.id),
                        "--count", "10", "--idempotency-key", "run-42"))  # fmt: skip
    assert "nothing new was created" in again.stdout
    assert units.list_units(rt, brand, batch_id=released.id).total == 10


def test_an_idempotency_key_reused_for_another_request_is_refused(
    unitrace: Unitrace, brand: Principal, rt: Runtime, released: Batch
) -> None:
    _commission(unitrace, released.id, 10, "--idempotency-key", "run-7")

    result = unitrace("units", "commission", "--org", BRAND, "--batch", str(released.id),
                      "--count", "11", "--idempotency-key", "run-7")  # fmt: skip

    assert result.exit_code == 1
    assert result.stderr == (
        "Error: idempotency key 'run-7' was already used for a different request\n"
    )
    assert units.list_units(rt, brand, batch_id=released.id).total == 10


def test_a_batch_that_has_not_passed_testing_cannot_be_commissioned(
    unitrace: Unitrace, brand: Principal, rt: Runtime
) -> None:
    pending = make_batch(rt, brand, lab=catalog.LabResultsDraft(LabStatus.PENDING))

    result = unitrace("units", "commission", "--org", BRAND, "--batch", str(pending.id),
                      "--count", "5", "--json")  # fmt: skip

    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"Error: batch {pending.lot_number} has lab status 'pending'; "
        "only a batch that passed testing can be serialized\n"
    )
    assert units.list_units(rt, brand).total == 0


def test_codes_out_writes_every_new_code_with_its_short_url(
    unitrace: Unitrace, brand: Principal, rt: Runtime, released: Batch, tmp_path: Path
) -> None:
    out = tmp_path / "codes.csv"

    result = _commission(unitrace, released.id, 30, "--codes-out", str(out))

    with out.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    page = units.list_units(rt, brand, event_id=str(result["event_id"]), limit=100)
    assert sorted(r["code"] for r in rows) == sorted(v.unit.code for v in page.items)
    assert len(rows) == 30
    assert all(r["short_url"] == f"https://id.example.test/{r['code']}" for r in rows)


def test_a_unit_is_shown_by_its_code_in_any_case(
    unitrace: Unitrace, brand: Principal, rt: Runtime, released: Batch
) -> None:
    _commission(unitrace, released.id, 3)
    code = units.list_units(rt, brand).items[0].unit.code

    shown = json.loads(ok(unitrace("units", "show", code.lower(), "--org", BRAND, "--json")).stdout)
    table = ok(unitrace("units", "show", code, "--org", BRAND)).stdout

    assert (shown["code"], shown["batch_id"], shown["disposition"]) == (code, released.id, "active")
    assert shown["short_url"] == f"https://id.example.test/{code}"
    assert shown["lot_number"] == released.lot_number
    assert code in table
    assert "active" in table


def test_a_malformed_code_is_an_error_that_says_what_is_wrong(
    unitrace: Unitrace, brand: Principal
) -> None:
    result = unitrace("units", "show", "ABC", "--org", BRAND)

    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "Error: code 'ABC' has 3 characters; unitrace codes have 14",
        "  reason: bad_length",
    ]


def test_another_organizations_unit_is_not_found(
    unitrace: Unitrace, brand: Principal, rt: Runtime, released: Batch
) -> None:
    _commission(unitrace, released.id, 1)
    code = units.list_units(rt, brand).items[0].unit.code
    make_org(rt, name="Snoopers")

    result = unitrace("units", "show", code, "--org", "Snoopers")

    assert result.exit_code == 1
    assert result.stderr == f"Error: unit {code} not found\n"


def test_units_are_listed_with_filters_and_pages(
    unitrace: Unitrace, brand: Principal, rt: Runtime, released: Batch
) -> None:
    other = make_batch(rt, brand)
    _commission(unitrace, released.id, 5)
    _commission(unitrace, other.id, 3)

    page = json.loads(ok(unitrace("units", "list", "--org", BRAND, "--batch", str(released.id),
                                  "--limit", "2", "--offset", "1", "--json")).stdout)  # fmt: skip
    sold = json.loads(ok(unitrace("units", "list", "--org", BRAND, "--disposition", "retail_sold",
                                  "--json")).stdout)  # fmt: skip
    table = ok(unitrace("units", "list", "--org", BRAND, "--limit", "3")).stdout

    assert (page["total"], page["limit"], page["offset"], len(page["items"])) == (5, 2, 1, 2)
    assert {u["batch_id"] for u in page["items"]} == {released.id}
    assert sold["total"] == 0
    assert "8 units" in table
    assert "Showing 1–3 of 8" in table


def test_an_out_of_range_page_size_is_a_usage_error(unitrace: Unitrace, brand: Principal) -> None:
    result = unitrace("units", "list", "--org", BRAND, "--limit", "0")

    assert result.exit_code == 2
    assert "--limit" in result.stderr


def test_codes_out_into_a_missing_directory_is_refused_before_anything_is_created(
    unitrace: Unitrace, brand: Principal, rt: Runtime, released: Batch, tmp_path: Path
) -> None:
    out = tmp_path / "no-such-dir" / "codes.csv"

    result = unitrace("units", "commission", "--org", BRAND, "--batch", str(released.id),
                      "--count", "5", "--codes-out", str(out))  # fmt: skip

    assert result.exit_code == 2
    assert "--codes-out" in result.stderr
    assert units.list_units(rt, brand).total == 0
