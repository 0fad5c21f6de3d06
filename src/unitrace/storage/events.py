"""The event log (EPCIS 2.0 dimensions). Append-only: there is no update or delete here."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import Connection, insert, select

from unitrace.storage.schema import events


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
    result = conn.execute(
        insert(events).values(
            event_id=event_id,
            organization_id=organization_id,
            event_type=event_type,
            event_time=event_time,
            record_time=record_time,
            details=json.dumps(details or {}, sort_keys=True, separators=(",", ":")),
            **values,
        )
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def find_event_row(conn: Connection, event_id: str) -> dict[str, Any] | None:
    row = conn.execute(select(events).where(events.c.event_id == event_id)).mappings().first()
    return dict(row) if row else None
