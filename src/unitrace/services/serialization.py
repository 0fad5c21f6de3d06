"""Serialization: commissioning units of a batch, in bulk, exactly once."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterator

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from unitrace.domain import epcis
from unitrace.domain.codes import generate_codes
from unitrace.domain.epcis import EventDraft
from unitrace.domain.model import (
    Batch,
    BizStep,
    Commissioning,
    Disposition,
    EventAction,
    EventType,
    Principal,
    Role,
)
from unitrace.errors import (
    BatchNotReleasedError,
    ConflictError,
    IdempotencyKeyReusedError,
    NotFoundError,
    ValidationError,
)
from unitrace.services import eventlog
from unitrace.services.access import require
from unitrace.services.runtime import Runtime
from unitrace.storage import catalog, events, idempotency
from unitrace.storage import orgs as org_store
from unitrace.storage import units as unit_store

Progress = Callable[[int, int], None]
CHUNK = 50_000  # units per INSERT statement: bounds memory, drives progress
OPERATION = "commission_units"
COLLISION_ATTEMPTS = 3


class CodeCollision(Exception):  # noqa: N818 - internal signal, never escapes
    """A generated code already exists; the whole commissioning is retried."""


MAX_KEY_LENGTH = 200


def _request_hash(batch_id: int, quantity: int, location_id: int | None) -> str:
    body = json.dumps({"batch_id": batch_id, "quantity": quantity, "location_id": location_id})
    return hashlib.sha256(body.encode()).hexdigest()


def _to_json(result: Commissioning) -> str:
    return json.dumps(
        {
            "event_id": result.event_id,
            "batch_id": result.batch_id,
            "product_id": result.product_id,
            "lot_number": result.lot_number,
            "quantity": result.quantity,
            "commissioned_at": result.commissioned_at.isoformat(),
        }
    )


def _from_json(body: str) -> Commissioning:
    data = json.loads(body)
    data["commissioned_at"] = dt.datetime.fromisoformat(data["commissioned_at"])
    return Commissioning(**data, replayed=True)


def _replay(stored: tuple[str, str, str], request_hash: str, key: str) -> Commissioning:
    operation, stored_hash, response = stored
    if operation != OPERATION or stored_hash != request_hash:
        raise IdempotencyKeyReusedError(
            f"idempotency key {key!r} was already used for a different request"
        )
    return _from_json(response)


def commission_units(
    rt: Runtime,
    principal: Principal,
    *,
    batch_id: int,
    quantity: int,
    location_id: int | None = None,
    idempotency_key: str | None = None,
    progress: Progress | None = None,
) -> Commissioning:
    """Give ``quantity`` new units of a released batch their codes, in one transaction.

    Codes come from ``secrets`` (65 random bits each). The whole request is one
    transaction: on any error nothing is created. With an ``idempotency_key``, a retry of
    the same request returns the original result (``replayed=True``) and creates nothing;
    the same key with a different request is refused.
    """
    require(principal, Role.OPERATOR)
    limit = rt.settings.max_commission_quantity
    if not 1 <= quantity <= limit:
        raise ValidationError(f"quantity must be between 1 and {limit:,}; got {quantity:,}")
    if idempotency_key is not None and not 1 <= len(idempotency_key) <= MAX_KEY_LENGTH:
        raise ValidationError(f"an idempotency key has 1 to {MAX_KEY_LENGTH} characters")
    request_hash = _request_hash(batch_id, quantity, location_id)
    for _attempt in range(COLLISION_ATTEMPTS):
        try:
            return _commission(
                rt,
                principal,
                batch_id,
                quantity,
                location_id,
                idempotency_key,
                request_hash,
                progress,
            )
        except CodeCollision:
            continue
        except IntegrityError as exc:
            return _after_integrity_error(rt, principal, idempotency_key, request_hash, exc)
    raise ConflictError("could not find unused codes; try again")


def _after_integrity_error(
    rt: Runtime,
    principal: Principal,
    idempotency_key: str | None,
    request_hash: str,
    exc: IntegrityError,
) -> Commissioning:
    """A concurrent request with the same key committed first: answer with its result."""
    if idempotency_key is None:
        raise exc
    with rt.db.read() as conn:
        stored = idempotency.find_idempotency_key(conn, principal.organization_id, idempotency_key)
    if stored is None:
        raise exc
    return _replay(stored, request_hash, idempotency_key)


def _commission(
    rt: Runtime,
    principal: Principal,
    batch_id: int,
    quantity: int,
    location_id: int | None,
    key: str | None,
    request_hash: str,
    progress: Progress | None,
) -> Commissioning:
    org = principal.organization_id
    with rt.db.transaction() as conn:
        now = rt.clock()
        if key is not None:
            stored = idempotency.find_idempotency_key(conn, org, key)
            if stored is not None:
                return _replay(stored, request_hash, key)
            idempotency.insert_idempotency_key(
                conn,
                organization_id=org,
                key=key,
                operation=OPERATION,
                request_hash=request_hash,
                created_at=now,
            )
        result = commission_in(conn, principal, batch_id, quantity, location_id, now, progress)
        if key is not None:
            idempotency.store_idempotent_response(conn, org, key, _to_json(result))
        return result


def releasable_batch(
    conn: Connection, organization_id: int, batch_id: int, now: dt.datetime
) -> Batch:
    """The organization's batch, locked, if it may take new units: it passed testing and has
    not expired. Raises :class:`BatchNotReleasedError` (``NotFoundError`` for none)."""
    catalog.lock_batch_row(conn, organization_id, batch_id)
    batch = catalog.get_batch(conn, organization_id, batch_id)
    if not batch.released:
        raise BatchNotReleasedError(
            f"batch {batch.lot_number} has lab status '{batch.lab.status.value}'; "
            "only a batch that passed testing can be serialized"
        )
    if batch.expires_on is not None and batch.expires_on < now.date():
        raise BatchNotReleasedError(f"batch {batch.lot_number} expired on {batch.expires_on}")
    return batch


def commission_in(
    conn: Connection,
    principal: Principal,
    batch_id: int,
    quantity: int,
    location_id: int | None,
    now: dt.datetime,
    progress: Progress | None = None,
) -> Commissioning:
    """Commission ``quantity`` units of a released batch inside the caller's transaction:
    one event, then the units in chunks of one multi-row INSERT each. Raises
    :class:`BatchNotReleasedError`, and ``CodeCollision`` in the (65-bit) event that a new
    code already exists — the caller rolls back and tries again."""
    org = principal.organization_id
    batch = releasable_batch(conn, org, batch_id, now)
    product = catalog.get_product(conn, org, batch.product_id)
    codes = generate_codes(quantity)
    prefix = epcis.unit_epc("", product.gtin)
    where = (
        epcis.location_uri(location_id, org_store.get_location(conn, org, location_id).gln)
        if location_id is not None
        else None
    )
    draft = EventDraft(
        event_type=EventType.OBJECT,
        action=EventAction.ADD,
        biz_step=BizStep.COMMISSIONING,
        disposition=Disposition.ACTIVE,
        event_time=now,
        epcs=(),  # every unit it creates: hashed from member_codes, never listed twice
        read_point=where,
        biz_location=where,
        ilmd={"lotNumber": batch.lot_number}
        | ({"itemExpirationDate": batch.expires_on.isoformat()} if batch.expires_on else {}),
    )
    recorded = eventlog.record(
        conn,
        principal,
        draft,
        record_time=now,
        members_prefix=prefix,
        member_codes=codes,
        read_point_id=location_id,
        biz_location_id=location_id,
        batch_id=batch_id,
        quantity=quantity,
        details={"ilmd": {"lotNumber": batch.lot_number}},
    )
    event_id = recorded.event_id
    done = 0
    for start in range(0, quantity, CHUNK):
        chunk = codes[start : start + CHUNK]
        inserted = unit_store.insert_commissioned_units(
            conn,
            chunk,
            organization_id=org,
            product_id=batch.product_id,
            batch_id=batch_id,
            location_id=location_id,
            event_row_id=recorded.row_id,
            disposition=Disposition.ACTIVE,
            at=now,
        )
        if inserted != len(chunk):
            # A code already exists: the event already names the codes, so start over
            # with fresh ones (65 random bits each: this essentially never happens).
            raise CodeCollision
        done += inserted
        if progress is not None:
            progress(done, quantity)
    return Commissioning(
        event_id=event_id,
        batch_id=batch_id,
        product_id=batch.product_id,
        lot_number=batch.lot_number,
        quantity=quantity,
        commissioned_at=now,
    )


def iter_commissioned_codes(rt: Runtime, principal: Principal, *, event_id: str) -> Iterator[str]:
    """Stream the codes one commissioning created (for CSV, labels or a --json listing).

    An unknown commissioning, or another organization's, raises ``NotFoundError`` right
    away, before the first code is asked for.
    """
    event_id = epcis.expand_event_id(event_id)
    with rt.db.read() as conn:
        row = events.find_event_row(conn, event_id)
    if row is None or row["organization_id"] != principal.organization_id:
        raise NotFoundError(f"commissioning {event_id} not found")
    return _stream_codes(rt, row["batch_id"], row["id"])


def _stream_codes(rt: Runtime, batch_id: int, event_row_id: int) -> Iterator[str]:
    with rt.db.read() as conn:
        yield from unit_store.iter_codes_of_event(conn, batch_id, event_row_id)
