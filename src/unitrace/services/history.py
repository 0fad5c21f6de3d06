"""The history of a unit, case, pallet or shipment: its EPCIS 2.0 events, oldest first.

Events come back exactly as recorded (JSON-LD, with ``eventID`` and ``recordTime``), for
export as an ``EPCISDocument``; :func:`timeline` turns a unit's events into lines a person
reads (when, what, who, where).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from unitrace.domain import epcis
from unitrace.domain.model import Principal
from unitrace.errors import NotFoundError
from unitrace.services import eventlog
from unitrace.services.runtime import Runtime
from unitrace.services.units import canonical_code, get_unit
from unitrace.storage import events as event_store
from unitrace.storage import history as store

Row = Mapping[str, Any]

_SUMMARIES = {
    "commissioning": "Commissioned",
    "packing": "Packed",
    "unpacking": "Unpacked",
    "shipping": "Shipped",
    "receiving": "Received",
    "retail_selling": "Sold",
    "holding": "Put on hold",
    "destroying": "Destroyed",
    "decommissioning": "Decommissioned",
    "void_shipping": "Shipment voided",
    "stocking": "Back in stock",
    "inspecting": "Inspected",
}


@dataclass(frozen=True)
class TimelineEntry:
    """One event of a unit's history, as a person reads it."""

    row_id: int
    event_id: str
    event_time: dt.datetime
    biz_step: str | None
    disposition: str | None
    organization_name: str
    location_name: str | None
    summary: str
    declared_in_error: bool  # a later event declares this one wrong
    error_declaration: Mapping[str, Any] | None  # set when this event is such a declaration


def event_of(conn: Connection, row: Row) -> dict[str, Any]:
    """The JSON-LD event of a stored row, as recorded (``eventID``, ``recordTime`` included)."""
    return eventlog.stored_event(conn, row)


def _unit_rows(rt: Runtime, principal: Principal, code: str) -> list[dict[str, Any]]:
    view = get_unit(rt, principal, code)  # validates the code; not yours is not found
    with rt.db.read() as conn:
        commissioning = store.get_commission_event_row_id(conn, view.unit.id)
        row_ids = event_store.unit_event_row_ids(conn, view.unit.id, commissioning)
        return event_store.event_rows(conn, row_ids)


def _events(rt: Runtime, rows: Sequence[Row]) -> list[dict[str, Any]]:
    with rt.db.read() as conn:
        return [event_of(conn, row) for row in rows]


def _document(rt: Runtime, events: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    return epcis.document(events, rt.clock())


def unit_history(rt: Runtime, principal: Principal, code: str) -> list[dict[str, Any]]:
    """Every event that touched the unit, oldest first, as EPCIS 2.0 JSON-LD.

    The code is taken as typed or scanned. Visible to the unit's owner and its current
    custodian; anyone else gets the same ``NotFoundError`` as for an unknown code.
    """
    return _events(rt, _unit_rows(rt, principal, code))


def unit_epcis_document(rt: Runtime, principal: Principal, code: str) -> dict[str, Any]:
    """The unit's history as one EPCIS 2.0 ``EPCISDocument``."""
    return _document(rt, unit_history(rt, principal, code))


def _container_rows(rt: Runtime, principal: Principal, code: str) -> list[dict[str, Any]]:
    canonical = canonical_code(code)
    with rt.db.read() as conn:
        container = store.find_container(conn, principal.organization_id, canonical)
        if container is None:
            raise NotFoundError(f"container {canonical} not found")
        row_ids = event_store.container_event_row_ids(conn, container["id"])
        return event_store.event_rows(conn, row_ids)


def container_history(rt: Runtime, principal: Principal, code: str) -> list[dict[str, Any]]:
    """Every event that touched the case or pallet, oldest first (owner or custodian)."""
    return _events(rt, _container_rows(rt, principal, code))


def container_epcis_document(rt: Runtime, principal: Principal, code: str) -> dict[str, Any]:
    return _document(rt, container_history(rt, principal, code))


def shipment_history(rt: Runtime, principal: Principal, shipment_id: int) -> list[dict[str, Any]]:
    """The events of one shipment (shipping, receiving, voiding), oldest first.

    Visible to the shipper and to the destination organization only.
    """
    with rt.db.read() as conn:
        if store.find_shipment(conn, principal.organization_id, shipment_id) is None:
            raise NotFoundError(f"shipment {shipment_id} not found")
        rows = event_store.event_rows(conn, event_store.shipment_event_row_ids(conn, shipment_id))
        return [event_of(conn, row) for row in rows]


def shipment_epcis_document(rt: Runtime, principal: Principal, shipment_id: int) -> dict[str, Any]:
    return _document(rt, shipment_history(rt, principal, shipment_id))


def _short(uri: str) -> str:
    """The readable tail of an identifier URI (a code, an SSCC)."""
    return uri.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]


def _summary(row: Row, declaration: Mapping[str, Any] | None) -> str:
    # From the stored document as is: a commissioning's member list is not expanded here.
    document = json.loads(row["document"])
    step = row["biz_step"] or ""
    text = _SUMMARIES.get(step, step.replace("_", " ").capitalize() or "Recorded")
    if step == "commissioning":
        count = row["quantity"]
        text += f" {count:,} unit" + ("s" if count != 1 else "")
    elif step in ("packing", "unpacking") and document.get("parentID"):
        text += (" into " if step == "packing" else " from ") + _short(document["parentID"])
    if declaration:
        text = f"Declared in error ({declaration.get('reason', 'unspecified')}): {text}"
    return text


def _entries(conn: Connection, rows: Sequence[Row]) -> list[TimelineEntry]:
    orgs = store.organization_names(conn, {r["organization_id"] for r in rows})
    places = {r["biz_location_id"] or r["read_point_id"] for r in rows} - {None}
    names = store.location_names(conn, places)
    wrong = store.declared_wrong(conn, [r["id"] for r in rows])
    entries = []
    for row in rows:
        declaration = json.loads(row["error_declaration"]) if row["error_declaration"] else None
        place = row["biz_location_id"] or row["read_point_id"]
        entries.append(
            TimelineEntry(
                row_id=int(row["id"]),
                event_id=str(row["event_id"]),
                event_time=row["event_time"],
                biz_step=row["biz_step"],
                disposition=row["disposition"],
                organization_name=orgs.get(row["organization_id"], ""),
                location_name=names.get(place) if place is not None else None,
                summary=_summary(row, declaration),
                declared_in_error=int(row["id"]) in wrong,
                error_declaration=declaration,
            )
        )
    return entries


def timeline(rt: Runtime, principal: Principal, code: str) -> list[TimelineEntry]:
    """The unit's history for people, oldest first: one entry per event.

    An event that a later event declares wrong stays on the timeline, marked
    ``declared_in_error``; the declaration follows it as an entry of its own.
    """
    rows = _unit_rows(rt, principal, code)
    with rt.db.read() as conn:
        return _entries(conn, rows)
