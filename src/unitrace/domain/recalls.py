"""Recalls: what one covers, its states, and how its reach is counted. Pure.

A recall's *scope* is the union of its selectors: whole batches; products (optionally only
their batches produced within a date range, or every batch produced within the range when
no product is named); the current contents of cases and pallets (at any depth); and
explicit unit codes. A recall goes ``draft → active → closed``; activating it flags every
unit in scope that can still be recalled, in one transaction.

The *reach report* puts every unit in scope in exactly one category, first match wins:

========================  ================================================================
``destroyed``             destroyed or decommissioned
``sold``                  sold to a consumer (before the recall: a recall never sells)
``released``              released from this recall (a unit a mistaken recall caught)
``returned``              its holder confirmed it was sent back to the brand
``quarantined``           its holder confirmed it is set apart and off sale
``in_transit``            on a shipment not yet received
``at_issuer``             held by the organization that issued the recall
``at_holder``             held by another organization (listed per holder and location)
========================  ================================================================

*Secured* units are the destroyed, returned and quarantined ones and those back at the
issuer; *progress* is secured units over the units still to secure (every unit in scope
except the sold and the released ones).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

MAX_REASON = 2_000
MAX_INSTRUCTIONS = 4_000
MAX_TITLE = 200
MAX_SCOPE_CODES = 1_000_000


class RecallStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    CLOSED = "closed"


class Severity(StrEnum):
    """US FDA-style recall classes: I (serious harm likely) to III (harm unlikely)."""

    CLASS_I = "I"
    CLASS_II = "II"
    CLASS_III = "III"


class Confirmation(StrEnum):
    """What a holder confirms about a recalled unit by scanning it."""

    QUARANTINED = "quarantined"
    RETURNED = "returned"


class Outcome(StrEnum):
    """How a unit's part in a recall ended, when it ended other than by its disposition."""

    QUARANTINED = "quarantined"
    RETURNED = "returned"
    RELEASED = "released"


class Category(StrEnum):
    DESTROYED = "destroyed"
    SOLD = "sold"
    RELEASED = "released"
    RETURNED = "returned"
    QUARANTINED = "quarantined"
    IN_TRANSIT = "in_transit"
    AT_ISSUER = "at_issuer"
    AT_HOLDER = "at_holder"


CATEGORY_ORDER: tuple[Category, ...] = tuple(Category)
SECURED = frozenset(
    {Category.DESTROYED, Category.RETURNED, Category.QUARANTINED, Category.AT_ISSUER}
)
UNSECURABLE = frozenset({Category.SOLD, Category.RELEASED})


class RecallRuleError(ValueError):
    """A recall definition or transition that breaks a rule; ``field`` names the input."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Scope:
    """What a recall covers (see the module docstring). Codes are canonical unit codes."""

    batch_ids: tuple[int, ...] = ()
    product_ids: tuple[int, ...] = ()
    produced_from: dt.date | None = None
    produced_to: dt.date | None = None
    container_codes: tuple[str, ...] = ()
    unit_codes: tuple[str, ...] = ()

    @property
    def by_production(self) -> bool:
        """Whether the product/date-range selector takes part."""
        return (
            bool(self.product_ids)
            or self.produced_from is not None
            or (self.produced_to is not None)
        )

    def to_json(self) -> dict[str, object]:
        """The definition as stored and shown (explicit codes as a count: they can be many)."""
        return {
            "batch_ids": list(self.batch_ids),
            "product_ids": list(self.product_ids),
            "produced_from": self.produced_from.isoformat() if self.produced_from else None,
            "produced_to": self.produced_to.isoformat() if self.produced_to else None,
            "container_codes": list(self.container_codes),
            "unit_code_count": len(self.unit_codes),
        }


def check_scope(scope: Scope) -> Scope:
    """``scope`` with duplicates removed, or :class:`RecallRuleError` when it is empty or
    its date range is backwards."""
    if not (scope.batch_ids or scope.by_production or scope.container_codes or scope.unit_codes):
        raise RecallRuleError(
            "a recall needs a scope: batches, products, a production date range, "
            "cases or pallets, or unit codes",
            "scope",
        )
    if scope.produced_from and scope.produced_to and scope.produced_from > scope.produced_to:
        raise RecallRuleError(
            f"the production date range ends ({scope.produced_to}) before it starts "
            f"({scope.produced_from})",
            "produced_to",
        )
    if len(scope.unit_codes) > MAX_SCOPE_CODES:
        raise RecallRuleError(
            f"a recall names at most {MAX_SCOPE_CODES:,} unit codes", "unit_codes"
        )
    return Scope(
        batch_ids=tuple(sorted(set(scope.batch_ids))),
        product_ids=tuple(sorted(set(scope.product_ids))),
        produced_from=scope.produced_from,
        produced_to=scope.produced_to,
        container_codes=tuple(dict.fromkeys(scope.container_codes)),
        unit_codes=tuple(dict.fromkeys(scope.unit_codes)),
    )


def check_text(title: str, reason: str, retailer_text: str, consumer_text: str) -> None:
    if not title.strip():
        raise RecallRuleError("a recall needs a title", "title")
    if len(title) > MAX_TITLE:
        raise RecallRuleError(f"a title has at most {MAX_TITLE} characters", "title")
    if not reason.strip():
        raise RecallRuleError("a recall needs a reason", "reason")
    if len(reason) > MAX_REASON:
        raise RecallRuleError(f"a reason has at most {MAX_REASON} characters", "reason")
    for name, text in (
        ("retailer_instructions", retailer_text),
        ("consumer_instructions", consumer_text),
    ):
        if len(text) > MAX_INSTRUCTIONS:
            raise RecallRuleError(
                f"{name.replace('_', ' ')} have at most {MAX_INSTRUCTIONS} characters", name
            )


_TRANSITIONS: Mapping[str, frozenset[RecallStatus]] = {
    "edit": frozenset({RecallStatus.DRAFT}),
    "activate": frozenset({RecallStatus.DRAFT}),
    "discard": frozenset({RecallStatus.DRAFT}),
    "confirm": frozenset({RecallStatus.ACTIVE}),
    "release": frozenset({RecallStatus.ACTIVE}),
    "destroy": frozenset({RecallStatus.ACTIVE}),
    "close": frozenset({RecallStatus.ACTIVE}),
}


def check_transition(status: RecallStatus, action: str) -> None:
    """Refuse ``action`` (edit, activate, discard, confirm, release, destroy, close) on a
    recall in ``status``."""
    allowed = _TRANSITIONS[action]
    if status not in allowed:
        wanted = " or ".join(sorted(s.value for s in allowed))
        raise RecallRuleError(
            f"cannot {action} a recall that is {status.value} (it must be {wanted})"
        )


def category(
    *,
    disposition: str,
    outcome: str | None,
    in_transit: bool,
    held_by_issuer: bool,
) -> Category:
    """The reach category of one unit (see the module docstring)."""
    if disposition in ("destroyed", "inactive"):
        return Category.DESTROYED
    if disposition == "retail_sold":
        return Category.SOLD
    if outcome == Outcome.RELEASED:
        return Category.RELEASED
    if outcome == Outcome.RETURNED:
        return Category.RETURNED
    if outcome == Outcome.QUARANTINED:
        return Category.QUARANTINED
    if in_transit:
        return Category.IN_TRANSIT
    return Category.AT_ISSUER if held_by_issuer else Category.AT_HOLDER


@dataclass(frozen=True)
class Holder:
    """Units of one recall at one holder's location (``at_holder``, or confirmed there)."""

    organization_id: int
    organization_name: str
    location_id: int | None
    location_name: str | None
    city: str | None
    counts: Mapping[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class Progress:
    total: int
    to_secure: int
    secured: int

    @property
    def share(self) -> float:
        """Secured over units to secure; 1.0 when nothing is left to secure."""
        return 1.0 if self.to_secure == 0 else self.secured / self.to_secure


def progress(counts: Mapping[str, int]) -> Progress:
    total = sum(counts.values())
    unsecurable = sum(counts.get(c.value, 0) for c in UNSECURABLE)
    secured = sum(counts.get(c.value, 0) for c in SECURED)
    return Progress(total=total, to_secure=total - unsecurable, secured=secured)


@dataclass(frozen=True)
class Preview:
    """What activating a draft would do, counted now."""

    total: int
    will_recall: int  # units whose disposition becomes ``recalled``
    by_disposition: Mapping[str, int]
    by_custodian: Sequence[Mapping[str, Any]]  # organization, location, count


@dataclass(frozen=True)
class ReachReport:
    recall_id: int
    status: RecallStatus
    counts: Mapping[str, int]  # every category, zeros included
    holders: Sequence[Holder]
    progress: Progress
    generated_at: dt.datetime
    sold: Sequence[Mapping[str, object]] = field(default_factory=tuple)  # code, store, city, at


def full_counts(partial: Mapping[str, int]) -> dict[str, int]:
    return {c.value: int(partial.get(c.value, 0)) for c in CATEGORY_ORDER}
