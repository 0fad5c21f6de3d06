"""After the scan: the brand's clone alerts and its inbox of consumer problem reports, and
the authenticated lookup of raw scanner text for receiving and the point of sale."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from unitrace.services import support
from unitrace.services.verification import public_record
from unitrace.web.api.params import IdPath, Limit, Offset
from unitrace.web.deps import ApiPrincipal, RuntimeDep
from unitrace.web.schemas.common import NO_NUL
from unitrace.web.schemas.support import (
    AlertDetailPublic,
    AlertPublic,
    AlertsPublic,
    AlertStatus,
    CloseReportCreate,
    InvestigateCreate,
    LookupPublic,
    ProblemReportCasePublic,
    ProblemReportPublic,
    ProblemReportsPublic,
    ReportStatus,
)

router = APIRouter(tags=["support"])

ALREADY: dict[int | str, dict[str, Any]] = {
    409: {"description": "`conflict`: it was already investigated (an alert) or closed."}
}
RawScan = Annotated[
    str,
    Query(
        min_length=1,
        max_length=2000,
        pattern=NO_NUL,
        description="The scanner's text as read: a code, a short link or a GS1 Digital Link.",
        examples=["https://id.example.com/7K3MQ9XW2D4HBR"],
    ),
]


@router.get("/alerts")
def list_alerts(
    rt: RuntimeDep,
    principal: ApiPrincipal,
    status: AlertStatus = "open",
    limit: Limit = 50,
    offset: Offset = 0,
) -> AlertsPublic:
    """Clone alerts on your units, newest first: a sold unit scanned from too many networks,
    a scan in a market it was never shipped to, a scan of a destroyed or stolen unit."""
    page = support.list_alerts(
        rt, principal, status=None if status == "all" else status, limit=limit, offset=offset
    )
    return AlertsPublic.of(page)


@router.get("/alerts/{alert_id}")
def get_alert(alert_id: IdPath, rt: RuntimeDep, principal: ApiPrincipal) -> AlertDetailPublic:
    """One alert and the unit's public scans (anonymous origins), newest first."""
    alert, scans = support.alert_scans(rt, principal, alert_id)
    return AlertDetailPublic.model_validate({"alert": alert, "recent_scans": scans})


@router.post("/alerts/{alert_id}/investigate", responses=ALREADY)
def investigate(
    alert_id: IdPath, body: InvestigateCreate, rt: RuntimeDep, principal: ApiPrincipal
) -> AlertPublic:
    """Mark an open alert investigated, with a note (operators and admins). Scans after
    this count afresh and may raise a new alert."""
    return AlertPublic.of(support.investigate_alert(rt, principal, alert_id, note=body.note))


@router.get("/problem-reports")
def list_reports(
    rt: RuntimeDep,
    principal: ApiPrincipal,
    status: ReportStatus = "open",
    limit: Limit = 50,
    offset: Offset = 0,
) -> ProblemReportsPublic:
    """Your inbox: problems consumers reported on your units, newest first."""
    page = support.list_reports(
        rt, principal, status=None if status == "all" else status, limit=limit, offset=offset
    )
    return ProblemReportsPublic.of(page)


@router.get("/problem-reports/{report_id}")
def get_report(
    report_id: IdPath, rt: RuntimeDep, principal: ApiPrincipal
) -> ProblemReportCasePublic:
    """A report with the unit's verification record as a consumer sees it now and its
    history, so the answer can rest on facts."""
    return ProblemReportCasePublic.of(support.get_report(rt, principal, report_id))


@router.post("/problem-reports/{report_id}/close", responses=ALREADY)
def close_report(
    report_id: IdPath, body: CloseReportCreate, rt: RuntimeDep, principal: ApiPrincipal
) -> ProblemReportPublic:
    """Close a report with its resolution (operators and admins)."""
    report = support.close_report(rt, principal, report_id, resolution=body.resolution)
    return ProblemReportPublic.of(report)


@router.get("/lookup")
def lookup(scan: RawScan, rt: RuntimeDep, principal: ApiPrincipal) -> LookupPublic:
    """What the unit behind raw scanner text is: the unit (yours, or in your custody; 404
    otherwise), its public verdict, open clone alerts (its owner only) and recent public
    scans. A case or pallet code is a 422: look it up under containers."""
    found = support.scan_lookup(rt, principal, scan)
    return LookupPublic.of(found | {"verification": public_record(rt, found["verification"])})
