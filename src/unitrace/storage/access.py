"""Users, API keys and web sessions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, Row, delete, insert, select, update

from unitrace.domain.model import ApiKey, Role, User
from unitrace.errors import NotFoundError
from unitrace.storage.schema import api_keys, sessions, users


def _user(row: Row[Any]) -> User:
    return User(
        id=row.id,
        organization_id=row.organization_id,
        email=row.email,
        name=row.name,
        role=Role(row.role),
        is_active=bool(row.is_active),
        created_at=row.created_at,
    )


def _api_key(row: Row[Any]) -> ApiKey:
    return ApiKey(
        id=row.id,
        organization_id=row.organization_id,
        name=row.name,
        prefix=row.prefix,
        role=Role(row.role),
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )


def insert_user(conn: Connection, *, created_at: dt.datetime, **values: Any) -> int:
    result = conn.execute(insert(users).values(created_at=created_at, **values))
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def find_user_credentials(conn: Connection, email: str) -> tuple[User, str] | None:
    """The user with this e-mail and their password hash, for login only."""
    row = conn.execute(select(users).where(users.c.email == email.lower())).first()
    return (_user(row), row.password_hash) if row else None


def get_user(conn: Connection, organization_id: int, user_id: int) -> User:
    row = conn.execute(
        select(users).where(users.c.id == user_id, users.c.organization_id == organization_id)
    ).first()
    if row is None:
        raise NotFoundError(f"user {user_id} not found")
    return _user(row)


def list_users(conn: Connection, organization_id: int) -> list[User]:
    rows = conn.execute(
        select(users).where(users.c.organization_id == organization_id).order_by(users.c.email)
    )
    return [_user(r) for r in rows]


def update_user(conn: Connection, organization_id: int, user_id: int, **values: Any) -> None:
    result = conn.execute(
        update(users)
        .where(users.c.id == user_id, users.c.organization_id == organization_id)
        .values(values)
    )
    if result.rowcount == 0:
        raise NotFoundError(f"user {user_id} not found")


def insert_api_key(conn: Connection, *, created_at: dt.datetime, **values: Any) -> int:
    result = conn.execute(insert(api_keys).values(created_at=created_at, **values))
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def find_api_key_by_prefix(conn: Connection, prefix: str) -> tuple[ApiKey, str] | None:
    row = conn.execute(select(api_keys).where(api_keys.c.prefix == prefix)).first()
    return (_api_key(row), row.secret_hash) if row else None


def list_api_keys(conn: Connection, organization_id: int) -> list[ApiKey]:
    rows = conn.execute(
        select(api_keys)
        .where(api_keys.c.organization_id == organization_id)
        .order_by(api_keys.c.created_at)
    )
    return [_api_key(r) for r in rows]


def touch_api_key(conn: Connection, api_key_id: int, when: dt.datetime) -> None:
    conn.execute(update(api_keys).where(api_keys.c.id == api_key_id).values(last_used_at=when))


def revoke_api_key(
    conn: Connection, organization_id: int, api_key_id: int, when: dt.datetime
) -> None:
    result = conn.execute(
        update(api_keys)
        .where(
            api_keys.c.id == api_key_id,
            api_keys.c.organization_id == organization_id,
            api_keys.c.revoked_at.is_(None),
        )
        .values(revoked_at=when)
    )
    if result.rowcount == 0:
        raise NotFoundError(f"API key {api_key_id} not found")


def insert_session(conn: Connection, **values: Any) -> None:
    conn.execute(insert(sessions).values(**values))


def find_session(conn: Connection, token_hash: str, now: dt.datetime) -> tuple[User, str] | None:
    """The active user behind a live session and the session's CSRF token."""
    row = conn.execute(
        select(users, sessions.c.csrf_token)
        .join(sessions, sessions.c.user_id == users.c.id)
        .where(
            sessions.c.token_hash == token_hash,
            sessions.c.expires_at > now,
            users.c.is_active.is_(True),
        )
    ).first()
    return (_user(row), row.csrf_token) if row else None


def delete_session(conn: Connection, token_hash: str) -> None:
    conn.execute(delete(sessions).where(sessions.c.token_hash == token_hash))


def delete_expired_sessions(conn: Connection, now: dt.datetime) -> None:
    conn.execute(delete(sessions).where(sessions.c.expires_at <= now))
