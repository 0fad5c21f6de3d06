"""Consumer scan analytics: scans per product, batch or region and period, the share of
units scanned, clone alerts per period. (Sell-through lives in ``storage/sellthrough``.)"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, Connection, case, cast, func, select

from unitrace.storage.schema import (
    batches,
    events,
    products,
    public_scans,
    scan_alerts,
    units,
)


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
    """Per product or batch: units commissioned and units scanned by the public at least once.

    Units are counted from the commissioning events (each names its batch and how many units
    it created), not by reading every unit; scanned units from the scan log."""
    commissioned = (
        select(events.c.batch_id, func.sum(events.c.quantity).label("n"))
        .where(
            events.c.organization_id == organization_id,
            events.c.biz_step == "commissioning",
            events.c.batch_id.is_not(None),
            events.c.error_declaration.is_(None),
        )
        .group_by(events.c.batch_id)
        .subquery("commissioned")
    )
    scanned = (
        select(units.c.batch_id, func.count(func.distinct(public_scans.c.unit_id)).label("n"))
        .select_from(public_scans.join(units, units.c.id == public_scans.c.unit_id))
        .where(public_scans.c.organization_id == organization_id)
        .group_by(units.c.batch_id)
        .subquery("scanned")
    )
    joined = batches.join(commissioned, commissioned.c.batch_id == batches.c.id).outerjoin(
        scanned, scanned.c.batch_id == batches.c.id
    )
    if by == "product":
        joined = joined.join(products, products.c.id == batches.c.product_id)
        column, label = batches.c.product_id, products.c.name
    else:
        column, label = batches.c.id, batches.c.lot_number
    query = (
        select(
            column.label("key"),
            label.label("label"),
            cast(func.sum(commissioned.c.n), BigInteger).label("units"),
            cast(func.coalesce(func.sum(scanned.c.n), 0), BigInteger).label("units_scanned"),
        )
        .select_from(joined)
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
