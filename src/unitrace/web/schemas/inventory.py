"""Inventory counts: opening one, its scans, the differences found and their resolutions."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal, Self

from pydantic import Field

from unitrace.domain.inventory import MAX_AREA, MAX_NOTE
from unitrace.services.inventory import CountDetail, CountView
from unitrace.web.schemas.common import Id, PagePublic, Public, Schema, text
from unitrace.web.schemas.supply import Codes, Scan

CountStatus = Literal["open", "closed"]
ResolutionName = Literal["stolen", "lost", "received", "found", "moved_here", "noted"]


class CountCreate(Schema):
    location_id: Id = Field(description="One of your locations, normally a store.")
    note: Annotated[str, text(MAX_NOTE)] = ""


class ScansCreate(Schema):
    scans: Codes
    area: Annotated[str, text(MAX_AREA)] = Field(
        default="",
        description="Where these were scanned (a shelf, the back room).",
        examples=["shelf A"],
    )


class ResolveCreate(Schema):
    code: Scan = Field(description="The difference's code, as shown or scanned again.")
    resolution: ResolutionName = Field(
        description="`stolen`, `lost` or `found` (missing units), `received` (units in transit "
        "to you), `found` (units marked lost, found again), `moved_here` (units believed at "
        "another of your locations), `noted` (any; needs a note). A difference's `choices` "
        "lists what it allows."
    )
    note: Annotated[str, text(MAX_NOTE)] = ""


class CountPublic(Public):
    id: int
    location_id: int
    location_name: str
    status: CountStatus
    note: str
    opened_at: dt.datetime
    opened_by: str
    closed_at: dt.datetime | None
    closed_by: str | None
    scanned: int = Field(description="Distinct codes scanned (a case counts its units).")
    matched: int = Field(description="Believed here and scanned (0 until closed).")
    missing: int
    unexpected: int
    wrong_location: int
    resolved: int = Field(description="Differences resolved so far.")
    event_id: str | None = Field(
        description="The cycle_counting event closing the count recorded (the units believed "
        "here and scanned); null while open, or when none was."
    )
    accuracy: float | None = Field(
        description="matched / (matched + missing + unexpected + wrong_location); null while open.",
        examples=[0.9412],
    )

    @classmethod
    def of(cls, obj: object) -> Self:
        view: CountView = obj  # type: ignore[assignment]
        return cls.model_validate({**vars(view), "accuracy": view.accuracy})


class CountsPublic(PagePublic[CountPublic]):
    @classmethod
    def of(cls, obj: object) -> Self:
        page: Any = obj
        return cls.model_validate(
            {
                "total": page.total,
                "limit": page.limit,
                "offset": page.offset,
                "items": [CountPublic.of(v) for v in page.items],
            }
        )


class DifferencePublic(Public):
    code: str
    kind: Literal["missing", "unexpected", "wrong_location"]
    reason: str = Field(
        description="missing: `not_scanned`; wrong_location: `at_another_location`; "
        "unexpected: `not_received`, `in_transit`, `sold`, `stolen`, `destroyed`, "
        "`decommissioned`, `held_by_another_organization` or `unknown`."
    )
    message: str
    product_name: str | None
    disposition: str | None
    location_id: int | None = Field(description="Where the unit is believed to be.")
    location_name: str | None
    shipment_id: int | None = Field(description="The shipment carrying a unit not received.")
    choices: list[ResolutionName] = Field(description="Resolutions still open to it.")
    resolution: ResolutionName | None
    resolution_note: str
    resolved_at: dt.datetime | None
    resolved_by: str | None
    event_id: str | None = Field(description="The EPCIS event the resolution recorded.")


class CountDetailPublic(Public):
    count: CountPublic
    differences: list[DifferencePublic]

    @classmethod
    def of(cls, obj: object) -> Self:
        detail: CountDetail = obj  # type: ignore[assignment]
        return cls.model_validate(
            {"count": CountPublic.of(detail.count), "differences": list(detail.differences)}
        )


class ScanBatchPublic(Public):
    count_id: int
    area: str
    added: int = Field(description="Codes new to the count (every unit of a case scanned).")
    repeated: int = Field(description="Units and codes the count already had.")
    unknown: list[str] = Field(description="Codes that name no unit of yours.")
    scanned: int = Field(description="Distinct codes in the count now.")


class ResolvedPublic(Public):
    count_id: int
    resolution: ResolutionName
    differences: list[DifferencePublic] = Field(
        description="What was resolved: receiving settles every unit of the shipment the "
        "count found."
    )
    event_id: str | None
    replayed: bool = Field(description="True when the difference was already resolved so.")


class AccuracyPublic(Public):
    items: list[CountPublic]

    @classmethod
    def of(cls, obj: object) -> Self:
        views: list[CountView] = obj  # type: ignore[assignment]
        return cls.model_validate({"items": [CountPublic.of(v) for v in views]})
