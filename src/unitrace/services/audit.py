"""Auditing the event log: verifying an organization's hash chain end to end.

Each chained event is checked twice (docs/adr/0006-event-hash-chain.md): its content must
still hash to its ``eventID`` (the CBV 2.0 event hash, which covers what, when, where and
why), and its link must follow from its predecessor's. The report names the first place
the chain breaks, and why.
"""

from __future__ import annotations

import json
from collections.abc import Generator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection

from unitrace.domain import epcis
from unitrace.domain.model import OrganizationKind, Principal
from unitrace.errors import PermissionDeniedError
from unitrace.services.history import event_of
from unitrace.services.runtime import Runtime
from unitrace.storage import history as store
from unitrace.storage import orgs as org_store

# The EPCIS fields that are not part of the event hash: added when the event is recorded.
_NOT_HASHED = ("eventID", "recordTime", "errorDeclaration")
# Columns that repeat a field of the stored document, so a query on them cannot lie.
_REPEATED = (
    ("event_type", "type"),
    ("action", "action"),
    ("biz_step", "bizStep"),
    ("disposition", "disposition"),
    ("event_time_zone_offset", "eventTimeZoneOffset"),
)


class BreakReason(StrEnum):
    EVENT_HASH_MISMATCH = "event_hash_mismatch"  # the event's content was edited
    LINK_MISMATCH = "link_mismatch"  # moved, replaced or re-linked: the link does not follow
    SEQ_GAP = "seq_gap"  # an event was removed from the middle of the chain
    HEAD_MISMATCH = "head_mismatch"  # the newest events were removed (or the head was edited)


@dataclass(frozen=True)
class BrokenLink:
    """Where the chain first breaks. ``seq`` is the first position that fails (for
    ``seq_gap`` and ``head_mismatch`` after removals: the first missing position);
    ``row_id``/``event_id`` name the event at which the break was found, if any."""

    seq: int
    reason: BreakReason
    detail: str
    row_id: int | None = None
    event_id: str | None = None


@dataclass(frozen=True)
class ChainReport:
    organization_id: int
    organization_name: str
    checked: int  # chained events verified before the first break (all of them when intact)
    unchained: int  # events recorded before the chain existed: counted, not verifiable
    head_seq: int
    head_hash: str
    broken: BrokenLink | None

    @property
    def ok(self) -> bool:
        return self.broken is None


def _target(conn: Connection, principal: Principal, organization_id: int | None) -> int:
    """The organization whose chain ``principal`` may verify: its own, or any for a regulator."""
    if organization_id is None or organization_id == principal.organization_id:
        return principal.organization_id
    caller = org_store.get_organization(conn, principal.organization_id)
    if caller.kind is not OrganizationKind.REGULATOR:
        raise PermissionDeniedError("only a regulator may verify another organization's events")
    org_store.get_organization(conn, organization_id)  # NotFoundError when there is none
    return organization_id


def hashed_content(conn: Connection, row: Mapping[str, Any]) -> dict[str, Any]:
    """The stored event as its hash sees it: rebuilt, without the fields recording adds."""
    event = event_of(conn, row)
    for name in _NOT_HASHED:
        event.pop(name, None)
    return event


def _content_problem(conn: Connection, row: Mapping[str, Any]) -> str | None:
    event = hashed_content(conn, row)
    found = epcis.event_id(event)
    if found != row["event_id"]:
        return f"the stored event hashes to {found}, not to its eventID"
    for column, name in _REPEATED:
        if row[column] != event.get(name):
            return f"column {column} is {row[column]!r} but the event says {event.get(name)!r}"
    if epcis.format_time(row["event_time"]) != event.get("eventTime"):
        return f"column event_time disagrees with the event's eventTime {event.get('eventTime')}"
    return None


def _link(row: Mapping[str, Any], previous: str) -> str:
    declaration = json.loads(row["error_declaration"]) if row["error_declaration"] else None
    return epcis.chain_hash(
        previous,
        event_id=row["event_id"],
        record_time=row["record_time"],
        error_declaration=declaration,
    )


def _check_row(
    conn: Connection, row: Mapping[str, Any], seq: int, previous: str
) -> BrokenLink | None:
    """The break at this row, if any; ``seq`` and ``previous`` are what the chain expects."""

    def broken(reason: BreakReason, detail: str) -> BrokenLink:
        return BrokenLink(seq, reason, detail, int(row["id"]), str(row["event_id"]))

    if row["seq"] != seq:
        detail = f"seq {seq} is missing: seq {seq - 1} is followed by seq {row['seq']}"
        return broken(BreakReason.SEQ_GAP, detail)
    problem = _content_problem(conn, row)
    if problem is not None:
        return broken(BreakReason.EVENT_HASH_MISMATCH, problem)
    if row["prev_hash"] != previous:
        detail = f"prev_hash {row['prev_hash']} is not the link of seq {seq - 1} ({previous})"
        return broken(BreakReason.LINK_MISMATCH, detail)
    link = _link(row, previous)
    if row["chain_hash"] != link:
        detail = f"chain_hash {row['chain_hash']} should be {link}"
        return broken(BreakReason.LINK_MISMATCH, detail)
    return None


@dataclass
class _Walk:
    checked: int = 0
    last: Mapping[str, Any] | None = None
    broken: BrokenLink | None = None


def _walk(conn: Connection, rows: Generator[dict[str, Any]]) -> _Walk:
    walk = _Walk()
    previous = epcis.GENESIS
    try:
        for row in rows:
            walk.broken = _check_row(conn, row, walk.checked + 1, previous)
            if walk.broken is not None:
                break
            walk.checked += 1
            walk.last = row
            previous = row["chain_hash"]
    finally:
        rows.close()  # ends the streamed query before the next statement
    return walk


def _check_head(walk: _Walk, head: tuple[int, str] | None) -> BrokenLink | None:
    seq, head_hash = head or (0, epcis.GENESIS)
    last_hash = walk.last["chain_hash"] if walk.last else epcis.GENESIS
    if seq == walk.checked and head_hash == last_hash:
        return None
    if seq > walk.checked:
        detail = f"the chain head is at seq {seq} but the last event has seq {walk.checked}"
        return BrokenLink(walk.checked + 1, BreakReason.HEAD_MISMATCH, detail)
    detail = f"the chain head ({seq}, {head_hash}) does not match the last event"
    last = walk.last or {}
    return BrokenLink(
        walk.checked, BreakReason.HEAD_MISMATCH, detail, last.get("id"), last.get("event_id")
    )


def verify_chain(
    rt: Runtime, principal: Principal, organization_id: int | None = None
) -> ChainReport:
    """Recompute every event hash and chain link of an organization, oldest first.

    Any role of an organization may verify its own chain; a regulator may verify any
    organization's (``organization_id``). Events are streamed, so memory stays bounded
    however long the chain is. Stops at the first break.
    """
    with rt.db.read() as conn:
        target = _target(conn, principal, organization_id)
        name = org_store.get_organization(conn, target).name
        head = store.find_chain_head(conn, target)
        # Events appended after the head was read are left for the next check.
        rows = store.iter_chain(conn, target, up_to_seq=head[0] if head else None)
        walk = _walk(conn, rows)
        broken = walk.broken or _check_head(walk, head)
        unchained = store.count_unchained(conn, target)
    head_seq, head_hash = head or (0, epcis.GENESIS)
    return ChainReport(
        organization_id=target,
        organization_name=name,
        checked=walk.checked,
        unchained=unchained,
        head_seq=head_seq,
        head_hash=head_hash,
        broken=broken,
    )
