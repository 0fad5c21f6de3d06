"""Sell-through arithmetic: what the daily figures add up to (docs/analytics.md)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

DIMENSIONS = ("product", "batch", "brand", "store", "retailer", "market")
# what a regulator may group by: its market's figures, never a single store's or batch's
MARKET_LEVEL = ("product", "brand", "retailer", "market")
PERIODS = ("day", "week", "month")
# whole days on the shelf: (last day of the bucket, name); anything longer is days_over_60
SHELF_BUCKETS = ((7, "days_0_7"), (14, "days_8_14"), (30, "days_15_30"), (60, "days_31_60"))
SHELF_NAMES = (*(name for _, name in SHELF_BUCKETS), "days_over_60")
RATE_DAYS = 28  # without a window, weeks of supply use the sales of the last four weeks


class DimensionError(ValueError):
    pass


def parse_dimensions(
    text: str | Sequence[str], allowed: Sequence[str] = DIMENSIONS
) -> tuple[str, ...]:
    """``"product,store"`` (or a sequence) as dimension names, checked against ``allowed``."""
    names = [n.strip().lower() for n in (text.split(",") if isinstance(text, str) else text)]
    names = [n for n in names if n]
    if not names:
        raise DimensionError(f"group by at least one of: {', '.join(allowed)}")
    for name in names:
        if name not in allowed:
            raise DimensionError(f"cannot group by {name!r}: choose from {', '.join(allowed)}")
    if len(set(names)) != len(names):
        raise DimensionError("each dimension once")
    return tuple(names)


def median(histogram: Iterable[tuple[int, int]]) -> float | None:
    """The median of values given as (value, how many): the middle one, or the mean of the
    two middle ones for an even count; None when empty."""
    pairs = sorted((value, count) for value, count in histogram if count > 0)
    total = sum(count for _, count in pairs)
    if total == 0:
        return None

    def at(rank: int) -> int:
        seen = 0
        for value, count in pairs:
            seen += count
            if seen >= rank:
                return value
        return pairs[-1][0]

    return (at((total + 1) // 2) + at((total + 2) // 2)) / 2


def shelf_buckets(histogram: Iterable[tuple[int, int]]) -> dict[str, int]:
    """How many sales fell in 0–7, 8–14, 15–30, 31–60 and over 60 whole days."""
    result = dict.fromkeys(SHELF_NAMES, 0)
    for days, count in histogram:
        name = next((n for upper, n in SHELF_BUCKETS if days <= upper), "days_over_60")
        result[name] += count
    return result


def weeks_of_supply(on_hand: int | None, net_sold: int, days: int) -> float | None:
    """Weeks the units on hand last at the rate of ``net_sold`` over ``days`` days; None when
    nothing is on hand to judge or nothing sells."""
    if on_hand is None or days <= 0 or net_sold <= 0:
        return None
    return round(on_hand / (net_sold * 7 / days), 2)
