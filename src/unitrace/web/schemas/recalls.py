"""Recalls: the definition (scope, text, severity), the preview, the reach report, and what
holders hold and confirm."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal, Self

from pydantic import Field, model_validator

from unitrace.domain.recalls import (
    MAX_INSTRUCTIONS,
    MAX_REASON,
    MAX_SCOPE_CODES,
    MAX_TITLE,
    Scope,
)
from unitrace.services.recalls import RecallDraft
from unitrace.web.schemas.common import Id, ItemsPublic, PagePublic, Public, Schema, text
from unitrace.web.schemas.supply import MAX_CODES, Codes, Reason, Scan

RecallStatus = Literal["draft", "active", "closed"]
Severity = Literal["I", "II", "III"]


class RecallCreate(Schema):
    title: Annotated[str, text(MAX_TITLE, min_length=1)] = Field(
        examples=["Aspergillus found in retest"]
    )
    reason: Annotated[str, text(MAX_REASON, min_length=1)] = Field(
        examples=["Lot BD-7 failed a microbial retest"]
    )
    severity: Severity = Field(description="Class I (serious harm likely) to III.")
    retailer_instructions: Annotated[str, text(MAX_INSTRUCTIONS)] = ""
    consumer_instructions: Annotated[str, text(MAX_INSTRUCTIONS)] = ""
    batch_ids: list[Id] = Field(default_factory=list, max_length=10_000)
    product_ids: list[Id] = Field(
        default_factory=list,
        max_length=10_000,
        description="Every batch of these products (within the production dates, if given).",
    )
    produced_from: dt.date | None = None
    produced_to: dt.date | None = None
    container_codes: list[Scan] = Field(
        default_factory=list,
        max_length=MAX_CODES,
        description="Cases and pallets: their current contents at any depth.",
    )
    unit_codes: list[Scan] = Field(
        default_factory=list, max_length=MAX_SCOPE_CODES, description="Explicit unit codes."
    )

    def to_draft(self) -> RecallDraft:
        return RecallDraft(
            title=self.title,
            reason=self.reason,
            severity=self.severity,
            retailer_instructions=self.retailer_instructions,
            consumer_instructions=self.consumer_instructions,
            scope=Scope(
                batch_ids=tuple(self.batch_ids),
                product_ids=tuple(self.product_ids),
                produced_from=self.produced_from,
                produced_to=self.produced_to,
                container_codes=tuple(self.container_codes),
                unit_codes=tuple(self.unit_codes),
            ),
        )


class RecallPublic(Public):
    id: int
    number: str = Field(examples=["RC-2026-0001"])
    organization_id: int = Field(description="The issuer.")
    issuer_name: str
    title: str
    reason: str
    severity: Severity
    retailer_instructions: str
    consumer_instructions: str
    status: RecallStatus
    scope: dict[str, Any] = Field(
        description="batch_ids, product_ids, produced_from, produced_to, container_codes, "
        "unit_code_count."
    )
    created_at: dt.datetime
    created_by: str
    activated_at: dt.datetime | None
    activated_by: str | None
    closed_at: dt.datetime | None
    closed_by: str | None
    unit_count: int = Field(description="Units the recall covers (0 for a draft).")
    recalled_count: int = Field(description="Units activation made `recalled`.")
    final_report: dict[str, Any] | None = Field(description="The reach report at closing.")


class RecallsPublic(PagePublic[RecallPublic]): ...


class PreviewPublic(Public):
    total: int = Field(description="Units in scope.")
    will_recall: int = Field(description="Units whose disposition becomes `recalled`.")
    by_disposition: dict[str, int]
    by_custodian: list[dict[str, Any]] = Field(
        description="Per holder: organization_id, organization_name, location_id, "
        "location_name, city, units."
    )


class ActivationPublic(Public):
    recall: RecallPublic
    units: int = Field(description="Every unit in scope.")
    flagged: int = Field(description="Units this recall made `recalled`.")
    event_id: str | None
    holders_notified: int


class HolderPublic(Public):
    organization_id: int
    organization_name: str
    location_id: int | None
    location_name: str | None
    city: str | None
    counts: dict[str, int]
    total: int


class ProgressPublic(Public):
    secured: int
    to_secure: int
    share: float = Field(description="Secured over units to secure (1.0 when none are left).")


class ReportPublic(Public):
    recall_id: int
    status: RecallStatus
    generated_at: dt.datetime
    counts: dict[str, int] = Field(
        description="Units per category: destroyed, sold, released, returned, quarantined, "
        "in_transit, at_issuer, at_holder."
    )
    total: int
    progress: ProgressPublic
    holders: list[HolderPublic]
    sold: list[dict[str, Any]] = Field(description="Sold units: code, store, city, sold_at.")

    @classmethod
    def of(cls, obj: object) -> Self:
        """``obj`` is the report as :func:`unitrace.services.recalls.report_json` gives it."""
        return cls.model_validate(obj)


class ReleaseCreate(Schema):
    codes: list[Scan] | None = Field(
        default=None, min_length=1, max_length=MAX_CODES, description="Leave out with all."
    )
    all: bool = Field(default=False, description="Release every unit still recalled.")
    reason: Annotated[str, text(500, min_length=1)] = Field(examples=["wrong lot named"])

    @model_validator(mode="after")
    def _codes_or_all(self) -> Self:
        if (self.codes is None) == (not self.all):
            raise ValueError("name codes, or set all to true (not both)")
        return self


class DestroyCreate(Schema):
    codes: list[Scan] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_CODES,
        description="Leave out to destroy every recalled unit you hold.",
    )
    reason: Reason = ""


class ConfirmCreate(Schema):
    codes: Codes
    action: Literal["quarantined", "returned"]
    location_id: Id | None = Field(default=None, description="Where (default: none recorded).")


class UnitsChangedPublic(Public):
    recall_id: int | None
    units: int
    codes: list[str]
    event_ids: list[str]


class HeldRecallPublic(Public):
    recall_id: int
    number: str
    title: str
    severity: Severity
    issuer_name: str
    retailer_instructions: str
    activated_at: dt.datetime | None
    location_id: int | None
    location_name: str | None
    units: int
    confirmed: int


class HeldRecallsPublic(ItemsPublic[HeldRecallPublic]): ...


class HeldCodePublic(Public):
    code: str
    product: str
    lot_number: str
    location: str | None
    outcome: str | None


class HeldCodesPublic(ItemsPublic[HeldCodePublic]): ...
