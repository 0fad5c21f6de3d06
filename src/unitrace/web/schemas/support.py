"""After the scan: the brand's clone alerts, its inbox of consumer problem reports, and the
authenticated lookup of raw scanner text (receiving, point of sale)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Annotated, Any, Literal, Self

from pydantic import Field

from unitrace.services.support import MAX_MESSAGE, ReportCase
from unitrace.web.schemas.common import PagePublic, Public, Schema, text
from unitrace.web.schemas.units import UnitPublic

AlertStatus = Literal["open", "investigated", "all"]
ReportStatus = Literal["open", "closed", "all"]


class ScanPublic(Public):
    """One public scan of a unit; ``origin`` is an anonymous token, never an address."""

    scanned_at: dt.datetime
    verdict: str
    origin: str = Field(description="A keyed hash of the scanner's network (16 hex digits).")
    country: str
    region: str
    city: str
    agent: str = Field(description="The browser family, e.g. `Safari iOS`.")
    link_type: str


class AlertPublic(Public):
    id: int
    code: str
    reason: str = Field(
        examples=["many_origins"],
        description="`many_origins`, `foreign_market`, or the scan of a destroyed, "
        "decommissioned or stolen unit.",
    )
    status: Literal["open", "investigated"]
    detail: str
    created_at: dt.datetime
    product_name: str
    lot_number: str
    disposition: str = Field(description="The unit's disposition now.")
    scan_count: int = Field(description="Public scans of the unit on record.")
    investigated_at: dt.datetime | None
    investigated_by: str | None
    note: str


class AlertsPublic(PagePublic[AlertPublic]): ...


class AlertDetailPublic(Public):
    alert: AlertPublic
    recent_scans: list[ScanPublic] = Field(description="The unit's public scans, newest first.")


class InvestigateCreate(Schema):
    note: Annotated[str, text(MAX_MESSAGE)] = Field(
        default="", examples=["Two retail staff scanned it at the counter; not a clone."]
    )


class ProblemReportPublic(Public):
    id: int
    code: str
    kind: str = Field(examples=["damaged"])
    kind_label: str = Field(examples=["Damaged or tampered package"])
    message: str
    created_at: dt.datetime
    status: Literal["open", "closed"]
    product_name: str
    lot_number: str
    disposition: str
    contact_name: str | None = Field(description="Only when the consumer consented.")
    contact_email: str | None = Field(description="Only when the consumer consented.")
    consent: bool
    closed_at: dt.datetime | None
    closed_by: str | None
    resolution: str


class ProblemReportsPublic(PagePublic[ProblemReportPublic]): ...


class TimelineEntryPublic(Public):
    event_id: str
    event_time: dt.datetime
    biz_step: str | None
    disposition: str | None
    organization_name: str
    location_name: str | None
    summary: str
    declared_in_error: bool
    error_declaration: dict[str, Any] | None


class ProblemReportCasePublic(Public):
    report: ProblemReportPublic
    verification: dict[str, Any] = Field(
        description="The unit's public verification record now (as the consumer sees it)."
    )
    timeline: list[TimelineEntryPublic] = Field(description="The unit's events, oldest first.")

    @classmethod
    def of(cls, obj: object) -> Self:
        """``obj`` is a :class:`unitrace.services.support.ReportCase`."""
        if not isinstance(obj, ReportCase):
            raise TypeError(f"expected a ReportCase, got {type(obj).__name__}")
        return cls.model_validate(
            {
                "report": obj.report,
                "verification": obj.verification,
                "timeline": [
                    dataclasses.asdict(e)
                    | {"error_declaration": dict(e.error_declaration or {}) or None}
                    for e in obj.timeline
                ],
            }
        )


class CloseReportCreate(Schema):
    resolution: Annotated[str, text(MAX_MESSAGE)] = Field(
        default="", examples=["Replacement sent; lot checked, no other reports."]
    )


class LookupPublic(UnitPublic):
    """The unit as ``GET /units/{code}`` shows it, with what the scan means now."""

    verification: dict[str, Any] = Field(
        description="The public verification record (the verdict a consumer would see)."
    )
    alerts: list[AlertPublic] = Field(description="Open clone alerts (the unit's owner only).")
    recent_scans: list[ScanPublic] = Field(description="The last 20 public scans.")

    @classmethod
    def of(cls, obj: object) -> Self:
        """``obj`` is what :func:`unitrace.services.support.scan_lookup` returns, with its
        ``verification`` already a public record."""
        if not isinstance(obj, dict):
            raise TypeError(f"expected the lookup's dict, got {type(obj).__name__}")
        unit = UnitPublic.model_validate(obj["view"]).model_dump()
        return cls.model_validate(
            unit
            | {
                "verification": obj["verification"],
                "alerts": obj["alerts"],
                "recent_scans": obj["recent_scans"],
            }
        )
