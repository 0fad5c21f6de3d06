"""The event log (EPCIS 2.0 dimensions). Append-only: there is no update or delete here."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, Select, bindparam, insert, literal, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from unitrace.domain.epcis import GENESIS
from unitrace.storage.prepared import Prepared, db_bool, db_time
from unitrace.storage.schema import (
    analytics_pending,
    event_chains,
    event_containers,
    event_units,
    events,
    products,
    units,
)
from unitrace.storage.supply import execute_counted, printed_serial

_EVENT_COLUMNS = tuple(c.name for c in events.columns if c.name != "id")
_EVENT_DEFAULTS: dict[str, Any] = {
    "action": None,
    "biz_step": None,
    "disposition": None,
    "event_time_zone_offset": "+00:00",
    "read_point_id": None,
    "biz_location_id": None,
    "batch_id": None,
    "quantity": 0,
    "actor_user_id": None,
    "actor_api_key_id": None,
    "seq": None,
    "prev_hash": None,
    "chain_hash": None,
    "document": "{}",
    "members_in_what": False,
    "error_declaration": None,
    "declares_error_on": None,
    "shipment_id": None,
}
_INSERT_EVENT = Prepared(
    insert(events).values({name: bindparam(name) for name in _EVENT_COLUMNS}).returning(events.c.id)
)


def insert_event(
    conn: Connection,
    *,
    event_id: str,
    organization_id: int,
    event_type: str,
    event_time: dt.datetime,
    record_time: dt.datetime,
    details: dict[str, Any] | None = None,
    **values: Any,
) -> int:
    """Append one event row; its row id. Runs once per event: a prepared statement."""
    if not values.keys() <= _EVENT_DEFAULTS.keys():
        unknown = sorted(set(values) - set(_EVENT_DEFAULTS))
        raise TypeError(f"unknown event columns: {', '.join(unknown)}")
    recorded = db_time(conn, record_time)
    params = _EVENT_DEFAULTS | values
    params["event_id"] = event_id
    params["organization_id"] = organization_id
    params["event_type"] = event_type
    params["event_time"] = recorded if event_time == record_time else db_time(conn, event_time)
    params["record_time"] = recorded
    params["details"] = (
        json.dumps(details, sort_keys=True, separators=(",", ":")) if details else "{}"
    )
    params["members_in_what"] = db_bool(conn, bool(params["members_in_what"]))
    (row_id,) = _INSERT_EVENT.one(conn, **params)
    return int(row_id)


def find_event_row(conn: Connection, event_id: str) -> dict[str, Any] | None:
    row = conn.execute(select(events).where(events.c.event_id == event_id)).mappings().first()
    return dict(row) if row else None


_CHAIN_HEAD = Prepared(
    select(event_chains.c.seq, event_chains.c.head_hash)
    .where(event_chains.c.organization_id == bindparam("org"))
    .with_for_update()
)
_ADVANCE_CHAIN = Prepared(
    update(event_chains)
    .where(event_chains.c.organization_id == bindparam("org"))
    .values(seq=bindparam("seq"), head_hash=bindparam("head"))
)
_ADD_MEMBER = Prepared(
    insert(event_units).values(unit_id=bindparam("unit"), event_row_id=bindparam("event"))
)


_PENDING = Prepared(insert(analytics_pending).values(event_row_id=bindparam("event")))
FOLDED_STEPS = frozenset({"receiving", "retail_selling"})


def queue_for_analytics(conn: Connection, event_row_id: int) -> None:
    """Have the next report fold this receipt or sale (or its error declaration) into the
    daily sell-through figures: one small insert, so no write path pays for the rollup."""
    _PENDING.count(conn, event=event_row_id)


def chain_head(conn: Connection, organization_id: int) -> tuple[int, str]:
    """``(seq, head_hash)`` of the organization's chain, locked until the transaction ends.

    The row is created on first use. On PostgreSQL ``FOR UPDATE`` makes concurrent appends
    of one organization queue here (appends are the last step of every write, so no
    transaction holds this lock while it waits for another); SQLite writers are already
    serialized by ``BEGIN IMMEDIATE``.
    """
    row = _CHAIN_HEAD.one(conn, org=organization_id)
    if row is None:
        insert_fn = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        conn.execute(
            insert_fn(event_chains)
            .values(organization_id=organization_id, seq=0, head_hash=GENESIS)
            .on_conflict_do_nothing()
        )
        row = _CHAIN_HEAD.one(conn, org=organization_id)
    seq, head = row
    return int(seq), str(head)


def advance_chain(conn: Connection, organization_id: int, seq: int, head_hash: str) -> None:
    _ADVANCE_CHAIN.count(conn, org=organization_id, seq=seq, head=head_hash)


def add_unit_member_ids(conn: Connection, event_row_id: int, unit_ids: Sequence[int]) -> None:
    """Membership for a short explicit list of units (a sale, a return)."""
    _ADD_MEMBER.many(conn, [{"unit": u, "event": event_row_id} for u in unit_ids])


def add_unit_members(conn: Connection, event_row_id: int, unit_ids: Select[Any]) -> int:
    """Record that the event touched every unit ``unit_ids`` (a one-column SELECT) yields."""
    sub = unit_ids.subquery()
    return execute_counted(
        conn,
        insert(event_units).from_select(
            ["unit_id", "event_row_id"],
            select(sub.c[0], literal(event_row_id)),
        ),
    )


def add_container_members(conn: Connection, event_row_id: int, container_ids: Select[Any]) -> int:
    sub = container_ids.subquery()
    return execute_counted(
        conn,
        insert(event_containers).from_select(
            ["container_id", "event_row_id"],
            select(sub.c[0], literal(event_row_id)),
        ),
    )


def chain_rows(conn: Connection, organization_id: int) -> Iterator[dict[str, Any]]:
    """Every chained event of the organization in chain order (streamed)."""
    result = conn.execution_options(stream_results=True, yield_per=2_000).execute(
        select(events)
        .where(events.c.organization_id == organization_id, events.c.seq.is_not(None))
        .order_by(events.c.seq)
    )
    for row in result.mappings():
        yield dict(row)


def event_rows(conn: Connection, row_ids: Sequence[int]) -> list[dict[str, Any]]:
    rows = conn.execute(select(events).where(events.c.id.in_(row_ids)).order_by(events.c.id))
    return [dict(r) for r in rows.mappings()]


def unit_event_row_ids(conn: Connection, unit_id: int, commission_event_id: int) -> list[int]:
    """The events that touched a unit, oldest first (its commissioning included)."""
    ids = conn.execute(
        select(event_units.c.event_row_id).where(event_units.c.unit_id == unit_id)
    ).scalars()
    return sorted({commission_event_id, *(int(i) for i in ids)})


def container_event_row_ids(conn: Connection, container_id: int) -> list[int]:
    ids = conn.execute(
        select(event_containers.c.event_row_id).where(
            event_containers.c.container_id == container_id
        )
    ).scalars()
    return sorted(int(i) for i in ids)


def shipment_event_row_ids(conn: Connection, shipment_id: int) -> list[int]:
    ids = conn.execute(
        select(events.c.id).where(events.c.shipment_id == shipment_id).order_by(events.c.id)
    ).scalars()
    return [int(i) for i in ids]


def member_codes(conn: Connection, event_row_id: int) -> list[tuple[str, str | None]]:
    """``(printed serial, gtin)`` of the units a commissioning event created, by code: the
    serial is the code, or the serial the brand printed for units imported with one."""
    rows = conn.execute(
        select(printed_serial(), products.c.gtin)
        .join(products, products.c.id == units.c.product_id)
        .where(units.c.commission_event_id == event_row_id)
        .order_by(units.c.code)
    )
    return [(r.code, r.gtin) for r in rows]


def copy_members(conn: Connection, from_row_id: int, to_row_id: int) -> None:
    """Give event ``to_row_id`` the same units and containers as ``from_row_id``."""
    conn.execute(
        insert(event_units).from_select(
            ["unit_id", "event_row_id"],
            select(event_units.c.unit_id, literal(to_row_id)).where(
                event_units.c.event_row_id == from_row_id
            ),
        )
    )
    conn.execute(
        insert(event_containers).from_select(
            ["container_id", "event_row_id"],
            select(event_containers.c.container_id, literal(to_row_id)).where(
                event_containers.c.event_row_id == from_row_id
            ),
        )
    )


def get_event_row(conn: Connection, organization_id: int, row_id: int) -> dict[str, Any] | None:
    row = (
        conn.execute(
            select(events).where(events.c.id == row_id, events.c.organization_id == organization_id)
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None
