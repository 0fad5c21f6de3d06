"""Organizations and their locations."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, Row, func, insert, select, update

from unitrace.domain.model import Location, LocationKind, Organization, OrganizationKind
from unitrace.errors import NotFoundError
from unitrace.storage.schema import locations, organizations


def _org(row: Row[Any]) -> Organization:
    return Organization(
        id=row.id,
        name=row.name,
        kind=OrganizationKind(row.kind),
        license_number=row.license_number,
        market=row.market,
        gs1_company_prefix=row.gs1_company_prefix,
        created_at=row.created_at,
        public_verification=bool(row.public_verification),
    )


def _location(row: Row[Any]) -> Location:
    return Location(
        id=row.id,
        organization_id=row.organization_id,
        name=row.name,
        kind=LocationKind(row.kind),
        address=row.address,
        city=row.city,
        gln=row.gln,
        created_at=row.created_at,
    )


def insert_organization(conn: Connection, *, created_at: dt.datetime, **values: Any) -> int:
    result = conn.execute(insert(organizations).values(created_at=created_at, **values))
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def get_organization(conn: Connection, organization_id: int) -> Organization:
    row = conn.execute(select(organizations).where(organizations.c.id == organization_id)).first()
    if row is None:
        raise NotFoundError(f"organization {organization_id} not found")
    return _org(row)


def find_organization_by_name(conn: Connection, name: str) -> Organization | None:
    row = conn.execute(
        select(organizations).where(func.lower(organizations.c.name) == name.lower())
    ).first()
    return _org(row) if row else None


def list_organizations(conn: Connection) -> list[Organization]:
    rows = conn.execute(select(organizations).order_by(organizations.c.name))
    return [_org(r) for r in rows]


def count_organizations(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(organizations)).scalar_one())


def update_organization(conn: Connection, organization_id: int, **values: Any) -> None:
    conn.execute(update(organizations).where(organizations.c.id == organization_id).values(values))


def insert_location(
    conn: Connection, *, organization_id: int, created_at: dt.datetime, **values: Any
) -> int:
    result = conn.execute(
        insert(locations).values(organization_id=organization_id, created_at=created_at, **values)
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def get_location(conn: Connection, organization_id: int, location_id: int) -> Location:
    row = conn.execute(
        select(locations).where(
            locations.c.id == location_id, locations.c.organization_id == organization_id
        )
    ).first()
    if row is None:
        raise NotFoundError(f"location {location_id} not found")
    return _location(row)


def list_locations(conn: Connection, organization_id: int) -> list[Location]:
    rows = conn.execute(
        select(locations)
        .where(locations.c.organization_id == organization_id)
        .order_by(locations.c.name)
    )
    return [_location(r) for r in rows]


def update_location(
    conn: Connection, organization_id: int, location_id: int, **values: Any
) -> None:
    result = conn.execute(
        update(locations)
        .where(locations.c.id == location_id, locations.c.organization_id == organization_id)
        .values(values)
    )
    if result.rowcount == 0:
        raise NotFoundError(f"location {location_id} not found")
