"""Recalls: define a scope, preview it, activate it in one transaction, follow its reach,
and end it by destroying or releasing units. See :mod:`unitrace.domain.recalls`.

A brand recalls its own units; a regulator any unit of its market. Activation flags every
unit in scope that can still be recalled (the lifecycle table's sources for ``recall``)
with one UPDATE, fixes the recall's units in ``recall_units`` with one INSERT … SELECT and
records one EPCIS ObjectEvent (bizStep ``holding``, disposition ``recalled``). From that
commit on every point of sale refuses those units, because selling needs
``sellable_accessible``. Holders are told by webhook (``recall.activated``) and see their
affected units in the app; they confirm quarantine or return by scanning.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Connection, Select

from unitrace.domain import epcis
from unitrace.domain import recalls as rules
from unitrace.domain.lifecycle import RULES, Operation
from unitrace.domain.model import (
    BizStep,
    Disposition,
    EventAction,
    OrganizationKind,
    Page,
    Principal,
    Role,
)
from unitrace.domain.recalls import (
    Category,
    Confirmation,
    Outcome,
    Preview,
    ReachReport,
    RecallRuleError,
    RecallStatus,
    Scope,
)
from unitrace.domain.scan import ScanError, ScanKind, parse_scan
from unitrace.errors import ConflictError, NotFoundError, ValidationError
from unitrace.services import eventlog, movement, webhooks
from unitrace.services.access import require
from unitrace.services.catalog import check_page
from unitrace.services.runtime import Runtime
from unitrace.storage import orgs as org_store
from unitrace.storage import recalls as store
from unitrace.storage import retail as retail_store
from unitrace.storage import supply
from unitrace.storage.schema import units

RECALLABLE = tuple(sorted(d.value for d in RULES[Operation.RECALL].sources))
ISSUER_KINDS = RULES[Operation.RECALL].kinds
_WEBHOOK_CODES = 1_000  # codes listed in one holder's notification
_SOLD_LISTED = 200


@dataclass(frozen=True)
class RecallDraft:
    title: str
    reason: str
    severity: str
    scope: Scope
    retailer_instructions: str = ""
    consumer_instructions: str = ""


@dataclass(frozen=True)
class RecallView:
    id: int
    number: str
    organization_id: int
    issuer_name: str
    title: str
    reason: str
    severity: str
    retailer_instructions: str
    consumer_instructions: str
    status: RecallStatus
    scope: Mapping[str, Any]
    created_at: dt.datetime
    created_by: str
    activated_at: dt.datetime | None
    activated_by: str | None
    closed_at: dt.datetime | None
    closed_by: str | None
    unit_count: int
    recalled_count: int
    final_report: Mapping[str, Any] | None


@dataclass(frozen=True)
class Activation:
    recall: RecallView
    units: int  # every unit in scope
    flagged: int  # units this recall made `recalled`
    event_id: str | None  # None when nothing was left to flag (e.g. everything sold)
    holders_notified: int


@dataclass(frozen=True)
class UnitsChanged:
    recall_id: int | None
    units: int
    codes: tuple[str, ...]  # as named (empty when the call covered "all")
    event_ids: tuple[str, ...]


@dataclass(frozen=True)
class HeldRecall:
    """Recalled units an organization holds for one active recall, at one location."""

    recall_id: int
    number: str
    title: str
    severity: str
    issuer_name: str
    retailer_instructions: str
    activated_at: dt.datetime | None
    location_id: int | None
    location_name: str | None
    units: int
    confirmed: int


_MESSAGES = {
    "kind_not_permitted": "only a brand or a regulator issues recalls",
    "not_recalled_here": "not a recalled unit of an active recall that you hold",
    "not_recalled": "not under recall any more",
}


def _refusal(code: str, reason: str) -> movement.Refusal:
    return movement.Refusal(code, reason, _MESSAGES.get(reason, reason.replace("_", " ")))


def _error(exc: RecallRuleError) -> ValidationError:
    return ValidationError(str(exc), details={"field": exc.field} if exc.field else None)


def _view(row: Mapping[str, Any]) -> RecallView:
    return RecallView(
        id=int(row["id"]),
        number=str(row["number"]),
        organization_id=int(row["organization_id"]),
        issuer_name=str(row["issuer_name"]),
        title=str(row["title"]),
        reason=str(row["reason"]),
        severity=str(row["severity"]),
        retailer_instructions=str(row["retailer_instructions"]),
        consumer_instructions=str(row["consumer_instructions"]),
        status=RecallStatus(row["status"]),
        scope=json.loads(row["scope"]),
        created_at=row["created_at"],
        created_by=str(row["created_by"]),
        activated_at=row["activated_at"],
        activated_by=row["activated_by"],
        closed_at=row["closed_at"],
        closed_by=row["closed_by"],
        unit_count=int(row["unit_count"]),
        recalled_count=int(row["recalled_count"]),
        final_report=json.loads(row["final_report"]) if row["final_report"] else None,
    )


# ---------------------------------------------------------------------------------------
# Who may see and do what


def _kind(conn: Connection, principal: Principal) -> OrganizationKind:
    return movement.organization_kind(conn, principal.organization_id)


def _market(conn: Connection, organization_id: int) -> str:
    return org_store.get_organization(conn, organization_id).market


def _issuers(conn: Connection, principal: Principal, kind: OrganizationKind) -> Any:
    """Whose units the caller may recall: its own, or (a regulator) its market's."""
    if kind is OrganizationKind.REGULATOR:
        return store.market_organizations(_market(conn, principal.organization_id))
    return [principal.organization_id]


def _readable(conn: Connection, principal: Principal, recall_id: int) -> dict[str, Any]:
    """The recall, for its issuer or a regulator of the issuer's market; else not found."""
    row = store.get_recall(conn, recall_id)
    if row is not None and row["organization_id"] != principal.organization_id:
        kind = _kind(conn, principal)
        if kind is not OrganizationKind.REGULATOR or _market(
            conn, row["organization_id"]
        ) != _market(conn, principal.organization_id):
            row = None
    if row is None:
        raise NotFoundError(f"recall {recall_id} not found")
    return row


def _own(conn: Connection, principal: Principal, recall_id: int, action: str) -> dict[str, Any]:
    """The caller's own recall, locked, in a status that allows ``action``."""
    row = store.get_recall(conn, recall_id, lock=True)
    if row is None or row["organization_id"] != principal.organization_id:
        raise NotFoundError(f"recall {recall_id} not found")
    try:
        rules.check_transition(RecallStatus(row["status"]), action)
    except RecallRuleError as exc:
        raise ConflictError(str(exc)) from exc
    return row


def _require_issuer(conn: Connection, principal: Principal) -> OrganizationKind:
    kind = _kind(conn, principal)
    if kind not in ISSUER_KINDS:
        raise movement.refuse("recall", [_refusal("", "kind_not_permitted")])
    return kind


# ---------------------------------------------------------------------------------------
# Drafts


def _scope_ids(conn: Connection, principal: Principal, recall_id: int, scope: Scope) -> Select[Any]:
    kind = _kind(conn, principal)
    owners = units.c.organization_id.in_(_issuers(conn, principal, kind))
    container_ids = list(_container_ids(conn, principal, kind, scope.container_codes).values())
    return store.scope_ids(recall_id, scope, container_ids, owners)


def _container_ids(
    conn: Connection, principal: Principal, kind: OrganizationKind, codes: Sequence[str]
) -> dict[str, int]:
    if not codes:
        return {}
    orgs = (
        store.market_organizations(_market(conn, principal.organization_id))
        if kind is OrganizationKind.REGULATOR
        else None
    )
    found = store.container_ids_by_code(conn, codes, orgs)
    if kind is not OrganizationKind.REGULATOR:
        own = supply.find_items(conn, list(found))
        found = {
            c: i
            for c, i in found.items()
            if c in own and own[c].organization_id == principal.organization_id
        }
    return found


def _check_scope(conn: Connection, principal: Principal, scope: Scope) -> tuple[Scope, list[int]]:
    """The scope cleaned, and the ids of its explicit units; every unknown reference at once."""
    try:
        scope = rules.check_scope(scope)
    except RecallRuleError as exc:
        raise _error(exc) from exc
    kind = _kind(conn, principal)
    issuers = _issuers(conn, principal, kind)
    owners = units.c.organization_id.in_(issuers)
    problems: list[dict[str, str]] = []
    found_batches = store.existing_batches(conn, scope.batch_ids, issuers)
    problems += [
        {"field": "batch_ids", "value": str(b), "message": f"batch {b} not found"}
        for b in scope.batch_ids
        if b not in found_batches
    ]
    found_products = store.existing_products(conn, scope.product_ids, issuers)
    problems += [
        {"field": "product_ids", "value": str(p), "message": f"product {p} not found"}
        for p in scope.product_ids
        if p not in found_products
    ]
    boxes = _container_ids(
        conn, principal, kind, [c.strip().upper() for c in scope.container_codes]
    )
    problems += [
        {"field": "container_codes", "value": c, "message": f"case or pallet {c} not found"}
        for c in scope.container_codes
        if c.strip().upper() not in boxes
    ]
    codes: list[str] = []
    raw_of: dict[str, str] = {}
    keys = movement.Keys()
    for raw in scope.unit_codes:
        try:
            scan = parse_scan(raw)
        except ScanError as exc:
            problems.append({"field": "unit_codes", "value": raw[:40], "message": exc.message})
            continue
        if scan.kind is ScanKind.SSCC:
            problems.append(
                {
                    "field": "unit_codes",
                    "value": raw[:40],
                    "message": f"{raw[:40]} is an SSCC: name it as a case or pallet",
                }
            )
        else:
            codes.append(keys(scan))
            raw_of[codes[-1]] = raw
    codes = movement.codes_of(conn, codes, raw_of)  # a brand's own serials, by their code
    ids = store.unit_ids_by_code(conn, codes, owners) if codes else {}
    problems += [
        {
            "field": "unit_codes",
            "value": movement.shown_key(c),
            "message": f"unit {movement.shown_key(c)} not found",
        }
        for c in codes
        if c not in ids
    ]
    if problems:
        shown = "; ".join(p["message"] for p in problems[:5])
        more = f" and {len(problems) - 5} more" if len(problems) > 5 else ""
        raise ValidationError(
            f"the scope names what cannot be recalled: {shown}{more}", details=problems
        )
    clean = replace(
        scope,
        container_codes=tuple(c.strip().upper() for c in scope.container_codes),
        unit_codes=tuple(dict.fromkeys(codes)),
    )
    return clean, sorted(set(ids.values()))


def _draft_values(draft: RecallDraft) -> dict[str, Any]:
    try:
        rules.check_text(
            draft.title, draft.reason, draft.retailer_instructions, draft.consumer_instructions
        )
        severity = rules.Severity(draft.severity.strip().upper()).value
    except RecallRuleError as exc:
        raise _error(exc) from exc
    except ValueError as exc:
        raise ValidationError(
            f"severity must be I, II or III, not {draft.severity!r}", details={"field": "severity"}
        ) from exc
    return {
        "title": draft.title.strip(),
        "reason": draft.reason.strip(),
        "severity": severity,
        "retailer_instructions": draft.retailer_instructions.strip(),
        "consumer_instructions": draft.consumer_instructions.strip(),
    }


def _scope_json(scope: Scope) -> str:
    return json.dumps(scope.to_json(), sort_keys=True)


def create_recall(rt: Runtime, principal: Principal, draft: RecallDraft) -> RecallView:
    """Save a draft recall; nothing changes for any unit until it is activated."""
    require(principal, Role.OPERATOR)
    values = _draft_values(draft)
    with rt.db.transaction() as conn:
        _require_issuer(conn, principal)
        scope, unit_ids = _check_scope(conn, principal, draft.scope)
        now = rt.clock()
        number = f"RC-{now.year}-{store.count_recalls(conn, principal.organization_id) + 1:04d}"
        recall_id = store.insert_recall(
            conn,
            organization_id=principal.organization_id,
            number=number,
            status=RecallStatus.DRAFT.value,
            scope=_scope_json(scope),
            created_at=now,
            created_by=principal.display[:200],
            **values,
        )
        store.replace_scope_units(conn, recall_id, unit_ids)
        return _view(_readable(conn, principal, recall_id))


def update_recall(
    rt: Runtime, principal: Principal, recall_id: int, draft: RecallDraft
) -> RecallView:
    """Change a draft's text and scope."""
    require(principal, Role.OPERATOR)
    values = _draft_values(draft)
    with rt.db.transaction() as conn:
        _own(conn, principal, recall_id, "edit")
        scope, unit_ids = _check_scope(conn, principal, draft.scope)
        store.update_recall(conn, recall_id, "draft", scope=_scope_json(scope), **values)
        store.replace_scope_units(conn, recall_id, unit_ids)
        return _view(_readable(conn, principal, recall_id))


def add_codes_in(
    conn: Connection, principal: Principal, number: str, codes: Sequence[str]
) -> tuple[int | None, int, list[str]]:
    """Add units (canonical codes) to the explicit scope of the caller's draft ``number``,
    inside the caller's transaction: ``(recall id, units now named, codes not found)``. The
    id is None when there is no such draft of the caller's (nothing is added then)."""
    row = store.find_recall_by_number(conn, principal.organization_id, number)
    if row is None or row["status"] != RecallStatus.DRAFT.value:
        return None, 0, list(codes)
    kind = _kind(conn, principal)
    owners = units.c.organization_id.in_(_issuers(conn, principal, kind))
    ids = store.unit_ids_by_code(conn, codes, owners)
    missing = [c for c in codes if c not in ids]
    if missing:
        return int(row["id"]), 0, missing
    named = store.add_scope_units(conn, int(row["id"]), sorted(set(ids.values())))
    scope = json.loads(row["scope"])
    scope["unit_code_count"] = named
    store.update_recall(conn, int(row["id"]), "draft", scope=json.dumps(scope, sort_keys=True))
    return int(row["id"]), named, []


def discard_recall(rt: Runtime, principal: Principal, recall_id: int) -> None:
    require(principal, Role.OPERATOR)
    with rt.db.transaction() as conn:
        _own(conn, principal, recall_id, "discard")
        store.delete_draft(conn, recall_id)


def get_recall(rt: Runtime, principal: Principal, recall_id: int) -> RecallView:
    with rt.db.read() as conn:
        return _view(_readable(conn, principal, recall_id))


def list_recalls(
    rt: Runtime,
    principal: Principal,
    *,
    status: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page[RecallView]:
    """The caller's recalls; for a regulator, every recall issued in its market."""
    limit, offset = check_page(limit, offset)
    if status is not None and status not in {s.value for s in RecallStatus}:
        raise ValidationError(f"unknown recall status {status!r}: draft, active or closed")
    with rt.db.read() as conn:
        kind = _kind(conn, principal)
        issuers: Any = (
            store.market_organizations(_market(conn, principal.organization_id))
            if kind is OrganizationKind.REGULATOR
            else [principal.organization_id]
        )
        rows, total = store.list_recalls(
            conn, organization_ids=issuers, status=status, limit=limit, offset=offset
        )
    return Page(tuple(_view(r) for r in rows), total, limit, offset)


def _scope_of(row: Mapping[str, Any]) -> Scope:
    data = json.loads(row["scope"])
    return Scope(
        batch_ids=tuple(data.get("batch_ids", ())),
        product_ids=tuple(data.get("product_ids", ())),
        produced_from=dt.date.fromisoformat(data["produced_from"])
        if data.get("produced_from")
        else None,
        produced_to=dt.date.fromisoformat(data["produced_to"]) if data.get("produced_to") else None,
        container_codes=tuple(data.get("container_codes", ())),
        # explicit units live in recall_scope_units; a non-empty marker keeps the selector
        unit_codes=("*",) if data.get("unit_code_count") else (),
    )


def preview(rt: Runtime, principal: Principal, recall_id: int) -> Preview:
    """How many units the recall covers now, by disposition and by holder, and how many
    activating it would flag. For a draft this is live; for an active or closed recall it
    counts the units it covered."""
    with rt.db.read() as conn:
        row = _readable(conn, principal, recall_id)
        if row["status"] == RecallStatus.DRAFT.value:
            issuer = Principal(organization_id=row["organization_id"], role=principal.role)
            ids = _scope_ids(conn, issuer, recall_id, _scope_of(row))
        else:
            ids = store.recall_unit_ids(recall_id)
        by_disposition, by_custodian, flag = store.preview(conn, ids, RECALLABLE)
    return Preview(
        total=sum(by_disposition.values()),
        will_recall=flag,
        by_disposition=by_disposition,
        by_custodian=by_custodian,
    )


# ---------------------------------------------------------------------------------------
# Activation


def activate(rt: Runtime, principal: Principal, recall_id: int) -> Activation:
    """Activate a draft: in one transaction every unit in scope that can still be recalled
    becomes ``recalled``, the recall's units are fixed, one event is recorded and holders
    are notified. A unit sold before this commits stays sold (and is listed as sold)."""
    require(principal, Role.ADMIN)
    with rt.db.transaction() as conn:
        row = _own(conn, principal, recall_id, "activate")
        now = rt.clock()
        ids = _scope_ids(conn, principal, recall_id, _scope_of(row))
        covered = store.add_recall_units(conn, recall_id, ids, RECALLABLE)
        if covered == 0:
            raise ValidationError("the recall covers no units: nothing to activate")
        flagged = store.flag_units(conn, recall_id, RECALLABLE, now)
        expected = supply.count(conn, store.flagged_ids(recall_id))
        if flagged != expected:
            # PostgreSQL, READ COMMITTED: a sale (or another change) committed between the
            # snapshot above and the UPDATE; the UPDATE skipped those units.
            store.unflag_changed(conn, recall_id)
        event_id = None
        if flagged:
            event_id = _record(
                conn,
                principal,
                recall_id,
                RULES[Operation.RECALL].biz_step,
                Disposition.RECALLED,
                store.flagged_ids(recall_id),
                now,
                {"recall": row["number"], "reason": row["reason"][:500]},
            )
        changed = store.update_recall(
            conn,
            recall_id,
            "draft",
            status=RecallStatus.ACTIVE.value,
            activated_at=now,
            activated_by=principal.display[:200],
            unit_count=covered,
            recalled_count=flagged,
        )
        if changed != 1:
            raise ConflictError("the recall changed while it was being activated; try again")
        notified = _notify_holders(conn, principal, row, now)
        view = _view(_readable(conn, principal, recall_id))
    return Activation(view, covered, flagged, event_id, notified)


def _record(
    conn: Connection,
    principal: Principal,
    recall_ids: int | Sequence[int],
    step: BizStep,
    disposition: Disposition,
    ids: Select[Any],
    now: dt.datetime,
    details: Mapping[str, Any],
    *,
    action: EventAction = EventAction.OBSERVE,
    location_id: int | None = None,
) -> str:
    """One event about the units ``ids``, linked to the recall(s) it belongs to."""
    recorded, _ = eventlog.record_units(
        conn,
        principal,
        biz_step=step,
        disposition=disposition,
        unit_ids=ids,
        at=now,
        action=action,
        location_id=location_id,
        details=details,
    )
    for recall_id in [recall_ids] if isinstance(recall_ids, int) else recall_ids:
        store.add_event(conn, recall_id, recorded.row_id)
    return recorded.event_id


def _notify_holders(
    conn: Connection, principal: Principal, row: Mapping[str, Any], now: dt.datetime
) -> int:
    """One ``recall.activated`` notification per holder of flagged units, with its codes;
    the owners (when a regulator recalls) get one with the totals."""
    recall = {
        "id": row["id"],
        "number": row["number"],
        "title": row["title"],
        "severity": row["severity"],
        "reason": row["reason"],
        "retailer_instructions": row["retailer_instructions"],
        "issuer_organization_id": row["organization_id"],
    }
    holders = store.holders_of_flagged(conn, row["id"])
    for organization_id, codes in holders.items():
        webhooks.enqueue(
            conn,
            organization_ids=[organization_id],
            topic="recall.activated",
            payload={
                "recall": recall,
                "at": epcis.format_time(now),
                "units": len(codes),
                "codes": codes[:_WEBHOOK_CODES],
                "codes_truncated": len(codes) > _WEBHOOK_CODES,
            },
            at=now,
        )
    owners = [o for o in store.owners_of(conn, row["id"]) if o not in holders]
    if owners:
        webhooks.enqueue(
            conn,
            organization_ids=owners,
            topic="recall.activated",
            payload={"recall": recall, "at": epcis.format_time(now), "units": None, "codes": []},
            at=now,
        )
    return len(holders)


# ---------------------------------------------------------------------------------------
# The reach report


def report(rt: Runtime, principal: Principal, recall_id: int) -> ReachReport:
    """Live counts per category, holders, progress and (up to 200) sold units."""
    with rt.db.read() as conn:
        row = _readable(conn, principal, recall_id)
        if row["status"] == RecallStatus.DRAFT.value:
            raise ConflictError("a draft has no reach yet: preview it, or activate it")
        return _report(conn, row, rt.clock())


def _report(conn: Connection, row: Mapping[str, Any], now: dt.datetime) -> ReachReport:
    recall_id = int(row["id"])
    counts: dict[str, int] = {}
    holders: dict[tuple[int, int | None], dict[str, int]] = {}
    for group in store.reach_groups(conn, recall_id):
        category = rules.category(
            disposition=group["disposition"],
            outcome=group["outcome"],
            in_transit=bool(group["in_transit"]),
            held_by_issuer=group["custodian_organization_id"] == row["organization_id"],
        )
        n = int(group["n"])
        counts[category.value] = counts.get(category.value, 0) + n
        if category in (Category.AT_HOLDER, Category.QUARANTINED, Category.RETURNED, Category.SOLD):
            key = (int(group["custodian_organization_id"]), group["location_id"])
            place = holders.setdefault(key, {})
            place[category.value] = place.get(category.value, 0) + n
    names = store.place_names(conn, holders)
    listed = [
        rules.Holder(
            organization_id=org,
            organization_name=names[(org, loc)][0],
            location_id=loc,
            location_name=names[(org, loc)][1],
            city=names[(org, loc)][2],
            counts=c,
        )
        for (org, loc), c in holders.items()
    ]
    listed.sort(key=lambda h: (-h.total, h.organization_name, h.location_name or ""))
    sold = [
        {
            "code": r["code"],
            "store": r["location"],
            "city": r["city"],
            "retailer": r["holder"],
            "sold_at": r["sold_at"],
        }
        for r in store.reach_rows(conn, recall_id, store.sold_condition(), limit=_SOLD_LISTED)
    ]
    full = rules.full_counts(counts)
    return ReachReport(
        recall_id=recall_id,
        status=RecallStatus(row["status"]),
        counts=full,
        holders=tuple(listed),
        progress=rules.progress(full),
        generated_at=now,
        sold=tuple(sold),
    )


REPORT_COLUMNS = (
    "code",
    "product",
    "gtin",
    "lot_number",
    "category",
    "disposition",
    "disposition_before",
    "flagged",
    "holder",
    "location",
    "city",
    "sold_at",
    "outcome",
    "outcome_at",
)


def report_rows(rt: Runtime, principal: Principal, recall_id: int) -> Iterator[dict[str, Any]]:
    """Every unit of the recall with its category and holder, by code, streamed (for CSV).

    The caller is checked before the first row is produced."""
    with rt.db.read() as conn:
        row = _readable(conn, principal, recall_id)
        if row["status"] == RecallStatus.DRAFT.value:
            raise ConflictError("a draft has no reach yet: preview it, or activate it")
    return _rows(rt, row)


def _rows(rt: Runtime, recall: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    with rt.db.read() as conn:
        for r in store.reach_rows(conn, int(recall["id"])):
            category = rules.category(
                disposition=r["disposition"],
                outcome=r["outcome"],
                in_transit=bool(r["in_transit"]),
                held_by_issuer=r["custodian_organization_id"] == recall["organization_id"],
            )
            yield {
                "code": r["code"],
                "product": r["product"],
                "gtin": r["gtin"] or "",
                "lot_number": r["lot_number"],
                "category": category.value,
                "disposition": r["disposition"],
                "disposition_before": r["disposition_before"],
                "flagged": bool(r["flagged"]),
                "holder": r["holder"],
                "location": r["location"] or "",
                "city": r["city"] or "",
                "sold_at": r["sold_at"].isoformat() if r["sold_at"] else "",
                "outcome": r["outcome"] or "",
                "outcome_at": r["outcome_at"].isoformat() if r["outcome_at"] else "",
            }


def epcis_document(rt: Runtime, principal: Principal, recall_id: int) -> dict[str, Any]:
    """The events the recall recorded (activation, confirmations, releases, destructions) as
    one EPCIS 2.0 document."""
    from unitrace.storage import events as event_store

    with rt.db.read() as conn:
        _readable(conn, principal, recall_id)
        rows = event_store.event_rows(conn, store.event_row_ids(conn, recall_id))
        events = [eventlog.stored_event(conn, r) for r in rows]
    return epcis.document(events, rt.clock())


# ---------------------------------------------------------------------------------------
# Holders: what they hold, and confirming quarantine or return


def held(rt: Runtime, principal: Principal) -> list[HeldRecall]:
    """Active recalls whose recalled units the caller holds, per location."""
    with rt.db.read() as conn:
        rows = store.held_recalled(conn, principal.organization_id)
    return [
        HeldRecall(
            recall_id=int(r["id"]),
            number=str(r["number"]),
            title=str(r["title"]),
            severity=str(r["severity"]),
            issuer_name=str(r["issuer_name"]),
            retailer_instructions=str(r["retailer_instructions"]),
            activated_at=r["activated_at"],
            location_id=r["location_id"],
            location_name=r["location_name"],
            units=int(r["n"]),
            confirmed=int(r["confirmed"] or 0),
        )
        for r in rows
    ]


def held_codes(
    rt: Runtime, principal: Principal, recall_id: int, *, limit: int = 500
) -> list[dict[str, Any]]:
    """The caller's recalled units of one active recall (code, location, confirmation)."""
    with rt.db.read() as conn:
        row = store.get_recall(conn, recall_id)
        if row is None or row["status"] != RecallStatus.ACTIVE.value:
            raise NotFoundError(f"recall {recall_id} not found")
        rows = list(
            store.reach_rows(conn, recall_id, store.held_by(principal.organization_id), limit=limit)
        )
    if not rows and row["organization_id"] != principal.organization_id:
        raise NotFoundError(f"recall {recall_id} not found")
    return [
        {
            "code": r["code"],
            "product": r["product"],
            "lot_number": r["lot_number"],
            "location": r["location"],
            "outcome": r["outcome"],
        }
        for r in rows
    ]


def confirm(
    rt: Runtime,
    principal: Principal,
    *,
    codes: Sequence[str],
    action: str,
    location_id: int | None = None,
) -> UnitsChanged:
    """A holder confirms, by scanning, that recalled units are quarantined (set apart, off
    sale) or returned to the brand. All or nothing: every code must be a recalled unit of an
    active recall that the caller holds. Recorded as an event at ``location_id``."""
    require(principal, Role.OPERATOR)
    try:
        outcome = Confirmation(action)
    except ValueError as exc:
        raise ValidationError(
            f"action must be quarantined or returned, not {action!r}", details={"field": "action"}
        ) from exc
    parsed = movement.parse_codes(list(codes) if not isinstance(codes, str) else [codes])
    if not parsed:
        raise ValidationError("name at least one code")
    with rt.db.transaction() as conn:
        now = rt.clock()
        keys = movement.codes_of(conn, [k for _, k in parsed], movement.raw_by_key(parsed))
        if location_id is not None:
            org_store.get_location(conn, principal.organization_id, location_id)
        found = store.units_in_active_recalls(conn, keys)
        refusals: list[movement.Refusal] = []
        for key in keys:
            unit = found.get(key)
            if unit is None or unit["custodian_organization_id"] != principal.organization_id:
                refusals.append(_refusal(movement.shown_key(key), "not_recalled_here"))
            elif unit["disposition"] != Disposition.RECALLED.value:
                refusals.append(_refusal(key, "not_recalled"))
        if refusals:
            raise movement.refuse(f"confirm {outcome.value}", refusals)
        ids = [found[k]["id"] for k in keys]
        id_select = supply.units_in([], ids)
        changed = store.set_outcome(
            conn,
            store.active_recall_ids(),
            id_select,
            outcome.value,
            at=now,
            organization_id=principal.organization_id,
            location_id=location_id,
        )
        recall_ids = store.active_recalls_of(conn, ids)
        event_id = _record(
            conn,
            principal,
            recall_ids,
            BizStep.HOLDING,
            Disposition.RECALLED,
            id_select,
            now,
            {"recall_confirmation": outcome.value, "recalls": recall_ids},
            location_id=location_id,
        )
    return UnitsChanged(
        recall_id=recall_ids[0] if len(recall_ids) == 1 else None,
        units=len(ids) if changed else 0,
        codes=tuple(keys),
        event_ids=(event_id,),
    )


# ---------------------------------------------------------------------------------------
# Ending: release, destroy, close


def _named_or_all(
    conn: Connection, recall_id: int, codes: Sequence[str] | None, *conditions: Any
) -> tuple[Select[Any], list[str]]:
    if codes is None:
        return store.recall_unit_ids(recall_id, *conditions), []
    parsed = movement.parse_codes(list(codes))
    if not parsed:
        raise ValidationError("name at least one code, or choose all units")
    keys = movement.codes_of(conn, [k for _, k in parsed], movement.raw_by_key(parsed))
    return store.recall_unit_ids(recall_id, *conditions, codes=keys), keys


def _check_named(conn: Connection, ids: Select[Any], keys: list[str], why: str) -> int:
    n = supply.count(conn, ids)
    if keys and n != len(set(keys)):
        chosen = retail_store.unit_codes(conn, ids)
        missing = [k for k in keys if k not in chosen]
        raise movement.refuse(
            why, [_refusal(movement.shown_key(k), "not_recalled_here") for k in missing]
        )
    return n


def release(
    rt: Runtime,
    principal: Principal,
    recall_id: int,
    *,
    reason: str,
    codes: Sequence[str] | None = None,
) -> UnitsChanged:
    """Release units a mistaken recall caught (``codes``, or every unit it still holds
    recalled): each goes back to its disposition before the recall, as a corrective
    ``inspecting`` event with the reason. Only the issuer; a reason is required."""
    require(principal, Role.ADMIN)
    if not reason.strip():
        raise ValidationError("releasing units needs a reason", details={"field": "reason"})
    with rt.db.transaction() as conn:
        row = _own(conn, principal, recall_id, "release")
        now = rt.clock()
        ids, keys = _named_or_all(
            conn, recall_id, codes, units.c.disposition == Disposition.RECALLED.value
        )
        n = _check_named(conn, ids, keys, "release")
        if n == 0:
            raise ValidationError("no recalled units left to release")
        groups = store.dispositions_before(conn, recall_id, ids)
        changed = store.release_units(conn, recall_id, ids, now)
        if changed != n:
            raise ConflictError("the units changed while being released; try again")
        event_ids = []
        for disposition, unit_ids in sorted(groups.items()):
            event_ids.append(
                _record(
                    conn,
                    principal,
                    recall_id,
                    RULES[Operation.RELEASE_RECALL].biz_step,
                    Disposition(disposition),
                    supply.units_in([], unit_ids),
                    now,
                    {"recall": row["number"], "released": True, "reason": reason.strip()[:500]},
                )
            )
        store.set_outcome(
            conn,
            [recall_id],
            supply.units_in([], [u for ids_ in groups.values() for u in ids_]),
            Outcome.RELEASED.value,
            at=now,
            organization_id=principal.organization_id,
            location_id=None,
        )
    return UnitsChanged(recall_id, changed, tuple(keys), tuple(event_ids))


def destroy(
    rt: Runtime,
    principal: Principal,
    recall_id: int,
    *,
    codes: Sequence[str] | None = None,
    reason: str = "",
) -> UnitsChanged:
    """Destroy recalled units of an active recall that the caller holds (a regulator: any),
    ``codes`` or all of them: one UPDATE and one ``destroying`` event; they leave their
    cases and pallets."""
    require(principal, Role.OPERATOR)
    with rt.db.transaction() as conn:
        row = store.get_recall(conn, recall_id)
        if row is None:
            raise NotFoundError(f"recall {recall_id} not found")
        kind = _kind(conn, principal)
        if row["status"] != RecallStatus.ACTIVE.value:
            if (
                row["organization_id"] != principal.organization_id
                and kind is not OrganizationKind.REGULATOR
            ):
                raise NotFoundError(f"recall {recall_id} not found")
            raise ConflictError(f"cannot destroy units of a recall that is {row['status']}")
        held = [units.c.disposition == Disposition.RECALLED.value, units.c.shipment_id.is_(None)]
        if kind is not OrganizationKind.REGULATOR:
            held.append(units.c.custodian_organization_id == principal.organization_id)
        now = rt.clock()
        ids, keys = _named_or_all(conn, recall_id, codes, *held)
        n = _check_named(conn, ids, keys, "destroy")
        if n == 0:
            if (
                row["organization_id"] != principal.organization_id
                and kind is not OrganizationKind.REGULATOR
            ):
                raise NotFoundError(f"recall {recall_id} not found")
            raise ValidationError("you hold no recalled units of this recall")
        fixed = list(conn.execute(ids).scalars())
        id_select = supply.units_in([], fixed)
        rule = RULES[Operation.DESTROY]
        changed = supply.update_units(
            conn,
            id_select,
            [units.c.disposition == Disposition.RECALLED.value],
            {
                "disposition": Disposition.DESTROYED.value,
                "previous_disposition": Disposition.RECALLED.value,
                "updated_at": now,
            },
        )
        if changed != n:
            raise ConflictError("the units changed while being destroyed; try again")
        details = {"recall": row["number"]} | (
            {"reason": reason.strip()[:500]} if reason.strip() else {}
        )
        event_id = _record(
            conn,
            principal,
            recall_id,
            rule.biz_step,
            Disposition.DESTROYED,
            id_select,
            now,
            details,
            action=rule.action,
        )
        supply.update_units(conn, id_select, [], {"parent_container_id": None})
    return UnitsChanged(recall_id, changed, tuple(keys), (event_id,))


def close(rt: Runtime, principal: Principal, recall_id: int) -> RecallView:
    """Close an active recall, keeping its final reach report with it."""
    require(principal, Role.ADMIN)
    with rt.db.transaction() as conn:
        row = _own(conn, principal, recall_id, "close")
        now = rt.clock()
        final = report_json(_report(conn, row, now))
        final["status"] = RecallStatus.CLOSED.value
        changed = store.update_recall(
            conn,
            recall_id,
            "active",
            status=RecallStatus.CLOSED.value,
            closed_at=now,
            closed_by=principal.display[:200],
            final_report=json.dumps(final, sort_keys=True, default=str),
        )
        if changed != 1:
            raise ConflictError("the recall changed while it was being closed; try again")
        return _view(_readable(conn, principal, recall_id))


def _iso(value: object) -> str | None:
    return value.isoformat() if isinstance(value, dt.datetime) else None


def report_json(report_: ReachReport) -> dict[str, Any]:
    """The reach report as plain JSON data (API answers, the closing snapshot)."""
    return {
        "recall_id": report_.recall_id,
        "status": report_.status.value,
        "generated_at": report_.generated_at.isoformat(),
        "counts": dict(report_.counts),
        "total": report_.progress.total,
        "progress": {
            "secured": report_.progress.secured,
            "to_secure": report_.progress.to_secure,
            "share": round(report_.progress.share, 4),
        },
        "holders": [
            {
                "organization_id": h.organization_id,
                "organization_name": h.organization_name,
                "location_id": h.location_id,
                "location_name": h.location_name,
                "city": h.city,
                "counts": dict(h.counts),
                "total": h.total,
            }
            for h in report_.holders
        ],
        "sold": [{**s, "sold_at": _iso(s["sold_at"])} for s in report_.sold],
    }


# ---------------------------------------------------------------------------------------
# What a till, a receiver and a consumer are told


def recall_for_unit(conn: Connection, unit_id: int) -> dict[str, Any] | None:
    """The newest active recall covering a unit (number, title, instructions), or None."""
    return store.active_recall_for_unit(conn, unit_id)
