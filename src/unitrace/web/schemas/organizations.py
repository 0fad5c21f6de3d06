"""The caller's organization and its locations."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Annotated

from pydantic import Field, field_validator

from unitrace.domain.model import Location, LocationKind, Organization, OrganizationKind
from unitrace.services.organizations import LocationDraft, OrganizationDraft
from unitrace.web.schemas.common import ItemsPublic, Name, Public, Schema, refuse_null, text


class OrganizationPublic(Public):
    id: int
    name: str
    kind: OrganizationKind
    license_number: str
    market: str
    gs1_company_prefix: str | None
    created_at: dt.datetime
    public_verification: bool


class OrganizationUpdate(Schema):
    """Fields to change; the kind of license cannot change through the API."""

    name: Name | None = None
    license_number: Annotated[str, text(100, min_length=1)] | None = None
    market: Annotated[str, text(50, min_length=1)] | None = None
    gs1_company_prefix: Annotated[str, text(12)] | None = None
    public_verification: bool | None = None  # false: your units answer public scans as unknown

    _not_null = field_validator(
        "name", "license_number", "market", "public_verification", mode="before"
    )(refuse_null)

    def merged_with(self, org: Organization) -> OrganizationDraft:
        changes = self.model_dump(exclude_unset=True)
        return OrganizationDraft(
            name=changes.get("name", org.name),
            kind=org.kind,
            license_number=changes.get("license_number", org.license_number),
            market=changes.get("market", org.market),
            gs1_company_prefix=changes.get("gs1_company_prefix", org.gs1_company_prefix),
            public_verification=changes.get("public_verification", org.public_verification),
        )


class LocationPublic(Public):
    id: int
    name: str
    kind: LocationKind
    address: str
    city: str
    gln: str | None
    created_at: dt.datetime


class LocationsPublic(ItemsPublic[LocationPublic]): ...


class LocationCreate(Schema):
    name: Name
    kind: LocationKind
    address: Annotated[str, text(500)] = ""
    city: Annotated[str, text(100)] = ""
    gln: Annotated[str, text(13)] | None = Field(default=None, examples=["0614141000012"])

    def to_draft(self) -> LocationDraft:
        return LocationDraft(self.name, self.kind, self.address, self.city, self.gln)


class LocationUpdate(Schema):
    name: Name | None = None
    kind: LocationKind | None = None
    address: Annotated[str, text(500)] | None = None
    city: Annotated[str, text(100)] | None = None
    gln: Annotated[str, text(13)] | None = None

    _not_null = field_validator("name", "kind", "address", "city", mode="before")(refuse_null)

    def merged_with(self, loc: Location) -> LocationDraft:
        values = {f.name: getattr(loc, f.name) for f in dataclasses.fields(LocationDraft)}
        values.update(self.model_dump(exclude_unset=True))
        return LocationDraft(**values)
