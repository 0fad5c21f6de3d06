"""Moving stock between an organization's own locations: units (or whole cases and pallets)
seen at another of the holder's locations, after a count or when stock goes from one store to
another.

One conditional UPDATE of every unit (and one of every container moved with its contents),
one ObjectEvent OBSERVE with business step ``cycle_counting`` at the new location (read point
and business location), every unit's EPC listed, the disposition left as it was. A unit packed
in a case moves with its case: naming it alone is refused (unpack it first, or move the case).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, and_

from unitrace.domain.lifecycle import MESSAGES, RULES, Operation, allowed
from unitrace.domain.model import OrganizationKind, Principal, Role
from unitrace.errors import ConflictError, ValidationError
from unitrace.services import eventlog, movement
from unitrace.services.access import require
from unitrace.services.movement import Refusal
from unitrace.services.runtime import Runtime
from unitrace.storage import inventory as inventory_store
from unitrace.storage import orgs as org_store
from unitrace.storage import retail as retail_store
from unitrace.storage import supply
from unitrace.storage.supply import Item

MAX_REASON_LENGTH = 500
RULE = RULES[Operation.RELOCATE]

_MESSAGES = {
    "packed": "the unit is packed in a case or pallet: move the case, or unpack it first",
    "already_here": "the unit is already at this location",
    "on_shipment": "the unit is on a shipment that has not been received",
}


@dataclass(frozen=True)
class Relocated:
    location_id: int
    location_name: str
    codes: tuple[str, ...]  # as named: units, cases and pallets
    units: int  # units moved, contents of the named containers included
    event_id: str


def relocate(
    rt: Runtime,
    principal: Principal,
    *,
    codes: Sequence[str],
    location_id: int,
    reason: str = "",
) -> Relocated:
    """Move units the caller holds, named one by one or by their cases and pallets, to
    another of its locations; all or nothing, every refused unit listed with its reason.

    Units in any on-hand disposition may move (in stock, returned, quarantined, recalled,
    damaged, expired); their disposition does not change. ``reason`` is kept with the event.
    """
    require(principal, Role.OPERATOR)
    _check_reason(reason)
    with rt.db.transaction() as conn:
        return relocate_in(
            conn, principal, codes=codes, location_id=location_id, reason=reason, now=rt.clock()
        )


def relocate_in(
    conn: Connection,
    principal: Principal,
    *,
    codes: Sequence[str],
    location_id: int,
    reason: str,
    now: dt.datetime,
) -> Relocated:
    """:func:`relocate` inside the caller's transaction (an inventory count's ``moved_here``
    resolution records its own row in the same one)."""
    require(principal, Role.OPERATOR)
    _check_reason(reason)
    if isinstance(codes, str):  # a lone string would be read letter by letter
        codes = [codes]
    org = principal.organization_id
    place = org_store.get_location(conn, org, location_id)  # 404 for anyone else's
    items = movement.resolve(conn, principal, codes)
    kind = movement.organization_kind(conn, org)
    if kind not in RULE.kinds:
        raise movement.refuse("relocate", [_refusal(i, "kind_not_permitted") for i in items])
    packed = [i for i in items if i.parent_container_id is not None]
    foreign = [i for i in items if i.kind == "container" and i.custodian_organization_id != org]
    if packed or foreign:
        refusals = [_refusal(i, "not_custodian") for i in foreign]
        raise movement.refuse("relocate", refusals + [_refusal(i, "packed") for i in packed])
    boxes = [i.id for i in items if i.kind == "container"]
    ids = supply.units_in(boxes, [i.id for i in items if i.kind == "unit"])
    total = supply.count(conn, ids)
    if total == 0:
        raise ValidationError("the cases and pallets named hold no units")
    guard = [
        *retail_store.unit_guard([d.value for d in RULE.sources], custodian_organization_id=org),
        *inventory_store.movable_to(location_id),
    ]
    offenders = supply.unit_offenders(conn, ids, and_(*guard))
    if offenders:
        raise movement.refuse("relocate", [_offence(u, org, kind) for u in offenders])
    changed = supply.update_units(conn, ids, guard, {"location_id": location_id, "updated_at": now})
    if changed != total:
        raise ConflictError("the units changed while they were being moved; try again")
    tree = supply.containers_in(boxes) if boxes else None
    if tree is not None:
        supply.update_containers(conn, tree, [], {"location_id": location_id, "updated_at": now})
    recorded, _ = eventlog.record_units(
        conn,
        principal,
        biz_step=RULE.biz_step,
        disposition=None,  # where it is changed, not what state it is in
        unit_ids=ids,
        at=now,
        action=RULE.action,
        location_id=location_id,
        container_ids=tree,
        details={"reason": reason} if reason else None,
    )
    return Relocated(
        location_id=location_id,
        location_name=place.name,
        codes=tuple(i.code for i in items),
        units=total,
        event_id=recorded.event_id,
    )


def _check_reason(reason: str) -> None:
    if len(reason) > MAX_REASON_LENGTH:
        raise ValidationError(f"a reason has at most {MAX_REASON_LENGTH} characters")


def _refusal(item: Item, reason: str) -> Refusal:
    return Refusal(item.code, reason, _MESSAGES.get(reason) or MESSAGES[reason])


def _offence(unit: Item, organization_id: int, kind: OrganizationKind) -> Refusal:
    decision = allowed(
        Operation.RELOCATE,
        disposition=movement.disposition(unit),
        actor_kind=kind,
        actor_is_custodian=unit.custodian_organization_id == organization_id,
        actor_is_owner=unit.organization_id == organization_id,
        at_store=False,
    )
    if decision.reason is None and unit.shipment_id is not None:
        return _refusal(unit, "on_shipment")
    return _refusal(unit, decision.reason or "already_here")
