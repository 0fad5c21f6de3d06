"""The ``serials`` upload kind: units for serials a brand generated and printed itself.

Follows :mod:`unitrace.services.imports`: ``collect`` checks each serial (GS1 AI 21, once per
lot in the file) and then the file as a whole (can its serials be guessed? see
:func:`unitrace.domain.serials.judge`); ``apply`` checks the batches (the caller's, released,
not expired, a product with a GTIN) and the serials against the units there are, then, in the
import's one transaction, records one commissioning event per batch and inserts every unit
with one INSERT … SELECT from the staged rows. Each unit gets its own unitrace code as well
(65 random bits), so everything that works by code keeps working; the brand's serial is what
its label, its Digital Link and its events carry.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from unitrace.domain import epcis
from unitrace.domain.codes import generate_codes
from unitrace.domain.epcis import EventDraft
from unitrace.domain.gs1 import Gs1Error, normalize_gtin, validate_serial
from unitrace.domain.model import (
    Batch,
    BizStep,
    Disposition,
    EventAction,
    EventType,
    Principal,
)
from unitrace.domain.serials import judge
from unitrace.domain.tabular import Problem, Reading
from unitrace.errors import BatchNotReleasedError, ConflictError
from unitrace.services import eventlog, serialization
from unitrace.services.imports import _KEPT_PROBLEMS, _DryRun, _Invalid
from unitrace.services.runtime import Runtime
from unitrace.storage import serials as store

Rows = Iterator[tuple[int, dict[str, Any]]]


class Serials:
    """One row per serial: a unit of the row's batch that carries it."""

    def __init__(self, rt: Runtime, *, allow_guessable: bool) -> None:
        self.limit = rt.settings.max_commission_quantity
        self.allow_guessable = allow_guessable
        self.guessable = False
        self.rows: list[tuple[int, str, str | None, str]] = []  # line, lot, gtin, serial

    def collect(self, rows: Rows, reading: Reading) -> None:
        seen: dict[tuple[str, str | None, str], int] = {}
        for line, row in rows:
            gtin = row["gtin"]
            if gtin is not None:
                try:
                    gtin = normalize_gtin(gtin)
                except Gs1Error as exc:
                    reading.add(Problem(line, "gtin", row["gtin"], str(exc)))
                    continue
            try:
                serial = validate_serial(row["serial"])
            except Gs1Error as exc:
                reading.add(Problem(line, "serial", row["serial"], str(exc)))
                continue
            key = (row["lot_number"], gtin, serial)
            if key in seen:
                reading.add(
                    Problem(line, "serial", serial, f"the same serial is on row {seen[key]}")
                )
                continue
            seen[key] = line
            if len(self.rows) == self.limit:
                reading.add(
                    Problem(line, None, None, f"a file holds at most {self.limit:,} serials")
                )
                return
            self.rows.append((line, row["lot_number"], gtin, serial))
        findings, count = judge([(line, serial) for line, _, _, serial in self.rows])
        self.guessable = count > 0
        if self.guessable and not self.allow_guessable:
            for finding in findings:
                reading.add(Problem(finding.line, "serial", finding.serial, finding.message))
            reading.problem_count += count - len(findings)

    def _batches(
        self, conn: Connection, principal: Principal, now: dt.datetime
    ) -> tuple[list[tuple[int, int, int, str]], dict[int, tuple[Batch, str]], list[Problem]]:
        """Each row's batch and product, the batches (lot, GTIN), and what is wrong."""
        org = principal.organization_id
        found = store.batches_by_lot(conn, org, {lot for _, lot, _, _ in self.rows})
        problems: list[Problem] = []
        chosen: list[tuple[int, int, int, str]] = []
        batches: dict[int, tuple[Batch, str]] = {}
        refused: dict[int, str] = {}
        for line, lot, gtin, serial in self.rows:
            matches = [b for b in found.get(lot, []) if gtin is None or b["gtin"] == gtin]
            if not matches:
                problems.append(Problem(line, "lot_number", lot, "no batch of yours has this lot"))
                continue
            if len(matches) > 1:
                problems.append(
                    Problem(line, "gtin", gtin, "two products have this lot: give the GTIN")
                )
                continue
            batch = matches[0]
            if batch["gtin"] is None:
                problems.append(
                    Problem(
                        line,
                        "lot_number",
                        lot,
                        f"product {batch['product_name']!r} has no GTIN, and a serial is "
                        "unique only under one: give the product its GTIN first",
                    )
                )
                continue
            batch_id = int(batch["id"])
            if batch_id not in batches and batch_id not in refused:
                try:
                    released = serialization.releasable_batch(conn, org, batch_id, now)
                except BatchNotReleasedError as exc:
                    refused[batch_id] = str(exc)
                else:
                    batches[batch_id] = (released, str(batch["gtin"]))
            if batch_id in refused:
                problems.append(Problem(line, "lot_number", lot, refused[batch_id]))
                continue
            chosen.append((line, batch_id, int(batch["product_id"]), serial))
        return chosen, batches, problems

    def apply(
        self, conn: Connection, principal: Principal, now: dt.datetime, dry_run: bool
    ) -> dict[str, Any]:
        chosen, batches, problems = self._batches(conn, principal, now)
        problems += _repeated(chosen, batches)
        if problems:
            raise _invalid(problems)
        codes = generate_codes(len(chosen))
        store.stage(conn, [(*row, code) for row, code in zip(chosen, codes, strict=True)])
        problems = [
            Problem(line, "serial", serial, "this serial is already used for this GTIN")
            for line, serial in store.taken(conn)
        ]
        if problems:
            raise _invalid(problems)
        summary = {"allow_guessable": self.allow_guessable, "guessable": self.guessable}
        if dry_run:
            raise _DryRun({"batches": len(batches), "units": len(chosen)} | summary)
        made = [self._commission(conn, principal, now, b, *batches[b]) for b in sorted(batches)]
        try:
            inserted = store.insert_units(
                conn, organization_id=principal.organization_id, at=now, guessable=self.guessable
            )
        except IntegrityError as exc:
            raise ConflictError(
                "a serial of this file was imported meanwhile (or a new code collided); "
                "upload the file again"
            ) from exc
        if inserted != len(chosen):
            raise ConflictError("the units could not all be created; upload the file again")
        return {"batches": made, "units": inserted} | summary

    def _commission(
        self,
        conn: Connection,
        principal: Principal,
        now: dt.datetime,
        batch_id: int,
        batch: Batch,
        gtin: str,
    ) -> dict[str, Any]:
        """One commissioning event for the batch's staged serials, as commissioning writes
        it: its EPC list is every unit it created, rebuilt from the units when read."""
        serials = store.serials_of(conn, batch_id)
        lot = batch.lot_number
        expiry = {"itemExpirationDate": batch.expires_on.isoformat()} if batch.expires_on else {}
        draft = EventDraft(
            event_type=EventType.OBJECT,
            action=EventAction.ADD,
            biz_step=BizStep.COMMISSIONING,
            disposition=Disposition.ACTIVE,
            event_time=now,
            epcs=(),
            ilmd={"lotNumber": lot} | expiry,
        )
        recorded = eventlog.record(
            conn,
            principal,
            draft,
            record_time=now,
            members_prefix=epcis.unit_epc("", gtin),
            member_codes=serials,
            batch_id=batch_id,
            quantity=len(serials),
            details={"ilmd": {"lotNumber": lot}, "source": "csv import", "serials": "external"},
        )
        store.set_event(conn, batch_id, recorded.row_id)
        return {
            "lot_number": lot,
            "gtin": gtin,
            "quantity": len(serials),
            "event_id": recorded.event_id,
        }


def _repeated(
    chosen: list[tuple[int, int, int, str]], batches: dict[int, tuple[Batch, str]]
) -> list[Problem]:
    """Serials named twice for one product across the file's lots (a GTIN has one series)."""
    first: dict[tuple[int, str], int] = {}
    problems = []
    for line, batch_id, product_id, serial in chosen:
        earlier = first.setdefault((product_id, serial), line)
        if earlier != line:
            gtin = batches[batch_id][1] if batch_id in batches else ""
            problems.append(
                Problem(
                    line, "serial", serial, f"the same serial for GTIN {gtin} is on row {earlier}"
                )
            )
    return problems


def _invalid(problems: list[Problem]) -> _Invalid:
    problems.sort(key=lambda p: p.line or 0)
    return _Invalid(problems[:_KEPT_PROBLEMS], len(problems))
