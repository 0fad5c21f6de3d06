"""CSV imports of the supply chain: customer returns, shipment manifests and receipts.

The kinds follow :mod:`unitrace.services.imports`: ``collect`` checks the rows without the
database, ``apply`` checks them against it and writes, in the import's one transaction.

* **returns**: the rules of :func:`unitrace.services.retail.return_unit`, set-based: the rows
  are staged, one query lists every row that cannot be returned with its reason, one
  conditional UPDATE takes the units back (its row count proves nothing changed meanwhile),
  and each store, day and action gets one return event and one restock or quarantine event.
* **shipments**: one draft shipment per reference in the file, its items put on it with the
  checks of :func:`unitrace.services.shipments.create_shipment` (one call per shipment).
* **receipts**: each shipment's scans classified against its manifest like a receiving
  scanner's; anything not on the shipment refuses the file; then the shipment is received
  as :func:`unitrace.services.shipments.receive` does (scan, then accept), missing units
  recorded as discrepancies.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from itertools import groupby
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection

from unitrace.domain import epcis
from unitrace.domain.epcis import EventDraft
from unitrace.domain.lifecycle import RULES, Operation, refusal_reason
from unitrace.domain.model import Disposition, OrganizationKind, Principal
from unitrace.domain.scan import ScanError, parse_scan, quick_code
from unitrace.domain.tabular import Problem, Reading
from unitrace.errors import ConflictError, NotFoundError, OperationRefusedError
from unitrace.services import eventlog, movement, retail, shipments
from unitrace.services.imports import (
    _FUTURE_SLACK,
    _KEPT_PROBLEMS,
    _LINKED_SERIAL,
    _DryRun,
    _Invalid,
    _is_serial,
    _keyed,
    _refuse,
    _split_serial,
    _unknown_message,
    repeats,
    shown,
)
from unitrace.services.runtime import Runtime
from unitrace.storage import imports as import_store
from unitrace.storage import imports_supply as store
from unitrace.storage import shipments as shipment_store
from unitrace.storage import supply

Rows = Iterator[tuple[int, dict[str, Any]]]


def _refuse_kind(
    conn: Connection, principal: Principal, kinds: frozenset[OrganizationKind], what: str
) -> Problem | None:
    kind = movement.organization_kind(conn, principal.organization_id)
    if kind in kinds:
        return None
    allowed = ", ".join(sorted(k.value for k in kinds))
    return Problem(None, None, None, f"only a {allowed} may {what} ({kind.value})")


def _invalid(problems: list[Problem]) -> _Invalid:
    problems.sort(key=lambda p: p.line or 0)
    return _Invalid(problems[:_KEPT_PROBLEMS], len(problems))


# ---------------------------------------------------------------------------------------
# Customer returns


def _return_message(reason: str, code: str | None) -> str:
    if reason == "unknown":
        return _unknown_message(code, "unknown code: not a unit you sold")
    if reason == "before_sale":
        return "the unit was sold after this return"
    if reason in ("not_custodian", "sold_elsewhere", "return_window_passed", "expired"):
        return retail._message(reason)
    state = refusal_reason(Operation.RETURN_TO_STORE, Disposition(reason)) or reason
    return retail._message(state)


class _Returns:
    """One row per unit a customer returned at one of the uploader's stores."""

    def __init__(self, rt: Runtime, principal: Principal, now: dt.datetime) -> None:
        self.now = now
        self.window = dt.timedelta(days=rt.settings.return_window_days)
        self.across = rt.settings.returns_across_stores
        self.rows: list[dict[str, Any]] = []
        # one pair of events per store, day (UTC) and action: [location, day, action, last,
        # {code: reason}] by group number
        self.groups: list[list[Any]] = []
        with rt.db.read() as conn:
            self.stores = import_store.store_lookup(conn, principal.organization_id)

    def collect(self, rows: Rows, reading: Reading) -> None:
        latest = self.now + _FUTURE_SLACK
        numbers: dict[tuple[int, dt.date, str], int] = {}
        seen: dict[str, int] = {}
        keys = movement.Keys()
        for line, row in rows:
            raw = row["code"]
            code, alternate = quick_code(raw), None
            if code is None or _LINKED_SERIAL in raw:
                code, alternate = _keyed(line, raw, code, reading)
            if code is None:
                continue
            location = self.stores.get(row["store"].strip().lower()) or self.stores.get(
                row["store"]
            )
            if location is None:
                reading.add(
                    Problem(line, "store", row["store"][:200], "no store of yours has this name")
                )
                continue
            utc = row["returned_at"] or self.now
            if utc > latest:
                reading.add(Problem(line, "returned_at", utc.isoformat(), "is in the future"))
                continue
            if alternate is not None:  # the same serial under another GTIN is another unit
                code = keys.named(code, *alternate)
                if _is_serial(code):
                    alternate = None
            if code in seen:
                reading.add(
                    Problem(
                        line,
                        "code",
                        movement.shown_key(code),
                        f"the same unit is on row {seen[code]}",
                    )
                )
                continue
            seen[code] = line
            action = row["action"] or "restock"
            key = (location, utc.date(), action)
            grp = numbers.get(key)
            if grp is None:
                grp = numbers[key] = len(self.groups)
                self.groups.append([location, utc.date(), action, utc, {}])
            group = self.groups[grp]
            group[3] = max(group[3], utc)
            by_serial = _is_serial(code)
            gtin, serial = _split_serial(code) if by_serial else alternate or (None, None)
            if row["reason"]:
                group[4][f"(01){gtin}(21){serial}" if by_serial else code] = row["reason"]
            self.rows.append(
                {
                    "line": line,
                    "code": None if by_serial else code,
                    "gtin": gtin,
                    "serial": serial,
                    "location_id": location,
                    "returned_at": utc,
                    "earliest_sale": utc - self.window,
                    "return_day": utc.date(),
                    "action": action,
                    "grp": grp,
                }
            )

    def apply(
        self, conn: Connection, principal: Principal, now: dt.datetime, dry_run: bool
    ) -> dict[str, Any]:
        org = principal.organization_id
        rule = RULES[Operation.RETURN_TO_STORE]
        wrong_kind = _refuse_kind(conn, principal, rule.kinds, "take back returns")
        if wrong_kind is not None:
            raise _invalid([wrong_kind])
        store.stage_returns(conn, self.rows)
        by_serial = any(r["serial"] is not None for r in self.rows)
        repeated = repeats(store.repeated_returns(conn, org)) if by_serial else []
        offenders, count = store.return_offenders(
            conn, org, across_stores=self.across, limit=_KEPT_PROBLEMS
        )
        if count or repeated:
            _refuse(
                repeated,
                [
                    Problem(r["line"], "code", shown(r), _return_message(r["reason"], r["code"]))
                    for r in offenders
                ],
                count,
            )
        staged = store.staged_return_count(conn)
        if dry_run:
            raise _DryRun({"returned": staged, "events": 2 * len(self.groups)})
        changed = store.apply_returns(conn, org, now)
        if changed != staged:
            raise ConflictError("units changed while the file was applied; nothing was returned")
        event_ids: list[str] = []
        for grp, members in groupby(store.staged_return_epcs(conn), key=itemgetter(0)):
            location_id, day, action, last, reasons = self.groups[grp]
            where = epcis.location_uri(location_id, supply.location_gln(conn, location_id))
            epcs = [epcis.unit_epc(code, gtin) for _, code, gtin in members]
            details: dict[str, Any] = {"source": "csv import", "return_day": day.isoformat()}
            if reasons:
                details["reasons"] = reasons
            for step in (rule, RULES[retail.RETURN_ACTIONS[action]]):
                draft = EventDraft(
                    event_type=step.event_type,
                    action=step.action,
                    biz_step=step.biz_step,
                    disposition=Disposition(str(step.target)),
                    event_time=last,
                    epcs=epcs,
                    read_point=where,
                    biz_location=where,
                )
                event = eventlog.record(
                    conn,
                    principal,
                    draft,
                    record_time=now,
                    unit_ids=store.group_units(grp),
                    read_point_id=location_id,
                    biz_location_id=location_id,
                    quantity=len(epcs),
                    details=details,
                )
                event_ids.append(event.event_id)
        store.drop_returns(conn)
        return {"returned": changed, "events": event_ids}


# ---------------------------------------------------------------------------------------
# Shipment manifests


@dataclass
class _Manifest:
    line: int  # the reference's first row
    destination: str
    location: str
    arrival: dt.date | None
    items: list[tuple[int, str, str]] = field(default_factory=list)  # (line, raw, key)


def _item_key(line: int, raw: str, reading: Reading, keys: movement.Keys) -> str | None:
    try:
        scan = parse_scan(raw)
    except ScanError as exc:
        reading.add(Problem(line, "code", raw[:200], exc.message))
        return None
    return keys(scan)


class _Shipments:
    """One row per item; each distinct reference becomes one draft shipment."""

    def __init__(self) -> None:
        self.manifests: dict[str, _Manifest] = {}
        self.keys = movement.Keys()

    def collect(self, rows: Rows, reading: Reading) -> None:
        seen: dict[str, int] = {}
        for line, row in rows:
            key = _item_key(line, row["code"], reading, self.keys)
            reference = row["shipment"].strip()
            manifest = self.manifests.get(reference)
            if manifest is None:
                manifest = self.manifests[reference] = _Manifest(
                    line,
                    row["destination"].strip(),
                    row["destination_location"].strip(),
                    row["expected_arrival"],
                )
            elif manifest.destination.lower() != row["destination"].strip().lower():
                reading.add(
                    Problem(
                        line,
                        "destination",
                        row["destination"][:200],
                        f"shipment {reference} goes to {manifest.destination} (row "
                        f"{manifest.line}): one destination per shipment",
                    )
                )
                continue
            elif manifest.location.lower() != row["destination_location"].strip().lower():
                reading.add(
                    Problem(
                        line,
                        "destination_location",
                        row["destination_location"][:200],
                        f"shipment {reference} goes to {manifest.location} (row "
                        f"{manifest.line}): one destination per shipment",
                    )
                )
                continue
            elif row["expected_arrival"] is not None and row["expected_arrival"] != (
                manifest.arrival
            ):
                reading.add(
                    Problem(
                        line,
                        "expected_arrival",
                        str(row["expected_arrival"]),
                        f"shipment {reference} is expected on {manifest.arrival} (row "
                        f"{manifest.line})",
                    )
                )
                continue
            if key is None:
                continue
            if key in seen:
                reading.add(
                    Problem(
                        line,
                        "code",
                        movement.shown_key(key),
                        f"the same item is on row {seen[key]}",
                    )
                )
                continue
            seen[key] = line
            manifest.items.append((line, row["code"], key))

    def apply(
        self, conn: Connection, principal: Principal, now: dt.datetime, dry_run: bool
    ) -> dict[str, Any]:
        wrong_kind = _refuse_kind(conn, principal, shipments.SHIPPER_KINDS, "ship")
        if wrong_kind is not None:
            raise _invalid([wrong_kind])
        manifests = self.manifests
        named = store.organizations_named(conn, [m.destination for m in manifests.values()])
        places = store.locations_named(conn, [int(o["id"]) for o in named.values()])
        items = [(raw, key) for m in manifests.values() for _, raw, key in m.items]
        found = movement.lookup(conn, [key for _, key in items], movement.raw_by_key(items))
        org = principal.organization_id
        problems: list[Problem] = []
        created: list[dict[str, Any]] = []
        for reference, m in manifests.items():
            destination = named.get(m.destination.lower())
            if destination is None:
                problems.append(
                    Problem(m.line, "destination", m.destination, "no organization has this name")
                )
                continue
            if OrganizationKind(destination["kind"]) not in shipments.RECEIVER_KINDS:
                problems.append(
                    Problem(
                        m.line,
                        "destination",
                        m.destination,
                        f"a {destination['kind']} cannot receive shipments",
                    )
                )
                continue
            location_id = places.get((int(destination["id"]), m.location.lower()))
            if location_id is None:
                problems.append(
                    Problem(
                        m.line,
                        "destination_location",
                        m.location,
                        f"{destination['name']} has no location with this name",
                    )
                )
                continue
            lines: dict[str, int] = {}
            listed: list[str] = []
            for line, raw, key in m.items:
                item = found.get(key)
                if item is None or not movement.visible(item, org):
                    problems.append(
                        Problem(
                            line,
                            "code",
                            movement.shown_key(key),
                            "unknown code: not one of your units, cases or pallets",
                        )
                    )
                    continue
                lines[item.code] = line
                listed.append(raw)
            shipment_id = shipment_store.insert_shipment(
                conn,
                organization_id=org,
                number=shipments._number(),
                status="draft",
                source_location_id=None,
                destination_organization_id=int(destination["id"]),
                destination_location_id=location_id,
                expected_arrival=m.arrival,
                notes=f"CSV import, reference {reference}"[:2000],
                created_at=now,
            )
            try:
                if listed:
                    shipments._add(conn, principal, shipment_id, listed)
            except OperationRefusedError as exc:  # every refused item of this shipment
                problems += [
                    Problem(lines.get(r["code"], m.line), "code", r["code"], r["message"])
                    for r in exc.details or []
                ]
                continue
            except ConflictError as exc:  # an item on another draft shipment
                problems.append(Problem(m.line, "shipment", reference, exc.message))
                continue
            except NotFoundError as exc:  # cannot happen: looked up above
                problems.append(Problem(m.line, "code", None, exc.message))
                continue
            view = shipment_store.get_shipment(conn, shipment_id) or {}
            created.append(
                {
                    "reference": reference,
                    "shipment_id": shipment_id,
                    "number": view.get("number"),
                    "items": len(listed),
                }
            )
        if problems:
            raise _invalid(problems)
        result = {"shipments": created}
        if dry_run:
            raise _DryRun({"shipments": [{**c, "number": None} for c in created]})
        return result


# ---------------------------------------------------------------------------------------
# Receipts


_REFUSED_SCANS = ("unexpected", "unknown", "already_received")


class _Receipts:
    """One row per receiving scan; each shipment's scans recorded, then the shipment
    received. A scan of anything not on its shipment refuses the file."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.scans: dict[str, list[tuple[int, str]]] = {}  # number -> (line, raw scan)

    def collect(self, rows: Rows, reading: Reading) -> None:
        del reading  # every scan is kept as scanned: the manifest decides
        for line, row in rows:
            self.scans.setdefault(row["shipment"].strip().upper(), []).append((line, row["code"]))

    def apply(
        self, conn: Connection, principal: Principal, now: dt.datetime, dry_run: bool
    ) -> dict[str, Any]:
        wrong_kind = _refuse_kind(conn, principal, shipments.RECEIVER_KINDS, "receive")
        if wrong_kind is not None:
            raise _invalid([wrong_kind])
        org = principal.organization_id
        known = store.shipments_numbered(conn, list(self.scans))
        problems: list[Problem] = []
        chosen: list[tuple[str, int, list[str]]] = []
        for number, listed in self.scans.items():
            first = listed[0][0]
            rows = [
                r
                for r in known.get(number, [])
                if r["destination_organization_id"] == org and r["status"] != "draft"
            ]
            if not rows:
                problems.append(
                    Problem(first, "shipment", number, "no shipment to you has this number")
                )
                continue
            row = rows[0]
            if row["status"] != "shipped":
                problems.append(
                    Problem(
                        first,
                        "shipment",
                        number,
                        f"the shipment is {row['status'].replace('_', ' ')}: nothing to receive",
                    )
                )
                continue
            if len(listed) > movement.MAX_ITEMS:
                problems.append(
                    Problem(
                        listed[movement.MAX_ITEMS][0],
                        "code",
                        None,
                        f"at most {movement.MAX_ITEMS:,} scans per shipment",
                    )
                )
                continue
            raws = [raw for _, raw in listed]
            classified = shipments._classify(
                conn, principal, int(row["id"]), shipments._parse_raw(raws), now
            )
            problems += [
                Problem(line, "code", raw[:200], scan["message"])
                for (line, raw), scan in zip(listed, classified, strict=True)
                if scan["result"] in _REFUSED_SCANS
            ]
            chosen.append((number, int(row["id"]), raws))
        if problems:
            raise _invalid(problems)
        if dry_run:
            raise _DryRun({"shipments": [{"number": n, "scans": len(s)} for n, _, s in chosen]})
        received = []
        for number, shipment_id, raws in chosen:
            report = shipments._receive(
                conn, self.rt, principal, shipment_id, raws, "accept", (), now
            )
            received.append(_receipt(number, report))
        return {"shipments": received}


def _receipt(number: str, report: shipments.ReceiptReport) -> Mapping[str, Any]:
    return {
        "number": number,
        "status": report.status,
        "received": report.received,
        "missing": report.missing,
        "unexpected": len(report.unexpected) + len(report.unknown),
        "missing_codes": list(report.missing_codes),
        "recalled_codes": list(report.recalled_codes),
        "event_id": report.event_id,
    }


def kind(
    rt: Runtime, principal: Principal, name: str, now: dt.datetime
) -> _Returns | _Shipments | _Receipts | None:
    """The handler of one of these kinds, or None."""
    if name == "returns":
        return _Returns(rt, principal, now)
    if name == "shipments":
        return _Shipments()
    if name == "receipts":
        return _Receipts(rt)
    return None
