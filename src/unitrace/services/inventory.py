"""Inventory counts: open a count of one of your locations, add scans (by area, from as many
people as like), close it to freeze the differences (recording one ``cycle_counting`` event of
the units found where they were believed to be), and resolve each through the normal
operations (report stolen, mark lost, find again, receive, move here), or note it.

The rules are in ``domain/inventory.py``; the figures and the accuracy are defined in
``docs/analytics.md``. A count, its scans and its differences belong to the counting
organization; another organization's unit scanned in a count is reported exactly like a code
nobody issued.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from unitrace.domain.inventory import (
    COUNTING_KINDS,
    MAX_AREA,
    MAX_NOTE,
    ON_HAND,
    REASON_MESSAGES,
    CountStatus,
    DifferenceKind,
    Reason,
    Resolution,
    UnitFacts,
    accuracy,
    choices,
    classify,
    needs_note,
)
from unitrace.domain.lifecycle import Operation
from unitrace.domain.model import BizStep, Disposition, Page, Principal, Role
from unitrace.domain.scan import ScanError, parse_scan
from unitrace.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from unitrace.services import eventlog, movement, relocation, retail, shipments
from unitrace.services.access import require
from unitrace.services.runtime import Runtime
from unitrace.storage import inventory as store
from unitrace.storage import orgs as org_store
from unitrace.storage import retail as retail_store
from unitrace.storage import supply

MAX_PAGE = 500
DIFFERENCE_COLUMNS = (
    "count_id",
    "code",
    "kind",
    "reason",
    "product_name",
    "disposition",
    "location_name",
    "shipment_id",
    "resolution",
    "resolution_note",
    "resolved_at",
    "resolved_by",
    "event_id",
)


@dataclass(frozen=True)
class CountView:
    id: int
    location_id: int
    location_name: str
    status: str
    note: str
    opened_at: dt.datetime
    opened_by: str
    closed_at: dt.datetime | None
    closed_by: str | None
    scanned: int  # distinct codes scanned so far
    matched: int  # the four figures are 0 until the count is closed
    missing: int
    unexpected: int
    wrong_location: int
    resolved: int = 0  # differences resolved
    event_id: str | None = None  # the cycle_counting event recorded when it closed

    @property
    def accuracy(self) -> float | None:
        """matched / (matched + missing + unexpected + wrong_location); None while open."""
        if self.status != CountStatus.CLOSED:
            return None
        return accuracy(self.matched, self.missing, self.unexpected, self.wrong_location)

    @property
    def differences(self) -> int:
        return self.missing + self.unexpected + self.wrong_location


@dataclass(frozen=True)
class Difference:
    code: str
    kind: str
    reason: str
    message: str
    product_name: str | None
    disposition: str | None
    location_id: int | None  # where the unit is believed to be
    location_name: str | None
    shipment_id: int | None
    choices: tuple[str, ...]  # the resolutions still open to it (empty once resolved)
    resolution: str | None
    resolution_note: str
    resolved_at: dt.datetime | None
    resolved_by: str | None
    event_id: str | None


@dataclass(frozen=True)
class CountDetail:
    count: CountView
    differences: tuple[Difference, ...]


@dataclass(frozen=True)
class ScanBatch:
    count_id: int
    area: str
    added: int  # codes new to the count (every unit of a case scanned counts)
    repeated: int  # units and codes the count already had
    unknown: tuple[str, ...]  # codes that name no unit of yours (as unknown codes)
    scanned: int  # distinct codes in the count now


@dataclass(frozen=True)
class Resolved:
    count_id: int
    resolution: str
    differences: tuple[Difference, ...]  # receiving settles every unit of the shipment at once
    event_id: str | None
    replayed: bool = False


def _view(row: dict[str, Any], resolved: int = 0) -> CountView:
    return CountView(
        id=row["id"],
        location_id=row["location_id"],
        location_name=row["location_name"],
        status=row["status"],
        note=row["note"],
        opened_at=row["opened_at"],
        opened_by=row["opened_by"],
        closed_at=row["closed_at"],
        closed_by=row["closed_by"],
        scanned=row["scanned"],
        matched=row["matched"],
        missing=row["missing"],
        unexpected=row["unexpected"],
        wrong_location=row["wrong_location"],
        resolved=resolved,
        event_id=row["event_id"],
    )


def _difference(row: dict[str, Any]) -> Difference:
    kind, reason = DifferenceKind(row["kind"]), Reason(row["reason"])
    open_choices = () if row["resolution"] else tuple(c.value for c in choices(kind, reason))
    return Difference(
        code=row["code"],
        kind=kind.value,
        reason=reason.value,
        message=REASON_MESSAGES[reason],
        product_name=row["product_name"],
        disposition=row["disposition"],
        location_id=row["location_id"],
        location_name=row["location_name"],
        shipment_id=row["shipment_id"],
        choices=open_choices,
        resolution=row["resolution"],
        resolution_note=row["resolution_note"],
        resolved_at=row["resolved_at"],
        resolved_by=row["resolved_by"],
        event_id=row["event_id"],
    )


def _check_text(value: str, limit: int, what: str) -> str:
    value = value.strip()
    if len(value) > limit:
        raise ValidationError(f"{what} has at most {limit} characters")
    if "\x00" in value:
        raise ValidationError(f"{what} cannot contain NUL characters")
    return value


def _check_window(since: dt.datetime | None, until: dt.datetime | None) -> None:
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            raise ValidationError(f"{name} needs a time zone")
    if since is not None and until is not None and until <= since:
        raise ValidationError("until must be after since")


def _open_count(conn: Connection, principal: Principal, count_id: int) -> dict[str, Any]:
    row = store.get_count(conn, principal.organization_id, count_id, lock=True)
    if row["status"] != CountStatus.OPEN:
        raise ConflictError(f"inventory count {count_id} is closed: its figures are frozen")
    return row


# ---------------------------------------------------------------------------------------
# Counting


def start_count(
    rt: Runtime, principal: Principal, *, location_id: int, note: str = ""
) -> CountView:
    """Open a count of one of the caller's locations (normally a store)."""
    require(principal, Role.OPERATOR)
    note = _check_text(note, MAX_NOTE, "a note")
    with rt.db.transaction() as conn:
        kind = movement.organization_kind(conn, principal.organization_id)
        if kind not in COUNTING_KINDS:
            raise PermissionDeniedError(
                f"a {kind.value} holds no stock to count; brands, distributors and retailers do"
            )
        org_store.get_location(conn, principal.organization_id, location_id)  # 404 otherwise
        count_id = store.insert_count(
            conn,
            organization_id=principal.organization_id,
            location_id=location_id,
            note=note,
            opened_at=rt.clock(),
            opened_by=principal.display[:200],
        )
        return _view(store.get_count(conn, principal.organization_id, count_id))


def add_scans(
    rt: Runtime, principal: Principal, count_id: int, *, scans: Sequence[str], area: str = ""
) -> ScanBatch:
    """Add a batch of scans (raw scanner text) to an open count, optionally for one area.

    A case or pallet counts every unit it holds; a unit or code already counted counts once.
    Any unreadable scan refuses the whole batch (nothing is added) and names it. Codes that
    name no unit of the caller's (unknown, or another organization's) are kept as such.
    """
    require(principal, Role.OPERATOR)
    area = _check_text(area, MAX_AREA, "an area")
    if isinstance(scans, str):
        scans = [scans]
    parsed = movement.parse_codes(scans)  # ValidationError naming every unreadable scan
    if not parsed:
        raise ValidationError("scan at least one code")
    org = principal.organization_id
    with rt.db.transaction() as conn:
        now = rt.clock()
        _open_count(conn, principal, count_id)
        keys = [key for _, key in parsed]
        found = movement.lookup(conn, keys)
        inbound = _inbound(conn, principal, list(found.values()))
        seen = {
            key: item
            for key, item in found.items()
            if movement.visible(item, org) or item.id in inbound.get(item.kind, set())
        }
        unknown = [movement.shown_key(key) for key in keys if key not in seen]
        boxes = [i.id for i in seen.values() if i.kind == "container"]
        loose = [i.id for i in seen.values() if i.kind == "unit"]
        actor = principal.display[:200]
        added = 0
        if boxes or loose:
            added = store.insert_scanned_units(
                conn, count_id, supply.units_in(boxes, loose), area=area, at=now, actor=actor
            )
        already = store.known_codes(conn, count_id, unknown)
        fresh = [c for c in dict.fromkeys(unknown) if c not in already]
        store.insert_scanned_codes(
            conn,
            [
                {
                    "count_id": count_id,
                    "code": code,
                    "unit_id": None,
                    "area": area,
                    "scanned_at": now,
                    "actor": actor,
                }
                for code in fresh
            ],
        )
        added += len(fresh)
        store.add_scanned(conn, count_id, added)
        total = store.get_count(conn, org, count_id)["scanned"]
        covered = (supply.count(conn, supply.units_in(boxes, loose)) if seen else 0) + len(unknown)
        return ScanBatch(
            count_id=count_id,
            area=area,
            added=added,
            repeated=covered - added,
            unknown=tuple(unknown),
            scanned=int(total),
        )


def _inbound(
    conn: Connection, principal: Principal, items: Sequence[supply.Item]
) -> dict[str, set[int]]:
    """Items in transit to the caller (visible to it although it holds them not yet)."""
    carried = sorted({i.shipment_id for i in items if i.shipment_id is not None})
    if not carried:
        return {}
    destinations = retail_store.shipment_destinations(conn, carried)
    out: dict[str, set[int]] = {}
    for item in items:
        if (
            item.shipment_id is not None
            and item.disposition == Disposition.IN_TRANSIT.value
            and destinations.get(item.shipment_id) == principal.organization_id
        ):
            out.setdefault(item.kind, set()).add(item.id)
    return out


def close_count(rt: Runtime, principal: Principal, count_id: int) -> CountDetail:
    """Close an open count: the differences are worked out against the units believed
    present now and frozen, with the figures, in one transaction."""
    require(principal, Role.OPERATOR)
    org = principal.organization_id
    with rt.db.transaction() as conn:
        now = rt.clock()
        row = _open_count(conn, principal, count_id)
        location_id = int(row["location_id"])
        missing = store.insert_missing(conn, count_id, org, location_id, [d.value for d in ON_HAND])
        tally = {DifferenceKind.UNEXPECTED: 0, DifferenceKind.WRONG_LOCATION: 0}
        matched = 0
        rows: list[dict[str, Any]] = []
        for fact in store.scanned_facts(conn, count_id):
            outcome = classify(_facts(fact, org), location_id)
            if outcome.kind is None:
                matched += 1
                continue
            tally[outcome.kind] += 1
            known = outcome.reason is not Reason.UNKNOWN
            rows.append(
                {
                    "count_id": count_id,
                    "code": fact["code"],
                    "unit_id": fact["unit_id"] if known else None,
                    "kind": outcome.kind.value,
                    "reason": (outcome.reason or Reason.UNKNOWN).value,
                    "disposition": fact["disposition"] if known else None,
                    "location_id": fact["location_id"]
                    if known and fact["custodian_organization_id"] == org
                    else None,
                    "shipment_id": fact["shipment_id"]
                    if outcome.reason is Reason.NOT_RECEIVED
                    else None,
                }
            )
        store.insert_differences(conn, rows)
        event_id = _record_count(conn, principal, count_id, location_id, now) if matched else None
        closed = store.close_count(
            conn,
            count_id,
            closed_at=now,
            closed_by=principal.display[:200],
            matched=matched,
            missing=missing,
            unexpected=tally[DifferenceKind.UNEXPECTED],
            wrong_location=tally[DifferenceKind.WRONG_LOCATION],
            event_id=event_id,
        )
        if closed != 1:  # pragma: no cover - the row is locked and was open above
            raise ConflictError(f"inventory count {count_id} was closed meanwhile")
        return _detail(conn, principal, count_id)


def _record_count(
    conn: Connection, principal: Principal, count_id: int, location_id: int, now: dt.datetime
) -> str:
    """One ObjectEvent OBSERVE, business step cycle_counting, at the counted location, of
    every unit scanned and believed present: the stock was counted, and when. The units'
    state is left as it is (no disposition)."""
    present = store.counted_present(
        count_id, principal.organization_id, location_id, [d.value for d in ON_HAND]
    )
    recorded, _ = eventlog.record_units(
        conn,
        principal,
        biz_step=BizStep.CYCLE_COUNTING,
        disposition=None,
        unit_ids=present,
        at=now,
        location_id=location_id,
        details={"inventory_count_id": count_id},
    )
    return recorded.event_id


def _facts(fact: dict[str, Any], organization_id: int) -> UnitFacts | None:
    if fact["unit_id"] is None or fact["disposition"] is None:
        return None
    inbound = fact["destination_organization_id"] == organization_id
    held = fact["custodian_organization_id"] == organization_id
    return UnitFacts(
        visible=held or fact["organization_id"] == organization_id or inbound,
        held_by_caller=held,
        disposition=Disposition(fact["disposition"]),
        location_id=fact["location_id"],
        in_transit_to_caller=inbound and fact["disposition"] == Disposition.IN_TRANSIT.value,
    )


def _detail(conn: Connection, principal: Principal, count_id: int) -> CountDetail:
    row = store.get_count(conn, principal.organization_id, count_id)
    found = tuple(_difference(r) for r in store.list_differences(conn, count_id))
    resolved = sum(1 for d in found if d.resolution)
    return CountDetail(count=_view(row, resolved), differences=found)


def get_count(rt: Runtime, principal: Principal, count_id: int) -> CountDetail:
    """A count of the caller's, with its differences once closed (by kind, then code)."""
    with rt.db.read() as conn:
        return _detail(conn, principal, count_id)


def difference_rows(rt: Runtime, principal: Principal, count_id: int) -> list[dict[str, Any]]:
    """The differences as plain rows of :data:`DIFFERENCE_COLUMNS` (for CSV)."""
    detail = get_count(rt, principal, count_id)
    return [
        {"count_id": count_id, **{k: getattr(d, k) for k in DIFFERENCE_COLUMNS[1:]}}
        for d in detail.differences
    ]


def list_counts(
    rt: Runtime,
    principal: Principal,
    *,
    location_id: int | None = None,
    status: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page[CountView]:
    """The caller's counts, newest first; ``since``/``until`` select closed counts by when
    they were closed."""
    _check_window(since, until)
    if status is not None and status not in {s.value for s in CountStatus}:
        raise ValidationError(f"status is open or closed; got {status!r}")
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationError(f"limit is 1 to {MAX_PAGE}")
    with rt.db.read() as conn:
        rows, total = store.list_counts(
            conn,
            principal.organization_id,
            location_id=location_id,
            status=status,
            since=since,
            until=until,
            limit=limit,
            offset=offset,
        )
        resolved = store.resolved_counts(conn, [r["id"] for r in rows])
    items = tuple(_view(r, resolved.get(r["id"], 0)) for r in rows)
    return Page(items=items, total=total, limit=limit, offset=offset)


def accuracy_history(
    rt: Runtime,
    principal: Principal,
    *,
    location_id: int | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> list[CountView]:
    """Closed counts in the window (by when they closed), oldest first, per location if
    ``location_id`` is given: each with its accuracy."""
    _check_window(since, until)
    with rt.db.read() as conn:
        rows = store.closed_counts(
            conn, principal.organization_id, location_id=location_id, since=since, until=until
        )
    return [_view(r) for r in rows]


# ---------------------------------------------------------------------------------------
# Resolving


def _codes(conn: Connection, raw: str) -> list[str]:
    """The codes a difference named by ``raw`` may be kept under: the unit's own code for
    any scan of a unit (a brand's serial included), and the code as read (unknown codes)."""
    try:
        key = movement.scan_key(parse_scan(raw))
    except ScanError as exc:
        raise ValidationError(exc.message) from None
    item = movement.lookup(conn, [key]).get(key)
    shown = movement.shown_key(key)
    return [item.code, shown] if item is not None and item.kind == "unit" else [shown]


def _found(
    conn: Connection,
    principal: Principal,
    count: dict[str, Any],
    lost: Difference,
    note: str,
    now: dt.datetime,
) -> str:
    """A unit marked lost, scanned in this count: back as it was (mark_found), and moved to
    the counted location if it was lost somewhere else (a second event)."""
    reason = note or f"found in inventory count {count['id']}"
    found = retail.change_disposition_in(
        conn, principal, operation=Operation.MARK_FOUND, codes=[lost.code], reason=reason, now=now
    )
    if lost.location_id != count["location_id"]:
        relocation.relocate_in(
            conn,
            principal,
            codes=[lost.code],
            location_id=int(count["location_id"]),
            reason=reason,
            now=now,
        )
    return found.event_id


# a missing unit reported stolen or lost: the disposition change that records it
_MISSING_AS = {Resolution.STOLEN: Operation.MARK_STOLEN, Resolution.LOST: Operation.MARK_LOST}


def resolve(
    rt: Runtime,
    principal: Principal,
    count_id: int,
    *,
    code: str,
    resolution: str,
    note: str = "",
) -> Resolved:
    """Resolve one difference of a closed count through the normal operation, once.

    ``stolen`` and ``lost`` report a missing unit stolen or lost (the disposition change,
    its event and rules); ``received`` receives a unit in transit to the caller on its
    shipment — with every other unit of that shipment this count found, since a shipment is
    received once; ``moved_here`` relocates a wrong-location unit to the counted location;
    ``found`` puts a unit marked lost back as it was (and here, if it was lost elsewhere), and
    for a missing unit records no event; ``noted`` records none either and needs a ``note``.
    Asking again for the resolution a difference already has answers with it (``replayed``);
    any other is a conflict.
    """
    require(principal, Role.OPERATOR)
    try:
        chosen = Resolution(resolution)
    except ValueError:
        names = ", ".join(r.value for r in Resolution)
        raise ValidationError(f"a resolution is one of {names}; got {resolution!r}") from None
    note = _check_text(note, MAX_NOTE, "a note")
    if needs_note(chosen) and not note:
        raise ValidationError("say why in a note: noting a difference settles nothing by itself")
    with rt.db.transaction() as conn:
        now = rt.clock()
        candidates = _codes(conn, code)
        row = store.get_count(conn, principal.organization_id, count_id, lock=True)
        if row["status"] != CountStatus.CLOSED:
            raise ConflictError(f"inventory count {count_id} is open: close it first")
        found = [r for c in candidates for r in store.list_differences(conn, count_id, code=c)]
        wanted = candidates[0]
        if not found:
            raise NotFoundError(f"{wanted} is not a difference of inventory count {count_id}")
        wanted = found[0]["code"]
        current = _difference(found[0])
        if current.resolution is not None:
            if current.resolution == chosen.value:
                return Resolved(count_id, chosen.value, (current,), current.event_id, True)
            raise ConflictError(
                f"{wanted} was already resolved as {current.resolution} by "
                f"{current.resolved_by or 'someone'} at {current.resolved_at:%Y-%m-%d %H:%M}"
            )
        allowed = choices(DifferenceKind(current.kind), Reason(current.reason))
        if chosen not in allowed:
            raise ValidationError(
                f"a {current.kind.replace('_', ' ')} unit ({current.message}) can be resolved "
                f"as {', '.join(a.value for a in allowed)}; not {chosen.value}"
            )
        codes = [wanted]
        event_id: str | None = None
        if chosen in _MISSING_AS:
            event_id = retail.change_disposition_in(
                conn,
                principal,
                operation=_MISSING_AS[chosen],
                codes=[wanted],
                reason=note or f"missing in inventory count {count_id}",
                now=now,
            ).event_id
        elif chosen is Resolution.FOUND and current.reason == Reason.LOST:
            event_id = _found(conn, principal, row, current, note, now)
        elif chosen is Resolution.MOVED_HERE:
            event_id = relocation.relocate_in(
                conn,
                principal,
                codes=[wanted],
                location_id=int(row["location_id"]),
                reason=note or f"found in inventory count {count_id}",
                now=now,
            ).event_id
        elif chosen is Resolution.RECEIVED:
            shipment_id = int(current.shipment_id or 0)
            codes = store.unresolved_on_shipment(conn, count_id, shipment_id)
            report = shipments.receive_in(conn, rt, principal, shipment_id, scans=codes, now=now)
            event_id = report.event_id
        changed = store.resolve_differences(
            conn,
            count_id,
            codes,
            resolution=chosen.value,
            resolution_note=note,
            resolved_at=now,
            resolved_by=principal.display[:200],
            event_id=event_id,
        )
        if changed != len(codes):  # pragma: no cover - the count row is locked
            raise ConflictError("the differences changed while being resolved; try again")
        settled = [_difference(r) for r in store.list_differences(conn, count_id)]
        return Resolved(
            count_id, chosen.value, tuple(d for d in settled if d.code in codes), event_id
        )
