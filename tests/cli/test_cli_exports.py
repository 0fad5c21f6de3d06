"""``unitrace export``."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import BRAND, Unitrace, ok
from tests.factories import make_batch
from unitrace.domain.model import Principal
from unitrace.services import serialization
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
