"""``unitrace export``."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import BRAND, Unitrace, ok
from tests.factories import make_batch, make_org
from unitrace.domain.codes import generate_code
from unitrace.domain.model import Principal
from unitrace.services import scanlog, serialization, verification
from unitrace.services.runtime import Runtime


def test_export_units_to_a_file_and_events_as_json(
    rt: Runtime, unitrace: Unitrace, brand: Principal, tmp_path: Path
) -> None:
    batch = make_batch(rt, brand)
    done = serialization.commission_units(rt, brand, batch_id=batch.id, quantity=4)
    codes = sorted(serialization.iter_commissioned_codes(rt, brand, event_id=done.event_id))
    target = tmp_path / "units.csv"
    ok(unitrace("export", "units", "--org", BRAND, "-o", str(target)))
    text = target.read_text(encoding="utf-8-sig")
    assert sorted(line.split(",")[0] for line in text.splitlines()[1:]) == codes
    events = json.loads(ok(unitrace("export", "events", "--org", BRAND, "--json")).stdout)
    assert [e["biz_step"] for e in events] == ["commissioning"]
    assert events[0]["quantity"] == 4
    refused = unitrace("export", "units", "--org", BRAND, "--disposition", "lost")
    assert refused.exit_code != 0 and "lost" in (refused.stdout + refused.stderr)
    empty = ok(unitrace("export", "sales", "--org", BRAND, "--since", "2026-01-01"))
    assert empty.stdout.splitlines()[0].startswith("code,store,sold_at,price")


def test_export_scans_of_the_organizations_units(
    rt: Runtime, unitrace: Unitrace, brand: Principal, tmp_path: Path
) -> None:
    batch = make_batch(rt, brand)
    done = serialization.commission_units(rt, brand, batch_id=batch.id, quantity=2)
    codes = sorted(serialization.iter_commissioned_codes(rt, brand, event_id=done.event_id))
    other = make_org(rt)
    other_done = serialization.commission_units(
        rt, other, batch_id=make_batch(rt, other).id, quantity=1
    )
    (foreign,) = serialization.iter_commissioned_codes(rt, other, event_id=other_done.event_id)
    log = scanlog.ScanLog(rt)
    for code, city in (
        (codes[0], "=cmd()"),
        (codes[1], "Oakland"),
        (foreign, ""),
        (generate_code(), ""),
    ):
        v = verification.verify(rt, code)
        log.record(
            v, scanlog.describe_origin(rt, "198.51.100.7", "Mozilla/5.0 (iPhone)", city=city)
        )
    log.flush()

    scans = json.loads(ok(unitrace("export", "scans", "--org", BRAND, "--json")).stdout)
    assert sorted(s["code"] for s in scans) == codes
    assert {s["lot_number"] for s in scans} == {batch.lot_number}
    target = tmp_path / "scans.csv"
    ok(unitrace("export", "scans", "--org", BRAND, "--batch", str(batch.id), "-o", str(target)))
    lines = target.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith("scanned_at,code,verdict,")
    assert sorted(line.split(",")[1] for line in lines[1:]) == codes
    assert ",'=cmd()," in target.read_text(encoding="utf-8")
    later = ok(unitrace("export", "scans", "--org", BRAND, "--since", "2099-01-01"))
    assert later.stdout.splitlines() == [lines[0]]
