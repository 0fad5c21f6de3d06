"""GET /api/v1/exports/scans: the public scans of the caller's own units, nothing else."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient

from tests.factories import make_batch, make_org, make_product
from tests.web.conftest import HeadersFor
from unitrace.adapters.clock import FixedClock
from unitrace.domain.codes import generate_code
from unitrace.domain.model import Principal
from unitrace.services import scanlog, serialization, verification
from unitrace.services.runtime import Runtime

HEADER = "scanned_at,code,verdict,link_type,origin,country,region,city,agent,product,lot_number"


def _codes(rt: Runtime, who: Principal, batch_id: int, quantity: int) -> list[str]:
    done = serialization.commission_units(rt, who, batch_id=batch_id, quantity=quantity)
    return sorted(serialization.iter_commissioned_codes(rt, who, event_id=done.event_id))


def _scan(rt: Runtime, log: scanlog.ScanLog, code: str, city: str = "") -> str:
    """One public scan of ``code``; returns its verdict."""
    v = verification.verify(rt, code)
    log.record(
        v,
        scanlog.describe_origin(
            rt, "198.51.100.7", "Mozilla/5.0 (iPhone)", region="US-CA", city=city
        ),
    )
    return v.verdict.value


def _json(client: TestClient, query: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    answer = client.get(f"/api/v1/exports/scans?format=json{query}", headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    rows: list[dict[str, Any]] = json.loads(answer.text)
    return rows


def test_scans_export_has_the_callers_scans_only_filtered_and_formula_safe(
    rt: Runtime,
    clock: FixedClock,
    client: TestClient,
    headers_for: HeadersFor,
    brand: Principal,
    other_brand: Principal,
) -> None:
    flower = make_batch(rt, brand, make_product(rt, brand, name="Sunrise Haze 3.5 g"))
    gummies = make_batch(rt, brand)
    first, second = _codes(rt, brand, flower.id, 2)
    (third,) = _codes(rt, brand, gummies.id, 1)
    other_batch = make_batch(rt, other_brand)
    (foreign,) = _codes(rt, other_brand, other_batch.id, 1)
    unknown = generate_code()
    start = clock()

    log = scanlog.ScanLog(rt)
    verdicts = [_scan(rt, log, first, city="=cmd()")]
    _scan(rt, log, unknown)
    clock.advance(hours=1)
    verdicts.append(_scan(rt, log, second))
    _scan(rt, log, foreign)
    clock.advance(hours=1)
    verdicts.append(_scan(rt, log, third))
    _scan(rt, log, unknown)
    assert log.flush() == 6
    ours = headers_for(brand)

    answer = client.get("/api/v1/exports/scans", headers=ours)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert 'filename="scans-' in answer.headers["content-disposition"]
    lines = answer.text.removeprefix("\ufeff").split("\r\n")
    assert lines[0] == HEADER
    assert lines[-1] == ""
    assert [line.split(",")[1] for line in lines[1:-1]] == [first, second, third]
    assert ",'=cmd()," in lines[1] and ",=cmd()," not in answer.text
    assert unknown not in answer.text and foreign not in answer.text

    rows = _json(client, "", ours)
    assert [r["code"] for r in rows] == [first, second, third]
    assert [r["verdict"] for r in rows] == verdicts
    assert rows[0]["scanned_at"] == start.isoformat()
    assert rows[0]["city"] == "=cmd()"  # JSON is data, not a spreadsheet: left as it is
    assert {r["region"] for r in rows} == {"CA"}
    assert {r["link_type"] for r in rows} == {"gs1:pip"}
    assert all(r["origin"] and r["agent"] for r in rows)
    assert [(r["product"], r["lot_number"]) for r in rows[:2]] == [
        ("Sunrise Haze 3.5 g", flower.lot_number)
    ] * 2
    assert rows[2]["lot_number"] == gummies.lot_number

    # filters: scan time (since inclusive, until exclusive) and batch
    later = start.replace(minute=30).isoformat().replace("+00:00", "Z")
    assert [r["code"] for r in _json(client, f"&since={later}", ours)] == [second, third]
    assert [r["code"] for r in _json(client, f"&until={later}", ours)] == [first]
    assert [r["code"] for r in _json(client, f"&batch_id={gummies.id}", ours)] == [third]
    assert _json(client, f"&batch_id={other_batch.id}", ours) == []  # not ours: nothing

    # the other brand sees its own scan, a stranger nothing, and nobody the unknown code
    assert [r["code"] for r in _json(client, "", headers_for(other_brand))] == [foreign]
    stranger = client.get("/api/v1/exports/scans", headers=headers_for(make_org(rt)))
    assert stranger.text.removeprefix("\ufeff") == HEADER + "\r\n"
    naive = client.get("/api/v1/exports/scans?since=2026-11-24T12:00:00", headers=ours)
    assert naive.status_code == 422
    assert client.get("/api/v1/exports/scans").status_code == 401
