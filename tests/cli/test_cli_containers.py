"""``unitrace containers``: cases and pallets created, packed, unpacked and shown."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

from tests.cli.conftest import BRAND, Unitrace, ok
from tests.factories import make_batch, make_org
from unitrace.domain.model import Principal
from unitrace.domain.scan import sscc_check_digit
from unitrace.services import containers, serialization
from unitrace.services.runtime import Runtime

OTHER = "Other Farms"


def as_json(result: Result) -> Any:
    return json.loads(ok(result).stdout)


@pytest.fixture
def codes(rt: Runtime, brand: Principal) -> list[str]:
    """Eight commissioned units of the brand."""
    batch = make_batch(rt, brand)
    done = serialization.commission_units(rt, brand, batch_id=batch.id, quantity=8)
    return sorted(serialization.iter_commissioned_codes(rt, brand, event_id=done.event_id))


def _create(unitrace: Unitrace, kind: str, *extra: str) -> list[dict[str, Any]]:
    value: list[dict[str, Any]] = as_json(
        unitrace("containers", "create", "--org", BRAND, "--kind", kind, "--json", *extra)
    )
    return value


def test_create_makes_empty_cases_with_their_own_codes(
    unitrace: Unitrace, rt: Runtime, brand: Principal
) -> None:
    created = _create(unitrace, "case", "--count", "3")

    assert [c["kind"] for c in created] == ["case"] * 3
    assert len({c["code"] for c in created}) == 3
    assert all(c["total_units"] == 0 and c["disposition"] == "active" for c in created)
    page = containers.list_containers(rt, brand, kind="case")
    assert {v.code for v in page.items} == {c["code"] for c in created}


def test_a_pallet_gets_the_sscc_it_is_given_and_a_bad_one_is_refused(
    unitrace: Unitrace, brand: Principal
) -> None:
    body = "00850012300000001"
    sscc = body + sscc_check_digit(body)

    (pallet,) = _create(unitrace, "pallet", "--sscc", sscc)
    misread = body + str((int(sscc[-1]) + 1) % 10)
    wrong = unitrace("containers", "create", "--org", BRAND, "--kind", "pallet", "--sscc", misread)

    assert (pallet["kind"], pallet["sscc"]) == ("pallet", sscc)
    assert wrong.exit_code == 1
    assert "check digit" in wrong.stderr
    shown = as_json(unitrace("containers", "show", sscc, "--org", BRAND, "--json"))
    assert shown["code"] == pallet["code"]


def test_an_unknown_kind_is_a_usage_error(unitrace: Unitrace, brand: Principal) -> None:
    result = unitrace("containers", "create", "--org", BRAND, "--kind", "crate")

    assert result.exit_code == 2
    assert "crate" in result.stderr


def test_packing_units_from_a_file_of_raw_scans_and_then_the_case_into_a_pallet(
    unitrace: Unitrace, brand: Principal, codes: list[str], tmp_path: Path
) -> None:
    (case,) = _create(unitrace, "case")
    (pallet,) = _create(unitrace, "pallet")
    scans = tmp_path / "scans.txt"
    # a short link in lower case, a hyphenated code, a code with a scanner's CR, a blank line
    scans.write_bytes(f"https://id.example.test/{codes[2].lower()}\r\n{codes[3]}\r\n\n".encode())

    packed = as_json(unitrace("containers", "pack", case["code"], codes[0], codes[1],
                              "--from-file", str(scans), "--org", BRAND, "--json"))  # fmt: skip
    nested = ok(unitrace("containers", "pack", pallet["code"], case["code"], "--org", BRAND))

    assert (packed["packed"], packed["units"]) == (4, 4)
    assert packed["event_id"].startswith("ni:///sha-256;")
    assert f"{pallet['code']} now holds 4 unit(s)" in nested.stdout
    view = as_json(unitrace("containers", "show", pallet["code"], "--org", BRAND, "--json"))
    assert view["children"] == [case["code"]]
    assert view["total_units"] == 4
    inner = as_json(unitrace("containers", "show", case["code"], "--org", BRAND, "--json"))
    assert sorted(inner["units"]) == codes[:4]
    assert inner["parent_code"] == pallet["code"]
    people = ok(unitrace("containers", "show", case["code"], "--org", BRAND)).stdout
    assert f"Case {case['code']}" in people and pallet["code"] in people


def test_packing_reads_scans_from_stdin(
    unitrace: Unitrace, brand: Principal, codes: list[str]
) -> None:
    (case,) = _create(unitrace, "case")

    result = unitrace("containers", "pack", case["code"], "--from-file", "-", "--org", BRAND,
                      input=f"{codes[0]}\n{codes[1]}\r\n")  # fmt: skip

    assert "Packed 2 item(s)" in ok(result).stdout


def test_repacking_takes_a_unit_out_of_its_old_case_first(
    unitrace: Unitrace, rt: Runtime, brand: Principal, codes: list[str]
) -> None:
    first, second = _create(unitrace, "case", "--count", "2")
    ok(unitrace("containers", "pack", first["code"], *codes[:3], "--org", BRAND))

    moved = ok(unitrace("containers", "pack", second["code"], codes[0], "--org", BRAND))

    assert f"Taken out of {first['code']} first (repacked)." in moved.stdout
    assert containers.get_container(rt, brand, first["code"]).total_units == 2
    assert containers.get_container(rt, brand, second["code"]).units == (codes[0],)


def test_unpack_takes_out_named_items_or_everything(
    unitrace: Unitrace, rt: Runtime, brand: Principal, codes: list[str]
) -> None:
    (case,) = _create(unitrace, "case")
    ok(unitrace("containers", "pack", case["code"], *codes[:4], "--org", BRAND))

    one = as_json(unitrace("containers", "unpack", case["code"], codes[0], "--org", BRAND,
                           "--json"))  # fmt: skip
    rest = as_json(unitrace("containers", "unpack", case["code"], "--org", BRAND, "--json"))
    empty = unitrace("containers", "unpack", case["code"], "--org", BRAND)

    assert (one["packed"], one["units"]) == (1, 3)
    assert (rest["packed"], rest["units"]) == (3, 0)
    assert empty.exit_code == 1
    assert empty.stderr.strip() == f"Error: {case['code']} is empty"
    assert containers.get_container(rt, brand, case["code"]).total_units == 0


def test_pack_without_items_is_an_error(unitrace: Unitrace, brand: Principal) -> None:
    (case,) = _create(unitrace, "case")

    result = unitrace("containers", "pack", case["code"], "--org", BRAND)

    assert result.exit_code == 1
    assert "name at least one item" in result.stderr


def test_another_organizations_containers_and_units_are_not_found(
    unitrace: Unitrace, rt: Runtime, brand: Principal, codes: list[str]
) -> None:
    make_org(rt, name=OTHER)
    (case,) = _create(unitrace, "case")
    (theirs,) = as_json(unitrace("containers", "create", "--org", OTHER, "--kind", "case",
                                 "--json"))  # fmt: skip

    shown = unitrace("containers", "show", case["code"], "--org", OTHER)
    packed = unitrace("containers", "pack", theirs["code"], codes[0], "--org", OTHER)
    listed = as_json(unitrace("containers", "list", "--org", OTHER, "--json"))

    assert shown.exit_code == 1 and packed.exit_code == 1
    assert shown.stderr.startswith("Error: not found")
    assert packed.stderr.startswith(f"Error: not found: {codes[0]}")
    assert [c["code"] for c in listed["items"]] == [theirs["code"]]
    assert containers.get_container(rt, brand, case["code"]).total_units == 0


def test_list_filters_by_kind_and_top_level(
    unitrace: Unitrace, brand: Principal, codes: list[str]
) -> None:
    cases = _create(unitrace, "case", "--count", "2")
    (pallet,) = _create(unitrace, "pallet")
    ok(unitrace("containers", "pack", pallet["code"], cases[0]["code"], "--org", BRAND))

    only_pallets = as_json(unitrace("containers", "list", "--org", BRAND, "--kind", "pallet",
                                    "--json"))  # fmt: skip
    top = as_json(unitrace("containers", "list", "--org", BRAND, "--top-level", "--json"))
    table = ok(unitrace("containers", "list", "--org", BRAND)).stdout

    assert [c["code"] for c in only_pallets["items"]] == [pallet["code"]]
    assert {c["code"] for c in top["items"]} == {pallet["code"], cases[1]["code"]}
    assert "3 containers" in table and cases[0]["code"] in table
