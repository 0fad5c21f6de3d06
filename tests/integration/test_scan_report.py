"""Scan analytics: consumer scans per product, batch and region over time."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

import pytest

from tests.factories import make_org
from tests.sell_through_data import commission
from unitrace.adapters.clock import FixedClock
from unitrace.errors import ValidationError
from unitrace.services import analytics, scanlog, verification
from unitrace.services.runtime import Runtime


def _monday(day: dt.date) -> str:
    return (day - dt.timedelta(days=day.weekday())).isoformat()


def test_scans_are_counted_per_key_and_period_against_a_worked_out_expectation(
    rt: Runtime, clock: FixedClock
) -> None:
    brand, other = make_org(rt), make_org(rt)
    first, first_codes = commission(rt, brand, 6)
    second, second_codes = commission(rt, brand, 4)
    _, other_codes = commission(rt, other, 2)
    log = scanlog.ScanLog(rt)
    plan = [  # (days after the start, code, region)
        (0, first_codes[0], "US-CA"),
        (0, first_codes[0], "US-CA"),
        (1, first_codes[1], "US-NV"),
        (8, first_codes[2], "US-CA"),
        (8, second_codes[0], "US-CA"),
        (9, second_codes[0], ""),
        (9, other_codes[0], "US-CA"),  # another brand's unit: never in this brand's report
    ]
    start = clock.now
    scans: dict[tuple[int, str], list[str]] = defaultdict(list)
    regions: Counter[tuple[str, str]] = Counter()
    for days, code, region in plan:
        clock.now = start + dt.timedelta(days=days)
        origin = scanlog.describe_origin(rt, f"198.51.100.{days + 1}", region=region)
        log.record(verification.verify(rt, code), origin)
        if code in other_codes:
            continue
        product = first if code in first_codes else second
        period = _monday(clock.now.date())
        scans[(product, period)].append(code)
        regions[(scanlog.describe_origin(rt, "1.1.1.1", region=region).region, period)] += 1
    log.flush()

    report = analytics.scan_report(rt, brand, by="product", period="week")
    got = {(r["key"], r["period"]): (r["scans"], r["units_scanned"]) for r in report.periods}
    assert got == {key: (len(codes), len(set(codes))) for key, codes in scans.items()}
    share = {r["key"]: (r["units"], r["units_scanned"], r["share_scanned"]) for r in report.share}
    assert share == {first: (6, 3, 0.5), second: (4, 1, 0.25)}

    by_region = analytics.scan_report(rt, brand, by="region", period="week")
    assert {(r["key"], r["period"]): r["scans"] for r in by_region.periods} == dict(regions)
    assert by_region.share == []

    daily = analytics.scan_report(
        rt, brand, by="batch", period="day", since=start + dt.timedelta(days=8)
    )
    assert sum(r["scans"] for r in daily.periods) == 3
    assert {r["period"] for r in daily.periods} == {
        (start + dt.timedelta(days=8)).date().isoformat(),
        (start + dt.timedelta(days=9)).date().isoformat(),
    }
    assert analytics.scan_report(rt, other, by="product").share[0]["units_scanned"] == 1


def test_unknown_dimensions_and_periods_are_refused(rt: Runtime) -> None:
    brand = make_org(rt)
    with pytest.raises(ValidationError, match="by must be one of"):
        analytics.scan_report(rt, brand, by="store")
    with pytest.raises(ValidationError, match="period must be one of"):
        analytics.scan_report(rt, brand, period="year")
