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

from unitrace.storage.schema import (
    batches,
    event_units,
    events,
    locations,
    organizations,
    products,
    public_scans,
    scan_alerts,
    units,
)


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


def _bucket(conn: Connection, moment: Any, bucket: str) -> Any:
    """The first day of the day, week (Monday) or month ``moment`` falls in, as a date text."""
    if conn.dialect.name == "sqlite":
        if bucket == "day":
            return func.date(moment)
        if bucket == "week":
            return func.date(moment, "weekday 0", "-6 days")
        return func.date(moment, "start of month")
    utc = func.timezone("UTC", moment)
    return func.to_char(func.date_trunc(bucket, utc), "YYYY-MM-DD")


def _by_unit(by: str, joined: Any) -> tuple[Any, Any, Any]:
    """(key, label, ``joined`` joined to what names it) for counts by product or batch of
    ``units`` (which ``joined`` must contain)."""
    if by == "product":
        joined = joined.join(products, products.c.id == units.c.product_id)
        return units.c.product_id, products.c.name, joined
    joined = joined.join(batches, batches.c.id == units.c.batch_id)
    return units.c.batch_id, batches.c.lot_number, joined


def scan_counts(
    conn: Connection,
    organization_id: int,
    *,
    by: str,
    bucket: str,
    since: dt.datetime | None,
    until: dt.datetime | None,
) -> list[dict[str, Any]]:
    """Public scans of the organization's units per ``by`` (product, batch or region) and
    period: scans, distinct units scanned, and scans that answered ``suspicious``."""
    s = public_scans
    where = [s.c.organization_id == organization_id, s.c.unit_id.is_not(None)]
    if since is not None:
        where.append(s.c.scanned_at >= since)
    if until is not None:
        where.append(s.c.scanned_at < until)
    period = _bucket(conn, s.c.scanned_at, bucket).label("period")
    if by == "region":
        key, label, source = s.c.region, s.c.region, s
    else:
        key, label, source = _by_unit(by, s.join(units, units.c.id == s.c.unit_id))
    query = (
        select(
            key.label("key"),
            label.label("label"),
            period,
            func.count().label("scans"),
            func.count(func.distinct(s.c.unit_id)).label("units_scanned"),
            func.count(case((s.c.verdict == "suspicious", 1))).label("suspicious"),
        )
        .select_from(source)
        .where(*where)
        .group_by(key, label, period)
        .order_by(period, label)
    )
    return [dict(r) for r in conn.execute(query).mappings()]


def scanned_share(conn: Connection, organization_id: int, *, by: str) -> list[dict[str, Any]]:
    """Per product or batch: units commissioned and units scanned by the public at least once."""
    scanned = (
        select(public_scans.c.unit_id)
        .where(
            public_scans.c.organization_id == organization_id,
            public_scans.c.unit_id.is_not(None),
        )
        .distinct()
        .subquery()
    )
    column, label, joined = _by_unit(by, units.outerjoin(scanned, scanned.c.unit_id == units.c.id))
    query = (
        select(
            column.label("key"),
            label.label("label"),
            func.count().label("units"),
            func.count(scanned.c.unit_id).label("units_scanned"),
        )
        .select_from(joined)
        .where(units.c.organization_id == organization_id)
        .group_by(column, label)
        .order_by(label)
    )
    return [dict(r) for r in conn.execute(query).mappings()]


def alert_counts(conn: Connection, organization_id: int, *, bucket: str) -> list[dict[str, Any]]:
    """Clone alerts raised per period and reason."""
    period = _bucket(conn, scan_alerts.c.created_at, bucket).label("period")
    query = (
        select(period, scan_alerts.c.reason, func.count().label("alerts"))
        .where(scan_alerts.c.organization_id == organization_id)
        .group_by(period, scan_alerts.c.reason)
        .order_by(period, scan_alerts.c.reason)
    )
    return [dict(r) for r in conn.execute(query).mappings()]


SHELF_BUCKETS = ((7, "days_0_7"), (14, "days_8_14"), (30, "days_15_30"), (60, "days_31_60"))


def _days_between(conn: Connection, later: Any, earlier: Any) -> Any:
    if conn.dialect.name == "sqlite":
        return func.julianday(later) - func.julianday(earlier)
    return func.extract("epoch", later - earlier) / 86_400


def shelf_days(
    conn: Connection,
    *,
    brand_id: int | None,
    retailer_id: int | None,
    since: dt.datetime | None,
    until: dt.datetime | None,
) -> dict[tuple[int, int], dict[str, Any]]:
    """Days on shelf of the units sold in the window, per (product, store): from the unit's
    last receipt at that store before the sale to the sale. The median (by rank, one
    statement with window functions), the mean, and how many fall in each bucket."""
    sold_events = _counted_events(since, until)
    receipts_events = _counted_events(None, None)
    sale = (
        select(
            event_units.c.unit_id,
            sold_events.c.biz_location_id.label("store_id"),
            sold_events.c.event_time.label("sold_at"),
        )
        .select_from(sold_events.join(event_units, event_units.c.event_row_id == sold_events.c.id))
        .where(
            sold_events.c.biz_step == "retail_selling",
            sold_events.c.disposition == "retail_sold",
        )
        .subquery("sale")
    )
    receipt_units = aliased(event_units)
    received_at = (
        select(func.max(receipts_events.c.event_time))
        .select_from(
            receipts_events.join(
                receipt_units, receipt_units.c.event_row_id == receipts_events.c.id
            )
        )
        .where(
            receipts_events.c.biz_step == "receiving",
            receipts_events.c.disposition == "sellable_accessible",
            receipt_units.c.unit_id == sale.c.unit_id,
            receipts_events.c.biz_location_id == sale.c.store_id,
            receipts_events.c.event_time <= sale.c.sold_at,
        )
        .scalar_subquery()
    )
    store = aliased(locations)
    where = [store.c.kind == "store"]
    if brand_id is not None:
        where.append(units.c.organization_id == brand_id)
    if retailer_id is not None:
        where.append(store.c.organization_id == retailer_id)
    pairs = (
        select(
            units.c.product_id,
            sale.c.store_id,
            _days_between(conn, sale.c.sold_at, received_at).label("days"),
        )
        .select_from(
            sale.join(units, units.c.id == sale.c.unit_id).join(
                store, store.c.id == sale.c.store_id
            )
        )
        .where(*where)
        .subquery("pairs")
    )
    known = select(pairs).where(pairs.c.days.is_not(None)).subquery("known")
    group = (known.c.product_id, known.c.store_id)
    ranked = select(
        known.c.product_id,
        known.c.store_id,
        known.c.days,
        func.row_number().over(partition_by=group, order_by=known.c.days).label("rank"),
        func.count().over(partition_by=group).label("n"),
    ).subquery("ranked")
    middle = (ranked.c.rank == (ranked.c.n + 1) // 2) | (ranked.c.rank == (ranked.c.n + 2) // 2)
    buckets = []
    lower = None
    for upper, name in SHELF_BUCKETS:
        condition = (
            ranked.c.days <= upper
            if lower is None
            else and_(ranked.c.days > lower, ranked.c.days <= upper)
        )
        buckets.append(func.sum(case((condition, 1), else_=0)).label(name))
        lower = upper
    buckets.append(func.sum(case((ranked.c.days > lower, 1), else_=0)).label("days_over_60"))
    query = select(
        ranked.c.product_id,
        ranked.c.store_id,
        func.max(ranked.c.n).label("paired"),
        (
            func.sum(case((middle, ranked.c.days), else_=0)) / func.sum(case((middle, 1), else_=0))
        ).label("median_days"),
        func.avg(ranked.c.days).label("mean_days"),
        *buckets,
    ).group_by(ranked.c.product_id, ranked.c.store_id)
    return {
        (int(r["product_id"]), int(r["store_id"])): dict(r) for r in conn.execute(query).mappings()
    }
