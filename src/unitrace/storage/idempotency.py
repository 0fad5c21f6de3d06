"""Idempotency keys: a retried request returns the stored result instead of acting twice."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, insert, select, update

from unitrace.storage.schema import idempotency_keys


def find_idempotency_key(
    conn: Connection, organization_id: int, key: str
) -> tuple[str, str, str] | None:
    """``(operation, request_hash, response_json)`` stored under ``key``, if any."""
    row = conn.execute(
        select(
            idempotency_keys.c.operation,
            idempotency_keys.c.request_hash,
            idempotency_keys.c.response,
        ).where(
            idempotency_keys.c.organization_id == organization_id, idempotency_keys.c.key == key
        )
    ).first()
    return (row.operation, row.request_hash, row.response) if row else None


def insert_idempotency_key(
    conn: Connection,
    *,
    organization_id: int,
    key: str,
    operation: str,
    request_hash: str,
    created_at: dt.datetime,
) -> None:
    """Claim ``key`` first, inside the transaction: a concurrent twin then waits or fails."""
    conn.execute(
        insert(idempotency_keys).values(
            organization_id=organization_id,
            key=key,
            operation=operation,
            request_hash=request_hash,
            created_at=created_at,
        )
    )


def store_idempotent_response(
    conn: Connection, organization_id: int, key: str, response: str
) -> None:
    conn.execute(
        update(idempotency_keys)
        .where(idempotency_keys.c.organization_id == organization_id, idempotency_keys.c.key == key)
        .values(response=response)
    )
