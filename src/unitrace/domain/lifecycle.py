"""The unit lifecycle as data: one frozen table of every operation on a unit or container.

Each row says which CBV 2.0 business step and EPCIS event shape record the operation, which
dispositions it may start from, which disposition it leads to, which kinds of organization may
perform it and where the unit must be relative to the actor. The functions below only read the
table; services apply them and persist the events.

Custody conventions the table relies on: while a unit is ``in_transit`` its custodian is still the
shipper (until the destination receives it); once sold, its custodian is the store that sold it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from unitrace.domain.model import BizStep, Disposition, EventAction, EventType, OrganizationKind

D = Disposition
K = OrganizationKind


class Operation(StrEnum):
    """Everything unitrace does to a unit or container."""

    COMMISSION = "commission"
    PACK = "pack"
    UNPACK = "unpack"
    SHIP = "ship"
    VOID_SHIPMENT = "void_shipment"
    RECEIVE = "receive"
    SELL = "sell"
    RETURN_TO_STORE = "return_to_store"
    RESTOCK = "restock"
    QUARANTINE = "quarantine"
    RECALL = "recall"
    RELEASE_RECALL = "release_recall"
    DESTROY = "destroy"
    DECOMMISSION = "decommission"
    MARK_STOLEN = "mark_stolen"
    MARK_DAMAGED = "mark_damaged"
    EXPIRE = "expire"
    UNDO_SALE = "undo_sale"
    UNDO_RECEIPT = "undo_receipt"
    MARK_LOST = "mark_lost"
    MARK_FOUND = "mark_found"
    RELOCATE = "relocate"


class Target(StrEnum):
    """A target that is not a fixed disposition."""

    UNCHANGED = "unchanged"  # packing/unpacking: only the parent container changes
    PREVIOUS = "previous"  # back to the disposition before the operation being reversed


class Custody(StrEnum):
    """Where the unit must be relative to the actor."""

    OWNER = "owner"  # the brand that owns the unit
    CUSTODIAN = "custodian"  # the organization holding the unit
    CUSTODIAN_AT_STORE = "custodian_at_store"  # holding it, at one of its stores
    DESTINATION = "destination"  # the destination of the shipment carrying it
    OWNER_OR_REGULATOR = "owner_or_regulator"
    CUSTODIAN_OR_REGULATOR = "custodian_or_regulator"


FINAL_DISPOSITIONS: frozenset[Disposition] = frozenset({D.DESTROYED, D.INACTIVE})

_IN_STOCK = frozenset({D.ACTIVE, D.SELLABLE_ACCESSIBLE})
_HELD = frozenset({D.ACTIVE, D.SELLABLE_ACCESSIBLE, D.RETURNED, D.NON_SELLABLE_OTHER})
_CUSTODIANS = frozenset({K.BRAND, K.DISTRIBUTOR, K.RETAILER})
# Dispositions in which the custodian physically holds a unit: in stock, returned,
# quarantined, recalled (set apart), damaged or expired. Not in transit, sold, stolen, lost,
# destroyed or decommissioned. What an inventory count expects to find on the shelves.
ON_HAND: frozenset[Disposition] = _HELD | {D.RECALLED, D.DAMAGED, D.EXPIRED}


@dataclass(frozen=True)
class Rule:
    """One row of the lifecycle table."""

    operation: Operation
    biz_step: BizStep
    event_type: EventType
    action: EventAction
    sources: frozenset[Disposition]  # empty: the operation creates the unit
    target: Disposition | Target
    kinds: frozenset[OrganizationKind]
    custody: Custody
    refusal: str  # reason code when the disposition is wrong for no more specific reason
    error_declaration: bool = False  # recorded as an EPCIS errorDeclaration on the original event
    reverses: Operation | None = None  # for Target.PREVIOUS: the operation being reversed

    @property
    def final(self) -> bool:
        return self.target in FINAL_DISPOSITIONS


def _rule(
    operation: Operation,
    step: BizStep,
    shape: tuple[EventType, EventAction],
    sources: frozenset[Disposition],
    target: Disposition | Target,
    kinds: frozenset[OrganizationKind],
    custody: Custody,
    refusal: str,
    *,
    error_declaration: bool = False,
    reverses: Operation | None = None,
) -> Rule:
    event_type, action = shape
    return Rule(
        operation,
        step,
        event_type,
        action,
        sources,
        target,
        kinds,
        custody,
        refusal,
        error_declaration=error_declaration,
        reverses=reverses,
    )


_OBJ_ADD = (EventType.OBJECT, EventAction.ADD)
_OBSERVE = (EventType.OBJECT, EventAction.OBSERVE)
_OBJ_DELETE = (EventType.OBJECT, EventAction.DELETE)
_AGG_ADD = (EventType.AGGREGATION, EventAction.ADD)
_AGG_DELETE = (EventType.AGGREGATION, EventAction.DELETE)
_RECALLABLE = frozenset(D) - FINAL_DISPOSITIONS - {D.RETAIL_SOLD, D.RECALLED}
_DESTRUCTIBLE = frozenset(D) - FINAL_DISPOSITIONS - {D.RETAIL_SOLD}
_BRAND = frozenset({K.BRAND})
_SHIPPERS = frozenset({K.BRAND, K.DISTRIBUTOR})
_RETAILER = frozenset({K.RETAILER})
_AUTHORITY = frozenset({K.BRAND, K.REGULATOR})

Op, Step, Cu = Operation, BizStep, Custody
# fmt: off
TABLE: tuple[Rule, ...] = (
    _rule(Op.COMMISSION, Step.COMMISSIONING, _OBJ_ADD, frozenset(), D.ACTIVE,
          _BRAND, Cu.OWNER, "already_commissioned"),
    _rule(Op.PACK, Step.PACKING, _AGG_ADD, _IN_STOCK, Target.UNCHANGED,
          _CUSTODIANS, Cu.CUSTODIAN, "not_in_stock"),
    _rule(Op.UNPACK, Step.UNPACKING, _AGG_DELETE, _IN_STOCK, Target.UNCHANGED,
          _CUSTODIANS, Cu.CUSTODIAN, "not_in_stock"),
    _rule(Op.SHIP, Step.SHIPPING, _OBSERVE, _IN_STOCK, D.IN_TRANSIT,
          _SHIPPERS, Cu.CUSTODIAN, "not_in_stock"),
    _rule(Op.VOID_SHIPMENT, Step.VOID_SHIPPING, _OBSERVE, frozenset({D.IN_TRANSIT}),
          Target.PREVIOUS, _SHIPPERS, Cu.CUSTODIAN, "not_in_transit", reverses=Op.SHIP),
    _rule(Op.RECEIVE, Step.RECEIVING, _OBSERVE, frozenset({D.IN_TRANSIT}), D.SELLABLE_ACCESSIBLE,
          _CUSTODIANS, Cu.DESTINATION, "not_in_transit"),
    _rule(Op.SELL, Step.RETAIL_SELLING, _OBSERVE, frozenset({D.SELLABLE_ACCESSIBLE}),
          D.RETAIL_SOLD, _RETAILER, Cu.CUSTODIAN_AT_STORE, "not_sellable"),
    _rule(Op.RETURN_TO_STORE, Step.RECEIVING, _OBSERVE, frozenset({D.RETAIL_SOLD}), D.RETURNED,
          _RETAILER, Cu.CUSTODIAN_AT_STORE, "not_sold"),
    _rule(Op.RESTOCK, Step.STOCKING, _OBSERVE, frozenset({D.RETURNED, D.NON_SELLABLE_OTHER}),
          D.SELLABLE_ACCESSIBLE, _RETAILER, Cu.CUSTODIAN_AT_STORE, "not_returned"),
    _rule(Op.QUARANTINE, Step.HOLDING, _OBSERVE, _HELD - {D.NON_SELLABLE_OTHER},
          D.NON_SELLABLE_OTHER, _CUSTODIANS, Cu.CUSTODIAN, "already_quarantined"),
    _rule(Op.RECALL, Step.HOLDING, _OBSERVE, _RECALLABLE, D.RECALLED,
          _AUTHORITY, Cu.OWNER_OR_REGULATOR, "not_recallable"),
    _rule(Op.RELEASE_RECALL, Step.INSPECTING, _OBSERVE, frozenset({D.RECALLED}), Target.PREVIOUS,
          _AUTHORITY, Cu.OWNER_OR_REGULATOR, "not_recalled", reverses=Op.RECALL),
    _rule(Op.DESTROY, Step.DESTROYING, _OBJ_DELETE, _DESTRUCTIBLE, D.DESTROYED,
          _CUSTODIANS | {K.REGULATOR}, Cu.CUSTODIAN_OR_REGULATOR, "not_destructible"),
    _rule(Op.DECOMMISSION, Step.DECOMMISSIONING, _OBJ_DELETE, _IN_STOCK, D.INACTIVE,
          _BRAND, Cu.CUSTODIAN, "not_in_stock"),
    _rule(Op.MARK_STOLEN, Step.OTHER, _OBSERVE, _HELD | {D.IN_TRANSIT}, D.STOLEN,
          _CUSTODIANS, Cu.CUSTODIAN, "not_in_stock"),
    _rule(Op.MARK_DAMAGED, Step.INSPECTING, _OBSERVE, _HELD, D.DAMAGED,
          _CUSTODIANS, Cu.CUSTODIAN, "not_in_stock"),
    _rule(Op.EXPIRE, Step.INSPECTING, _OBSERVE, _HELD, D.EXPIRED,
          _CUSTODIANS, Cu.CUSTODIAN, "not_in_stock"),
    _rule(Op.UNDO_SALE, Step.RETAIL_SELLING, _OBSERVE, frozenset({D.RETAIL_SOLD}),
          D.SELLABLE_ACCESSIBLE, _RETAILER, Cu.CUSTODIAN_AT_STORE, "not_sold",
          error_declaration=True),
    _rule(Op.UNDO_RECEIPT, Step.RECEIVING, _OBSERVE, frozenset({D.SELLABLE_ACCESSIBLE}),
          D.IN_TRANSIT, _CUSTODIANS, Cu.CUSTODIAN, "not_received", error_declaration=True),
    # Lost and found again are corrections of the stock records, which is what CBV's
    # stock_taking is ("counting ... as a basis for accounting"); cycle_counting is the
    # count itself. Only held stock can be lost: a recalled, damaged or expired unit found
    # again must not come back on sale, so those stay as they are (report them stolen or
    # destroy them instead).
    _rule(Op.MARK_LOST, Step.STOCK_TAKING, _OBSERVE, _HELD, D.UNKNOWN,
          _CUSTODIANS, Cu.CUSTODIAN, "not_in_stock"),
    # Found again: back to what it was when it was lost (a quarantined unit stays set apart).
    _rule(Op.MARK_FOUND, Step.STOCK_TAKING, _OBSERVE, frozenset({D.UNKNOWN}),
          Target.PREVIOUS, _CUSTODIANS, Cu.CUSTODIAN, "not_lost", reverses=Op.MARK_LOST),
    # A unit seen at another of its holder's locations (a count, or stock moved between
    # stores): observed there, its disposition as it was.
    _rule(Op.RELOCATE, Step.CYCLE_COUNTING, _OBSERVE, ON_HAND, Target.UNCHANGED,
          _CUSTODIANS, Cu.CUSTODIAN, "not_on_hand"),
)
# fmt: on
del Op, Step, Cu

RULES: Mapping[Operation, Rule] = MappingProxyType({rule.operation: rule for rule in TABLE})

# Dispositions that explain a refusal better than the operation's own refusal code.
_STATE_REASONS: Mapping[Disposition, str] = MappingProxyType(
    {
        D.DESTROYED: "destroyed",
        D.INACTIVE: "final",
        D.RETAIL_SOLD: "already_sold",
        D.RECALLED: "recalled",
        D.EXPIRED: "expired",
        D.STOLEN: "stolen",
        D.DAMAGED: "damaged",
        D.IN_TRANSIT: "in_transit",
        D.UNKNOWN: "lost",
    }
)

MESSAGES: Mapping[str, str] = MappingProxyType(
    {
        "already_commissioned": "the unit is already commissioned",
        "not_commissioned": "the unit has not been commissioned",
        "destroyed": "the unit has been destroyed",
        "final": "the unit is decommissioned; nothing more can happen to it",
        "already_sold": "the unit has already been sold",
        "recalled": "the unit is under recall",
        "expired": "the unit has expired",
        "stolen": "the unit is reported stolen",
        "damaged": "the unit is marked damaged",
        "in_transit": "the unit is in transit and has not been received",
        "lost": "the unit is marked lost",
        "not_lost": "the unit is not marked lost",
        "not_on_hand": "the unit is not on hand",
        "not_in_stock": "the unit is not in stock",
        "not_in_transit": "the unit is not in transit",
        "not_sellable": "the unit is not on sale",
        "not_sold": "the unit has not been sold",
        "not_returned": "the unit has not been returned or quarantined",
        "already_quarantined": "the unit is already quarantined",
        "not_recallable": "the unit cannot be recalled",
        "not_recalled": "the unit is not under recall",
        "not_destructible": "the unit cannot be destroyed",
        "not_received": "the unit has not been received",
        "bad_previous": "the disposition to restore is not one the reversed step starts from",
        "kind_not_permitted": "this kind of organization may not do this",
        "not_owner": "only the brand that owns the unit may do this",
        "not_custodian": "only the organization holding the unit may do this",
        "not_at_store": "this must be done at a store",
        "not_destination": "only the shipment's destination may receive the unit",
        "not_owner_or_regulator": "only the owning brand or a regulator may do this",
        "not_custodian_or_regulator": "only the unit's holder or a regulator may do this",
    }
)


class TransitionRefused(ValueError):  # noqa: N818 - the name the lifecycle spec uses
    """An operation is not possible from the unit's disposition."""

    def __init__(self, operation: Operation, disposition: Disposition | None, reason: str) -> None:
        self.operation = operation
        self.disposition = disposition
        self.reason = reason
        self.message = _message(operation, disposition, reason)
        super().__init__(self.message)


@dataclass(frozen=True)
class Decision:
    ok: bool
    reason: str | None = None
    message: str = ""


def _message(operation: Operation, disposition: Disposition | None, reason: str) -> str:
    state = disposition.value if disposition is not None else "not commissioned"
    return f"cannot {operation.value.replace('_', ' ')}: {MESSAGES[reason]} ({state})"


def refusal_reason(operation: Operation, disposition: Disposition | None) -> str | None:
    """Why ``operation`` is impossible from ``disposition``, or None when it is possible."""
    rule = RULES[operation]
    if not rule.sources:
        return None if disposition is None else rule.refusal
    if disposition is None:
        return "not_commissioned"
    if disposition in rule.sources:
        return None
    return _STATE_REASONS.get(disposition, rule.refusal)


def transition(
    operation: Operation,
    disposition: Disposition | None,
    *,
    previous: Disposition | None = None,
) -> Disposition:
    """The disposition ``operation`` leaves a unit in; ``disposition`` None means not yet made.

    ``previous`` is the disposition before the reversed step (before shipping for a voided
    shipment, before the recall for a released recall); other operations ignore it.
    """
    reason = refusal_reason(operation, disposition)
    if reason is not None:
        raise TransitionRefused(operation, disposition, reason)
    rule = RULES[operation]
    if isinstance(rule.target, Disposition):
        return rule.target
    if disposition is None:  # unreachable: only commissioning starts from nothing
        raise TransitionRefused(operation, disposition, "not_commissioned")
    if rule.target is Target.UNCHANGED:
        return disposition
    if rule.reverses is None or previous not in RULES[rule.reverses].sources:
        raise TransitionRefused(operation, disposition, "bad_previous")
    return previous


def _custody_reason(
    custody: Custody,
    *,
    actor_kind: OrganizationKind,
    actor_is_custodian: bool,
    actor_is_owner: bool,
    actor_is_destination: bool,
    at_store: bool,
) -> str | None:
    regulator = actor_kind is OrganizationKind.REGULATOR
    checks: dict[Custody, tuple[bool, str]] = {
        Custody.OWNER: (actor_is_owner, "not_owner"),
        Custody.CUSTODIAN: (actor_is_custodian, "not_custodian"),
        Custody.CUSTODIAN_AT_STORE: (actor_is_custodian, "not_custodian"),
        Custody.DESTINATION: (actor_is_destination, "not_destination"),
        Custody.OWNER_OR_REGULATOR: (actor_is_owner or regulator, "not_owner_or_regulator"),
        Custody.CUSTODIAN_OR_REGULATOR: (
            actor_is_custodian or regulator,
            "not_custodian_or_regulator",
        ),
    }
    ok, reason = checks[custody]
    if not ok:
        return reason
    if custody is Custody.CUSTODIAN_AT_STORE and not at_store:
        return "not_at_store"
    return None


def allowed(
    operation: Operation,
    *,
    disposition: Disposition | None,
    actor_kind: OrganizationKind,
    actor_is_custodian: bool,
    actor_is_owner: bool,
    at_store: bool,
    actor_is_destination: bool = False,
) -> Decision:
    """May this actor perform ``operation`` on a unit in ``disposition``?

    Checked in order: the kind of organization, the disposition (so a sold or recalled unit is
    reported as such whoever scans it), then custody.
    """
    rule = RULES[operation]
    reason: str | None
    if actor_kind not in rule.kinds:
        reason = "kind_not_permitted"
    else:
        reason = refusal_reason(operation, disposition) or _custody_reason(
            rule.custody,
            actor_kind=actor_kind,
            actor_is_custodian=actor_is_custodian,
            actor_is_owner=actor_is_owner,
            actor_is_destination=actor_is_destination,
            at_store=at_store,
        )
    if reason is None:
        return Decision(ok=True)
    return Decision(ok=False, reason=reason, message=_message(operation, disposition, reason))


def sellable(disposition: Disposition | None) -> bool:
    """True when a unit in ``disposition`` may be sold to a consumer."""
    return disposition in RULES[Operation.SELL].sources
