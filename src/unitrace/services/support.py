"""After the scan: purchase registrations, problem reports, the brand's inbox and its
clone alerts, and the authenticated scan lookup used by receiving and sale screens.

Consumers give as little as possible: a registration or a report needs no personal data;
a name and email are stored only with explicit consent, and are erased after
``contact_retention_days`` (``services.scanlog.purge``).
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass
from typing import Any

from unitrace.domain.codes import ALPHABET
from unitrace.domain.model import Page, Principal, Role
from unitrace.domain.verification import Verdict
from unitrace.errors import ConflictError, NotFoundError, RateLimitedError, ValidationError
from unitrace.services import history, units
from unitrace.services.access import require
from unitrace.services.catalog import check_page
from unitrace.services.runtime import Runtime
from unitrace.services.scanlog import Origin
from unitrace.services.verification import Verification, public_record, verified_unit, verify
from unitrace.storage import public as store

PROBLEM_KINDS = {
    "adverse_reaction": "Adverse reaction",
    "damaged": "Damaged or tampered package",
    "suspected_counterfeit": "Suspected counterfeit",
    "other": "Something else",
}
MAX_MESSAGE = 2000
REPORTS_PER_ORIGIN_PER_DAY = 3  # per unit: a report is not a chat channel
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


@dataclass(frozen=True)
class Contact:
    name: str = ""
    email: str = ""
    consent: bool = False

    def stored(self) -> dict[str, str | None]:
        """What may be stored: nothing at all without consent."""
        name, email = self.name.strip(), self.email.strip()
        if (name or email) and not self.consent:
            raise ValidationError(
                "tick the consent box to leave your name or email, or leave them empty",
                details=[{"field": "consent", "message": "consent is needed to store contact"}],
            )
        if email and (len(email) > 320 or not _EMAIL.fullmatch(email)):
            raise ValidationError(
                f"{email[:60]!r} is not an email address",
                details=[{"field": "email", "message": "not an email address"}],
            )
        if len(name) > 200:
            raise ValidationError("the name is longer than 200 characters")
        return {"contact_name": name or None, "contact_email": email or None}


# --- Proof of purchase


@dataclass(frozen=True)
class Registration:
    reference: str
    code: str
    registered_at: dt.datetime
    sold_on: dt.date | None
    sold_city: str | None
    product_name: str
    lot_number: str
    brand_name: str
    has_contact: bool


def _reference() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(12))


def register_purchase(rt: Runtime, code: str, contact: Contact) -> Registration:
    """Register the purchase of a sold unit; the reference is the consumer's proof.

    Only a sold unit can be registered, and only once (a second attempt is a conflict, so a
    code copied from someone else's jar cannot take over their registration).
    """
    v = verified_unit(rt, code)
    if v.verdict is not Verdict.AUTHENTIC_ALREADY_SOLD:
        raise ConflictError(
            "only a unit sold by a licensed store can be registered; this one is "
            + v.verdict.value.replace("_", " "),
            details={"verdict": v.verdict.value},
        )
    values = contact.stored()
    reference = _reference()
    now = rt.clock()
    with rt.db.transaction() as conn:
        inserted = store.insert_registration(
            conn,
            organization_id=v.organization_id,
            unit_id=v.unit_id,
            reference=reference,
            registered_at=now,
            consent=contact.consent,
            **values,
        )
    if not inserted:
        raise ConflictError("this unit's purchase is already registered")
    return _registration(
        v, reference, now, has_contact=bool(values["contact_email"] or values["contact_name"])
    )


def _registration(
    v: Verification, reference: str, at: dt.datetime, *, has_contact: bool
) -> Registration:
    f = v.facts or {}
    return Registration(
        reference=reference,
        code=v.code,
        registered_at=at,
        sold_on=v.sold_on,
        sold_city=v.sold_city,
        product_name=f.get("product_name", ""),
        lot_number=f.get("lot_number", ""),
        brand_name=f.get("brand_name", ""),
        has_contact=has_contact,
    )


def proof_of_purchase(rt: Runtime, code: str, reference: str) -> Registration:
    """The registration with this reference for this unit (both must match)."""
    v = verified_unit(rt, code)
    with rt.db.read() as conn:
        row = store.find_registration(conn, v.unit_id)  # type: ignore[arg-type]
    if row is None or not secrets.compare_digest(row["reference"], reference.strip().upper()):
        raise NotFoundError("no registration with this reference for this unit")
    has_contact = bool(row["contact_email"] or row["contact_name"])
    return _registration(v, row["reference"], row["registered_at"], has_contact=has_contact)


# --- Report a problem


@dataclass(frozen=True)
class ProblemReport:
    id: int
    code: str
    kind: str
    message: str
    created_at: dt.datetime
    status: str
    product_name: str
    lot_number: str
    disposition: str
    contact_name: str | None
    contact_email: str | None
    consent: bool
    closed_at: dt.datetime | None
    closed_by: str | None
    resolution: str

    @property
    def kind_label(self) -> str:
        return PROBLEM_KINDS.get(self.kind, self.kind)


def report_problem(
    rt: Runtime, code: str, *, kind: str, message: str, contact: Contact, origin: Origin
) -> int:
    """File a consumer's report in the brand's inbox, linked to the unit; returns its id."""
    if kind not in PROBLEM_KINDS:
        raise ValidationError(
            f"unknown problem kind {kind[:40]!r}; choose one of {', '.join(PROBLEM_KINDS)}",
            details=[{"field": "kind", "message": "unknown kind"}],
        )
    text = message.strip()
    if not text:
        raise ValidationError(
            "describe the problem in a few words",
            details=[{"field": "message", "message": "empty"}],
        )
    if len(text) > MAX_MESSAGE:
        raise ValidationError(
            f"the description is {len(text)} characters long; keep it under {MAX_MESSAGE}",
            details=[{"field": "message", "message": "too long"}],
        )
    values = contact.stored()
    v = verified_unit(rt, code)
    now = rt.clock()
    with rt.db.transaction() as conn:
        unit_id = int(v.unit_id or 0)
        recent = store.count_recent_reports(conn, unit_id, origin.token, now - dt.timedelta(days=1))
        if recent >= REPORTS_PER_ORIGIN_PER_DAY:
            raise RateLimitedError("this unit was already reported from here today")
        return store.insert_problem_report(
            conn,
            organization_id=v.organization_id,
            unit_id=unit_id,
            batch_id=(v.facts or {})["batch_id"],
            kind=kind,
            message=text,
            consent=contact.consent,
            origin=origin.token,
            created_at=now,
            **values,
        )


def _report(row: dict[str, Any]) -> ProblemReport:
    return ProblemReport(
        id=int(row["id"]),
        code=row["code"],
        kind=row["kind"],
        message=row["message"],
        created_at=row["created_at"],
        status=row["status"],
        product_name=row["product_name"],
        lot_number=row["lot_number"],
        disposition=row["disposition"],
        contact_name=row["contact_name"],
        contact_email=row["contact_email"],
        consent=bool(row["consent"]),
        closed_at=row["closed_at"],
        closed_by=row["closed_by"],
        resolution=row["resolution"],
    )


def list_reports(
    rt: Runtime,
    principal: Principal,
    *,
    status: str | None = "open",
    limit: int = 50,
    offset: int = 0,
) -> Page[ProblemReport]:
    """The organization's inbox of consumer reports, newest first."""
    limit, offset = check_page(limit, offset)
    if status not in (None, "open", "closed"):
        raise ValidationError("status must be open or closed")
    with rt.db.read() as conn:
        rows, total = store.list_problem_reports(
            conn, principal.organization_id, status=status, limit=limit, offset=offset
        )
    return Page(tuple(_report(r) for r in rows), total, limit, offset)


@dataclass(frozen=True)
class ReportCase:
    """A report with everything support needs to answer with facts."""

    report: ProblemReport
    verification: dict[str, Any]
    timeline: list[history.TimelineEntry]


def get_report(rt: Runtime, principal: Principal, report_id: int) -> ReportCase:
    with rt.db.read() as conn:
        row = store.get_problem_report(conn, principal.organization_id, report_id)
    if row is None:
        raise NotFoundError(f"report {report_id} not found")
    report = _report(row)
    return ReportCase(
        report=report,
        verification=public_record(rt, verify(rt, report.code)),
        timeline=history.timeline(rt, principal, report.code),
    )


def close_report(
    rt: Runtime, principal: Principal, report_id: int, *, resolution: str
) -> ProblemReport:
    require(principal, Role.OPERATOR)
    with rt.db.transaction() as conn:
        if store.get_problem_report(conn, principal.organization_id, report_id) is None:
            raise NotFoundError(f"report {report_id} not found")
        changed = store.close_problem_report(
            conn,
            principal.organization_id,
            report_id,
            by=principal.display,
            resolution=resolution.strip()[:MAX_MESSAGE],
            at=rt.clock(),
        )
        if not changed:
            raise ConflictError(f"report {report_id} is already closed")
        row = store.get_problem_report(conn, principal.organization_id, report_id)
    return _report(row)  # type: ignore[arg-type]


# --- Clone alerts


@dataclass(frozen=True)
class Alert:
    id: int
    code: str
    reason: str
    status: str
    detail: str
    created_at: dt.datetime
    product_name: str
    lot_number: str
    disposition: str
    scan_count: int
    investigated_at: dt.datetime | None
    investigated_by: str | None
    note: str


def _alert(row: dict[str, Any]) -> Alert:
    return Alert(
        id=int(row["id"]),
        code=row["code"],
        reason=row["reason"],
        status=row["status"],
        detail=row["detail"],
        created_at=row["created_at"],
        product_name=row["product_name"],
        lot_number=row["lot_number"],
        disposition=row["disposition"],
        scan_count=int(row["scan_count"]),
        investigated_at=row["investigated_at"],
        investigated_by=row["investigated_by"],
        note=row["note"],
    )


def list_alerts(
    rt: Runtime,
    principal: Principal,
    *,
    status: str | None = "open",
    limit: int = 50,
    offset: int = 0,
) -> Page[Alert]:
    """Suspicious codes of the organization's units, newest first."""
    limit, offset = check_page(limit, offset)
    if status not in (None, "open", "investigated"):
        raise ValidationError("status must be open or investigated")
    with rt.db.read() as conn:
        rows, total = store.list_alerts(
            conn, principal.organization_id, status=status, limit=limit, offset=offset
        )
    return Page(tuple(_alert(r) for r in rows), total, limit, offset)


def alert_scans(
    rt: Runtime, principal: Principal, alert_id: int
) -> tuple[Alert, list[dict[str, Any]]]:
    """One alert and the unit's recent public scans (anonymous origins)."""
    with rt.db.read() as conn:
        found = store.get_alert(conn, principal.organization_id, alert_id)
        if found is None:
            raise NotFoundError(f"alert {alert_id} not found")
        return _alert(found), store.unit_scans(conn, found["unit_id"])


def investigate_alert(rt: Runtime, principal: Principal, alert_id: int, *, note: str) -> Alert:
    """Mark an alert investigated; scans after this may raise a new one."""
    require(principal, Role.OPERATOR)
    with rt.db.transaction() as conn:
        if store.get_alert(conn, principal.organization_id, alert_id) is None:
            raise NotFoundError(f"alert {alert_id} not found")
        changed = store.mark_alert_investigated(
            conn,
            principal.organization_id,
            alert_id,
            by=principal.display,
            note=note.strip()[:MAX_MESSAGE],
            at=rt.clock(),
        )
        if not changed:
            raise ConflictError(f"alert {alert_id} was already investigated")
        return _alert(store.get_alert(conn, principal.organization_id, alert_id))  # type: ignore[arg-type]


# --- The authenticated scan lookup (receiving, POS)


def scan_lookup(rt: Runtime, principal: Principal, raw: str) -> dict[str, Any]:
    """Everything the caller may know about the unit behind raw scanner text.

    The unit must be the caller's own or in its custody (otherwise: not found, like an
    unknown code). Adds the public verdict, the active recall and open clone alerts.
    """
    view = units.get_unit_by_scan(rt, principal, raw)
    v = verify(rt, view.unit.code)
    with rt.db.read() as conn:
        scans = store.unit_scans(conn, view.unit.id, limit=20)
        alerts: list[Alert] = []
        if view.unit.organization_id == principal.organization_id:
            rows, _ = store.list_alerts(
                conn,
                principal.organization_id,
                status="open",
                limit=50,
                offset=0,
                unit_id=view.unit.id,
            )
            alerts = [_alert(r) for r in rows]
    return {"view": view, "verification": v, "alerts": alerts, "recent_scans": scans}
