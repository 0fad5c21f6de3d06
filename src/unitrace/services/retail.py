"""The store counter and the stock room: selling, customer returns, undoing a sale, and the
disposition changes (destroy, decommission, stolen, lost, found, damaged, expired, quarantine,
restock).

A sale is exactly once: the state change is one conditional UPDATE (``… WHERE disposition =
'sellable_accessible'``) whose row count must equal the basket size, so of N terminals selling
the same unit at once exactly one succeeds and the others are refused ``already_sold`` — on
SQLite (writers queue on ``BEGIN IMMEDIATE``) and on PostgreSQL under READ COMMITTED (the
losers' UPDATE waits for the winner's commit, re-checks the condition and matches nothing).
Every change records its EPCIS event in the same transaction; nothing edits history: an
undone sale is an error declaration on the sale event plus corrective events.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Connection, and_

from unitrace.domain import epcis
from unitrace.domain.epcis import EventDraft
from unitrace.domain.lifecycle import (
    MESSAGES,
    RULES,
    Custody,
    Operation,
    Rule,
    Target,
    allowed,
    refusal_reason,
)
from unitrace.domain.model import (
    BizStep,
    Disposition,
    EventAction,
    EventType,
    LocationKind,
    OrganizationKind,
    Principal,
    Role,
)
from unitrace.errors import (
    ConflictError,
    NotFoundError,
    OperationRefusedError,
    ValidationError,
)
from unitrace.services import eventlog, movement, webhooks
from unitrace.services.access import require
from unitrace.services.movement import Refusal
from unitrace.services.runtime import Runtime
from unitrace.storage import retail as store
from unitrace.storage import supply
from unitrace.storage.supply import Item

SELL_OPERATION = "retail.sell"
RETURN_OPERATION = "retail.return"
DISPOSITION_OPERATIONS = frozenset(
    {
        Operation.DESTROY,
        Operation.DECOMMISSION,
        Operation.MARK_STOLEN,
        Operation.MARK_LOST,
        Operation.MARK_FOUND,
        Operation.MARK_DAMAGED,
        Operation.EXPIRE,
        Operation.QUARANTINE,
        Operation.RESTOCK,
    }
)
RETURN_ACTIONS: dict[str, Operation] = {
    "restock": Operation.RESTOCK,
    "quarantine": Operation.QUARANTINE,
}
MAX_REASON_LENGTH = 500
MAX_TERMINAL_LENGTH = 100

# Reasons the lifecycle table has no message for: they are about the store, not the rule.
_MESSAGES = {
    "not_a_unit": "a case or pallet is not sold, returned or undone as such: scan its units",
    "not_at_this_store": "the unit is at another of your stores",
    "sold_elsewhere": "the unit was sold at another store; return it there",
    "return_window_passed": "the return window has passed",
    "undo_window_passed": "the sale is too old to undo",
}
_SELLABLE = Disposition.SELLABLE_ACCESSIBLE.value
_SOLD = Disposition.RETAIL_SOLD.value


def _message(reason: str) -> str:
    return _MESSAGES.get(reason) or MESSAGES.get(reason) or reason.replace("_", " ")


def _refusal(item: Item | str, reason: str) -> Refusal:
    code = item if isinstance(item, str) else item.code
    return Refusal(code, reason, _message(reason))


@dataclass(frozen=True)
class Sale:
    event_id: str
    location_id: int
    codes: tuple[str, ...]  # the units sold, as named
    sold_at: dt.datetime
    terminal: str | None
    replayed: bool = False


@dataclass(frozen=True)
class ReturnResult:
    code: str
    location_id: int
    action: str  # restock or quarantine
    disposition: str  # where the unit ended: sellable_accessible or non_sellable_other
    return_event_id: str
    disposition_event_id: str
    returned_at: dt.datetime
    replayed: bool = False


@dataclass(frozen=True)
class UndoResult:
    code: str
    sale_event_id: str  # the sale now declared wrong (the declaration repeats its eventID)
    corrective_event_ids: tuple[str, ...]  # the unit back on sale; the rest of its basket resold
    disposition: str
    undone_at: dt.datetime


@dataclass(frozen=True)
class DispositionResult:
    operation: str
    disposition: str
    codes: tuple[str, ...]  # as named: units, cases and pallets
    units: int  # units changed, contents of the named containers included
    event_id: str  # the first of event_ids
    # one event per disposition the units are now in (more than one only for mark_found,
    # which puts each unit back as it was when lost; ``disposition`` is then "several")
    event_ids: tuple[str, ...]
    dispositions: dict[str, int]  # units per disposition


# ---------------------------------------------------------------------------------------
# Where and who


@dataclass(frozen=True)
class _Counter:
    """The store a request is made at and the organization making it."""

    place: store.Place
    uri: str
    actor_kind: OrganizationKind


def _store(conn: Connection, principal: Principal, location_id: int) -> _Counter:
    place = store.find_place(conn, principal.organization_id, location_id)
    if place is None:
        raise NotFoundError(f"location {location_id} not found")
    return _Counter(
        place=place,
        uri=epcis.location_uri(place.id, place.gln),
        actor_kind=OrganizationKind(place.organization_kind),
    )


def _refuse_not_at_store(what: str, codes: Sequence[str]) -> OperationRefusedError:
    return movement.refuse(what, [_refusal(code, "not_at_store") for code in codes])


def _resolve(
    conn: Connection, principal: Principal, parsed: Sequence[tuple[str, str]], *, everyone: bool
) -> list[Item]:
    """The items ``parsed`` names. Visible: the owner's and the custodian's, a unit in transit
    to the caller, and with ``everyone`` (a regulator) any. Others are the same 404 as unknown."""
    keys = [key for _, key in parsed]
    found = store.find_units(conn, keys)
    if len(found) < len(keys):  # cases and pallets, by code or SSCC
        missing = [k for k in keys if k not in found]
        found.update(movement.lookup(conn, missing, movement.raw_by_key(parsed)))
    org = principal.organization_id
    hidden = [
        found[k]
        for k in keys
        if k in found and not everyone and not movement.visible(found[k], org)
    ]
    inbound: set[int] = set()
    if hidden:
        destinations = store.shipment_destinations(
            conn, sorted({i.shipment_id for i in hidden if i.shipment_id is not None})
        )
        inbound = {
            i.id
            for i in hidden
            if i.disposition == Disposition.IN_TRANSIT.value
            and i.shipment_id is not None
            and destinations.get(i.shipment_id) == org
        }
    missing = [
        k
        for k in keys
        if k not in found
        or not (everyone or movement.visible(found[k], org) or found[k].id in inbound)
    ]
    if missing:
        raise movement.not_found(missing, movement.raw_by_key(parsed))
    return [found[k] for k in keys]


def _parse(codes: Sequence[str]) -> list[tuple[str, str]]:
    if isinstance(codes, str):  # a lone string is a common slip: it would be read per letter
        codes = [codes]
    parsed = movement.parse_codes(codes)
    if not parsed:
        raise ValidationError("name at least one code")
    return parsed


# ---------------------------------------------------------------------------------------
# Selling


def _sale_reason(item: Item, counter: _Counter, organization_id: int, today: dt.date) -> str | None:
    if item.kind != "unit":
        return "not_a_unit"
    decision = allowed(
        Operation.SELL,
        disposition=Disposition(item.disposition),
        actor_kind=counter.actor_kind,
        actor_is_custodian=item.custodian_organization_id == organization_id,
        actor_is_owner=item.organization_id == organization_id,
        at_store=True,
    )
    if not decision.ok:
        return decision.reason
    if item.expires_on is not None and item.expires_on < today:
        return "expired"
    if item.location_id != counter.place.id:
        return "not_at_this_store"
    return None


@dataclass
class _RecalledAttempt:
    """What a refused sale of recalled units tells their brands and the retailer."""

    owners: set[int]
    codes: list[str]
    store: dict[str, Any]
    terminal: str | None
    at: dt.datetime


def sell(
    rt: Runtime,
    principal: Principal,
    *,
    location_id: int,
    codes: Sequence[str],
    idempotency_key: str | None = None,
    terminal: str | None = None,
) -> Sale:
    """Sell one unit or a basket at one of the caller's stores, all or nothing.

    Every unit must be on sale (``sellable_accessible``), held by the caller, at this store,
    and its batch not past its expiry date; otherwise nothing is sold and the
    :class:`OperationRefusedError` lists every refused code with its reason. Unknown codes,
    and other organizations' units, are a 404 naming them. With an ``idempotency_key`` a
    retry (even one racing the original) answers with the original sale, ``replayed=True``.
    A sale refused because a unit is recalled notifies the brand and the retailer
    (``sale.refused`` webhooks) although nothing else of the attempt is kept.
    """
    require(principal, Role.OPERATOR)
    movement.check_key(idempotency_key)
    if terminal is not None and len(terminal) > MAX_TERMINAL_LENGTH:
        raise ValidationError(f"a terminal name has at most {MAX_TERMINAL_LENGTH} characters")
    parsed = _parse(codes)
    single = len(parsed) == 1 and not parsed[0][1].startswith(("sscc:", "serial:"))
    if idempotency_key is None and single:
        sold = _sell_one(rt, principal, location_id, parsed[0][1], terminal)
        if sold is not None:
            return sold
    body = movement.request_hash(
        {"location_id": location_id, "codes": sorted(k for _, k in parsed), "terminal": terminal}
    )
    attempts: list[_RecalledAttempt] = []

    def run() -> Sale:
        return _sell(rt, principal, location_id, parsed, idempotency_key, body, terminal, attempts)

    try:
        return movement.idempotent(rt, principal, idempotency_key, SELL_OPERATION, body, run)
    except OperationRefusedError:
        if attempts:
            _notify_refused_recalled(rt, principal, attempts[-1])
        raise


def _sell_one(
    rt: Runtime, principal: Principal, location_id: int, code: str, terminal: str | None
) -> Sale | None:
    """The ordinary sale — one unit, on sale at this store — as one conditional UPDATE and
    its event. None when the unit cannot simply be sold: nothing was changed, and the
    careful path (which explains the refusal) takes over."""
    with rt.db.transaction() as conn:
        now = rt.clock()
        sold = store.sell_one(
            conn,
            code=code,
            organization_id=principal.organization_id,
            location_id=location_id,
            at=now,
        )
        if sold is None:
            return None
        unit_id, gtin, gln = sold
        where = epcis.location_uri(location_id, gln)
        draft = EventDraft(
            event_type=EventType.OBJECT,
            action=EventAction.OBSERVE,
            biz_step=BizStep.RETAIL_SELLING,
            disposition=Disposition.RETAIL_SOLD,
            event_time=now,
            epcs=[epcis.unit_epc(code, gtin)],
            read_point=where,
            biz_location=where,
        )
        recorded = eventlog.record(
            conn,
            principal,
            draft,
            record_time=now,
            unit_ids=[unit_id],
            read_point_id=location_id,
            biz_location_id=location_id,
            quantity=1,
            details={"terminal": terminal} if terminal else None,
        )
        return Sale(
            event_id=recorded.event_id,
            location_id=location_id,
            codes=(code,),
            sold_at=now,
            terminal=terminal,
        )


def _sell(
    rt: Runtime,
    principal: Principal,
    location_id: int,
    parsed: Sequence[tuple[str, str]],
    key: str | None,
    body: str,
    terminal: str | None,
    attempts: list[_RecalledAttempt],
) -> Sale:
    org = principal.organization_id
    with rt.db.transaction() as conn:
        now = rt.clock()
        stored = movement.claim_or_replay(conn, principal, key, SELL_OPERATION, body, now)
        if stored is not None:
            return _sale_from(stored, replayed=True)
        counter = _store(conn, principal, location_id)
        if counter.place.kind != LocationKind.STORE.value:
            raise _refuse_not_at_store("sell", [k for _, k in parsed])
        items = _resolve(conn, principal, parsed, everyone=False)
        _check_sale(items, counter, org, now, terminal, attempts)
        ids = [i.id for i in items]
        sold = store.mark_sold(conn, ids, organization_id=org, location_id=counter.place.id, at=now)
        if len(sold) != len(ids):
            # Someone else changed a unit since we read it (usually: another terminal sold
            # it first). Read the others again — READ COMMITTED sees their commit — and say
            # why; the transaction rolls back, so the units this UPDATE sold stay on sale.
            again = _resolve(conn, principal, parsed, everyone=False)
            _check_sale(
                [i for i in again if i.id not in sold], counter, org, now, terminal, attempts
            )
            raise ConflictError("the units changed while they were being sold; try again")
        draft = EventDraft(
            event_type=EventType.OBJECT,
            action=EventAction.OBSERVE,
            biz_step=BizStep.RETAIL_SELLING,
            disposition=Disposition.RETAIL_SOLD,
            event_time=now,
            epcs=[epcis.unit_epc(i.printed, i.gtin) for i in items],
            read_point=counter.uri,
            biz_location=counter.uri,
        )
        recorded = eventlog.record(
            conn,
            principal,
            draft,
            record_time=now,
            unit_ids=ids,
            read_point_id=counter.place.id,
            biz_location_id=counter.place.id,
            quantity=len(ids),
            details={"terminal": terminal} if terminal else None,
        )
        sale = Sale(
            event_id=recorded.event_id,
            location_id=counter.place.id,
            codes=tuple(i.code for i in items),
            sold_at=now,
            terminal=terminal,
        )
        movement.store_answer(conn, principal, key, _sale_answer(sale))
        return sale


def _check_sale(
    items: Sequence[Item],
    counter: _Counter,
    organization_id: int,
    now: dt.datetime,
    terminal: str | None,
    attempts: list[_RecalledAttempt],
) -> None:
    today = now.date()
    refusals: list[Refusal] = []
    recalled: list[Item] = []
    for item in items:
        reason = _sale_reason(item, counter, organization_id, today)
        if reason is not None:
            refusals.append(_refusal(item, reason))
            if reason == "recalled":
                recalled.append(item)
    if recalled:
        attempts.append(
            _RecalledAttempt(
                owners={i.organization_id for i in recalled},
                codes=[i.code for i in recalled],
                store={"id": counter.place.id, "name": counter.place.name, "uri": counter.uri},
                terminal=terminal,
                at=now,
            )
        )
    if refusals:
        raise movement.refuse("sell", refusals)


def _sale_answer(sale: Sale) -> dict[str, Any]:
    return {
        "event_id": sale.event_id,
        "location_id": sale.location_id,
        "codes": list(sale.codes),
        "sold_at": sale.sold_at.isoformat(),
        "terminal": sale.terminal,
    }


def _sale_from(answer: dict[str, Any], *, replayed: bool) -> Sale:
    return Sale(
        event_id=answer["event_id"],
        location_id=int(answer["location_id"]),
        codes=tuple(answer["codes"]),
        sold_at=dt.datetime.fromisoformat(answer["sold_at"]),
        terminal=answer["terminal"],
        replayed=replayed,
    )


def _notify_refused_recalled(rt: Runtime, principal: Principal, attempt: _RecalledAttempt) -> None:
    """Leave a trace of an attempt to sell recalled units: the sale itself rolled back, so in
    a short transaction of its own, queue ``sale.refused`` for the brands and the retailer."""
    with rt.db.transaction() as conn:
        webhooks.enqueue(
            conn,
            organization_ids=[*attempt.owners, principal.organization_id],
            topic="sale.refused",
            payload={
                "codes": attempt.codes,
                "reason": "recalled",
                "retailer_organization_id": principal.organization_id,
                "store": attempt.store,
                "terminal": attempt.terminal,
                "attempted_at": attempt.at,
            },
            at=attempt.at,
        )


# ---------------------------------------------------------------------------------------
# Returns


def return_unit(
    rt: Runtime,
    principal: Principal,
    *,
    location_id: int,
    code: str,
    action: Literal["restock", "quarantine"],
    idempotency_key: str | None = None,
) -> ReturnResult:
    """Take back a unit a customer returns at one of the caller's stores.

    The unit must have been sold by the caller (at this store, or any of its stores when
    ``returns_across_stores``), within ``return_window_days``. Records the return
    (``receiving``, disposition ``returned``) and then, in the same transaction, either puts
    it back on sale (``restock``: ``stocking``) or sets it aside (``quarantine``: ``holding``).
    """
    require(principal, Role.OPERATOR)
    movement.check_key(idempotency_key)
    if action not in RETURN_ACTIONS:
        raise ValidationError(f"action must be restock or quarantine; got {action!r}")
    parsed = _parse([code])
    body = movement.request_hash(
        {"location_id": location_id, "code": parsed[0][1], "action": action}
    )

    def run() -> ReturnResult:
        return _return(rt, principal, location_id, parsed, action, idempotency_key, body)

    return movement.idempotent(rt, principal, idempotency_key, RETURN_OPERATION, body, run)


def _return_reason(
    rt: Runtime, item: Item, counter: _Counter, organization_id: int, action: str, now: dt.datetime
) -> str | None:
    if item.kind != "unit":
        return "not_a_unit"
    decision = allowed(
        Operation.RETURN_TO_STORE,
        disposition=Disposition(item.disposition),
        actor_kind=counter.actor_kind,
        actor_is_custodian=item.custodian_organization_id == organization_id,
        actor_is_owner=item.organization_id == organization_id,
        at_store=True,
    )
    if not decision.ok:
        return decision.reason
    if item.location_id != counter.place.id and not rt.settings.returns_across_stores:
        return "sold_elsewhere"
    window = dt.timedelta(days=rt.settings.return_window_days)
    if item.sold_at is None or now - item.sold_at > window:
        return "return_window_passed"
    if action == "restock" and item.expires_on is not None and item.expires_on < now.date():
        return "expired"
    return None


def _return(
    rt: Runtime,
    principal: Principal,
    location_id: int,
    parsed: Sequence[tuple[str, str]],
    action: str,
    key: str | None,
    body: str,
) -> ReturnResult:
    org = principal.organization_id
    with rt.db.transaction() as conn:
        now = rt.clock()
        stored = movement.claim_or_replay(conn, principal, key, RETURN_OPERATION, body, now)
        if stored is not None:
            return _return_from(stored)
        counter = _store(conn, principal, location_id)
        if counter.place.kind != LocationKind.STORE.value:
            raise _refuse_not_at_store("return", [k for _, k in parsed])
        (item,) = _resolve(conn, principal, parsed, everyone=False)
        reason = _return_reason(rt, item, counter, org, action, now)
        if reason is not None:
            raise movement.refuse("return", [_refusal(item, reason)])
        then = RULES[RETURN_ACTIONS[action]]
        target = Disposition(str(then.target))
        changed = store.update_sold_unit(
            conn,
            item.id,
            organization_id=org,
            values={
                "disposition": target.value,
                "previous_disposition": Disposition.RETURNED.value,
                "location_id": counter.place.id,
                "parent_container_id": None,
                "sold_at": None,
                "sale_price": None,
                "updated_at": now,
            },
        )
        if changed != 1:
            raise ConflictError(f"{item.code} changed while it was being returned; try again")
        epc = epcis.unit_epc(item.printed, item.gtin)
        returned = _record_at_store(
            conn, principal, RULES[Operation.RETURN_TO_STORE], [item.id], [epc], counter, now
        )
        settled = _record_at_store(conn, principal, then, [item.id], [epc], counter, now)
        result = ReturnResult(
            code=item.code,
            location_id=counter.place.id,
            action=action,
            disposition=target.value,
            return_event_id=returned.event_id,
            disposition_event_id=settled.event_id,
            returned_at=now,
        )
        movement.store_answer(conn, principal, key, _return_answer(result))
        return result


def _record_at_store(
    conn: Connection,
    principal: Principal,
    rule: Rule,
    unit_ids: Sequence[int],
    epcs: Sequence[str],
    counter: _Counter,
    now: dt.datetime,
    details: dict[str, Any] | None = None,
) -> eventlog.Recorded:
    draft = EventDraft(
        event_type=rule.event_type,
        action=rule.action,
        biz_step=rule.biz_step,
        disposition=Disposition(str(rule.target)),
        event_time=now,
        epcs=epcs,
        read_point=counter.uri,
        biz_location=counter.uri,
    )
    return eventlog.record(
        conn,
        principal,
        draft,
        record_time=now,
        unit_ids=supply.units_in([], unit_ids),
        read_point_id=counter.place.id,
        biz_location_id=counter.place.id,
        quantity=len(unit_ids),
        details=details,
    )


def _return_answer(result: ReturnResult) -> dict[str, Any]:
    return {
        "code": result.code,
        "location_id": result.location_id,
        "action": result.action,
        "disposition": result.disposition,
        "return_event_id": result.return_event_id,
        "disposition_event_id": result.disposition_event_id,
        "returned_at": result.returned_at.isoformat(),
    }


def _return_from(answer: dict[str, Any]) -> ReturnResult:
    return ReturnResult(
        code=answer["code"],
        location_id=int(answer["location_id"]),
        action=answer["action"],
        disposition=answer["disposition"],
        return_event_id=answer["return_event_id"],
        disposition_event_id=answer["disposition_event_id"],
        returned_at=dt.datetime.fromisoformat(answer["returned_at"]),
        replayed=True,
    )


# ---------------------------------------------------------------------------------------
# Undoing a sale


def undo_sale(rt: Runtime, principal: Principal, *, code: str, reason: str = "") -> UndoResult:
    """Take back a sale made by mistake, within ``undo_window_minutes``, at the till.

    History is never edited: the sale event gets an EPCIS error declaration (``did_not_occur``)
    naming the corrective events — the unit back on sale and, when the sale was a basket, the
    rest of the basket sold as before. Only the organization that sold the unit sees its sale
    (anyone else gets a 404); recalled, destroyed and expired units are refused.
    """
    require(principal, Role.OPERATOR)
    _check_reason(reason)
    parsed = _parse([code])
    org = principal.organization_id
    with rt.db.transaction() as conn:
        now = rt.clock()
        (item,) = _resolve(conn, principal, parsed, everyone=False)
        if item.kind != "unit":
            raise movement.refuse("undo the sale", [_refusal(item, "not_a_unit")])
        if item.custodian_organization_id != org:
            raise NotFoundError(f"no sale of {item.code} by your organization")
        why = _undo_reason(rt, conn, principal, item, now)
        if isinstance(why, str):
            raise movement.refuse("undo the sale", [_refusal(item, why)])
        sale = why
        changed = store.update_sold_unit(
            conn,
            item.id,
            organization_id=org,
            values={
                "disposition": _SELLABLE,
                "previous_disposition": _SOLD,
                "sold_at": None,
                "sale_price": None,
                "updated_at": now,
            },
        )
        if changed != 1:
            raise ConflictError(f"{item.code} changed while its sale was being undone; try again")
        where = sale["biz_location_id"] or item.location_id
        counter = _counter_at(conn, principal, where)
        details = {"reason": reason} if reason else None
        corrective = [
            _record_at_store(
                conn,
                principal,
                RULES[Operation.UNDO_SALE],
                [item.id],
                [epcis.unit_epc(item.printed, item.gtin)],
                counter,
                now,
                details,
            ).event_id
        ]
        rest = _rest_of_basket(conn, sale["id"], item.id)
        if rest is not None:
            corrective.append(_resell(conn, principal, sale, rest, counter, now).event_id)
        declared = eventlog.declare_error(
            conn,
            principal,
            sale,
            epcis.error_declaration(now, "did_not_occur", corrective),
            record_time=now,
        )
        return UndoResult(
            code=item.code,
            sale_event_id=declared.event_id,
            corrective_event_ids=tuple(corrective),
            disposition=_SELLABLE,
            undone_at=now,
        )


def _undo_reason(
    rt: Runtime, conn: Connection, principal: Principal, item: Item, now: dt.datetime
) -> str | dict[str, Any]:
    """Why the unit's sale cannot be undone, or the sale event to declare wrong."""
    disposition = Disposition(item.disposition)
    reason = refusal_reason(Operation.UNDO_SALE, disposition)
    if reason is not None:
        return reason
    if item.expires_on is not None and item.expires_on < now.date():
        return "expired"
    kind = movement.organization_kind(conn, principal.organization_id)
    if kind not in RULES[Operation.UNDO_SALE].kinds:
        return "kind_not_permitted"
    window = dt.timedelta(minutes=rt.settings.undo_window_minutes)
    if item.sold_at is None or now - item.sold_at > window:
        return "undo_window_passed"
    sale = _sale_event(conn, principal.organization_id, item.id)
    return sale if sale is not None else "not_sold"


def _sale_event(conn: Connection, organization_id: int, unit_id: int) -> dict[str, Any] | None:
    """The latest sale event of the unit that no error declaration has withdrawn yet."""
    rows: list[dict[str, Any]] = store.unit_step_events(
        conn, organization_id, unit_id, BizStep.RETAIL_SELLING.value
    )
    declared = {r["declares_error_on"] for r in rows if r["declares_error_on"] is not None}
    open_sales = [
        row
        for row in rows
        if row["declares_error_on"] is None
        and row["disposition"] == _SOLD
        and row["id"] not in declared
    ]
    return open_sales[-1] if open_sales else None


def _counter_at(conn: Connection, principal: Principal, location_id: int | None) -> _Counter:
    if location_id is None:
        raise ConflictError("the sale has no store to undo it at")
    return _store(conn, principal, location_id)


def _rest_of_basket(
    conn: Connection, sale_row_id: int, unit_id: int
) -> tuple[Any, list[tuple[str, str | None]]] | None:
    """The other units of the sale's basket (as a set and as ``(code, gtin)``), if any."""
    others = store.event_unit_ids(sale_row_id, except_unit_id=unit_id)
    parts = store.unit_epc_parts(conn, others)
    return (others, parts) if parts else None


def _resell(
    conn: Connection,
    principal: Principal,
    sale: dict[str, Any],
    rest: tuple[Any, list[tuple[str, str | None]]],
    counter: _Counter,
    now: dt.datetime,
) -> eventlog.Recorded:
    """The corrective event for the rest of a basket: sold as before, at the sale's time."""
    ids, parts = rest
    draft = EventDraft(
        event_type=EventType.OBJECT,
        action=EventAction.OBSERVE,
        biz_step=BizStep.RETAIL_SELLING,
        disposition=Disposition.RETAIL_SOLD,
        event_time=sale["event_time"],
        epcs=[epcis.unit_epc(c, g) for c, g in parts],
        read_point=counter.uri,
        biz_location=counter.uri,
        time_zone_offset=sale["event_time_zone_offset"],
    )
    details = json.loads(sale["details"] or "{}")
    details["restates"] = sale["event_id"]
    return eventlog.record(
        conn,
        principal,
        draft,
        record_time=now,
        unit_ids=ids,
        read_point_id=counter.place.id,
        biz_location_id=counter.place.id,
        quantity=len(parts),
        details=details,
    )


def _check_reason(reason: str) -> None:
    if len(reason) > MAX_REASON_LENGTH:
        raise ValidationError(f"a reason has at most {MAX_REASON_LENGTH} characters")


# ---------------------------------------------------------------------------------------
# Disposition changes


def change_disposition(
    rt: Runtime,
    principal: Principal,
    *,
    operation: Operation,
    codes: Sequence[str],
    reason: str = "",
) -> DispositionResult:
    """Destroy, decommission, report stolen, mark lost or found again, mark damaged or
    expired, quarantine or restock units — named one by one or by the cases and pallets
    holding them — all or nothing.

    The lifecycle table decides: the kinds of organization that may, the dispositions the
    operation starts from, and custody (the holder; for destroying also a regulator;
    restocking only at one of the holder's stores). Every refused unit is listed with its
    reason. One conditional UPDATE, one event (destroying and decommissioning are ObjectEvent
    DELETE, and those units leave their container; units found again go back to what they
    were when lost, with one event per disposition); ``reason`` is kept with the event.
    """
    require(principal, Role.OPERATOR)
    if operation not in DISPOSITION_OPERATIONS:
        raise ValidationError(f"{operation.value} is not a disposition change")
    _check_reason(reason)
    parsed = _parse(codes)
    with rt.db.transaction() as conn:
        return _change_disposition(conn, principal, operation, parsed, reason, rt.clock())


def change_disposition_in(
    conn: Connection,
    principal: Principal,
    *,
    operation: Operation,
    codes: Sequence[str],
    reason: str,
    now: dt.datetime,
) -> DispositionResult:
    """:func:`change_disposition` inside the caller's transaction (an inventory count's
    resolution records its own row in the same one): the same rules, the same event."""
    require(principal, Role.OPERATOR)
    if operation not in DISPOSITION_OPERATIONS:
        raise ValidationError(f"{operation.value} is not a disposition change")
    _check_reason(reason)
    return _change_disposition(conn, principal, operation, _parse(codes), reason, now)


def _change_disposition(
    conn: Connection,
    principal: Principal,
    operation: Operation,
    parsed: Sequence[tuple[str, str]],
    reason: str,
    now: dt.datetime,
) -> DispositionResult:
    rule = RULES[operation]
    org = principal.organization_id
    what = operation.value.replace("_", " ")
    kind = movement.organization_kind(conn, org)
    regulator = kind is OrganizationKind.REGULATOR and _regulator_may(rule)
    items = _resolve(conn, principal, parsed, everyone=regulator)
    if kind not in rule.kinds:
        raise movement.refuse(what, [_refusal(i, "kind_not_permitted") for i in items])
    boxes = [i for i in items if i.kind == "container"]
    _check_containers(boxes, org, regulator, rule, what)
    ids = supply.units_in([b.id for b in boxes], [i.id for i in items if i.kind == "unit"])
    total = supply.count(conn, ids)
    if total == 0:
        raise ValidationError("the cases and pallets named hold no units")
    guard = store.unit_guard(
        [d.value for d in rule.sources],
        custodian_organization_id=None if regulator else org,
        at_stores_of=org if rule.custody is Custody.CUSTODIAN_AT_STORE else None,
    )
    restores = rule.target is Target.PREVIOUS
    values: dict[str, Any] = {
        "disposition": _restored(rule) if restores else str(rule.target),
        "previous_disposition": store.previous_disposition_now(),
        "updated_at": now,
    }
    offenders = supply.unit_offenders(conn, ids, and_(*guard))
    if offenders:
        _refuse_units(conn, offenders, principal, kind, rule, what)
    # The same conditions again, in the UPDATE: a unit changed by someone else since
    # the check above is not changed twice, and the row count says so.
    changed = supply.update_units(conn, ids, guard, values)
    if changed != total:
        raise ConflictError("the units changed while they were being updated; try again")
    # one event per disposition the units are now in: one, unless units found again go
    # back to different ones
    groups = store.units_by_disposition(conn, ids) if restores else {str(rule.target): ids}
    box_ids = [b.id for b in boxes]
    event_ids: list[str] = []
    counts: dict[str, int] = {}
    for disposition, members in groups.items():
        parts = store.unit_epc_parts(conn, members)
        draft = EventDraft(
            event_type=rule.event_type,
            action=rule.action,
            biz_step=rule.biz_step,
            disposition=Disposition(disposition),
            event_time=now,
            epcs=[epcis.unit_epc(c, g) for c, g in parts],
        )
        recorded = eventlog.record(
            conn,
            principal,
            draft,
            record_time=now,
            unit_ids=members,
            container_ids=supply.containers_in(box_ids) if box_ids else None,
            quantity=len(parts),
            details={"reason": reason} if reason else None,
        )
        event_ids.append(recorded.event_id)
        counts[disposition] = len(parts)
    if rule.final:
        # Destroyed and decommissioned units leave their containers. Only now: the event's
        # membership above finds them through the containers. These rows are already
        # locked by this transaction, so this write waits for nobody.
        supply.update_units(conn, ids, [], {"parent_container_id": None})
    return DispositionResult(
        operation=operation.value,
        disposition=next(iter(groups)) if len(groups) == 1 else "several",
        codes=tuple(i.code for i in items),
        units=total,
        event_id=event_ids[0],
        event_ids=tuple(event_ids),
        dispositions=counts,
    )


def _restored(rule: Rule) -> Any:
    """Back to the disposition before the reversed operation; a unit whose previous one was
    not kept is set apart (not sellable) rather than put on sale."""
    reversed_ = RULES[rule.reverses] if rule.reverses is not None else rule
    sources = sorted(d.value for d in reversed_.sources)
    return store.disposition_restored(sources, Disposition.NON_SELLABLE_OTHER.value)


def _regulator_may(rule: Rule) -> bool:
    return rule.custody in (Custody.CUSTODIAN_OR_REGULATOR, Custody.OWNER_OR_REGULATOR)


def _check_containers(
    boxes: Sequence[Item], organization_id: int, regulator: bool, rule: Rule, what: str
) -> None:
    if regulator:
        return
    custody = "not_custodian_or_regulator" if _regulator_may(rule) else "not_custodian"
    refusals = [
        _refusal(b, custody) for b in boxes if b.custodian_organization_id != organization_id
    ]
    if refusals:
        raise movement.refuse(what, refusals)


def _refuse_units(
    conn: Connection,
    offenders: Sequence[Item],
    principal: Principal,
    kind: OrganizationKind,
    rule: Rule,
    what: str,
) -> None:
    """Raise the refusal naming (up to 20 of) the units the guard rejects, with reasons."""
    stores = store.location_kinds(conn, sorted({o.location_id for o in offenders if o.location_id}))
    refusals = []
    for unit in offenders:
        decision = allowed(
            rule.operation,
            disposition=Disposition(unit.disposition),
            actor_kind=kind,
            actor_is_custodian=unit.custodian_organization_id == principal.organization_id,
            actor_is_owner=unit.organization_id == principal.organization_id,
            at_store=unit.location_id is not None
            and stores.get(unit.location_id) == LocationKind.STORE.value,
        )
        refusals.append(_refusal(unit, decision.reason or rule.refusal))
    raise movement.refuse(what, refusals)
