"""Reading the event log back: what an export or a chain check needs besides the events."""

from __future__ import annotations

from collections.abc import Collection, Generator
from typing import Any

from sqlalchemy import Connection, func, or_, select

from unitrace.storage.schema import (
    containers,
    event_chains,
    events,
    locations,
    organizations,
    shipments,
    units,
)


def find_chain_head(conn: Connection, organization_id: int) -> tuple[int, str] | None:
    """``(seq, head_hash)`` of the organization's chain, read without locking it."""
    row = conn.execute(
        select(event_chains.c.seq, event_chains.c.head_hash).where(
            event_chains.c.organization_id == organization_id
        )
    ).first()
    return (int(row.seq), str(row.head_hash)) if row else None


def iter_chain(
    conn: Connection, organization_id: int, *, up_to_seq: int | None
) -> Generator[dict[str, Any]]:
    """The organization's chained events in chain order, streamed (up to ``up_to_seq``).

    The query is closed however the caller stops, so it never outlives the loop.
    """
    query = select(events).where(
        events.c.organization_id == organization_id, events.c.seq.is_not(None)
    )
    if up_to_seq is not None:
        query = query.where(events.c.seq <= up_to_seq)
    streamed = conn.execution_options(stream_results=True, yield_per=2_000)
    with streamed.execute(query.order_by(events.c.seq)) as result:
        for row in result.mappings():
            yield dict(row)


def count_unchained(conn: Connection, organization_id: int) -> int:
    """Events of the organization recorded before the chain existed (``seq`` is NULL)."""
    return int(
        conn.execute(
            select(func.count())
            .select_from(events)
            .where(events.c.organization_id == organization_id, events.c.seq.is_(None))
        ).scalar_one()
    )


def get_commission_event_row_id(conn: Connection, unit_id: int) -> int:
    return int(
        conn.execute(select(units.c.commission_event_id).where(units.c.id == unit_id)).scalar_one()
    )


def find_container(conn: Connection, organization_id: int, code: str) -> dict[str, Any] | None:
    """The container with this code if the organization owns or holds it."""
    row = (
        conn.execute(
            select(containers).where(
                containers.c.code == code,
                or_(
                    containers.c.organization_id == organization_id,
                    containers.c.custodian_organization_id == organization_id,
                ),
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


def find_shipment(
    conn: Connection, organization_id: int, shipment_id: int
) -> dict[str, Any] | None:
    """The shipment if the organization sent it or is its destination."""
    row = (
        conn.execute(
            select(shipments).where(
                shipments.c.id == shipment_id,
                or_(
                    shipments.c.organization_id == organization_id,
                    shipments.c.destination_organization_id == organization_id,
                ),
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


def organization_names(conn: Connection, ids: Collection[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = conn.execute(
        select(organizations.c.id, organizations.c.name).where(organizations.c.id.in_(ids))
    )
    return {int(r.id): str(r.name) for r in rows}


def location_names(conn: Connection, ids: Collection[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = conn.execute(select(locations.c.id, locations.c.name).where(locations.c.id.in_(ids)))
    return {int(r.id): str(r.name) for r in rows}


def declared_wrong(conn: Connection, row_ids: Collection[int]) -> dict[int, int]:
    """For each of ``row_ids`` that a later event declares wrong: the declaring row's id."""
    if not row_ids:
        return {}
    rows = conn.execute(
        select(events.c.declares_error_on, func.min(events.c.id).label("by"))
        .where(events.c.declares_error_on.in_(row_ids))
        .group_by(events.c.declares_error_on)
    )
    return {int(r.declares_error_on): int(r.by) for r in rows}
