"""The lifecycle table, checked against expectations written out by hand in this file."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from unitrace.domain.lifecycle import (
    FINAL_DISPOSITIONS,
    MESSAGES,
    RULES,
    TABLE,
    Operation,
    Target,
    TransitionRefused,
    allowed,
    refusal_reason,
    sellable,
    transition,
)
from unitrace.domain.model import (
    BizStep,
    Disposition,
    EventAction,
    EventType,
    OrganizationKind,
)

GS1 = Path(__file__).parent.parent / "data" / "gs1"

# Column order of the grid below; "-" is a unit that has not been commissioned yet.
COLUMNS: dict[str, Disposition | None] = {
    "-": None,
    "act": Disposition.ACTIVE,
    "trn": Disposition.IN_TRANSIT,
    "sel": Disposition.SELLABLE_ACCESSIBLE,
    "sold": Disposition.RETAIL_SOLD,
    "ret": Disposition.RETURNED,
    "nso": Disposition.NON_SELLABLE_OTHER,
    "rec": Disposition.RECALLED,
    "des": Disposition.DESTROYED,
    "ina": Disposition.INACTIVE,
    "sto": Disposition.STOLEN,
    "dam": Disposition.DAMAGED,
    "exp": Disposition.EXPIRED,
    "unk": Disposition.UNKNOWN,
}
REASONS = {
    "NC": "not_commissioned",
    "AC": "already_commissioned",
    "TRN": "in_transit",
    "SOLD": "already_sold",
    "REC": "recalled",
    "DES": "destroyed",
    "FIN": "final",
    "STO": "stolen",
    "DAM": "damaged",
    "EXP": "expired",
    "LOST": "lost",
    "nis": "not_in_stock",
    "nit": "not_in_transit",
    "nsl": "not_sellable",
    "nsd": "not_sold",
    "nrt": "not_returned",
    "aq": "already_quarantined",
    "nr": "not_recalled",
    "nrc": "not_received",
    "nlo": "not_lost",
}
# ">x": allowed, leads to x; "=": allowed, disposition unchanged; "<": allowed, back to the
# disposition before the reversed step; anything else: refused with that reason.
GRID = """
                 -    act  trn  sel   sold ret  nso  rec  des ina sto  dam  exp  unk
commission       >act AC   AC   AC    AC   AC   AC   AC   AC  AC  AC   AC   AC   AC
pack             NC   =    TRN  =     SOLD nis  nis  REC  DES FIN STO  DAM  EXP  LOST
unpack           NC   =    TRN  =     SOLD nis  nis  REC  DES FIN STO  DAM  EXP  LOST
ship             NC   >trn TRN  >trn  SOLD nis  nis  REC  DES FIN STO  DAM  EXP  LOST
void_shipment    NC   nit  <    nit   SOLD nit  nit  REC  DES FIN STO  DAM  EXP  LOST
receive          NC   nit  >sel nit   SOLD nit  nit  REC  DES FIN STO  DAM  EXP  LOST
sell             NC   nsl  TRN  >sold SOLD nsl  nsl  REC  DES FIN STO  DAM  EXP  LOST
return_to_store  NC   nsd  TRN  nsd   >ret nsd  nsd  REC  DES FIN STO  DAM  EXP  LOST
restock          NC   nrt  TRN  nrt   SOLD >sel >sel REC  DES FIN STO  DAM  EXP  LOST
quarantine       NC   >nso TRN  >nso  SOLD >nso aq   REC  DES FIN STO  DAM  EXP  LOST
recall           NC   >rec >rec >rec  SOLD >rec >rec REC  DES FIN >rec >rec >rec  >rec
release_recall   NC   nr   TRN  nr    SOLD nr   nr   <    DES FIN STO  DAM  EXP  LOST
destroy          NC   >des >des >des  SOLD >des >des >des DES FIN >des >des >des  >des
decommission     NC   >ina TRN  >ina  SOLD nis  nis  REC  DES FIN STO  DAM  EXP  LOST
mark_stolen      NC   >sto >sto >sto  SOLD >sto >sto REC  DES FIN STO  DAM  EXP  LOST
mark_damaged     NC   >dam TRN  >dam  SOLD >dam >dam REC  DES FIN STO  DAM  EXP  LOST
expire           NC   >exp TRN  >exp  SOLD >exp >exp REC  DES FIN STO  DAM  EXP  LOST
undo_sale        NC   nsd  TRN  nsd   >sel nsd  nsd  REC  DES FIN STO  DAM  EXP  LOST
undo_receipt     NC   nrc  TRN  >trn  SOLD nrc  nrc  REC  DES FIN STO  DAM  EXP  LOST
mark_lost        NC   >unk TRN  >unk  SOLD >unk >unk REC  DES FIN STO  DAM  EXP  LOST
mark_found       NC   nlo  TRN  nlo   SOLD nlo  nlo  REC  DES FIN STO  DAM  EXP  <
relocate         NC   =    TRN  =     SOLD =    =    =    DES FIN STO  =    =    LOST
"""


def _parse_grid() -> dict[tuple[Operation, Disposition | None], str]:
    header, *rows = GRID.strip().splitlines()
    columns = header.split()
    assert columns == list(COLUMNS)
    cells = {}
    for row in rows:
        name, *outcomes = row.split()
        assert len(outcomes) == len(columns), name
        for column, outcome in zip(columns, outcomes, strict=True):
            cells[Operation(name), COLUMNS[column]] = outcome
    return cells


EXPECTED = _parse_grid()
PAIRS = sorted(EXPECTED, key=lambda pair: (pair[0], pair[1] or ""))
# What a voided shipment or a released recall may restore.
RESTORABLE = {
    Operation.VOID_SHIPMENT: {Disposition.ACTIVE, Disposition.SELLABLE_ACCESSIBLE},
    Operation.RELEASE_RECALL: {
        Disposition.ACTIVE,
        Disposition.IN_TRANSIT,
        Disposition.SELLABLE_ACCESSIBLE,
        Disposition.RETURNED,
        Disposition.NON_SELLABLE_OTHER,
        Disposition.STOLEN,
        Disposition.DAMAGED,
        Disposition.EXPIRED,
        Disposition.UNKNOWN,
    },
    # found again: as it was when lost (the dispositions a unit can be marked lost from)
    Operation.MARK_FOUND: {
        Disposition.ACTIVE,
        Disposition.SELLABLE_ACCESSIBLE,
        Disposition.RETURNED,
        Disposition.NON_SELLABLE_OTHER,
    },
}

B, D, R, L, G = (
    OrganizationKind.BRAND,
    OrganizationKind.DISTRIBUTOR,
    OrganizationKind.RETAILER,
    OrganizationKind.LAB,
    OrganizationKind.REGULATOR,
)
# Who may do what, and where the unit must be relative to them.
PERMISSIONS: dict[Operation, tuple[set[OrganizationKind], str]] = {
    Operation.COMMISSION: ({B}, "owner"),
    Operation.PACK: ({B, D, R}, "custodian"),
    Operation.UNPACK: ({B, D, R}, "custodian"),
    Operation.SHIP: ({B, D}, "custodian"),
    Operation.VOID_SHIPMENT: ({B, D}, "custodian"),
    Operation.RECEIVE: ({B, D, R}, "destination"),
    Operation.SELL: ({R}, "store"),
    Operation.RETURN_TO_STORE: ({R}, "store"),
    Operation.RESTOCK: ({R}, "store"),
    Operation.QUARANTINE: ({B, D, R}, "custodian"),
    Operation.RECALL: ({B, G}, "owner or regulator"),
    Operation.RELEASE_RECALL: ({B, G}, "owner or regulator"),
    Operation.DESTROY: ({B, D, R, G}, "custodian or regulator"),
    Operation.DECOMMISSION: ({B}, "custodian"),
    Operation.MARK_STOLEN: ({B, D, R}, "custodian"),
    Operation.MARK_DAMAGED: ({B, D, R}, "custodian"),
    Operation.EXPIRE: ({B, D, R}, "custodian"),
    Operation.UNDO_SALE: ({R}, "store"),
    Operation.UNDO_RECEIPT: ({B, D, R}, "custodian"),
    Operation.MARK_LOST: ({B, D, R}, "custodian"),
    Operation.MARK_FOUND: ({B, D, R}, "custodian"),
    Operation.RELOCATE: ({B, D, R}, "custodian"),
}
OBJ, AGG = EventType.OBJECT, EventType.AGGREGATION
ADD, OBSERVE, DELETE = EventAction.ADD, EventAction.OBSERVE, EventAction.DELETE
# bizStep, event type, action, recorded as an error declaration
EVENTS: dict[Operation, tuple[str, EventType, EventAction, bool]] = {
    Operation.COMMISSION: ("commissioning", OBJ, ADD, False),
    Operation.PACK: ("packing", AGG, ADD, False),
    Operation.UNPACK: ("unpacking", AGG, DELETE, False),
    Operation.SHIP: ("shipping", OBJ, OBSERVE, False),
    Operation.VOID_SHIPMENT: ("void_shipping", OBJ, OBSERVE, False),
    Operation.RECEIVE: ("receiving", OBJ, OBSERVE, False),
    Operation.SELL: ("retail_selling", OBJ, OBSERVE, False),
    Operation.RETURN_TO_STORE: ("receiving", OBJ, OBSERVE, False),
    Operation.RESTOCK: ("stocking", OBJ, OBSERVE, False),
    Operation.QUARANTINE: ("holding", OBJ, OBSERVE, False),
    Operation.RECALL: ("holding", OBJ, OBSERVE, False),
    Operation.RELEASE_RECALL: ("inspecting", OBJ, OBSERVE, False),
    Operation.DESTROY: ("destroying", OBJ, DELETE, False),
    Operation.DECOMMISSION: ("decommissioning", OBJ, DELETE, False),
    Operation.MARK_STOLEN: ("other", OBJ, OBSERVE, False),
    Operation.MARK_DAMAGED: ("inspecting", OBJ, OBSERVE, False),
    Operation.EXPIRE: ("inspecting", OBJ, OBSERVE, False),
    Operation.UNDO_SALE: ("retail_selling", OBJ, OBSERVE, True),
    Operation.UNDO_RECEIPT: ("receiving", OBJ, OBSERVE, True),
    Operation.MARK_LOST: ("stock_taking", OBJ, OBSERVE, False),
    Operation.MARK_FOUND: ("stock_taking", OBJ, OBSERVE, False),
    Operation.RELOCATE: ("cycle_counting", OBJ, OBSERVE, False),
}


def _cbv_names(filename: str) -> set[str]:
    context = json.loads((GS1 / filename).read_text(encoding="utf-8"))["@context"]
    return {name for name in context if not name.startswith("@") and name != "cbv"}


def _is_allowed(outcome: str) -> bool:
    return outcome[0] in "><="


def _a_valid_source(operation: Operation) -> Disposition | None:
    return next(
        d for (op, d), outcome in EXPECTED.items() if op is operation and _is_allowed(outcome)
    )


def _custody_holds(rule_name: str, kind: OrganizationKind, flags: dict[str, bool]) -> bool:
    regulator = kind is G
    return {
        "owner": flags["owner"],
        "custodian": flags["custodian"],
        "store": flags["custodian"] and flags["store"],
        "destination": flags["destination"],
        "owner or regulator": flags["owner"] or regulator,
        "custodian or regulator": flags["custodian"] or regulator,
    }[rule_name]


def test_the_grid_covers_every_operation_and_disposition() -> None:
    assert {op for op, _ in EXPECTED} == set(Operation)
    assert {d for _, d in EXPECTED} == {*Disposition, None}
    assert set(PERMISSIONS) == set(EVENTS) == set(Operation)


def test_the_table_has_exactly_one_row_per_operation() -> None:
    assert [rule.operation for rule in TABLE] == list(Operation)
    assert set(RULES) == set(Operation)


@pytest.mark.parametrize(("operation", "disposition"), PAIRS)
def test_each_operation_from_each_disposition_has_the_expected_outcome(
    operation: Operation, disposition: Disposition | None
) -> None:
    outcome = EXPECTED[operation, disposition]
    if outcome.startswith(">"):
        assert transition(operation, disposition) is COLUMNS[outcome[1:]]
    elif outcome == "=":
        assert transition(operation, disposition) is disposition
    elif outcome == "<":
        for previous in RESTORABLE[operation]:
            assert transition(operation, disposition, previous=previous) is previous
    else:
        with pytest.raises(TransitionRefused) as refused:
            transition(operation, disposition)
        assert refused.value.reason == REASONS[outcome]
        assert refusal_reason(operation, disposition) == REASONS[outcome]
        assert refused.value.message == str(refused.value)
        assert MESSAGES[REASONS[outcome]] in refused.value.message


@pytest.mark.parametrize("operation", sorted(RESTORABLE))
def test_a_reversal_refuses_to_restore_a_disposition_the_reversed_step_cannot_start_from(
    operation: Operation,
) -> None:
    source = _a_valid_source(operation)
    for previous in [*(set(Disposition) - RESTORABLE[operation]), None]:
        with pytest.raises(TransitionRefused) as refused:
            transition(operation, source, previous=previous)
        assert refused.value.reason == "bad_previous"


def test_a_refusal_message_names_the_operation_and_the_disposition() -> None:
    with pytest.raises(TransitionRefused) as refused:
        transition(Operation.SELL, Disposition.RECALLED)
    assert refused.value.message == "cannot sell: the unit is under recall (recalled)"
    assert isinstance(refused.value, ValueError)
    assert refused.value.operation is Operation.SELL
    assert refused.value.disposition is Disposition.RECALLED


@pytest.mark.parametrize(
    ("operation", "kind"), list(itertools.product(Operation, OrganizationKind))
)
def test_only_the_listed_kinds_of_organization_may_perform_each_operation(
    operation: Operation, kind: OrganizationKind
) -> None:
    decision = allowed(
        operation,
        disposition=_a_valid_source(operation),
        actor_kind=kind,
        actor_is_custodian=True,
        actor_is_owner=True,
        at_store=True,
        actor_is_destination=True,
    )
    kinds, _ = PERMISSIONS[operation]
    assert decision.ok is (kind in kinds)
    if not decision.ok:
        assert decision.reason == "kind_not_permitted"
        assert decision.message


@pytest.mark.parametrize("operation", list(Operation))
def test_each_operation_requires_the_unit_where_its_custody_rule_says(
    operation: Operation,
) -> None:
    kinds, custody = PERMISSIONS[operation]
    names = ("custodian", "owner", "store", "destination")
    for kind, values in itertools.product(kinds, itertools.product([False, True], repeat=4)):
        flags = dict(zip(names, values, strict=True))
        decision = allowed(
            operation,
            disposition=_a_valid_source(operation),
            actor_kind=kind,
            actor_is_custodian=flags["custodian"],
            actor_is_owner=flags["owner"],
            at_store=flags["store"],
            actor_is_destination=flags["destination"],
        )
        assert decision.ok is _custody_holds(custody, kind, flags), (kind, flags)
        assert (decision.reason is None) is decision.ok


@pytest.mark.parametrize(("operation", "disposition"), PAIRS)
def test_a_permitted_actor_is_refused_exactly_when_the_disposition_is_wrong(
    operation: Operation, disposition: Disposition | None
) -> None:
    kinds, _ = PERMISSIONS[operation]
    decision = allowed(
        operation,
        disposition=disposition,
        actor_kind=min(kinds),
        actor_is_custodian=True,
        actor_is_owner=True,
        at_store=True,
        actor_is_destination=True,
    )
    outcome = EXPECTED[operation, disposition]
    assert decision.ok is _is_allowed(outcome)
    assert decision.reason == (None if decision.ok else REASONS[outcome])


def test_a_sold_unit_scanned_at_another_store_is_reported_as_sold_not_as_elsewhere() -> None:
    decision = allowed(
        Operation.SELL,
        disposition=Disposition.RETAIL_SOLD,
        actor_kind=R,
        actor_is_custodian=False,
        actor_is_owner=False,
        at_store=True,
    )
    assert decision.reason == "already_sold"


def test_a_retailer_cannot_sell_from_its_warehouse() -> None:
    decision = allowed(
        Operation.SELL,
        disposition=Disposition.SELLABLE_ACCESSIBLE,
        actor_kind=R,
        actor_is_custodian=True,
        actor_is_owner=False,
        at_store=False,
    )
    assert (decision.ok, decision.reason) == (False, "not_at_store")


def test_receiving_is_refused_to_anyone_but_the_destination() -> None:
    decision = allowed(
        Operation.RECEIVE,
        disposition=Disposition.IN_TRANSIT,
        actor_kind=R,
        actor_is_custodian=True,
        actor_is_owner=True,
        at_store=True,
    )
    assert (decision.ok, decision.reason) == (False, "not_destination")


@pytest.mark.parametrize("operation", list(Operation))
def test_each_operation_is_recorded_with_its_cbv_step_and_event_shape(
    operation: Operation,
) -> None:
    rule = RULES[operation]
    step, event_type, action, error_declaration = EVENTS[operation]
    assert (rule.biz_step.value, rule.event_type, rule.action) == (step, event_type, action)
    assert rule.error_declaration is error_declaration


def test_only_destroying_and_decommissioning_are_final() -> None:
    assert {Disposition.DESTROYED, Disposition.INACTIVE} == FINAL_DISPOSITIONS
    assert {rule.operation for rule in TABLE if rule.final} == {
        Operation.DESTROY,
        Operation.DECOMMISSION,
    }


@pytest.mark.parametrize("disposition", sorted(FINAL_DISPOSITIONS))
def test_nothing_leaves_a_final_disposition(disposition: Disposition) -> None:
    for operation in Operation:
        assert refusal_reason(operation, disposition) is not None


def test_a_sold_unit_can_only_be_returned_or_have_its_sale_undone() -> None:
    exits = {}
    for operation in Operation:
        if refusal_reason(operation, Disposition.RETAIL_SOLD) is None:
            exits[operation] = transition(operation, Disposition.RETAIL_SOLD)
    assert exits == {
        Operation.RETURN_TO_STORE: Disposition.RETURNED,
        Operation.UNDO_SALE: Disposition.SELLABLE_ACCESSIBLE,
    }


def test_only_a_unit_on_sale_is_sellable() -> None:
    assert [d for d in [*Disposition, None] if sellable(d)] == [Disposition.SELLABLE_ACCESSIBLE]
    assert not sellable(Disposition.RECALLED)


def test_every_disposition_and_target_is_a_cbv_2_disposition() -> None:
    names = _cbv_names("cbv-context-disposition.jsonld")
    assert {d.value for d in Disposition} <= names
    targets = {rule.target for rule in TABLE if not isinstance(rule.target, Target)}
    assert {d.value for d in targets} <= names
    assert {d.value for rule in TABLE for d in rule.sources} <= names


def test_every_business_step_is_a_cbv_2_business_step() -> None:
    names = _cbv_names("cbv-context-bizstep.jsonld")
    assert {step.value for step in BizStep} <= names
    assert {rule.biz_step.value for rule in TABLE} <= names


def test_every_refusal_reason_has_a_message() -> None:
    assert set(REASONS.values()) <= set(MESSAGES)
    assert {rule.refusal for rule in TABLE} <= set(MESSAGES)


def test_only_stock_held_unrestricted_can_be_lost_and_a_found_unit_goes_back_on_sale() -> None:
    assert RULES[Operation.MARK_LOST].sources == {
        Disposition.ACTIVE,
        Disposition.SELLABLE_ACCESSIBLE,
        Disposition.RETURNED,
        Disposition.NON_SELLABLE_OTHER,
    }
    lost = transition(Operation.MARK_LOST, Disposition.RETURNED)
    assert lost is Disposition.UNKNOWN
    assert not sellable(lost)
    found = transition(Operation.MARK_FOUND, lost, previous=Disposition.RETURNED)
    assert found is Disposition.RETURNED  # back as it was: returned units await a decision
    assert (
        transition(Operation.MARK_FOUND, lost, previous=Disposition.NON_SELLABLE_OTHER)
        is Disposition.NON_SELLABLE_OTHER
    )
    with pytest.raises(TransitionRefused):  # never to a disposition lost units cannot be from
        transition(Operation.MARK_FOUND, lost, previous=Disposition.RECALLED)


def test_a_unit_is_relocated_from_any_disposition_its_holder_has_it_in() -> None:
    on_hand = {d for d in Disposition if refusal_reason(Operation.RELOCATE, d) is None}
    assert on_hand == {
        Disposition.ACTIVE,
        Disposition.SELLABLE_ACCESSIBLE,
        Disposition.RETURNED,
        Disposition.NON_SELLABLE_OTHER,
        Disposition.RECALLED,
        Disposition.DAMAGED,
        Disposition.EXPIRED,
    }
    assert all(transition(Operation.RELOCATE, d) is d for d in on_hand)


class LifecycleMachine(RuleBasedStateMachine):
    """Random operation sequences on one unit, against a model kept by hand."""

    def __init__(self) -> None:
        super().__init__()
        self.disposition: Disposition | None = None
        self.before_ship: Disposition | None = None
        self.before_recall: Disposition | None = None
        self.before_lost: Disposition | None = None
        self.unreturned_sales = 0
        self.was_destroyed = False

    @rule(operation=st.sampled_from(Operation))
    def apply(self, operation: Operation) -> None:
        outcome = EXPECTED[operation, self.disposition]
        previous = {
            Operation.VOID_SHIPMENT: self.before_ship,
            Operation.MARK_FOUND: self.before_lost,
        }.get(operation, self.before_recall)
        # e.g. a receipt undone on a unit that was restocked, not received: nothing to restore
        unknown_previous = outcome == "<" and previous not in RESTORABLE[operation]
        if unknown_previous or not _is_allowed(outcome):
            with pytest.raises(TransitionRefused) as refused:
                transition(operation, self.disposition, previous=previous)
            assert refused.value.reason == (
                "bad_previous" if unknown_previous else REASONS[outcome]
            )
            return
        new = transition(operation, self.disposition, previous=previous)
        self._track(operation, new)

    def _track(self, operation: Operation, new: Disposition) -> None:
        if operation is Operation.SHIP:
            self.before_ship = self.disposition
        if operation is Operation.RECALL:
            self.before_recall = self.disposition
        if operation is Operation.MARK_LOST:
            self.before_lost = self.disposition
        if operation is Operation.SELL:
            self.unreturned_sales += 1
        if operation in (Operation.RETURN_TO_STORE, Operation.UNDO_SALE):
            self.unreturned_sales -= 1
        self.was_destroyed = self.was_destroyed or new is Disposition.DESTROYED
        self.disposition = new

    @invariant()
    def a_unit_is_never_sold_twice_without_coming_back(self) -> None:
        assert self.unreturned_sales in (0, 1)
        assert (self.unreturned_sales == 1) is (self.disposition is Disposition.RETAIL_SOLD)

    @invariant()
    def a_recalled_or_destroyed_unit_is_never_sellable(self) -> None:
        if self.disposition in (Disposition.RECALLED, Disposition.DESTROYED):
            assert not sellable(self.disposition)

    @invariant()
    def a_lost_unit_is_never_sellable(self) -> None:
        if self.disposition is Disposition.UNKNOWN:
            assert not sellable(self.disposition)

    @invariant()
    def a_destroyed_unit_stays_destroyed(self) -> None:
        if self.was_destroyed:
            assert self.disposition is Disposition.DESTROYED


LifecycleMachine.TestCase.settings = settings(max_examples=200, stateful_step_count=40)
test_random_operation_sequences_follow_the_table = LifecycleMachine.TestCase
