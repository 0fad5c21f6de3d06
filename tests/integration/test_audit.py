"""Verifying an organization's event hash chain, and finding where tampering broke it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Connection, select, text
from sqlalchemy.exc import DBAPIError

from tests.factories import as_role, make_batch, make_org
from unitrace.adapters.clock import FixedClock
from unitrace.domain import epcis
from unitrace.domain.epcis import EventDraft
from unitrace.domain.model import (
    BizStep,
    Disposition,
    EventAction,
    EventType,
    OrganizationKind,
    Principal,
    Role,
)
from unitrace.errors import NotFoundError, PermissionDeniedError
from unitrace.services import audit, eventlog, serialization
from unitrace.services.audit import BreakReason
from unitrace.services.runtime import Runtime
from unitrace.storage import events as event_store
from unitrace.storage.schema import events, units


def _commission(rt: Runtime, principal: Principal, quantity: int = 3) -> str:
    batch = make_batch(rt, principal)
    return serialization.commission_units(
        rt, principal, batch_id=batch.id, quantity=quantity
    ).event_id


def _record(rt: Runtime, principal: Principal, step: BizStep = BizStep.HOLDING) -> int:
    """Record one event on every unit of the organization, straight through the event log."""
    with rt.db.transaction() as conn:
        codes = conn.execute(
            select(units.c.code).where(units.c.organization_id == principal.organization_id)
        ).scalars()
        draft = EventDraft(
            event_type=EventType.OBJECT,
            action=EventAction.OBSERVE,
            biz_step=step,
            disposition=Disposition.NON_SELLABLE_OTHER,
            event_time=rt.clock(),
            epcs=[epcis.unit_epc(code, None) for code in codes],
        )
        recorded = eventlog.record(
            conn,
            principal,
            draft,
            record_time=rt.clock(),
            unit_ids=select(units.c.id).where(units.c.organization_id == principal.organization_id),
        )
    return recorded.row_id


def _declare_error(rt: Runtime, principal: Principal, row_id: int) -> None:
    with rt.db.transaction() as conn:
        original = event_store.get_event_row(conn, principal.organization_id, row_id)
        assert original is not None
        declaration = epcis.error_declaration(rt.clock(), "incorrect_data", [])
        eventlog.declare_error(conn, principal, original, declaration, record_time=rt.clock())


def _chain(rt: Runtime, principal: Principal, clock: FixedClock) -> list[int]:
    """Six chained events: two commissionings, three recorded events, one error declaration."""
    _commission(rt, principal)
    clock.advance(minutes=1)
    held = _record(rt, principal)
    clock.advance(minutes=1)
    _commission(rt, principal, 2)
    _record(rt, principal, BizStep.INSPECTING)
    clock.advance(seconds=1)
    _declare_error(rt, principal, held)
    _record(rt, principal, BizStep.STOCKING)
    with rt.db.read() as conn:
        rows = event_store.chain_rows(conn, principal.organization_id)
        return [int(r["id"]) for r in rows]


@contextmanager
def _tampering(rt: Runtime) -> Iterator[Connection]:
    """A connection that bypasses the append-only triggers, as an attacker with DDL rights."""
    with rt.db.transaction() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE events DISABLE TRIGGER USER"))
            yield conn
            conn.execute(text("ALTER TABLE events ENABLE TRIGGER USER"))
        else:
            conn.execute(text("DROP TRIGGER events_no_update"))
            conn.execute(text("DROP TRIGGER events_no_delete"))
            yield conn


@pytest.fixture
def brand(rt: Runtime) -> Principal:
    return make_org(rt)


def test_an_untouched_chain_of_commissionings_events_and_a_declaration_verifies(
    rt: Runtime, brand: Principal, clock: FixedClock
) -> None:
    rows = _chain(rt, brand, clock)

    report = audit.verify_chain(rt, brand)

    assert len(rows) == 6
    assert report.ok, report.broken
    assert (report.checked, report.head_seq, report.unchained) == (6, 6, 0)
    assert report.organization_id == brand.organization_id


def test_an_organization_without_events_has_an_intact_empty_chain(
    rt: Runtime, brand: Principal
) -> None:
    report = audit.verify_chain(rt, brand)

    assert report.ok
    assert (report.checked, report.head_seq, report.head_hash) == (0, 0, epcis.GENESIS)


def test_any_role_may_verify_its_own_organizations_chain(
    rt: Runtime, brand: Principal, clock: FixedClock
) -> None:
    _chain(rt, brand, clock)

    assert audit.verify_chain(rt, as_role(brand, Role.VIEWER)).checked == 6


def test_an_edited_biz_step_is_an_event_hash_mismatch_at_that_seq(
    rt: Runtime, brand: Principal, clock: FixedClock
) -> None:
    rows = _chain(rt, brand, clock)
    with _tampering(rt) as conn:
        conn.execute(events.update().where(events.c.id == rows[3]).values(biz_step="shipping"))

    report = audit.verify_chain(rt, brand)

    assert not report.ok
    assert report.broken is not None
    assert (report.broken.seq, report.broken.reason) == (4, BreakReason.EVENT_HASH_MISMATCH)
    assert report.broken.row_id == rows[3]
    assert report.checked == 3


@pytest.mark.parametrize(("seq", "field"), [(1, "disposition"), (2, "bizStep"), (5, "eventTime")])
def test_an_edited_document_is_an_event_hash_mismatch_at_that_seq(
    rt: Runtime, brand: Principal, clock: FixedClock, seq: int, field: str
) -> None:
    rows = _chain(rt, brand, clock)
    with _tampering(rt) as conn:
        document = conn.execute(select(events.c.document).where(events.c.id == rows[seq - 1]))
        edited = document.scalar_one().replace(f'"{field}":"', f'"{field}":"x')
        conn.execute(events.update().where(events.c.id == rows[seq - 1]).values(document=edited))

    broken = audit.verify_chain(rt, brand).broken

    assert broken is not None
    assert (broken.seq, broken.reason) == (seq, BreakReason.EVENT_HASH_MISMATCH)


def test_an_event_removed_from_the_middle_is_a_seq_gap_at_its_seq(
    rt: Runtime, brand: Principal, clock: FixedClock
) -> None:
    rows = _chain(rt, brand, clock)
    with _tampering(rt) as conn:
        conn.execute(events.delete().where(events.c.id == rows[2]))

    report = audit.verify_chain(rt, brand)

    assert report.broken is not None
    assert (report.broken.seq, report.broken.reason) == (3, BreakReason.SEQ_GAP)
    assert report.broken.row_id == rows[3]  # found at the event after the gap
    assert report.checked == 2


def test_removing_the_newest_event_is_a_head_mismatch(
    rt: Runtime, brand: Principal, clock: FixedClock
) -> None:
    rows = _chain(rt, brand, clock)
    with _tampering(rt) as conn:
        conn.execute(events.delete().where(events.c.id == rows[-1]))

    report = audit.verify_chain(rt, brand)

    assert report.broken is not None
    assert (report.broken.seq, report.broken.reason) == (6, BreakReason.HEAD_MISMATCH)
    assert report.checked == 5


def test_two_events_with_swapped_seq_are_a_link_mismatch_at_the_first(
    rt: Runtime, brand: Principal, clock: FixedClock
) -> None:
    rows = _chain(rt, brand, clock)
    with _tampering(rt) as conn:  # through a free seq: (organization_id, seq) is unique
        conn.execute(events.update().where(events.c.id == rows[1]).values(seq=-1))
        conn.execute(events.update().where(events.c.id == rows[3]).values(seq=2))
        conn.execute(events.update().where(events.c.id == rows[1]).values(seq=4))

    broken = audit.verify_chain(rt, brand).broken

    assert broken is not None
    assert (broken.seq, broken.reason, broken.row_id) == (2, BreakReason.LINK_MISMATCH, rows[3])


def test_an_edited_record_time_is_a_link_mismatch_at_that_seq(
    rt: Runtime, brand: Principal, clock: FixedClock
) -> None:
    rows = _chain(rt, brand, clock)
    with _tampering(rt) as conn:
        row = event_store.get_event_row(conn, brand.organization_id, rows[1])
        assert row is not None
        conn.execute(
            events.update()
            .where(events.c.id == rows[1])
            .values(record_time=row["record_time"] + dt.timedelta(seconds=5))
        )

    broken = audit.verify_chain(rt, brand).broken

    assert broken is not None
    assert (broken.seq, broken.reason) == (2, BreakReason.LINK_MISMATCH)


def test_another_brand_may_not_verify_someone_elses_chain(rt: Runtime, brand: Principal) -> None:
    other = make_org(rt)

    with pytest.raises(PermissionDeniedError):
        audit.verify_chain(rt, other, brand.organization_id)


def test_a_regulator_may_verify_any_organizations_chain(
    rt: Runtime, brand: Principal, clock: FixedClock
) -> None:
    _chain(rt, brand, clock)
    regulator = as_role(make_org(rt, kind=OrganizationKind.REGULATOR), Role.VIEWER)

    report = audit.verify_chain(rt, regulator, brand.organization_id)

    assert report.ok
    assert (report.organization_id, report.checked) == (brand.organization_id, 6)
    with pytest.raises(NotFoundError):
        audit.verify_chain(rt, regulator, 999_999)


@pytest.mark.parametrize("statement", ["UPDATE {t} SET {c} = {c}", "DELETE FROM {t}"])
@pytest.mark.parametrize(
    ("table", "column"),
    [("events", "biz_step"), ("event_units", "unit_id"), ("event_containers", "container_id")],
)
def test_the_log_refuses_updates_and_deletes(
    rt: Runtime, brand: Principal, clock: FixedClock, statement: str, table: str, column: str
) -> None:
    _chain(rt, brand, clock)
    with rt.db.transaction() as conn:
        conn.execute(
            text("INSERT INTO event_containers (container_id, event_row_id) VALUES (1, 1)")
        )

    with pytest.raises(DBAPIError, match="append-only"), rt.db.transaction() as conn:
        conn.execute(text(statement.format(t=table, c=column)))

    assert audit.verify_chain(rt, brand).ok
