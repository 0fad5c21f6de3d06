"""Organizations (licensed businesses) and their locations."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from unitrace.domain.gs1 import InvalidGtinError, gtin_check_digit
from unitrace.domain.model import (
    Location,
    LocationKind,
    Organization,
    OrganizationKind,
    Principal,
    Role,
)
from unitrace.errors import ConflictError, ValidationError
from unitrace.services.access import require
from unitrace.services.runtime import Runtime
from unitrace.storage import orgs as store


@dataclass(frozen=True)
class OrganizationDraft:
    name: str
    kind: OrganizationKind
    license_number: str
    market: str
    gs1_company_prefix: str | None = None
    public_verification: bool = True  # false: its units answer public scans as unknown


@dataclass(frozen=True)
class LocationDraft:
    name: str
    kind: LocationKind
    address: str = ""
    city: str = ""
    gln: str | None = None


def _clean_org(draft: OrganizationDraft) -> dict[str, object]:
    problems = []
    if not draft.name.strip():
        problems.append({"field": "name", "message": "name is required"})
    if not draft.license_number.strip():
        problems.append({"field": "license_number", "message": "a license number is required"})
    if not draft.market.strip():
        problems.append(
            {"field": "market", "message": "a market (state or jurisdiction) is required"}
        )
    prefix = (draft.gs1_company_prefix or "").strip() or None
    if prefix is not None and not (prefix.isdigit() and 6 <= len(prefix) <= 12):
        problems.append(
            {"field": "gs1_company_prefix", "message": "a GS1 company prefix has 6 to 12 digits"}
        )
    if problems:
        raise ValidationError("the organization is not valid", details=problems)
    return {
        "name": draft.name.strip(),
        "kind": draft.kind.value,
        "license_number": draft.license_number.strip(),
        "market": draft.market.strip().upper(),
        "gs1_company_prefix": prefix,
        "public_verification": draft.public_verification,
    }


def create_organization(rt: Runtime, draft: OrganizationDraft) -> Organization:
    """Register a licensed business. An installation-operator action (CLI, demo loader)."""
    values = _clean_org(draft)
    try:
        with rt.db.transaction() as conn:
            org_id = store.insert_organization(conn, created_at=rt.clock(), **values)
            return store.get_organization(conn, org_id)
    except IntegrityError as exc:
        raise ConflictError(f"an organization named {values['name']!r} already exists") from exc


def list_organizations(rt: Runtime) -> list[Organization]:
    """Every organization of the installation (operator view)."""
    with rt.db.read() as conn:
        return store.list_organizations(conn)


def get_my_organization(rt: Runtime, principal: Principal) -> Organization:
    with rt.db.read() as conn:
        return store.get_organization(conn, principal.organization_id)


def update_my_organization(
    rt: Runtime, principal: Principal, draft: OrganizationDraft
) -> Organization:
    require(principal, Role.ADMIN)
    values = _clean_org(draft)
    values.pop("kind")  # the kind of license does not change through the API
    try:
        with rt.db.transaction() as conn:
            store.update_organization(conn, principal.organization_id, **values)
            return store.get_organization(conn, principal.organization_id)
    except IntegrityError as exc:
        raise ConflictError(f"an organization named {values['name']!r} already exists") from exc


def set_public_verification(rt: Runtime, organization_id: int, enabled: bool) -> Organization:
    """Whether the organization's units answer public scans (an installation-operator action;
    an organization's admin can do the same through ``update_my_organization``)."""
    with rt.db.transaction() as conn:
        store.get_organization(conn, organization_id)  # not found: NotFoundError
        store.update_organization(conn, organization_id, public_verification=enabled)
        return store.get_organization(conn, organization_id)


def validate_gln(gln: str) -> str:
    gln = gln.strip()
    if not (gln.isdigit() and len(gln) == 13):
        raise ValidationError(f"GLN '{gln}' must have exactly 13 digits")
    expected = gtin_check_digit(gln[:-1])
    if gln[-1] != expected:
        raise ValidationError(f"GLN {gln} has check digit {gln[-1]}; expected {expected}")
    return gln


def _clean_location(draft: LocationDraft) -> dict[str, object]:
    if not draft.name.strip():
        raise ValidationError(
            "a location needs a name", details=[{"field": "name", "message": "required"}]
        )
    try:
        gln = validate_gln(draft.gln) if draft.gln and draft.gln.strip() else None
    except InvalidGtinError as exc:  # pragma: no cover - validate_gln checks digits first
        raise ValidationError(str(exc)) from exc
    return {
        "name": draft.name.strip(),
        "kind": draft.kind.value,
        "address": draft.address.strip(),
        "city": draft.city.strip(),
        "gln": gln,
    }


def create_location(
    rt: Runtime,
    principal: Principal | None,
    draft: LocationDraft,
    *,
    organization_id: int | None = None,
) -> Location:
    """Add a facility or store. ``principal`` None is the installation operator."""
    if principal is not None:
        require(principal, Role.ADMIN)
        organization_id = principal.organization_id
    if organization_id is None:
        raise ValidationError("a location belongs to an organization")
    values = _clean_location(draft)
    try:
        with rt.db.transaction() as conn:
            loc_id = store.insert_location(
                conn, organization_id=organization_id, created_at=rt.clock(), **values
            )
            return store.get_location(conn, organization_id, loc_id)
    except IntegrityError as exc:
        raise ConflictError(
            f"a location named {values['name']!r} or with GLN {values['gln']} already exists"
        ) from exc


def list_locations(rt: Runtime, principal: Principal) -> list[Location]:
    with rt.db.read() as conn:
        return store.list_locations(conn, principal.organization_id)


def get_location(rt: Runtime, principal: Principal, location_id: int) -> Location:
    with rt.db.read() as conn:
        return store.get_location(conn, principal.organization_id, location_id)


def update_location(
    rt: Runtime, principal: Principal, *, location_id: int, draft: LocationDraft
) -> Location:
    require(principal, Role.ADMIN)
    values = _clean_location(draft)
    try:
        with rt.db.transaction() as conn:
            store.update_location(conn, principal.organization_id, location_id, **values)
            return store.get_location(conn, principal.organization_id, location_id)
    except IntegrityError as exc:
        raise ConflictError(
            f"a location named {values['name']!r} or with GLN {values['gln']} already exists"
        ) from exc
