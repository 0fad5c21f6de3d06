"""Sell-through arithmetic: medians from histograms, shelf buckets, weeks of supply."""

from __future__ import annotations

import statistics

import pytest
from hypothesis import given
from hypothesis import strategies as st

from unitrace.domain import sellthrough as rules

HISTOGRAMS = st.lists(
    st.tuples(st.integers(min_value=0, max_value=400), st.integers(min_value=0, max_value=50)),
    max_size=30,
)


@given(HISTOGRAMS)
def test_the_median_of_a_histogram_is_the_median_of_the_values_it_stands_for(
    histogram: list[tuple[int, int]],
) -> None:
    values = [value for value, count in histogram for _ in range(count)]
    expected = statistics.median(values) if values else None
    assert rules.median(histogram) == expected


@given(HISTOGRAMS)
def test_every_sale_falls_in_exactly_one_shelf_bucket(histogram: list[tuple[int, int]]) -> None:
    buckets = rules.shelf_buckets(histogram)
    assert list(buckets) == list(rules.SHELF_NAMES)
    assert sum(buckets.values()) == sum(count for _, count in histogram)


def test_shelf_buckets_include_their_last_day() -> None:
    buckets = rules.shelf_buckets([(0, 1), (7, 1), (8, 1), (14, 1), (30, 1), (31, 1), (61, 2)])
    assert buckets == {
        "days_0_7": 2, "days_8_14": 2, "days_15_30": 1, "days_31_60": 1, "days_over_60": 2,
    }  # fmt: skip


def test_weeks_of_supply_is_stock_over_the_weekly_rate() -> None:
    assert rules.weeks_of_supply(6, 4, 28) == 6.0  # 1 a week
    assert rules.weeks_of_supply(10, 20, 7) == 0.5
    assert rules.weeks_of_supply(5, 0, 28) is None  # nothing sells
    assert rules.weeks_of_supply(5, -1, 28) is None  # more came back than went out
    assert rules.weeks_of_supply(None, 4, 28) is None


def test_dimensions_are_parsed_and_checked() -> None:
    assert rules.parse_dimensions(" Product , store ") == ("product", "store")
    assert rules.parse_dimensions(["market"]) == ("market",)
    with pytest.raises(rules.DimensionError, match="cannot group by 'store'"):
        rules.parse_dimensions("store", rules.MARKET_LEVEL)
    with pytest.raises(rules.DimensionError, match="each dimension once"):
        rules.parse_dimensions("batch,batch")
