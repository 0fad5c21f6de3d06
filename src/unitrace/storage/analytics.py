"""Sell-through from the event log: one grouped statement over the events that count.

An event counts unless it is an error declaration or a later event declares it wrong, so
an undone sale or receipt drops out of every figure by itself: nothing is a counter that
could drift from the events.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, and_, case, exists, func, select
from sqlalchemy.orm import aliased

from unitrace.storage.schema import event_units, events, locations, organizations, products, units


def _counted_events(since: dt.datetime | None, until: dt.datetime | None) -> Any:
    """Receiving and retail-selling events that stand (with their store), as a subquery."""
    declaring = aliased(events)
    where = [
        events.c.biz_step.in_(("receiving", "retail_selling")),
        events.c.error_declaration.is_(None),
        ~exists().where(declaring.c.declares_error_on == events.c.id),
    ]
    if since is not None:
        where.append(events.c.event_time >= since)
    if until is not None:
        where.append(events.c.event_time < until)
    return (
        select(
            events.c.id,
            events.c.biz_step,
            events.c.disposition,
            events.c.event_time,
            events.c.biz_location_id,
        )
        .where(*where)
        .subquery("counted")
    )


def sell_through(
    conn: Connection,
    *,
    brand_id: int | None,
    retailer_id: int | None,
    since: dt.datetime | None,
    until: dt.datetime | None,
) -> list[dict[str, Any]]:
    """Per product and store: units supplied (received for sale), sold and returned there.

    ``brand_id`` limits to one brand's units; ``retailer_id`` to one retailer's stores."""
    counted = _counted_events(since, until)
    store = aliased(locations)
    retailer = aliased(organizations)
    step, disposition = counted.c.biz_step, counted.c.disposition
    unit = event_units.c.unit_id

    def distinct_units(condition: Any) -> Any:
        return func.count(func.distinct(case((condition, unit))))

    supplied = distinct_units(and_(step == "receiving", disposition == "sellable_accessible"))
    sold = distinct_units(and_(step == "retail_selling", disposition == "retail_sold"))
    returned = distinct_units(and_(step == "receiving", disposition == "returned"))
    where = [store.c.kind == "store"]
    if brand_id is not None:
        where.append(units.c.organization_id == brand_id)
    if retailer_id is not None:
        where.append(store.c.organization_id == retailer_id)
    query = (
        select(
            units.c.product_id,
            products.c.name.label("product_name"),
            store.c.id.label("store_id"),
            store.c.name.label("store_name"),
            store.c.city.label("city"),
            retailer.c.name.label("retailer_name"),
            retailer.c.market.label("market"),
            supplied.label("supplied"),
            sold.label("sold"),
            returned.label("returned"),
        )
        .select_from(
            counted.join(event_units, event_units.c.event_row_id == counted.c.id)
            .join(units, units.c.id == event_units.c.unit_id)
            .join(products, products.c.id == units.c.product_id)
            .join(store, store.c.id == counted.c.biz_location_id)
            .join(retailer, retailer.c.id == store.c.organization_id)
        )
        .where(*where)
        .group_by(
            units.c.product_id,
            products.c.name,
            store.c.id,
            store.c.name,
            store.c.city,
            retailer.c.name,
            retailer.c.market,
        )
        .having(supplied + sold + returned > 0)  # e.g. only a corrective event in the window
        .order_by(products.c.name, retailer.c.name, store.c.name)
    )
    return [dict(r) for r in conn.execute(query).mappings()]
