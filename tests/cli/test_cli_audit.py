"""``unitrace audit``: verifying the hash chain and reading a unit's history."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.cli.conftest import BRAND, Unitrace, ok
from tests.epcis import assert_valid_epcis
from tests.factories import make_batch
from unitrace.domain.codes import generate_codes
from unitrace.domain.model import Principal
from unitrace.services import serialization, units
from unitrace.services.runtime import Runtime


@pytest.fixture
def code(rt: Runtime, brand: Principal) -> str:
    for _ in range(2):
        batch = make_batch(rt, brand)
        serialization.commission_units(rt, brand, batch_id=batch.id, quantity=3)
    return units.list_units(rt, brand).items[0].unit.code


def test_verify_reports_an_intact_chain_and_exits_0(unitrace: Unitrace, code: str) -> None:
    result = ok(unitrace("audit", "verify", "--org", BRAND))

    assert "Intact: 2 events of Acme Farms verified (head seq 2)." in result.stdout


def test_verify_json_is_the_report(unitrace: Unitrace, code: str) -> None:
    report = json.loads(ok(unitrace("audit", "verify", "--org", BRAND, "--json")).stdout)

    assert (report["ok"], report["checked"], report["head_seq"], report["broken"]) == (
        True,
        2,
        2,
        None,
    )


def test_verify_names_the_first_broken_link_and_exits_1(
    unitrace: Unitrace, rt: Runtime, code: str
) -> None:
    with rt.db.transaction() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE events DISABLE TRIGGER USER"))
        else:
            conn.execute(text("DROP TRIGGER events_no_update"))
        conn.execute(text("UPDATE events SET biz_step = 'shipping' WHERE seq = 1"))
        if conn.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE events ENABLE TRIGGER USER"))

    result = unitrace("audit", "verify", "--org", BRAND)
    as_json = json.loads(unitrace("audit", "verify", "--org", BRAND, "--json").stdout)

    assert result.exit_code == 1
    assert "breaks at seq 1 (event_hash_mismatch)" in result.stdout
    assert as_json["ok"] is False
    assert (as_json["broken"]["seq"], as_json["broken"]["reason"]) == (1, "event_hash_mismatch")


def test_history_lists_the_units_events(unitrace: Unitrace, code: str) -> None:
    result = ok(unitrace("audit", "history", code.lower(), "--org", BRAND))

    assert "Commissioned 3 units" in result.stdout
    assert "Acme Farms" in result.stdout


def test_history_writes_a_valid_epcis_document(
    unitrace: Unitrace, code: str, tmp_path: Path
) -> None:
    out = tmp_path / "history.jsonld"

    result = ok(unitrace("audit", "history", code, "--org", BRAND, "--epcis", str(out)))
    printed = json.loads(ok(unitrace("audit", "history", code, "--org", BRAND, "--json")).stdout)

    written = json.loads(out.read_text(encoding="utf-8"))
    assert f"Wrote 1 events as an EPCIS 2.0 document to {out}." in result.stdout.replace("\n", "")
    assert written["epcisBody"] == printed["epcisBody"]
    assert_valid_epcis(written)


def test_history_of_an_unknown_unit_is_an_error(unitrace: Unitrace, brand: Principal) -> None:
    result = unitrace("audit", "history", generate_codes(1)[0], "--org", BRAND)

    assert result.exit_code == 1
    assert "not found" in result.stderr
