"""Sell-through from the event log, compared with figures worked out from the scenario."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from tests.factories import make_location, make_org
from tests.sell_through_data import commission, deliver
from unitrace.adapters.clock import FixedClock
from unitrace.domain.model import OrganizationKind
from unitrace.errors import ValidationError
from unitrace.services import analytics, retail
from unitrace.services.runtime import Runtime


def test_sell_through_counts_what_the_events_say_and_nothing_undone(
    rt: Runtime, clock: FixedClock
) -> None:
    brand, other_brand = make_org(rt), make_org(rt)
    retailer = make_org(rt, kind=OrganizationKind.RETAILER)
    north, south = make_location(rt, retailer), make_location(rt, retailer)
    product, codes = commission(rt, brand, 10)
    other_product, other_codes = commission(rt, other_brand, 3)
    deliver(rt, brand, retailer, north, codes[:6])
    deliver(rt, brand, retailer, south, codes[6:10])
    deliver(rt, other_brand, retailer, north, other_codes)
    clock.advance(days=3)
    retail.sell(rt, retailer, location_id=north, codes=codes[:3])
    retail.sell(rt, retailer, location_id=south, codes=[codes[6]])
    retail.sell(rt, retailer, location_id=north, codes=[other_codes[0]])
    retail.return_unit(rt, retailer, location_id=north, code=codes[0], action="restock")
    retail.undo_sale(rt, retailer, code=codes[6], reason="rang up the wrong jar")

    # worked out from the scenario above, independently of the service
    supplied = Counter({(product, north): 6, (product, south): 4, (other_product, north): 3})
    sold = Counter({(product, north): 3, (other_product, north): 1})  # the south sale was undone
    returned = Counter({(product, north): 1})

    def figures(rows: list[analytics.SellThroughRow]) -> dict[tuple[int, int], tuple[int, ...]]:
        return {(r.product_id, r.store_id): (r.supplied, r.sold, r.returned) for r in rows}

    expected = {key: (supplied[key], sold[key], returned[key]) for key in supplied}
    brand_rows = analytics.sell_through(rt, brand)
    assert figures(brand_rows) == {k: v for k, v in expected.items() if k[0] == product}
    north_row = next(r for r in brand_rows if r.store_id == north)
    assert (north_row.net_sold, north_row.sell_through) == (2, round(2 / 6, 4))
    south_row = next(r for r in brand_rows if r.store_id == south)
    assert south_row.sell_through == 0.0
    assert figures(analytics.sell_through(rt, retailer)) == expected
    assert figures(analytics.sell_through(rt, other_brand)) == {(other_product, north): (3, 1, 0)}
    # a window that starts after the deliveries sees only the sales and the return
    later = analytics.sell_through(rt, retailer, since=clock.now - dt.timedelta(hours=1))
    assert figures(later) == {
        (product, north): (0, 3, 1),
        (other_product, north): (0, 1, 0),
    }
    assert analytics.sell_through(rt, make_org(rt)) == []


def test_days_on_shelf_run_from_the_last_receipt_at_the_store_to_each_sale(
    rt: Runtime, clock: FixedClock
) -> None:
    brand = make_org(rt)
    retailer = make_org(rt, kind=OrganizationKind.RETAILER)
    north, south = make_location(rt, retailer), make_location(rt, retailer)
    _, codes = commission(rt, brand, 6)
    deliver(rt, brand, retailer, north, codes[:4])
    deliver(rt, brand, retailer, south, codes[4:])
    clock.advance(days=3)
    retail.sell(rt, retailer, location_id=north, codes=codes[:3])
    retail.sell(rt, retailer, location_id=south, codes=[codes[4]])
    retail.undo_sale(rt, retailer, code=codes[4], reason="wrong jar")
    retail.return_unit(rt, retailer, location_id=north, code=codes[0], action="restock")
    clock.advance(days=10)
    retail.sell(rt, retailer, location_id=north, codes=[codes[0]])  # sold again, 13 days in

    rows = {r.store_id: r for r in analytics.sell_through(rt, brand)}
    # worked out: sales at north 3, 3, 3 and 13 days after the delivery; none stand at south
    assert rows[north].median_days == 3.0
    assert rows[north].mean_days == 5.5
    assert rows[north].shelf_days == {
        "days_0_7": 3, "days_8_14": 1, "days_15_30": 0, "days_31_60": 0, "days_over_60": 0,
    }  # fmt: skip
    assert (rows[south].median_days, rows[south].shelf_days) == (None, None)
    recent = {r.store_id: r for r in analytics.sell_through(rt, brand, since=clock.now)}
    assert (recent[north].sold, recent[north].median_days) == (1, 13.0)


def test_a_bad_window_is_refused(rt: Runtime) -> None:
    brand = make_org(rt)
    now = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    with pytest.raises(ValidationError, match="until must be after since"):
        analytics.sell_through(rt, brand, since=now, until=now)
    with pytest.raises(ValidationError, match="time zone"):
        analytics.sell_through(rt, brand, since=dt.datetime(2026, 12, 1))  # noqa: DTZ001
