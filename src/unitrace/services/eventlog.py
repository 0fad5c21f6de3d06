"""Appending events to the log: EPCIS document, CBV 2.0 event hash, hash chain, membership.

Every write service calls :func:`record` inside its own transaction, as its last step, so
the event and the state change it describes commit together or not at all.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Select

from unitrace.domain import epcis
from unitrace.domain.epcis import EventDraft
from unitrace.domain.model import BizStep, Disposition, EventAction, EventType, Principal
from unitrace.storage import events as store
from unitrace.storage import retail as retail_store
from unitrace.storage import supply

MEMBERS = "@members"  # stands for "every unit the event created", expanded on read


@dataclass(frozen=True)
class Recorded:
    row_id: int
    event_id: str
    seq: int


def _dumps(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


def _members_event_id(document: dict[str, Any], prefix: str, codes: Sequence[str]) -> str:
    try:
        return epcis.members_event_id(document, prefix, codes)
    except ValueError:  # serials a brand printed: any GS1 characters, hashed the general way
        listed = dict(document, epcList=[epcis.member_epc(prefix, c) for c in codes])
        return epcis.event_id(listed)


def record(
    conn: Connection,
    principal: Principal,
    draft: EventDraft,
    *,
    record_time: dt.datetime,
    unit_ids: Select[Any] | Sequence[int] | None = None,
    container_ids: Select[Any] | None = None,
    members_prefix: str | None = None,
    member_codes: Sequence[str] | None = None,
    read_point_id: int | None = None,
    biz_location_id: int | None = None,
    batch_id: int | None = None,
    quantity: int = 0,
    shipment_id: int | None = None,
    details: Mapping[str, Any] | None = None,
    error_declaration: Mapping[str, Any] | None = None,
    declares_error_on: int | None = None,
) -> Recorded:
    """Append one event to the organization's chain and record what it touched.

    ``unit_ids``/``container_ids`` are one-column SELECTs (or, for units, a short list of
    ids) of every unit and container the
    event affects (contents of a shipped pallet included): they become the membership rows
    that make a unit's timeline one index lookup. ``members_prefix`` marks a commissioning
    event whose ``epcList`` is every unit it created (``prefix + code``); the list is not
    stored twice but rebuilt from the units when the event is read or verified; the draft's
    ``epcs`` are then ignored and ``member_codes`` (the codes, any order) give the hash.
    """
    document = epcis.to_jsonld(draft)
    if members_prefix is not None:
        event_id = _members_event_id(document, members_prefix, member_codes or ())
        document["epcList"] = MEMBERS
    else:
        event_id = epcis.plain_event_id(draft) or epcis.event_id(document)
    seq, head = store.chain_head(conn, principal.organization_id)
    link = epcis.chain_hash(
        head, event_id=event_id, record_time=record_time, error_declaration=error_declaration
    )
    extra = dict(details or {})
    if members_prefix is not None:
        extra["epc_prefix"] = members_prefix
    row_id = store.insert_event(
        conn,
        event_id=event_id,
        organization_id=principal.organization_id,
        event_type=draft.event_type.value,
        action=draft.action.value,
        biz_step=draft.biz_step.value,
        disposition=draft.disposition.value if draft.disposition else None,
        event_time=draft.event_time,
        event_time_zone_offset=draft.time_zone_offset,
        record_time=record_time,
        read_point_id=read_point_id,
        biz_location_id=biz_location_id,
        batch_id=batch_id,
        quantity=quantity,
        actor_user_id=principal.user_id,
        actor_api_key_id=principal.api_key_id,
        details=extra,
        seq=seq + 1,
        prev_hash=head,
        chain_hash=link,
        document=_dumps(document),
        members_in_what=members_prefix is not None,
        error_declaration=_dumps(error_declaration) if error_declaration else None,
        declares_error_on=declares_error_on,
        shipment_id=shipment_id,
    )
    store.advance_chain(conn, principal.organization_id, seq + 1, link)
    if biz_location_id is not None and draft.biz_step.value in store.FOLDED_STEPS:
        store.queue_for_analytics(conn, row_id)
    if isinstance(unit_ids, Select):
        store.add_unit_members(conn, row_id, unit_ids)
    elif unit_ids:
        store.add_unit_member_ids(conn, row_id, unit_ids)
    if container_ids is not None:
        store.add_container_members(conn, row_id, container_ids)
    return Recorded(row_id=row_id, event_id=event_id, seq=seq + 1)


def record_units(
    conn: Connection,
    principal: Principal,
    *,
    biz_step: BizStep,
    disposition: Disposition | None,
    unit_ids: Select[Any],
    at: dt.datetime,
    action: EventAction = EventAction.OBSERVE,
    location_id: int | None = None,
    shipment_id: int | None = None,
    container_ids: Select[Any] | None = None,
    details: Mapping[str, Any] | None = None,
) -> tuple[Recorded, list[str]]:
    """One ObjectEvent about the units of a one-column SELECT, every unit's EPC listed, at
    ``location_id`` (read point and business location) when given; and the units' codes.
    ``container_ids`` are the cases and pallets it also touched (for their timelines)."""
    parts = retail_store.unit_epc_parts(conn, unit_ids)
    where = (
        epcis.location_uri(location_id, supply.location_gln(conn, location_id))
        if location_id is not None
        else None
    )
    draft = EventDraft(
        event_type=EventType.OBJECT,
        action=action,
        biz_step=biz_step,
        disposition=disposition,
        event_time=at,
        epcs=[epcis.unit_epc(code, gtin) for code, gtin in parts],
        read_point=where,
        biz_location=where,
    )
    recorded = record(
        conn,
        principal,
        draft,
        record_time=at,
        unit_ids=unit_ids,
        container_ids=container_ids,
        read_point_id=location_id,
        biz_location_id=location_id,
        quantity=len(parts),
        shipment_id=shipment_id,
        details=details,
    )
    return recorded, [code for code, _ in parts]


def stored_event(conn: Connection, row: Mapping[str, Any]) -> dict[str, Any]:
    """The EPCIS 2.0 JSON-LD event of a stored row, as recorded (with eventID, recordTime)."""
    document: dict[str, Any] = json.loads(row["document"])
    if document.get("epcList") == MEMBERS:
        # an error declaration repeats its original's document: the units are the original's
        creator = row.get("declares_error_on") or row["id"]
        prefix = json.loads(row["details"]).get("epc_prefix", "")
        document["epcList"] = [
            epcis.member_epc(prefix, code) for code, _ in store.member_codes(conn, creator)
        ]
    event: dict[str, Any] = {"type": document.pop("type"), "eventID": row["event_id"]}
    event.update(document)
    event["recordTime"] = epcis.format_time(row["record_time"])
    if row["error_declaration"]:
        event["errorDeclaration"] = json.loads(row["error_declaration"])
    return event


def declare_error(
    conn: Connection,
    principal: Principal,
    original: Mapping[str, Any],
    declaration: Mapping[str, Any],
    *,
    record_time: dt.datetime,
) -> Recorded:
    """Record ``original`` again with an EPCIS ``errorDeclaration``, never editing it.

    The declaration keeps the original's ``eventID`` (the event hash ignores error
    declarations) and touches the same units and containers, so it shows on their
    timelines next to the event it declares wrong.
    """
    seq, head = store.chain_head(conn, principal.organization_id)
    link = epcis.chain_hash(
        head,
        event_id=original["event_id"],
        record_time=record_time,
        error_declaration=declaration,
    )
    copied = {
        name: original[name]
        for name in (
            "event_id",
            "event_type",
            "action",
            "biz_step",
            "disposition",
            "event_time",
            "event_time_zone_offset",
            "read_point_id",
            "biz_location_id",
            "batch_id",
            "quantity",
            "document",
            "members_in_what",
            "shipment_id",
        )
    }
    row_id = store.insert_event(
        conn,
        organization_id=principal.organization_id,
        record_time=record_time,
        details=json.loads(original["details"]),
        actor_user_id=principal.user_id,
        actor_api_key_id=principal.api_key_id,
        seq=seq + 1,
        prev_hash=head,
        chain_hash=link,
        error_declaration=_dumps(declaration),
        declares_error_on=original["id"],
        **copied,
    )
    store.advance_chain(conn, principal.organization_id, seq + 1, link)
    store.copy_members(conn, original["id"], row_id)
    if original["biz_location_id"] is not None and original["biz_step"] in store.FOLDED_STEPS:
        store.queue_for_analytics(conn, row_id)
    return Recorded(row_id=row_id, event_id=original["event_id"], seq=seq + 1)
