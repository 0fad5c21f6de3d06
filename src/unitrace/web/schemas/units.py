"""Units and their commissioning (serialization)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from pydantic import Field, model_validator

from unitrace.domain.model import Disposition, UnitView
from unitrace.web.schemas.common import Id, PagePublic, Public, Schema


class CommissioningCreate(Schema):
    batch_id: Id
    quantity: int = Field(ge=1, description="How many units to serialize.", examples=[1000])
    location_id: Id | None = Field(default=None, description="Where the units are made.")


class CommissioningPublic(Public):
    event_id: str = Field(
        description="The EPCIS event id of this commissioning: its CBV 2.0 event hash "
        "(ni:///sha-256;…?ver=CBV2.0)."
    )
    key: str = Field(
        description="The hex digest of event_id: the URL-safe way to name this commissioning "
        "(GET /api/v1/commissionings/{key}/codes)."
    )
    batch_id: int
    product_id: int
    lot_number: str
    quantity: int
    commissioned_at: dt.datetime
    replayed: bool = Field(
        description="True when this answers a retry of an earlier request with the same "
        "Idempotency-Key: nothing new was created."
    )


class UnitPublic(Public):
    code: str = Field(examples=["7K3MQ9XW2D4HBR"])
    product_id: int
    product_name: str
    batch_id: int
    lot_number: str
    gtin: str | None
    disposition: Disposition
    location_id: int | None
    location_name: str | None
    parent_container_id: int | None
    owner_organization_id: int
    custodian_organization_id: int
    short_url: str
    digital_link: str | None = Field(description="GS1 Digital Link, when the product has a GTIN.")
    external_serial: str | None = Field(
        default=None,
        description="The serial the brand printed itself (the `serials` import): what the "
        "label, its Digital Link and the unit's events carry. Null for a unitrace code alone.",
    )
    serial_guessable: bool = Field(
        default=False,
        description="That serial was imported although it could be guessed: the public "
        "verification calls the code alone weak evidence.",
    )
    commissioned_at: dt.datetime
    updated_at: dt.datetime

    @model_validator(mode="before")
    @classmethod
    def _flatten(cls, data: Any) -> Any:
        # A UnitView holds the unit's own fields under ``unit``: the API shows them flat, and
        # names the unit's organization for what it is, its owner.
        if not isinstance(data, UnitView):
            return data
        unit = dataclasses.asdict(data.unit)
        return {
            **dataclasses.asdict(data),
            **unit,
            "owner_organization_id": unit["organization_id"],
        }


class UnitsPublic(PagePublic[UnitPublic]): ...
