"""Exports: one streamed query per kind, rows as dicts in the order of their columns."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, Select, and_, or_, select
from sqlalchemy.orm import aliased

from unitrace.storage.schema import (
    batches,
    events,
    locations,
    organizations,
    products,
    public_scans,
    shipments,
    units,
)

_STREAM = 5_000


def _stream(conn: Connection, query: Select[Any]) -> Iterator[dict[str, Any]]:
    result = conn.execute(query.execution_options(stream_results=True, yield_per=_STREAM))
    for row in result.mappings():
        yield dict(row)


_holder = aliased(organizations)


def unit_rows(
    conn: Connection,
    organization_id: int,
    *,
    batch_id: int | None,
    disposition: str | None,
    custodian_organization_id: int | None,
    since: dt.datetime | None,
    until: dt.datetime | None,
) -> Iterator[dict[str, Any]]:
    """Units the organization owns or holds; ``since``/``until`` bound the last change."""
    query = (
        select(
            units.c.code,
            units.c.external_serial,
            products.c.name.label("product"),
            products.c.gtin,
            batches.c.lot_number,
            units.c.disposition,
            _holder.c.name.label("holder"),
            locations.c.name.label("location"),
            locations.c.city,
            units.c.commissioned_at,
            units.c.updated_at,
            units.c.sold_at,
            units.c.sale_price,
        )
        .join(products, products.c.id == units.c.product_id)
        .join(batches, batches.c.id == units.c.batch_id)
        .join(_holder, _holder.c.id == units.c.custodian_organization_id)
        .outerjoin(locations, locations.c.id == units.c.location_id)
        .where(
            or_(
                units.c.organization_id == organization_id,
                units.c.custodian_organization_id == organization_id,
            )
        )
        .order_by(units.c.id)
    )
    if batch_id is not None:
        query = query.where(units.c.batch_id == batch_id)
    if disposition is not None:
        query = query.where(units.c.disposition == disposition)
    if custodian_organization_id is not None:
        query = query.where(units.c.custodian_organization_id == custodian_organization_id)
    if since is not None:
        query = query.where(units.c.updated_at >= since)
    if until is not None:
        query = query.where(units.c.updated_at < until)
    return _stream(conn, query)


def sale_rows(
    conn: Connection,
    organization_id: int,
    *,
    since: dt.datetime | None,
    until: dt.datetime | None,
) -> Iterator[dict[str, Any]]:
    """Units sold by the organization's stores, or (a brand) of its units anywhere."""
    query = (
        select(
            units.c.code,
            locations.c.name.label("store"),
            units.c.sold_at,
            units.c.sale_price.label("price"),
            locations.c.city,
            _holder.c.name.label("retailer"),
            products.c.name.label("product"),
            products.c.gtin,
            batches.c.lot_number,
        )
        .join(products, products.c.id == units.c.product_id)
        .join(batches, batches.c.id == units.c.batch_id)
        .join(_holder, _holder.c.id == units.c.custodian_organization_id)
        .outerjoin(locations, locations.c.id == units.c.location_id)
        .where(
            units.c.disposition == "retail_sold",
            or_(
                units.c.organization_id == organization_id,
                units.c.custodian_organization_id == organization_id,
            ),
        )
        .order_by(units.c.sold_at, units.c.id)
    )
    if since is not None:
        query = query.where(units.c.sold_at >= since)
    if until is not None:
        query = query.where(units.c.sold_at < until)
    return _stream(conn, query)


def event_rows(
    conn: Connection,
    organization_id: int,
    *,
    since: dt.datetime | None,
    until: dt.datetime | None,
) -> Iterator[dict[str, Any]]:
    """The organization's events in the order they were recorded."""
    query = (
        select(
            events.c.event_id,
            events.c.seq,
            events.c.event_time,
            events.c.record_time,
            events.c.event_type,
            events.c.action,
            events.c.biz_step,
            events.c.disposition,
            locations.c.name.label("location"),
            events.c.quantity,
            events.c.declares_error_on.is_not(None).label("error_declaration"),
        )
        .outerjoin(locations, locations.c.id == events.c.biz_location_id)
        .where(events.c.organization_id == organization_id)
        .order_by(events.c.id)
    )
    if since is not None:
        query = query.where(events.c.record_time >= since)
    if until is not None:
        query = query.where(events.c.record_time < until)
    return _stream(conn, query)


def shipment_rows(
    conn: Connection,
    organization_id: int,
    *,
    since: dt.datetime | None,
    until: dt.datetime | None,
) -> Iterator[dict[str, Any]]:
    """Shipments the organization sent or receives, newest first."""
    destination = aliased(organizations)
    shipper = aliased(organizations)
    query = (
        select(
            shipments.c.number,
            shipments.c.status,
            shipper.c.name.label("shipper"),
            destination.c.name.label("destination"),
            locations.c.name.label("destination_location"),
            shipments.c.unit_count,
            shipments.c.created_at,
            shipments.c.shipped_at,
            shipments.c.received_at,
            shipments.c.expected_arrival,
        )
        .join(shipper, shipper.c.id == shipments.c.organization_id)
        .join(destination, destination.c.id == shipments.c.destination_organization_id)
        .join(locations, locations.c.id == shipments.c.destination_location_id)
        .where(
            or_(
                shipments.c.organization_id == organization_id,
                and_(  # a destination sees a shipment once it is on its way
                    shipments.c.destination_organization_id == organization_id,
                    shipments.c.status != "draft",
                ),
            )
        )
        .order_by(shipments.c.id.desc())
    )
    if since is not None:
        query = query.where(shipments.c.created_at >= since)
    if until is not None:
        query = query.where(shipments.c.created_at < until)
    return _stream(conn, query)


def scan_rows(
    conn: Connection,
    organization_id: int,
    *,
    batch_id: int | None,
    since: dt.datetime | None,
    until: dt.datetime | None,
) -> Iterator[dict[str, Any]]:
    """Public scans of the organization's units, oldest first (scans of unknown codes have no
    organization and are never among them)."""
    query = (
        select(
            public_scans.c.scanned_at,
            public_scans.c.code,
            public_scans.c.verdict,
            public_scans.c.link_type,
            public_scans.c.origin,
            public_scans.c.country,
            public_scans.c.region,
            public_scans.c.city,
            public_scans.c.agent,
            products.c.name.label("product"),
            batches.c.lot_number,
        )
        .select_from(public_scans)
        .outerjoin(units, units.c.id == public_scans.c.unit_id)
        .outerjoin(batches, batches.c.id == units.c.batch_id)
        .outerjoin(products, products.c.id == units.c.product_id)
        .where(public_scans.c.organization_id == organization_id)
        .order_by(public_scans.c.scanned_at, public_scans.c.id)
    )
    if batch_id is not None:
        query = query.where(units.c.batch_id == batch_id)
    if since is not None:
        query = query.where(public_scans.c.scanned_at >= since)
    if until is not None:
        query = query.where(public_scans.c.scanned_at < until)
    return _stream(conn, query)
