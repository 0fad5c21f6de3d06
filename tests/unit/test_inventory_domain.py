"""The inventory rules: where a scanned unit lands, the accuracy, the resolutions allowed."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from unitrace.domain.inventory import (
    ON_HAND,
    DifferenceKind,
    Reason,
    Resolution,
    UnitFacts,
    accuracy,
    believed_present,
    choices,
    classify,
    compare,
)
from unitrace.domain.model import Disposition

D = Disposition
HERE, THERE = 1, 2


def held(disposition: Disposition, location: int | None = HERE) -> UnitFacts:
    return UnitFacts(True, True, disposition, location)


@pytest.mark.parametrize(
    ("facts", "kind", "reason"),
    [
        (held(D.SELLABLE_ACCESSIBLE), None, None),
        (held(D.RECALLED), None, None),  # set apart, but here
        (held(D.SELLABLE_ACCESSIBLE, THERE),
         DifferenceKind.WRONG_LOCATION, Reason.AT_ANOTHER_LOCATION),
        (held(D.RETURNED, None), DifferenceKind.WRONG_LOCATION, Reason.AT_ANOTHER_LOCATION),
        (held(D.RETAIL_SOLD), DifferenceKind.UNEXPECTED, Reason.SOLD),
        (held(D.STOLEN), DifferenceKind.UNEXPECTED, Reason.STOLEN),
        (held(D.UNKNOWN), DifferenceKind.UNEXPECTED, Reason.LOST),  # marked lost, found here
        (held(D.UNKNOWN, THERE), DifferenceKind.UNEXPECTED, Reason.LOST),
        (held(D.DESTROYED), DifferenceKind.UNEXPECTED, Reason.DESTROYED),
        (held(D.INACTIVE), DifferenceKind.UNEXPECTED, Reason.DECOMMISSIONED),
        (UnitFacts(True, False, D.IN_TRANSIT, None, in_transit_to_caller=True),
         DifferenceKind.UNEXPECTED, Reason.NOT_RECEIVED),
        (UnitFacts(True, True, D.IN_TRANSIT, THERE), DifferenceKind.UNEXPECTED, Reason.IN_TRANSIT),
        (UnitFacts(True, False, D.SELLABLE_ACCESSIBLE, 9),
         DifferenceKind.UNEXPECTED, Reason.HELD_BY_ANOTHER_ORGANIZATION),
        (UnitFacts(False, False, D.SELLABLE_ACCESSIBLE, HERE),
         DifferenceKind.UNEXPECTED, Reason.UNKNOWN),
        (None, DifferenceKind.UNEXPECTED, Reason.UNKNOWN),
    ],
)  # fmt: skip
def test_a_scanned_unit_lands_where_its_custody_place_and_disposition_say(
    facts: UnitFacts | None, kind: DifferenceKind | None, reason: Reason | None
) -> None:
    outcome = classify(facts, HERE)
    assert (outcome.kind, outcome.reason) == (kind, reason)


def test_accuracy_is_matched_over_every_unit_in_the_comparison() -> None:
    assert accuracy(6, 1, 6, 1) == round(6 / 14, 4)
    assert accuracy(0, 3, 0, 0) == 0.0
    assert accuracy(0, 0, 0, 0) == 1.0
    with pytest.raises(ValueError, match="negative"):
        accuracy(1, -1, 0, 0)


def test_each_difference_offers_the_operations_that_settle_it_and_a_note() -> None:
    missing = choices(DifferenceKind.MISSING, Reason.NOT_SCANNED)
    assert missing == (Resolution.STOLEN, Resolution.LOST, Resolution.FOUND, Resolution.NOTED)
    assert choices(DifferenceKind.UNEXPECTED, Reason.NOT_RECEIVED) == (
        Resolution.RECEIVED, Resolution.NOTED,
    )  # fmt: skip
    assert choices(DifferenceKind.UNEXPECTED, Reason.LOST) == (Resolution.FOUND, Resolution.NOTED)
    for reason in set(Reason) - {Reason.NOT_SCANNED, Reason.NOT_RECEIVED, Reason.LOST}:
        assert choices(DifferenceKind.UNEXPECTED, reason) == (Resolution.NOTED,)
    assert choices(DifferenceKind.WRONG_LOCATION, Reason.AT_ANOTHER_LOCATION) == (
        Resolution.MOVED_HERE, Resolution.NOTED,
    )  # fmt: skip


facts_strategy = st.builds(
    UnitFacts,
    visible=st.booleans(),
    held_by_caller=st.booleans(),
    disposition=st.sampled_from(list(Disposition)),
    location_id=st.sampled_from([None, HERE, THERE, 3]),
    in_transit_to_caller=st.booleans(),
)


@given(
    units=st.dictionaries(st.text("ABC0123", min_size=1, max_size=3), facts_strategy),
    extra=st.sets(st.text("XYZ", min_size=1, max_size=2)),
    data=st.data(),
)
def test_a_comparison_partitions_the_scanned_and_believed_units(
    units: dict[str, UnitFacts], extra: set[str], data: st.DataObject
) -> None:
    scanned = data.draw(st.sets(st.sampled_from(sorted(units)))) if units else set()
    scanned |= extra  # codes nobody issued
    result = compare(units, scanned, HERE)
    believed = {code for code, f in units.items() if believed_present(f, HERE)}
    parts = [result.matched, result.missing, set(result.unexpected), result.wrong_location]
    union: set[str] = set().union(*parts)
    assert union == scanned | believed
    assert sum(len(p) for p in parts) == len(union)  # disjoint
    assert 0.0 <= result.accuracy <= 1.0
    assert result.matched == believed & scanned
    assert result.missing == believed - scanned
    assert all(result.unexpected[code] is Reason.UNKNOWN for code in extra)
    assert all(units[code].disposition in ON_HAND for code in result.wrong_location)
