"""Cases and pallets: create them, pack units and containers into them, unpack, repack.

Aggregation is recorded as EPCIS AggregationEvents (``packing``/``unpacking``) whose
membership covers every unit inside, so a unit's timeline shows every case and pallet it
travelled in, through any number of repacks.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, select

from unitrace.domain import epcis
from unitrace.domain.codes import generate_codes
from unitrace.domain.epcis import EventDraft
from unitrace.domain.lifecycle import RULES, Operation, refusal_reason
from unitrace.domain.model import (
    BizStep,
    Disposition,
    EventAction,
    EventType,
    Page,
    Principal,
    Role,
)
from unitrace.domain.scan import ScanError, validate_sscc
from unitrace.errors import ValidationError
from unitrace.services import eventlog, movement
from unitrace.services.access import require
from unitrace.services.catalog import check_page
from unitrace.services.movement import Refusal
from unitrace.services.runtime import Runtime
from unitrace.storage import supply
from unitrace.storage.schema import containers, units
from unitrace.storage.supply import Item

KINDS = ("case", "pallet")
MAX_CREATE = 10_000
_IN_STOCK = tuple(d.value for d in RULES[Operation.PACK].sources)


@dataclass(frozen=True)
class ContainerView:
    code: str
    kind: str
    sscc: str | None
    disposition: str
    organization_id: int
    custodian_organization_id: int
    location_id: int | None
    parent_code: str | None
    children: tuple[str, ...]  # codes of the containers directly inside
    units: tuple[str, ...]  # codes of the units directly inside (first 500)
    total_units: int  # units inside at any depth
    short_url: str


@dataclass(frozen=True)
class PackResult:
    container: str
    packed: int  # items named
    units: int  # units now inside the container, at any depth
    event_id: str
    repacked_from: tuple[str, ...]  # containers items were taken out of


def _view(rt: Runtime, conn: Connection, item: Item) -> ContainerView:
    summary = supply.container_summary(conn, item.id)
    parent = (
        supply.get_container_row(conn, item.parent_container_id).code
        if item.parent_container_id
        else None
    )
    return ContainerView(
        code=item.code,
        kind=item.container_kind or "case",
        sscc=item.sscc,
        disposition=item.disposition,
        organization_id=item.organization_id,
        custodian_organization_id=item.custodian_organization_id,
        location_id=item.location_id,
        parent_code=parent,
        children=tuple(c.code for c in summary["children"]),
        units=tuple(summary["direct_units"]),
        total_units=summary["total_units"],
        short_url=f"{rt.settings.resolver_base_url}/{item.code}",
    )


def create_containers(
    rt: Runtime,
    principal: Principal,
    *,
    kind: str,
    count: int = 1,
    location_id: int | None = None,
    sscc: str | None = None,
) -> list[ContainerView]:
    """New empty cases or pallets with their own non-guessable codes (and an SSCC if given)."""
    require(principal, Role.OPERATOR)
    if kind not in KINDS:
        raise ValidationError(f"kind must be one of {', '.join(KINDS)}; got {kind!r}")
    if not 1 <= count <= MAX_CREATE:
        raise ValidationError(f"count must be between 1 and {MAX_CREATE:,}; got {count:,}")
    if sscc is not None:
        if count != 1:
            raise ValidationError("an SSCC names one container: create them one at a time")
        try:
            sscc = validate_sscc(sscc)
        except ScanError as exc:
            raise ValidationError(exc.message, details={"reason": exc.reason}) from exc
    with rt.db.transaction() as conn:
        now = rt.clock()
        movement.location_of(conn, principal.organization_id, location_id)
        if sscc is not None and supply.find_container_by_sscc(conn, sscc) is not None:
            raise ValidationError(f"SSCC {sscc} is already in use")
        codes = generate_codes(count)
        while taken := supply.find_items(conn, codes):  # a clash with any unit or container
            codes = [c for c in codes if c not in taken] + generate_codes(len(taken))
        supply.insert_containers(
            conn,
            codes,
            organization_id=principal.organization_id,
            kind=kind,
            location_id=location_id,
            sscc=sscc,
            at=now,
        )
        found = supply.find_items(conn, codes)
        return [_view(rt, conn, found[c]) for c in codes]


def get_container(rt: Runtime, principal: Principal, code: str) -> ContainerView:
    with rt.db.read() as conn:
        item = _one_container(conn, principal, code)
        return _view(rt, conn, item)


def list_containers(
    rt: Runtime,
    principal: Principal,
    *,
    kind: str | None = None,
    top_level_only: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> Page[ContainerView]:
    check_page(limit, offset)
    with rt.db.read() as conn:
        items, total = supply.list_containers(
            conn,
            principal.organization_id,
            limit=limit,
            offset=offset,
            kind=kind,
            top_level_only=top_level_only,
        )
        views = tuple(_view(rt, conn, i) for i in items)
    return Page(items=views, total=total, limit=limit, offset=offset)


def _one_container(conn: Connection, principal: Principal, code: str) -> Item:
    (item,) = movement.resolve(conn, principal, [code])
    if item.kind != "container":
        raise ValidationError(f"{item.code} is a unit, not a case or pallet")
    return item


def _check_holder(principal: Principal, items: Sequence[Item], what: str) -> None:
    refusals: list[Refusal] = []
    for item in items:
        if item.custodian_organization_id != principal.organization_id:
            refusals.append(
                Refusal(item.code, "not_custodian", movement.reason_message("not_custodian"))
            )
        elif (item.kind == "unit" and item.disposition not in _IN_STOCK) or (
            item.kind == "container" and item.disposition != Disposition.ACTIVE.value
        ):
            reason = _state_reason(item.disposition)
            refusals.append(Refusal(item.code, reason, movement.reason_message(reason)))
    if refusals:
        raise movement.refuse(what, refusals)


def _state_reason(disposition: str) -> str:
    return refusal_reason(Operation.PACK, Disposition(disposition)) or "not_in_stock"


def _aggregation(
    conn: Connection,
    rt: Runtime,
    principal: Principal,
    action: EventAction,
    parent: Item,
    children: Sequence[Item],
) -> eventlog.Recorded:
    now = rt.clock()
    step = BizStep.PACKING if action is EventAction.ADD else BizStep.UNPACKING
    where = supply.location_gln(conn, parent.location_id)
    place = epcis.location_uri(parent.location_id, where) if parent.location_id else None
    draft = EventDraft(
        event_type=EventType.AGGREGATION,
        action=action,
        biz_step=step,
        event_time=now,
        parent=movement.epc_of(parent),
        epcs=[movement.epc_of(c) for c in children],
        read_point=place,
        biz_location=place,
    )
    boxes = [c.id for c in children if c.kind == "container"]
    loose = [c.id for c in children if c.kind == "unit"]
    return eventlog.record(
        conn,
        principal,
        draft,
        record_time=now,
        unit_ids=supply.units_in(boxes, loose),
        container_ids=supply.containers_in([parent.id, *boxes]),
        read_point_id=parent.location_id,
        biz_location_id=parent.location_id,
        quantity=len(children),
    )


def pack(
    rt: Runtime,
    principal: Principal,
    *,
    container: str,
    items: Sequence[str],
) -> PackResult:
    """Put units and/or containers into ``container``, in one transaction.

    Items already in another container are repacked: an unpacking event from their old
    container is recorded first, so the lineage keeps both. A container can never end up
    inside itself.
    """
    require(principal, Role.OPERATOR)
    with rt.db.transaction() as conn:
        target = _one_container(conn, principal, container)
        children = movement.resolve(conn, principal, items)
        _check_holder(principal, [target, *children], "pack")
        refusals: list[Refusal] = []
        above = set(supply.ancestors(conn, target.id)) | {target.id}
        for child in children:
            if child.kind == "container" and child.id in above:
                refusals.append(
                    Refusal(child.code, "cycle", "a container cannot be packed inside itself")
                )
            elif child.parent_container_id == target.id:
                refusals.append(
                    Refusal(child.code, "already_packed", f"already inside {target.code}")
                )
        if refusals:
            raise movement.refuse("pack", refusals)
        by_parent: dict[int, list[Item]] = defaultdict(list)
        for child in children:
            if child.parent_container_id is not None:
                by_parent[child.parent_container_id].append(child)
        repacked: list[str] = []
        for parent_id, moved in sorted(by_parent.items()):
            old = supply.get_container_row(conn, parent_id)
            _detach(conn, rt, moved)
            _aggregation(conn, rt, principal, EventAction.DELETE, old, moved)
            repacked.append(old.code)
        _attach(conn, rt, target, children)
        recorded = _aggregation(conn, rt, principal, EventAction.ADD, target, children)
        total = supply.count(conn, supply.units_in([target.id]))
        return PackResult(
            container=target.code,
            packed=len(children),
            units=total,
            event_id=recorded.event_id,
            repacked_from=tuple(repacked),
        )


def _attach(conn: Connection, rt: Runtime, target: Item, children: Sequence[Item]) -> None:
    now = rt.clock()
    loose = [c.id for c in children if c.kind == "unit"]
    boxes = [c.id for c in children if c.kind == "container"]
    values = {"parent_container_id": target.id, "updated_at": now}
    if loose:
        supply.update_units(conn, supply.units_in([], loose), [], values)
    if boxes:
        _move_boxes(conn, boxes, values)
    if target.location_id is not None:
        # everything packed goes where the container is
        where_now = {"location_id": target.location_id, "updated_at": now}
        supply.update_units(conn, supply.units_in(boxes, loose), [], where_now)


def _move_boxes(conn: Connection, boxes: Sequence[int], values: Mapping[str, object]) -> None:
    supply.update_containers(
        conn, select(containers.c.id).where(containers.c.id.in_(boxes)), [], values
    )


def _detach(conn: Connection, rt: Runtime, children: Sequence[Item]) -> None:
    now = rt.clock()
    loose = [c.id for c in children if c.kind == "unit"]
    boxes = [c.id for c in children if c.kind == "container"]
    values = {"parent_container_id": None, "updated_at": now}
    if loose:
        supply.update_units(conn, supply.units_in([], loose), [], values)
    if boxes:
        _move_boxes(conn, boxes, values)


def unpack(
    rt: Runtime,
    principal: Principal,
    *,
    container: str,
    items: Sequence[str] | None = None,
) -> PackResult:
    """Take ``items`` (or everything directly inside) out of ``container``."""
    require(principal, Role.OPERATOR)
    with rt.db.transaction() as conn:
        target = _one_container(conn, principal, container)
        if items:
            children = movement.resolve(conn, principal, items)
            outside = [c for c in children if c.parent_container_id != target.id]
            if outside:
                raise movement.refuse(
                    "unpack",
                    [Refusal(c.code, "not_inside", f"not inside {target.code}") for c in outside],
                )
        else:
            summary = supply.container_summary(conn, target.id)
            direct = _direct_units(conn, target.id)
            children = [*summary["children"], *direct]
            if not children:
                raise ValidationError(f"{target.code} is empty")
        _check_holder(principal, [target, *children], "unpack")
        _detach(conn, rt, children)
        recorded = _aggregation(conn, rt, principal, EventAction.DELETE, target, children)
        total = supply.count(conn, supply.units_in([target.id]))
        return PackResult(
            container=target.code,
            packed=len(children),
            units=total,
            event_id=recorded.event_id,
            repacked_from=(),
        )


def _direct_units(conn: Connection, container_id: int) -> list[Item]:
    codes = conn.execute(
        select(units.c.code).where(units.c.parent_container_id == container_id)
    ).scalars()
    found = supply.find_items(conn, list(codes))
    return sorted(found.values(), key=lambda i: i.code)
