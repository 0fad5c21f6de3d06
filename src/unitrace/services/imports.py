"""CSV imports: validate a whole file, then apply it in one transaction, exactly once.

``run_import`` reads the file as it streams (see :mod:`unitrace.domain.tabular`), collects
every problem with its row and column, and applies nothing unless the whole file is clean. A
clean file is applied in one transaction; the upload is recorded with the file's SHA-256, so
the same file uploaded again (or the same idempotency key) answers with the first result and
changes nothing — also when two uploads race (a unique constraint decides). ``dry_run``
checks everything, database included, and rolls back.

Kinds are registered in ``_KINDS``; each knows how to collect its rows (pure checks) and how
to check and apply them against the database (set-based).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import groupby
from operator import itemgetter
from typing import Any, BinaryIO, Protocol

from sqlalchemy import Connection

from unitrace.domain import epcis
from unitrace.domain.codes import InvalidCodeError, normalize_code
from unitrace.domain.epcis import EventDraft
from unitrace.domain.gs1 import Gs1Error, normalize_gtin
from unitrace.domain.imports import ImportKind, analytes_in, layout_for, panels_in
from unitrace.domain.lifecycle import MESSAGES, Operation, refusal_reason
from unitrace.domain.model import (
    Analyte,
    AnalyteKind,
    BizStep,
    Disposition,
    EventAction,
    EventType,
    LabStatus,
    Page,
    Panel,
    PanelResult,
    Principal,
    Role,
)
from unitrace.domain.scan import Scan, ScanError, ScanKind, parse_scan, quick_code
from unitrace.domain.tabular import Layout, Problem, Reading, read_rows
from unitrace.errors import (
    BatchNotReleasedError,
    ConflictError,
    NotFoundError,
    ValidationError,
)
from unitrace.services import catalog, eventlog, movement, recalls, serialization
from unitrace.services.access import require
from unitrace.services.catalog import check_page
from unitrace.services.runtime import Runtime
from unitrace.storage import imports as store
from unitrace.storage import supply

Progress = Callable[[str, int], None]  # (phase, rows done)
_PROGRESS_EVERY = 20_000
_FUTURE_SLACK = dt.timedelta(minutes=10)
_KEPT_PROBLEMS = 1_000
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICROSECOND = dt.timedelta(microseconds=1)


@dataclass(frozen=True)
class ImportResult:
    id: int | None  # None for a dry run
    kind: str
    status: str  # applied, invalid, or dry_run
    rows: int
    problems: tuple[dict[str, Any], ...]
    problem_count: int
    result: Mapping[str, Any] = field(default_factory=dict)
    replayed: bool = False
    encoding: str | None = None
    delimiter: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem_count == 0


class _Invalid(Exception):  # noqa: N818 - control flow: roll back, then report
    def __init__(self, problems: list[Problem], count: int) -> None:
        self.problems = problems
        self.count = count


class _DryRun(Exception):  # noqa: N818 - control flow: roll back what was checked
    def __init__(self, result: dict[str, Any]) -> None:
        self.result = result


class _Kind(Protocol):
    def collect(self, rows: Iterator[tuple[int, dict[str, Any]]], reading: Reading) -> None: ...

    def apply(
        self, conn: Connection, principal: Principal, now: dt.datetime, dry_run: bool
    ) -> dict[str, Any]: ...


# ---------------------------------------------------------------------------------------
# Sales


def _sale_message(reason: str, row: Mapping[str, Any]) -> str:
    if reason == "unknown":
        return _unknown_message(row["code"], "unknown code: not a unit you hold")
    if reason == "elsewhere":
        return "the unit is not at this store"
    if reason == "expired":
        return f"the unit's batch expired on {row['expires_on']}, before this sale"
    state = refusal_reason(Operation.SELL, Disposition(reason)) or reason
    return MESSAGES.get(state, f"the unit is {reason.replace('_', ' ')}: not on sale")


def _unknown_message(code: str | None, message: str) -> str:
    """``message``, or what is wrong with a ``code`` the quick reading let through (None: the
    row named a brand's serial, which gets the same message as an unknown code)."""
    if code is not None:
        try:
            normalize_code(code)
        except InvalidCodeError as exc:  # a typo the quick reading let through
            return str(exc)
    return message


def shown(row: Mapping[str, Any]) -> str:
    """How a staged row named its unit: ``(01)<gtin>(21)<serial>`` when it is (or may be) a
    brand's serial, else the code."""
    if row["serial"] is None:
        return str(row["code"])
    return f"(01){row['gtin']}(21){row['serial']}"


def _is_serial(key: str) -> bool:
    return key.startswith("serial:")


def _split_serial(key: str) -> tuple[str, str]:
    """``(gtin, serial)`` of a ``serial:<gtin>:<serial>`` key."""
    return key[7:21], key[22:]


def repeats(found: list[dict[str, Any]]) -> list[Problem]:
    """Problems for rows naming a unit an earlier row names (by code and by serial)."""
    return [
        Problem(r["line"], "code", shown(r), f"the same unit is on row {r['first']}") for r in found
    ]


class _Sales:
    """One row per unit sold: every unit on sale at the row's store, held by the uploader.

    Rows are kept as compact columns (a million rows in ~150 MB) until they are staged."""

    def __init__(self, rt: Runtime, principal: Principal, now: dt.datetime) -> None:
        self.now = now
        self.lines = array("l")
        self.codes: list[str] = []
        self.locations = array("l")
        self.times = array("q")  # microseconds since 1970-01-01 UTC
        self.cents = array("q")  # the price in cents, -1 for none
        self.grps = array("l")
        # one event per store and day (UTC): [location, day, last sale, units] by group number
        self.groups: list[list[Any]] = []
        self.duplicates: list[tuple[int, str]] = []
        self.serials = 0  # rows naming a unit by its brand's serial (their key is in codes)
        # rows whose code was read under a GTIN (see Alternate): lines, GTINs, and the
        # serials printed where they differ from the code
        self.alt_lines = array("l")
        self.alt_gtins = array("q")
        self.alt_serials: dict[int, str] = {}
        with rt.db.read() as conn:
            self.stores = store.store_lookup(conn, principal.organization_id)

    def collect(self, rows: Iterator[tuple[int, dict[str, Any]]], reading: Reading) -> None:
        latest = self.now + _FUTURE_SLACK
        stores = self.stores
        numbers: dict[int, int] = {}
        seen: set[str] = set()
        groups = self.groups
        # a million rows: bound methods and a cache of the store cells, looked up once each
        add_line, add_code = self.lines.append, self.codes.append
        add_location, add_time = self.locations.append, self.times.append
        add_cents, add_group = self.cents.append, self.grps.append
        store_of: dict[str, int | None] = {}
        linked = _LINKED_SERIAL
        deferred: list[tuple[int, str, Alternate, int, dt.datetime, int]] = []

        def accept(line: int, code: str, location: int, utc: dt.datetime, cents: int) -> None:
            key = location << 24 | utc.toordinal()  # store and UTC day, as one int
            grp = numbers.get(key)
            if grp is None:
                grp = numbers[key] = len(groups)
                groups.append([location, utc.date(), utc, 0])
            group = groups[grp]
            group[3] += 1
            if utc > group[2]:
                group[2] = utc
            add_line(line)
            add_code(code)
            add_location(location)
            add_time((utc - _EPOCH) // _MICROSECOND)
            add_cents(cents)
            add_group(grp)

        for line, row in rows:
            raw = row["code"]
            code = quick_code(raw)
            alternate = None
            if code is None or linked in raw:  # perhaps a brand's serial (its key)
                code, alternate = _keyed(line, raw, code, reading)
                if code is None:
                    continue
                if _is_serial(code):
                    self.serials += 1
            cell = row["store"]
            location = store_of.get(cell, -1)
            if location == -1:
                location = store_of[cell] = stores.get(cell.lower()) or stores.get(cell)
            if location is None:
                reading.add(
                    Problem(line, "store", row["store"][:200], "no store of yours has this name")
                )
                continue
            utc = row["sold_at"] or self.now
            if utc > latest:
                reading.add(Problem(line, "sold_at", utc.isoformat(), "is in the future"))
                continue
            price = row["price"]
            cents = -1
            if price is not None:
                hundredfold = price * 100
                cents = int(hundredfold)
                if cents != hundredfold:
                    reading.add(Problem(line, "price", str(price), "has more than two decimals"))
                    continue
            if code in seen:
                if alternate is None:
                    self.duplicates.append((line, code))
                else:  # perhaps the same serial under another GTIN: decided below
                    deferred.append((line, code, alternate, location, utc, cents))
                continue
            seen.add(code)
            if alternate is not None:
                self._alternate(line, code, alternate)
            accept(line, code, location, utc, cents)
        for line, code, location, utc, cents in self._settle(deferred, seen):
            accept(line, code, location, utc, cents)
        if self.duplicates:
            self.duplicates.sort()
            self._report_duplicates(reading)

    def _settle(
        self, deferred: list[tuple[int, str, Alternate, int, dt.datetime, int]], seen: set[str]
    ) -> Iterator[tuple[int, str, int, dt.datetime, int]]:
        """Of the rows whose code an earlier row named, read under a GTIN: those naming the
        same unit (a duplicate), and the others, whose earlier row read that code under
        another GTIN: then they name this GTIN's serial, yielded with their key (the rule of
        :class:`~unitrace.services.movement.Keys`, from the GTINs kept for every row)."""
        if not deferred:
            return
        wanted = {code for _, code, *_ in deferred}
        first: dict[str, int] = {}
        for line, code in zip(self.lines, self.codes, strict=True):
            if code in wanted and code not in first:
                first[code] = line
        for line, code, (gtin, serial), location, utc, cents in deferred:
            key = f"serial:{gtin}:{serial}"
            if key in seen:
                self.duplicates.append((line, key))
            elif self._gtin_at(first[code]) in ("", gtin):
                self.duplicates.append((line, code))
            else:
                seen.add(key)
                self.serials += 1
                yield line, key, location, utc, cents

    def _gtin_at(self, line: int) -> str:
        """The GTIN the row at ``line`` read its code under ("" for none)."""
        lines = self.alt_lines
        i = bisect_left(lines, line)
        return f"{self.alt_gtins[i]:014d}" if i < len(lines) and lines[i] == line else ""

    def _alternate(self, line: int, code: str, alternate: Alternate) -> None:
        gtin, serial = alternate
        self.alt_lines.append(line)
        self.alt_gtins.append(int(gtin))
        if serial != code:
            self.alt_serials[line] = serial

    def _alternates(self, unresolved: Iterator[tuple[int, str]]) -> list[tuple[int, str, str]]:
        """``(line, gtin, serial)`` of the ``unresolved`` rows (line and code) read under a
        GTIN."""
        out = []
        for line, code in unresolved:
            gtin = self._gtin_at(line)
            if gtin:
                out.append((line, gtin, self.alt_serials.get(line, code)))
        return out

    def _report_duplicates(self, reading: Reading) -> None:
        """Name each repeated unit's first row (one pass, only when there are repeats)."""
        wanted = {code for _, code in self.duplicates[:_KEPT_PROBLEMS]}
        first: dict[str, int] = {}
        for line, code in zip(self.lines, self.codes, strict=True):
            if code in wanted and code not in first:
                first[code] = line
        for line, code in self.duplicates:
            reading.add(
                Problem(
                    line, "code", movement.shown_key(code), f"the same unit is on row {first[code]}"
                )
            )

    def apply(
        self, conn: Connection, principal: Principal, now: dt.datetime, dry_run: bool
    ) -> dict[str, Any]:
        org = principal.organization_id
        rows = zip(
            self.lines, self.codes, self.locations, self.times, self.cents, self.grps, strict=True
        )
        if not self.serials:
            store.stage_sales(conn, rows)
        else:  # the rows naming a brand's serial are staged apart, then resolved at once
            by_serial = [
                (line, *_split_serial(key), *rest)
                for line, key, *rest in zip(
                    self.lines,
                    self.codes,
                    self.locations,
                    self.times,
                    self.cents,
                    self.grps,
                    strict=True,
                )
                if _is_serial(key)
            ]
            store.stage_sales(conn, (r for r in rows if not _is_serial(r[1])), by_serial)
        self.codes = []  # the staging table holds them now
        alternates = self._alternates(store.unresolved_codes(conn)) if self.alt_lines else []
        if alternates:
            store.resolve_alternates(conn, store.staged_sales, alternates)
        named_by_serial = self.serials > 0 or bool(alternates)
        repeated = repeats(store.repeated_sales(conn, org)) if named_by_serial else []
        offenders, count = store.sale_offenders(conn, org, limit=_KEPT_PROBLEMS)
        if count or repeated:
            _refuse(
                repeated,
                [
                    Problem(r["line"], "code", shown(r), _sale_message(r["reason"], r))
                    for r in offenders
                ],
                count,
            )
        staged = store.staged_count(conn)
        if dry_run:
            raise _DryRun({"sold": staged, "events": len(self.groups)})
        changed = store.apply_sales(conn, org, now)
        if changed != staged:
            raise ConflictError("units changed while the file was applied; nothing was sold")
        event_ids: list[str] = []
        recorded: list[tuple[int, int]] = []
        for grp, members in groupby(store.staged_epcs(conn), key=itemgetter(0)):
            location_id, day, last, n = self.groups[grp]
            where = epcis.location_uri(location_id, supply.location_gln(conn, location_id))
            draft = EventDraft(
                event_type=EventType.OBJECT,
                action=EventAction.OBSERVE,
                biz_step=BizStep.RETAIL_SELLING,
                disposition=Disposition.RETAIL_SOLD,
                event_time=last,
                epcs=[epcis.unit_epc(code, gtin) for _, code, gtin in members],
                read_point=where,
                biz_location=where,
            )
            event = eventlog.record(
                conn,
                principal,
                draft,
                record_time=now,
                read_point_id=location_id,
                biz_location_id=location_id,
                quantity=n,
                details={"source": "csv import", "sale_day": day.isoformat()},
            )
            event_ids.append(event.event_id)
            recorded.append((grp, event.row_id))
        store.add_group_members(conn, recorded)
        store.drop_staging(conn)
        return {"sold": changed, "events": event_ids}


def _refuse(repeated: list[Problem], offenders: list[Problem], count: int) -> None:
    """Raise :class:`_Invalid` with the repeated units and the other offenders (a repeated
    row's other problems are its first row's)."""
    lines = {p.line for p in repeated}
    kept = [p for p in offenders if p.line not in lines]
    problems = sorted(repeated + kept, key=lambda p: p.line or 0)
    dropped = len(offenders) - len(kept)
    raise _Invalid(problems[:_KEPT_PROBLEMS], count - dropped + len(repeated))


_LINKED_SERIAL = "/21/"  # a Digital Link's serial: a brand's may look like a unit code


Alternate = tuple[str, str]
"""``(gtin, serial)`` of a code read from a Digital Link or element string: a brand's serial
may read as a unit code, so a code no unit has is then looked up as that serial."""


def _keyed(
    line: int, raw: str, code: str | None, reading: Reading
) -> tuple[str | None, Alternate | None]:
    """The key of the unit a cell names, and its :data:`Alternate` when it is a code read
    under a GTIN: the ``code`` the quick reading took, unless the cell is a Digital Link whose
    serial is a brand's (its 14 letters and digits passed for a code there, without the
    check character); else :func:`_scanned`."""
    if code is None:
        return _scanned(line, raw, reading)
    try:
        scan = parse_scan(raw)
    except ScanError:
        return code, None  # as the quick reading took it: the lookup decides
    return _key_of(scan)


def _scanned(line: int, raw: str, reading: Reading) -> tuple[str | None, Alternate | None]:
    """The key of the unit named by a cell the quick reading did not take — its code, or
    ``serial:<gtin>:<serial>`` for a serial its brand printed — and its :data:`Alternate`;
    a problem when there is none."""
    try:
        scan = parse_scan(raw)
    except ScanError as exc:
        reading.add(Problem(line, "code", raw[:200], exc.message))
        return None, None
    if scan.kind is ScanKind.SSCC:
        reading.add(Problem(line, "code", raw[:200], "an SSCC names a case or pallet: list units"))
        return None, None
    return _key_of(scan)


def _key_of(scan: Scan) -> tuple[str, Alternate | None]:
    if scan.kind is ScanKind.CODE and scan.gtin is not None and scan.serial is not None:
        return scan.value, (scan.gtin, scan.serial)
    return movement.scan_key(scan), None


# ---------------------------------------------------------------------------------------
# Recall scope lists


class _RecallScope:
    """Units to add to the explicit scope of draft recalls, one per row: by code or by the
    serial their brand printed."""

    def __init__(self) -> None:
        self.codes: dict[str, list[tuple[int, str]]] = {}  # recall number -> (line, key)
        self.raw: dict[str, str] = {}  # the cells of codes read under a GTIN, by code

    def collect(self, rows: Iterator[tuple[int, dict[str, Any]]], reading: Reading) -> None:
        seen: dict[tuple[str, str], int] = {}
        keys = movement.Keys()
        for line, row in rows:
            raw = row["code"]
            code, alternate = quick_code(raw), None
            if code is None or _LINKED_SERIAL in raw:
                code, alternate = _keyed(line, raw, code, reading)
            if code is None:
                continue
            if alternate is not None:
                code = keys.named(code, *alternate)
                self.raw.setdefault(code, raw)
            number = row["recall"].strip().upper()
            earlier = seen.setdefault((number, code), line)
            if earlier != line:
                reading.add(
                    Problem(
                        line, "code", movement.shown_key(code), f"the same unit is on row {earlier}"
                    )
                )
                continue
            self.codes.setdefault(number, []).append((line, code))

    def apply(
        self, conn: Connection, principal: Principal, now: dt.datetime, dry_run: bool
    ) -> dict[str, Any]:
        del now
        problems: list[Problem] = []
        added: dict[str, int] = {}
        keys = [key for listed in self.codes.values() for _, key in listed]
        # every brand's serial of the file by its unit's code, in one query (kept when none)
        code_of = dict(zip(keys, movement.codes_of(conn, keys, self.raw), strict=True))
        for number, listed in self.codes.items():
            recall_id, named, missing = recalls.add_codes_in(
                conn, principal, number, list(dict.fromkeys(code_of[k] for _, k in listed))
            )
            if recall_id is None:
                problems.append(
                    Problem(
                        listed[0][0], "recall", number, "no draft recall of yours has this number"
                    )
                )
                continue
            unknown = set(missing)
            first: dict[str, int] = {}
            for line, key in listed:
                code = code_of[key]
                if code in unknown:  # another's unit is as unknown as no unit
                    problems.append(
                        Problem(
                            line,
                            "code",
                            movement.as_scanned(key, self.raw.get(key)),
                            "unknown code: not one of your units",
                        )
                    )
                elif first.setdefault(code, line) != line:  # named by code and by serial
                    problems.append(
                        Problem(
                            line,
                            "code",
                            movement.shown_key(key),
                            f"the same unit is on row {first[code]}",
                        )
                    )
            added[number] = named
        if problems:
            problems.sort(key=lambda p: p.line or 0)
            raise _Invalid(problems, len(problems))
        if dry_run:
            raise _DryRun({"recalls": added})
        return {"recalls": added}


# ---------------------------------------------------------------------------------------
# Products


class _Products:
    """One row per new product; names and GTINs must be new (in the file and for you)."""

    def __init__(self) -> None:
        self.rows: list[tuple[int, dict[str, object]]] = []

    def collect(self, rows: Iterator[tuple[int, dict[str, Any]]], reading: Reading) -> None:
        names: dict[str, int] = {}
        gtins: dict[str, int] = {}
        for line, row in rows:
            draft = catalog.ProductDraft(
                name=row["name"],
                category=row["category"],
                strain=row["strain"],
                net_content=row["net_content"],
                net_content_unit=row["net_content_unit"],
                gtin=row["gtin"],
                description=row["description"] or "",
                ingredients=row["ingredients"] or "",
                warnings=row["warnings"] or "",
            )
            try:
                values = catalog.clean_product(draft)
            except ValidationError as exc:
                for problem in exc.details or []:
                    column = problem["field"]
                    reading.add(Problem(line, column, _cell(row.get(column)), problem["message"]))
                continue
            key = str(values["name"]).lower()
            if key in names:
                reading.add(
                    Problem(line, "name", row["name"], f"repeats the name on row {names[key]}")
                )
                continue
            names[key] = line
            gtin = values["gtin"]
            if gtin is not None:
                if gtin in gtins:
                    reading.add(
                        Problem(
                            line, "gtin", str(gtin), f"repeats the GTIN on row {gtins[str(gtin)]}"
                        )
                    )
                    continue
                gtins[str(gtin)] = line
            self.rows.append((line, values))

    def apply(
        self, conn: Connection, principal: Principal, now: dt.datetime, dry_run: bool
    ) -> dict[str, Any]:
        org = principal.organization_id
        names = [str(v["name"]) for _, v in self.rows]
        gtins = [str(v["gtin"]) for _, v in self.rows if v["gtin"]]
        taken_names, taken_gtins = store.existing_product_keys(conn, org, names, gtins)
        problems = [
            Problem(line, "name", str(v["name"]), "you already have a product with this name")
            for line, v in self.rows
            if str(v["name"]).lower() in taken_names
        ] + [
            Problem(line, "gtin", str(v["gtin"]), "this GTIN is already used by a product")
            for line, v in self.rows
            if v["gtin"] and str(v["gtin"]) in taken_gtins
        ]
        if problems:
            problems.sort(key=lambda p: p.line or 0)
            raise _Invalid(problems, len(problems))
        if dry_run:
            raise _DryRun({"created": len(self.rows)})
        ids = store.insert_products(
            conn, [{**v, "organization_id": org, "created_at": now} for _, v in self.rows]
        )
        return {"created": len(ids), "product_ids": ids}


def _cell(value: object) -> str | None:
    return None if value is None else str(value)[:200]


# ---------------------------------------------------------------------------------------
# Batches with lab results


class _Batches:
    """One row per new batch of one of the uploader's products, with its lab results."""

    def __init__(self, now: dt.datetime) -> None:
        self.today = now.date()
        self.rows: list[tuple[int, str, catalog.BatchDraft]] = []

    def collect(self, rows: Iterator[tuple[int, dict[str, Any]]], reading: Reading) -> None:
        seen: dict[tuple[str, str], int] = {}
        for line, row in rows:
            lab = catalog.LabResultsDraft(
                status=LabStatus(row["lab_status"] or "pending"),
                lab_name=row["lab_name"],
                tested_on=row["tested_on"],
                analytes=tuple(
                    Analyte(AnalyteKind(kind), name, amount, "%")
                    for kind, name, amount in analytes_in(row)
                ),
                panels=tuple(Panel(name, PanelResult(result)) for name, result in panels_in(row)),
            )
            draft = catalog.BatchDraft(
                product_id=0,  # resolved with the database
                lot_number=row["lot_number"],
                produced_on=row["produced_on"],
                expires_on=row["expires_on"],
                lab=lab,
            )
            problems = catalog.check_batch(draft, self.today)
            for problem in problems:
                column = problem["field"].removeprefix("lab.")
                reading.add(Problem(line, column, None, problem["message"]))
            if problems:
                continue
            key = (row["product"].strip().lower(), row["lot_number"].strip())
            if key in seen:
                reading.add(
                    Problem(line, "lot_number", key[1], f"repeats the batch on row {seen[key]}")
                )
                continue
            seen[key] = line
            self.rows.append((line, row["product"].strip(), draft))

    def apply(
        self, conn: Connection, principal: Principal, now: dt.datetime, dry_run: bool
    ) -> dict[str, Any]:
        org = principal.organization_id
        products_by = store.product_refs(conn, org)
        problems: list[Problem] = []
        resolved: list[tuple[int, int, catalog.BatchDraft]] = []
        for line, ref, draft in self.rows:
            product_id = products_by.get(ref.lower()) or products_by.get(ref)
            if product_id is None:
                problems.append(
                    Problem(line, "product", ref, "no product of yours has this name or GTIN")
                )
            else:
                resolved.append((line, product_id, draft))
        taken = store.existing_lots(conn, org, [(p, d.lot_number.strip()) for _, p, d in resolved])
        problems += [
            Problem(
                line, "lot_number", d.lot_number, "this product already has a batch with this lot"
            )
            for line, p, d in resolved
            if (p, d.lot_number.strip()) in taken
        ]
        if problems:
            problems.sort(key=lambda p: p.line or 0)
            raise _Invalid(problems, len(problems))
        if dry_run:
            raise _DryRun({"created": len(resolved)})
        ids = store.insert_batches(
            conn,
            [
                {
                    "organization_id": org,
                    "product_id": product_id,
                    "lot_number": d.lot_number.strip(),
                    "produced_on": d.produced_on,
                    "expires_on": d.expires_on,
                    "lab_status": d.lab.status.value,
                    "lab_name": (d.lab.lab_name or "").strip() or None,
                    "tested_on": d.lab.tested_on,
                    "created_at": now,
                }
                for _, product_id, d in resolved
            ],
        )
        store.insert_lab_rows(
            conn,
            [
                {
                    "batch_id": b,
                    "kind": a.kind.value,
                    "name": a.name,
                    "amount": a.amount,
                    "unit": a.unit,
                }
                for b, (_, _, d) in zip(ids, resolved, strict=True)
                for a in d.lab.analytes
            ],
            [
                {"batch_id": b, "name": p.name, "result": p.result.value, "notes": ""}
                for b, (_, _, d) in zip(ids, resolved, strict=True)
                for p in d.lab.panels
            ],
        )
        return {"created": len(ids), "batch_ids": ids}


# ---------------------------------------------------------------------------------------
# Serialization requests


class _Serialization:
    """One row per batch: new unit codes for it, every batch in the same transaction."""

    def __init__(self, rt: Runtime) -> None:
        self.limit = rt.settings.max_commission_quantity
        self.rows: list[tuple[int, str, str | None, int]] = []

    def collect(self, rows: Iterator[tuple[int, dict[str, Any]]], reading: Reading) -> None:
        total = 0
        for line, row in rows:
            gtin = row["gtin"]
            if gtin is not None:
                try:
                    gtin = normalize_gtin(gtin)
                except Gs1Error as exc:
                    reading.add(Problem(line, "gtin", row["gtin"], str(exc)))
                    continue
            quantity = int(row["quantity"])
            total += quantity
            if total > self.limit:
                reading.add(
                    Problem(
                        line,
                        "quantity",
                        str(quantity),
                        f"the file asks for more than {self.limit:,} codes in all",
                    )
                )
                continue
            self.rows.append((line, row["lot_number"], gtin, quantity))

    def apply(
        self, conn: Connection, principal: Principal, now: dt.datetime, dry_run: bool
    ) -> dict[str, Any]:
        org = principal.organization_id
        found = store.batches_by_lot(conn, org, [lot for _, lot, _, _ in self.rows])
        problems: list[Problem] = []
        chosen: list[tuple[int, int, int]] = []
        for line, lot, gtin, quantity in self.rows:
            matches = [b for b in found.get(lot, []) if gtin is None or b["gtin"] == gtin]
            if not matches:
                problems.append(Problem(line, "lot_number", lot, "no batch of yours has this lot"))
            elif len(matches) > 1:
                problems.append(
                    Problem(line, "gtin", gtin, "two products have this lot: give the GTIN")
                )
            else:
                chosen.append((line, int(matches[0]["id"]), quantity))
        if problems:
            raise _Invalid(problems, len(problems))
        if dry_run:
            raise _DryRun({"batches": len(chosen), "units": sum(q for _, _, q in chosen)})
        made = []
        for line, batch_id, quantity in chosen:
            try:
                done = serialization.commission_in(conn, principal, batch_id, quantity, None, now)
            except BatchNotReleasedError as exc:
                raise _Invalid([Problem(line, "lot_number", None, str(exc))], 1) from exc
            except serialization.CodeCollision as exc:
                raise ConflictError("a new code collided; upload the file again") from exc
            made.append(
                {
                    "lot_number": done.lot_number,
                    "quantity": done.quantity,
                    "event_id": done.event_id,
                }
            )
        return {"batches": made, "units": sum(m["quantity"] for m in made)}


def _kind(
    rt: Runtime, principal: Principal, kind: str, now: dt.datetime, *, allow_guessable: bool
) -> _Kind:
    from unitrace.services import imports_serials, imports_supply  # they build on this module

    if kind == ImportKind.SERIALS:
        return imports_serials.Serials(rt, allow_guessable=allow_guessable)
    supplied = imports_supply.kind(rt, principal, kind, now)
    if supplied is not None:
        return supplied
    if kind == ImportKind.SALES:
        return _Sales(rt, principal, now)
    if kind == ImportKind.PRODUCTS:
        return _Products()
    if kind == ImportKind.BATCHES:
        return _Batches(now)
    if kind == ImportKind.RECALL_SCOPE:
        return _RecallScope()
    return _Serialization(rt)


# ---------------------------------------------------------------------------------------
# Running an import


def _digest(stream: BinaryIO) -> str:
    sha = hashlib.sha256()
    stream.seek(0)
    while chunk := stream.read(1 << 20):
        sha.update(chunk)
    stream.seek(0)
    return sha.hexdigest()


def _layout(kind: str) -> Layout:
    try:
        return layout_for(kind)
    except KeyError as exc:
        raise ValidationError(str(exc.args[0]), details={"field": "kind"}) from exc


def _from_row(row: Mapping[str, Any], *, replayed: bool) -> ImportResult:
    return ImportResult(
        id=int(row["id"]),
        kind=str(row["kind"]),
        status=str(row["status"]),
        rows=int(row["rows"]),
        problems=tuple(json.loads(row["problems"])),
        problem_count=int(row["problem_count"]),
        result=json.loads(row["result"]),
        replayed=replayed,
    )


def run_import(
    rt: Runtime,
    principal: Principal,
    kind: str,
    stream: BinaryIO,
    *,
    filename: str = "",
    dry_run: bool = False,
    idempotency_key: str | None = None,
    progress: Progress | None = None,
    allow_guessable: bool = False,
) -> ImportResult:
    """Validate the CSV ``stream`` as an upload of ``kind`` and, when every row is clean and
    this is not a dry run, apply it in one transaction. Problems are answered, not raised:
    the result lists them (at most 1,000, ``problem_count`` counts all) and nothing changed.
    ``allow_guessable`` accepts ``serials`` that could be guessed (the units are marked)."""
    require(principal, Role.OPERATOR)
    layout = _layout(kind)
    movement.check_key(idempotency_key)
    digest = _digest(stream)
    org = principal.organization_id
    if not dry_run:
        with rt.db.read() as conn:
            if idempotency_key is not None:
                other = store.key_used(conn, org, idempotency_key)
                if other is not None and other["content_sha256"] != digest:
                    raise ConflictError(
                        "this idempotency key was used for another file",
                        details={"import_id": other["id"]},
                    )
            first = store.find_applied(conn, org, layout.kind, digest, idempotency_key)
        if first is not None:
            return _from_row(first, replayed=True)
    now = rt.clock()
    handler = _kind(rt, principal, layout.kind, now, allow_guessable=allow_guessable)
    reading = Reading()
    rows = read_rows(
        stream,
        layout,
        reading,
        max_rows=rt.settings.import_max_rows,
        max_bytes=rt.settings.import_max_bytes,
    )
    handler.collect(_counted(rows, progress, "reading"), reading)
    meta: dict[str, Any] = {"encoding": reading.encoding, "delimiter": reading.delimiter}
    if not reading.ok:
        return _invalid(
            rt,
            principal,
            layout.kind,
            filename,
            digest,
            reading.rows,
            reading.problems,
            reading.problem_count,
            dry_run,
            meta,
        )
    if progress:
        progress("applying", reading.rows)
    try:
        with rt.db.transaction() as conn:
            if not dry_run:  # an upload of the same file may have committed meanwhile
                twin = store.find_applied(conn, org, layout.kind, digest, idempotency_key)
                if twin is not None:
                    return _from_row(twin, replayed=True)
            with store.lean_cache(conn):
                result = handler.apply(conn, principal, now, dry_run)
            import_id = store.insert_import(
                conn,
                organization_id=org,
                kind=layout.kind,
                filename=filename[:300],
                content_sha256=digest,
                applied_hash=digest,
                idempotency_key=idempotency_key,
                status="applied",
                rows=reading.rows,
                done_rows=reading.rows,
                result=json.dumps(result, default=str),
                actor=principal.display[:200],
                created_at=now,
                finished_at=rt.clock(),
            )
    except _Invalid as bad:
        if not dry_run:  # "already sold" because a concurrent upload of this file won?
            with rt.db.read() as conn:
                twin = store.find_applied(conn, org, layout.kind, digest, idempotency_key)
            if twin is not None:
                return _from_row(twin, replayed=True)
        return _invalid(
            rt,
            principal,
            layout.kind,
            filename,
            digest,
            reading.rows,
            bad.problems,
            bad.count,
            dry_run,
            meta,
        )
    except _DryRun as checked:
        return ImportResult(
            None, layout.kind, "dry_run", reading.rows, (), 0, checked.result, **meta
        )
    except (store.IntegrityError, ConflictError):
        # the same file (or key) applied by a concurrent upload a moment ago (PostgreSQL:
        # its rows changed under this one, or the unique constraint said so)
        with rt.db.read() as conn:
            first = store.find_applied(conn, org, layout.kind, digest, idempotency_key)
        if first is None:
            raise
        return _from_row(first, replayed=True)
    if progress:
        progress("done", reading.rows)
    return ImportResult(import_id, layout.kind, "applied", reading.rows, (), 0, result, **meta)


def _counted(
    rows: Iterator[tuple[int, dict[str, Any]]], progress: Progress | None, phase: str
) -> Iterator[tuple[int, dict[str, Any]]]:
    if progress is None:
        yield from rows
        return
    for n, item in enumerate(rows, 1):
        if n % _PROGRESS_EVERY == 0:
            progress(phase, n)
        yield item


def _invalid(
    rt: Runtime,
    principal: Principal,
    kind: str,
    filename: str,
    digest: str,
    rows: int,
    problems: list[Problem],
    count: int,
    dry_run: bool,
    meta: dict[str, Any],
) -> ImportResult:
    listed = tuple(p.as_dict() for p in problems[:_KEPT_PROBLEMS])
    import_id = None
    if not dry_run:
        with rt.db.transaction() as conn:
            import_id = store.insert_import(
                conn,
                organization_id=principal.organization_id,
                kind=kind,
                filename=filename[:300],
                content_sha256=digest,
                status="invalid",
                rows=rows,
                problem_count=count,
                problems=json.dumps(listed, default=str),
                actor=principal.display[:200],
                created_at=rt.clock(),
                finished_at=rt.clock(),
            )
    status = "dry_run" if dry_run else "invalid"
    return ImportResult(import_id, kind, status, rows, listed, count, {}, **meta)


def get_import(rt: Runtime, principal: Principal, import_id: int) -> ImportResult:
    with rt.db.read() as conn:
        row = store.get_import(conn, principal.organization_id, import_id)
    if row is None:
        raise NotFoundError(f"import {import_id} not found")
    return _from_row(row, replayed=False)


def list_imports(
    rt: Runtime, principal: Principal, *, limit: int = 50, offset: int = 0
) -> Page[ImportResult]:
    limit, offset = check_page(limit, offset)
    with rt.db.read() as conn:
        rows, total = store.list_imports(
            conn, principal.organization_id, limit=limit, offset=offset
        )
    return Page(tuple(_from_row(r, replayed=False) for r in rows), total, limit, offset)


def template(kind: str) -> str:
    """The CSV template of ``kind``: its header and an example row."""
    return _layout(kind).template()
