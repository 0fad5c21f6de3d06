"""Shipments, their manifests and the receiver's scans."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Select, and_, delete, func, insert, literal, or_, select, update

from unitrace.storage.schema import (
    containers,
    event_containers,
    events,
    locations,
    organizations,
    shipment_items,
    shipment_scans,
    shipment_units,
    shipments,
    units,
)
from unitrace.storage.supply import execute_counted

_SHIPMENT_VIEW = (
    select(
        shipments,
        organizations.c.name.label("destination_name"),
        locations.c.name.label("destination_location_name"),
    )
    .join(organizations, organizations.c.id == shipments.c.destination_organization_id)
    .join(locations, locations.c.id == shipments.c.destination_location_id)
)


def insert_shipment(conn: Connection, **values: Any) -> int:
    result = conn.execute(insert(shipments).values(**values))
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def get_shipment(conn: Connection, shipment_id: int) -> dict[str, Any] | None:
    row = conn.execute(_SHIPMENT_VIEW.where(shipments.c.id == shipment_id)).mappings().first()
    return dict(row) if row else None


def lock_shipment(conn: Connection, shipment_id: int) -> None:
    """Hold the shipment row until the transaction ends (PostgreSQL; SQLite locks the file)."""
    conn.execute(select(shipments.c.id).where(shipments.c.id == shipment_id).with_for_update())


def shipper_name(conn: Connection, organization_id: int) -> str:
    return str(
        conn.execute(
            select(organizations.c.name).where(organizations.c.id == organization_id)
        ).scalar_one()
    )


def list_shipments(
    conn: Connection,
    organization_id: int,
    *,
    direction: str,
    status: str | None,
    limit: int,
    offset: int,
) -> tuple[list[dict[str, Any]], int]:
    if direction == "outgoing":
        where = [shipments.c.organization_id == organization_id]
    elif direction == "incoming":
        where = [
            shipments.c.destination_organization_id == organization_id,
            shipments.c.status != "draft",
        ]
    else:
        where = [
            or_(
                shipments.c.organization_id == organization_id,
                and_(
                    shipments.c.destination_organization_id == organization_id,
                    shipments.c.status != "draft",
                ),
            )
        ]
    if status:
        where.append(shipments.c.status == status)
    total = conn.execute(select(func.count()).select_from(shipments).where(*where)).scalar_one()
    rows = conn.execute(
        _SHIPMENT_VIEW.where(*where).order_by(shipments.c.id.desc()).limit(limit).offset(offset)
    ).mappings()
    return [dict(r) for r in rows], int(total)


def update_shipment(conn: Connection, shipment_id: int, **values: Any) -> None:
    conn.execute(update(shipments).where(shipments.c.id == shipment_id).values(**values))


def add_items(
    conn: Connection, shipment_id: int, container_ids: Sequence[int], unit_ids: Sequence[int]
) -> None:
    rows = [{"shipment_id": shipment_id, "container_id": c, "unit_id": None} for c in container_ids]
    rows += [{"shipment_id": shipment_id, "container_id": None, "unit_id": u} for u in unit_ids]
    if rows:
        conn.execute(insert(shipment_items), rows)


def remove_items(
    conn: Connection, shipment_id: int, container_ids: Sequence[int], unit_ids: Sequence[int]
) -> int:
    result = conn.execute(
        delete(shipment_items).where(
            shipment_items.c.shipment_id == shipment_id,
            or_(
                shipment_items.c.container_id.in_(list(container_ids) or [-1]),
                shipment_items.c.unit_id.in_(list(unit_ids) or [-1]),
            ),
        ),
    )
    return int(result.rowcount)


def item_ids(conn: Connection, shipment_id: int) -> tuple[list[int], list[int]]:
    """``(container_ids, unit_ids)`` put on the shipment."""
    rows = conn.execute(
        select(shipment_items.c.container_id, shipment_items.c.unit_id)
        .where(shipment_items.c.shipment_id == shipment_id)
        .order_by(shipment_items.c.id)
    ).all()
    return (
        [int(r.container_id) for r in rows if r.container_id is not None],
        [int(r.unit_id) for r in rows if r.unit_id is not None],
    )


def item_codes(conn: Connection, shipment_id: int) -> list[str]:
    boxes = (
        select(containers.c.code)
        .join(shipment_items, shipment_items.c.container_id == containers.c.id)
        .where(shipment_items.c.shipment_id == shipment_id)
    )
    loose = (
        select(units.c.code)
        .join(shipment_items, shipment_items.c.unit_id == units.c.id)
        .where(shipment_items.c.shipment_id == shipment_id)
    )
    return list(conn.execute(boxes.union_all(loose)).scalars())


def other_open_shipment(
    conn: Connection, shipment_id: int, container_ids: Sequence[int], unit_ids: Sequence[int]
) -> list[int]:
    """Drafts other than ``shipment_id`` that already list one of these items."""
    rows = conn.execute(
        select(shipment_items.c.shipment_id)
        .join(shipments, shipments.c.id == shipment_items.c.shipment_id)
        .where(
            shipments.c.status == "draft",
            shipment_items.c.shipment_id != shipment_id,
            or_(
                shipment_items.c.container_id.in_(list(container_ids) or [-1]),
                shipment_items.c.unit_id.in_(list(unit_ids) or [-1]),
            ),
        )
        .distinct()
    ).scalars()
    return [int(r) for r in rows]


def insert_manifest(conn: Connection, shipment_id: int, unit_ids: Select[Any]) -> int:
    sub = unit_ids.subquery()
    return execute_counted(
        conn,
        insert(shipment_units).from_select(
            ["shipment_id", "unit_id", "status"],
            select(literal(shipment_id), sub.c[0], literal("in_transit")),
        ),
    )


def manifest_counts(conn: Connection, shipment_id: int) -> dict[str, int]:
    rows = conn.execute(
        select(shipment_units.c.status, func.count())
        .where(shipment_units.c.shipment_id == shipment_id)
        .group_by(shipment_units.c.status)
    ).all()
    return {str(status): int(n) for status, n in rows}


def manifest_units(conn: Connection, shipment_id: int, status: str) -> Select[Any]:
    return select(shipment_units.c.unit_id).where(
        shipment_units.c.shipment_id == shipment_id, shipment_units.c.status == status
    )


def manifest_codes(conn: Connection, shipment_id: int, status: str, limit: int) -> list[str]:
    rows = conn.execute(
        select(units.c.code)
        .join(shipment_units, shipment_units.c.unit_id == units.c.id)
        .where(shipment_units.c.shipment_id == shipment_id, shipment_units.c.status == status)
        .order_by(units.c.code)
        .limit(limit)
    )
    return list(rows.scalars())


def set_manifest_status(
    conn: Connection, shipment_id: int, unit_ids: Select[Any] | None, old: str, new: str
) -> int:
    where = [shipment_units.c.shipment_id == shipment_id, shipment_units.c.status == old]
    if unit_ids is not None:
        sub = unit_ids.subquery()
        where.append(shipment_units.c.unit_id.in_(select(sub.c[0])))
    return execute_counted(conn, update(shipment_units).where(*where).values(status=new))


def manifest_ids(conn: Connection, shipment_id: int, unit_ids: Sequence[int]) -> dict[int, str]:
    """Manifest status of the given units on this shipment."""
    if not unit_ids:
        return {}
    rows = conn.execute(
        select(shipment_units.c.unit_id, shipment_units.c.status).where(
            shipment_units.c.shipment_id == shipment_id,
            shipment_units.c.unit_id.in_(list(unit_ids)),
        )
    ).all()
    return {int(r.unit_id): str(r.status) for r in rows}


# ---------------------------------------------------------------------------------------
# Scans


def insert_scan(conn: Connection, **values: Any) -> int:
    result = conn.execute(insert(shipment_scans).values(**values))
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def insert_scans(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        conn.execute(insert(shipment_scans), list(rows))


def scans(conn: Connection, shipment_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(shipment_scans)
        .where(shipment_scans.c.shipment_id == shipment_id)
        .order_by(shipment_scans.c.id)
    ).mappings()
    return [dict(r) for r in rows]


def reject_scans(conn: Connection, shipment_id: int, scan_ids: Sequence[int]) -> None:
    conn.execute(
        update(shipment_scans)
        .where(shipment_scans.c.shipment_id == shipment_id, shipment_scans.c.id.in_(scan_ids))
        .values(rejected=True)
    )


def scanned_ids(
    conn: Connection, shipment_id: int, *, accepted_only: bool
) -> tuple[list[int], list[int]]:
    """``(container_ids, unit_ids)`` scanned as expected on this shipment."""
    where = [shipment_scans.c.shipment_id == shipment_id, shipment_scans.c.result == "expected"]
    if accepted_only:
        where.append(shipment_scans.c.rejected.is_(False))
    rows = conn.execute(
        select(shipment_scans.c.container_id, shipment_scans.c.unit_id).where(*where)
    ).all()
    return (
        [int(r.container_id) for r in rows if r.container_id is not None],
        [int(r.unit_id) for r in rows if r.unit_id is not None],
    )


def step_events(
    conn: Connection, shipment_id: int, organization_id: int, biz_step: str
) -> list[dict[str, Any]]:
    """The organization's events at ``biz_step`` for this shipment, oldest first (error
    declarations included)."""
    rows = conn.execute(
        select(events)
        .where(
            events.c.shipment_id == shipment_id,
            events.c.organization_id == organization_id,
            events.c.biz_step == biz_step,
        )
        .order_by(events.c.id)
    ).mappings()
    return [dict(r) for r in rows]


def event_container_ids(event_row_id: int) -> Select[Any]:
    return select(event_containers.c.container_id).where(
        event_containers.c.event_row_id == event_row_id
    )


def delete_scans(conn: Connection, shipment_id: int) -> None:
    """Forget the scans of a receipt that was undone (the event log keeps its history)."""
    conn.execute(delete(shipment_scans).where(shipment_scans.c.shipment_id == shipment_id))
