"""Inventory counts as rules: what a scanned unit says about the stock, the accuracy of a
count, and how each kind of difference may be resolved.

A count compares the units scanned at one of the caller's locations with the units the
caller is believed to hold there: held by the caller, at that location, in an on-hand
disposition (:data:`ON_HAND`: physically with the custodian, sellable or not). Every unit in
the union of the two sets lands in exactly one place:

* ``matched`` — believed present and scanned;
* ``missing`` — believed present, not scanned;
* ``wrong_location`` — scanned, and believed present at *another* location of the caller;
* ``unexpected`` — scanned and not believed present anywhere of the caller's, with the
  reason unitrace knows (:class:`Reason`). A unit the caller may not see (another
  organization's, not in transit to the caller) is ``unknown``, exactly like a code nobody
  issued.

Accuracy is ``matched / (matched + missing + unexpected + wrong_location)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from unitrace.domain.lifecycle import ON_HAND as LIFECYCLE_ON_HAND
from unitrace.domain.lifecycle import RULES, Operation
from unitrace.domain.model import Disposition, OrganizationKind

D = Disposition

# Dispositions in which the custodian physically holds a unit (the lifecycle's definition:
# the dispositions a unit may be relocated from).
ON_HAND: frozenset[Disposition] = LIFECYCLE_ON_HAND
# Organizations that hold stock may count it (the ones the lifecycle lets mark a unit stolen).
COUNTING_KINDS: frozenset[OrganizationKind] = RULES[Operation.MARK_STOLEN].kinds
MAX_AREA = 100
MAX_NOTE = 500


class CountStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class DifferenceKind(StrEnum):
    MISSING = "missing"
    UNEXPECTED = "unexpected"
    WRONG_LOCATION = "wrong_location"


class Reason(StrEnum):
    """Why a difference is one: for missing and wrong-location units, one reason each; for
    unexpected ones, what unitrace knows about the unit."""

    NOT_SCANNED = "not_scanned"  # missing
    AT_ANOTHER_LOCATION = "at_another_location"  # wrong_location
    NOT_RECEIVED = "not_received"  # in transit to the caller, never received
    IN_TRANSIT = "in_transit"  # in transit, but not to the caller (the caller shipped it)
    SOLD = "sold"
    STOLEN = "stolen"
    LOST = "lost"  # marked lost (a scan of it is a find)
    DESTROYED = "destroyed"
    DECOMMISSIONED = "decommissioned"
    HELD_BY_ANOTHER_ORGANIZATION = "held_by_another_organization"
    UNKNOWN = "unknown"  # nobody issued it, or it is not the caller's to see


REASON_MESSAGES: Mapping[Reason, str] = MappingProxyType(
    {
        Reason.NOT_SCANNED: "believed here, not scanned",
        Reason.AT_ANOTHER_LOCATION: "believed at another of your locations",
        Reason.NOT_RECEIVED: "in transit to you and never received",
        Reason.IN_TRANSIT: "in transit on a shipment, not to you",
        Reason.SOLD: "recorded as sold",
        Reason.STOLEN: "reported stolen",
        Reason.LOST: "marked lost",
        Reason.DESTROYED: "recorded as destroyed",
        Reason.DECOMMISSIONED: "decommissioned",
        Reason.HELD_BY_ANOTHER_ORGANIZATION: "held by another organization",
        Reason.UNKNOWN: "unknown code",
    }
)

# What became of a unit, for a reason found from its disposition.
_GONE: Mapping[Disposition, Reason] = MappingProxyType(
    {
        D.RETAIL_SOLD: Reason.SOLD,
        D.STOLEN: Reason.STOLEN,
        D.UNKNOWN: Reason.LOST,
        D.DESTROYED: Reason.DESTROYED,
        D.INACTIVE: Reason.DECOMMISSIONED,
    }
)


class Resolution(StrEnum):
    """How a difference was settled: all but ``noted`` (and ``found`` for a missing unit)
    record the normal event."""

    STOLEN = "stolen"  # missing: reported stolen (mark_stolen)
    LOST = "lost"  # missing: marked lost (mark_lost)
    RECEIVED = "received"  # unexpected, not received: received on its shipment
    # missing: it was there after all (no event); unexpected, lost: found again (mark_found,
    # then moved to the counted location if it was lost elsewhere)
    FOUND = "found"
    MOVED_HERE = "moved_here"  # wrong location: moved to the counted location (relocate)
    NOTED = "noted"  # anything: acknowledged with a reason (no event)


_CHOICES: Mapping[tuple[DifferenceKind, Reason], tuple[Resolution, ...]] = MappingProxyType(
    {
        (DifferenceKind.MISSING, Reason.NOT_SCANNED): (
            Resolution.STOLEN,
            Resolution.LOST,
            Resolution.FOUND,
            Resolution.NOTED,
        ),
        (DifferenceKind.UNEXPECTED, Reason.NOT_RECEIVED): (Resolution.RECEIVED, Resolution.NOTED),
        (DifferenceKind.UNEXPECTED, Reason.LOST): (Resolution.FOUND, Resolution.NOTED),
        (DifferenceKind.WRONG_LOCATION, Reason.AT_ANOTHER_LOCATION): (
            Resolution.MOVED_HERE,
            Resolution.NOTED,
        ),
    }
)


def choices(kind: DifferenceKind, reason: Reason) -> tuple[Resolution, ...]:
    """The resolutions a difference of this kind and reason allows."""
    return _CHOICES.get((kind, reason), (Resolution.NOTED,))


def needs_note(resolution: Resolution) -> bool:
    """``noted`` settles nothing by itself, so it must say why."""
    return resolution is Resolution.NOTED


@dataclass(frozen=True)
class UnitFacts:
    """What the database says about a scanned unit, from the counting organization's side.

    ``visible``: the caller owns it, holds it, or it is in transit to the caller; anything
    else is reported exactly like an unknown code.
    """

    visible: bool
    held_by_caller: bool
    disposition: Disposition
    location_id: int | None
    in_transit_to_caller: bool = False


@dataclass(frozen=True)
class Outcome:
    """A scanned unit's place in the comparison: ``kind`` None means matched."""

    kind: DifferenceKind | None
    reason: Reason | None

    @property
    def matched(self) -> bool:
        return self.kind is None


MATCHED = Outcome(None, None)
UNKNOWN = Outcome(DifferenceKind.UNEXPECTED, Reason.UNKNOWN)


def believed_present(facts: UnitFacts, location_id: int) -> bool:
    """True when the caller is believed to hold the unit at ``location_id``."""
    return (
        facts.held_by_caller and facts.location_id == location_id and facts.disposition in ON_HAND
    )


def classify(facts: UnitFacts | None, location_id: int) -> Outcome:
    """Where a *scanned* unit lands; ``None`` facts: no unit has the scanned code."""
    if facts is None or not (facts.visible or facts.held_by_caller):
        return UNKNOWN
    if believed_present(facts, location_id):
        return MATCHED
    if facts.held_by_caller and facts.disposition in ON_HAND:
        return Outcome(DifferenceKind.WRONG_LOCATION, Reason.AT_ANOTHER_LOCATION)
    if facts.disposition is D.IN_TRANSIT:
        reason = Reason.NOT_RECEIVED if facts.in_transit_to_caller else Reason.IN_TRANSIT
        return Outcome(DifferenceKind.UNEXPECTED, reason)
    if not facts.held_by_caller:
        return Outcome(DifferenceKind.UNEXPECTED, Reason.HELD_BY_ANOTHER_ORGANIZATION)
    return Outcome(DifferenceKind.UNEXPECTED, _GONE.get(facts.disposition, Reason.UNKNOWN))


def accuracy(matched: int, missing: int, unexpected: int, wrong_location: int) -> float:
    """``matched / (matched + missing + unexpected + wrong_location)``, rounded to 4 places;
    a count with nothing believed present and nothing scanned is 1.0 (nothing disagrees)."""
    counts = (matched, missing, unexpected, wrong_location)
    if any(n < 0 for n in counts):
        raise ValueError("counts are never negative")
    total = sum(counts)
    return 1.0 if total == 0 else round(matched / total, 4)


@dataclass(frozen=True)
class Comparison:
    """A whole count worked out in memory (the database does the same set-based)."""

    matched: frozenset[str]
    missing: frozenset[str]
    unexpected: Mapping[str, Reason]
    wrong_location: frozenset[str]

    @property
    def accuracy(self) -> float:
        return accuracy(
            len(self.matched), len(self.missing), len(self.unexpected), len(self.wrong_location)
        )


def compare(units: Mapping[str, UnitFacts], scanned: Set[str], location_id: int) -> Comparison:
    """Compare the codes ``scanned`` at ``location_id`` with what ``units`` (every unit the
    database knows, by code) says is there."""
    matched: set[str] = set()
    wrong: set[str] = set()
    unexpected: dict[str, Reason] = {}
    for code in scanned:
        outcome = classify(units.get(code), location_id)
        if outcome.kind is None:
            matched.add(code)
        elif outcome.kind is DifferenceKind.WRONG_LOCATION:
            wrong.add(code)
        else:
            unexpected[code] = outcome.reason or Reason.UNKNOWN
    missing = {
        code
        for code, facts in units.items()
        if code not in scanned and believed_present(facts, location_id)
    }
    return Comparison(frozenset(matched), frozenset(missing), unexpected, frozenset(wrong))
