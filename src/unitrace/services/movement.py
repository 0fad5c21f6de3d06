"""What the supply-chain services share: scans to items, refusals, idempotent replays."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from unitrace.domain import epcis
from unitrace.domain.lifecycle import MESSAGES
from unitrace.domain.model import Disposition, OrganizationKind, Principal
from unitrace.domain.scan import Scan, ScanError, ScanKind, parse_scan
from unitrace.errors import (
    IdempotencyKeyReusedError,
    NotFoundError,
    OperationRefusedError,
    ValidationError,
)
from unitrace.services.runtime import Runtime
from unitrace.storage import idempotency, supply
from unitrace.storage import orgs as org_store
from unitrace.storage.supply import Item

MAX_ITEMS = 10_000  # codes one request may name (a pallet counts as one)
MAX_KEY_LENGTH = 200
T = TypeVar("T")


@dataclass(frozen=True)
class Refusal:
    code: str
    reason: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "reason": self.reason, "message": self.message}


def refuse(what: str, refusals: Sequence[Refusal], more: int = 0) -> OperationRefusedError:
    first = refusals[0]
    head = f"{first.code}: {first.message}"
    rest = len(refusals) - 1 + more
    suffix = f" (and {rest} more)" if rest else ""
    return OperationRefusedError(
        f"cannot {what}: {head}{suffix}", details=[r.as_dict() for r in refusals]
    )


def scan_key(scan: Scan) -> str:
    """The key a scan is looked up by: the unit code, ``sscc:<digits>``, or
    ``serial:<gtin>:<serial>`` for a serial its brand generated (see :func:`lookup`)."""
    if scan.kind is ScanKind.SSCC:
        return f"sscc:{scan.value}"
    if scan.kind is ScanKind.SERIAL:
        return f"serial:{scan.gtin}:{scan.value}"
    return scan.value


class Keys:
    """Keys for the scans of one request or file, in order: :func:`scan_key`, except that a
    code read under a GTIN that an earlier scan read the same code under another GTIN is
    keyed as that GTIN's serial. A brand's serial may read as a unit code, and two brands'
    products may share a serial; neither scan may then stand for the other."""

    def __init__(self) -> None:
        self._gtin: dict[str, str] = {}

    def __call__(self, scan: Scan) -> str:
        key = scan_key(scan)
        if scan.kind is not ScanKind.CODE or scan.gtin is None or scan.serial is None:
            return key
        return self.named(key, scan.gtin, scan.serial)

    def named(self, code: str, gtin: str, serial: str) -> str:
        """The key of ``code``, read from ``serial`` under ``gtin``."""
        first = self._gtin.setdefault(code, gtin)
        return code if first == gtin else f"serial:{gtin}:{serial}"


def shown_key(key: str) -> str:
    """A key as people know it: the code, the SSCC, or ``(01)<gtin>(21)<serial>``."""
    if key.startswith("serial:"):
        return f"(01){key[7:21]}(21){key[22:]}"
    return key.removeprefix("sscc:")


def not_found(missing: Sequence[str], raw: Mapping[str, str]) -> NotFoundError:
    """The 404 for the ``missing`` keys, each shown as scanned (``raw`` by key): a code read
    from a serial under a GTIN is shown as that serial under its GTIN (see :func:`as_scanned`)."""
    shown = [as_scanned(key, raw.get(key)) for key in missing]
    more = f" and {len(shown) - 5} more" if len(shown) > 5 else ""
    return NotFoundError(
        f"not found: {', '.join(shown[:5])}{more}", details=[{"code": s} for s in shown]
    )


def as_scanned(key: str, raw: str | None) -> str:
    """:func:`shown_key`, but a code its ``raw`` scan read from a serial under a GTIN (a
    unit's label or its brand's serial, then) as scanned: ``(01)<gtin>(21)<serial>``."""
    if raw is not None and not key.startswith(("sscc:", "serial:")):
        try:
            scan = parse_scan(raw)
        except ScanError:
            return key
        if scan.gtin is not None and scan.serial is not None:
            return f"(01){scan.gtin}(21){scan.serial}"
    return shown_key(key)


def parse_codes(raw: Iterable[str]) -> list[tuple[str, str]]:
    """``(raw, canonical)`` for every scan; any unreadable scan is a ValidationError naming it.

    Codes come as a scanner sends them: a bare code, a short URL, a GS1 Digital Link, an
    SSCC, any case, with whitespace around. A code named twice counts once.
    """
    out: list[tuple[str, str]] = []
    problems: list[dict[str, str]] = []
    seen: set[str] = set()
    keys = Keys()
    for index, text in enumerate(raw):
        try:
            scan = parse_scan(text)
        except ScanError as exc:
            problems.append({"index": str(index), "reason": exc.reason, "message": exc.message})
            continue
        key = keys(scan)
        if key not in seen:
            seen.add(key)
            out.append((scan.raw, key))
    if problems:
        first = problems[0]
        raise ValidationError(
            f"scan {int(first['index']) + 1} is not readable: {first['message']}",
            details=problems,
        )
    if len(out) > MAX_ITEMS:
        raise ValidationError(f"at most {MAX_ITEMS:,} codes per request; got {len(out):,}")
    return out


def lookup(
    conn: Connection, keys: Sequence[str], raw: Mapping[str, str] | None = None
) -> dict[str, Item]:
    """Items by canonical code, ``sscc:<digits>`` or ``serial:<gtin>:<serial>``, regardless
    of owner; every serial in one query. With the scans' ``raw`` text by key, a code no unit
    has that came as a Digital Link or element string is tried as its brand's serial too (a
    brand's serial may read as a unit code): one more query for all of them."""
    codes = [k for k in keys if not k.startswith(("sscc:", "serial:"))]
    found = supply.find_items(conn, codes)
    serials = {(k[7:21], k[22:]): k for k in keys if k.startswith("serial:")}
    for pair, unit in supply.find_units_by_serial(conn, serials).items():
        found[serials[pair]] = unit
    for key in keys:
        if key.startswith("sscc:"):
            item = supply.find_container_by_sscc(conn, key.removeprefix("sscc:"))
            if item is not None:
                found[key] = item
    if raw:
        _as_brand_serials(conn, [k for k in keys if k not in found], raw, found)
    return found


def _as_brand_serials(
    conn: Connection, keys: Sequence[str], raw: Mapping[str, str], found: dict[str, Item]
) -> None:
    retry: dict[tuple[str, str], str] = {}
    for key in keys:
        text = raw.get(key)
        if text is None or key.startswith(("sscc:", "serial:")):
            continue
        try:
            scan = parse_scan(text)
        except ScanError:
            continue
        if scan.gtin is not None and scan.serial is not None:
            retry[(scan.gtin, scan.serial)] = key
    for pair, unit in supply.find_units_by_serial(conn, retry).items():
        found[retry[pair]] = unit


def raw_by_key(parsed: Iterable[tuple[str, str | None]]) -> dict[str, str]:
    """``{key: raw scan}`` of ``(raw, key)`` pairs, for :func:`lookup`."""
    return {key: text for text, key in parsed if key is not None}


def visible(item: Item, organization_id: int) -> bool:
    return organization_id in (item.organization_id, item.custodian_organization_id)


def resolve(conn: Connection, principal: Principal, raw: Iterable[str]) -> list[Item]:
    """The caller's items named by ``raw`` scans; unknown and foreign codes are the same 404."""
    parsed = parse_codes(raw)
    if not parsed:
        raise ValidationError("name at least one code")
    raw_of = raw_by_key(parsed)
    found = lookup(conn, [key for _, key in parsed], raw_of)
    missing = [
        key
        for _, key in parsed
        if key not in found or not visible(found[key], principal.organization_id)
    ]
    if missing:
        raise not_found(missing, raw_of)
    return [found[key] for _, key in parsed]


def codes_of(
    conn: Connection, keys: Sequence[str], raw: Mapping[str, str] | None = None
) -> list[str]:
    """``keys`` with every ``serial:`` key replaced by its unit's code (kept when unknown),
    for the queries that take codes; with ``raw`` (scans by key), also a code no unit has
    that its scan names as a brand's serial (see :func:`lookup`)."""
    asked = [k for k in keys if k.startswith("serial:") or (raw and k in raw)]
    if not asked:
        return list(keys)
    found = lookup(conn, asked, raw)
    return [found[k].code if k in found else k for k in keys]


def epc_of(item: Item) -> str:
    if item.kind == "unit":
        return epcis.unit_epc(item.printed, item.gtin)
    return epcis.container_epc(item.code, item.sscc)


def organization_kind(conn: Connection, organization_id: int) -> OrganizationKind:
    return org_store.get_organization(conn, organization_id).kind


def location_of(conn: Connection, organization_id: int, location_id: int | None) -> str | None:
    """The EPCIS URI of one of the organization's locations (404 for anyone else's)."""
    if location_id is None:
        return None
    location = org_store.get_location(conn, organization_id, location_id)
    return epcis.location_uri(location.id, location.gln)


def reason_message(reason: str) -> str:
    return MESSAGES.get(reason, reason.replace("_", " "))


def disposition(item: Item) -> Disposition:
    return Disposition(item.disposition)


# ---------------------------------------------------------------------------------------
# Idempotency


def request_hash(body: object) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def check_key(key: str | None) -> None:
    if key is not None and not 1 <= len(key) <= MAX_KEY_LENGTH:
        raise ValidationError(f"an idempotency key has 1 to {MAX_KEY_LENGTH} characters")


def claim_or_replay(
    conn: Connection,
    principal: Principal,
    key: str | None,
    operation: str,
    body_hash: str,
    now: dt.datetime,
) -> dict[str, Any] | None:
    """Inside the write transaction: the stored answer of an earlier identical request, or
    None after claiming ``key`` for this one (a concurrent twin then waits or fails)."""
    if key is None:
        return None
    stored = idempotency.find_idempotency_key(conn, principal.organization_id, key)
    if stored is not None:
        return _replayed(stored, operation, body_hash, key)
    idempotency.insert_idempotency_key(
        conn,
        organization_id=principal.organization_id,
        key=key,
        operation=operation,
        request_hash=body_hash,
        created_at=now,
    )
    return None


def _replayed(
    stored: tuple[str, str, str], operation: str, body_hash: str, key: str
) -> dict[str, Any]:
    stored_operation, stored_hash, response = stored
    if stored_operation != operation or stored_hash != body_hash:
        raise IdempotencyKeyReusedError(
            f"idempotency key {key!r} was already used for a different request"
        )
    answer: dict[str, Any] = json.loads(response)
    return answer


def store_answer(
    conn: Connection, principal: Principal, key: str | None, answer: dict[str, Any]
) -> None:
    if key is not None:
        idempotency.store_idempotent_response(
            conn, principal.organization_id, key, json.dumps(answer, default=str)
        )


def idempotent(
    rt: Runtime,
    principal: Principal,
    key: str | None,
    operation: str,
    body_hash: str,
    run: Callable[[], T],
) -> T:
    """Run ``run``; if a concurrent twin with the same key committed first, the caller's
    retry (inside ``run``) replays its answer: here that is one more attempt."""
    try:
        return run()
    except IntegrityError:
        if key is None:
            raise
        with rt.db.read() as conn:
            stored = idempotency.find_idempotency_key(conn, principal.organization_id, key)
        if stored is None:
            raise
        return run()
