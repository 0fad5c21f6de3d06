"""Looking units up: by code (as typed or scanned) and as filtered lists."""

from __future__ import annotations

from unitrace.domain.codes import InvalidCodeError, normalize_code
from unitrace.domain.epcis import expand_event_id
from unitrace.domain.gs1 import build_digital_link
from unitrace.domain.model import Disposition, Page, Principal, UnitView
from unitrace.domain.scan import ScanError, ScanKind, parse_scan
from unitrace.errors import NotFoundError, ValidationError
from unitrace.services.catalog import check_page
from unitrace.services.runtime import Runtime
from unitrace.storage import units as store
from unitrace.storage.units import UnitRow


def _to_view(rt: Runtime, row: UnitRow) -> UnitView:
    unit, product_name, gtin, lot, location_name = row
    base = rt.settings.resolver_base_url
    return UnitView(
        unit=unit,
        product_name=product_name,
        gtin=gtin,
        lot_number=lot,
        location_name=location_name,
        short_url=f"{base}/{unit.code}",  # stored codes are canonical: nothing to check again
        digital_link=build_digital_link(base, gtin, lot=lot, serial=unit.printed) if gtin else None,
    )


def get_unit_by_scan(rt: Runtime, principal: Principal, raw: str) -> UnitView:
    """The unit behind raw scanner text (a code, a short URL, a Digital Link or GS1 element
    string, with the unit code or the serial its brand printed), if the caller owns or holds
    it; otherwise the same ``NotFoundError`` as for an unknown code. An SSCC or unreadable
    text is a ``ValidationError``."""
    try:
        scan = parse_scan(raw)
    except ScanError as exc:
        raise ValidationError(exc.message, details={"reason": exc.reason}) from exc
    if scan.kind is ScanKind.SSCC:
        raise ValidationError("this is a case or pallet code: look it up under containers")
    if scan.kind is ScanKind.CODE:
        try:
            return get_unit(rt, principal, scan.value)
        except NotFoundError:
            if scan.gtin is None or scan.serial is None:
                raise
            # a brand's serial that reads as a unit code: found under its GTIN
    serial = scan.value if scan.kind is ScanKind.SERIAL else str(scan.serial)
    with rt.db.read() as conn:
        row = store.find_unit_by_serial(conn, principal.organization_id, scan.gtin, serial)
    if row is None:
        raise NotFoundError(f"unit (01){scan.gtin}(21){serial} not found")
    return _to_view(rt, row)


def canonical_code(text: str) -> str:
    """A code as typed or scanned, in its stored form; a malformed one is a ValidationError."""
    try:
        return normalize_code(text)
    except InvalidCodeError as exc:
        raise ValidationError(str(exc), details={"reason": exc.reason}) from exc


def get_unit(rt: Runtime, principal: Principal, code: str) -> UnitView:
    """The unit with this code, if the caller's organization owns or holds it.

    The code is normalized first (case, hyphens, Crockford look-alikes). A malformed code
    is a validation error; a valid code that is unknown or belongs to someone else is
    the same ``NotFoundError``.
    """
    canonical = canonical_code(code)
    with rt.db.single_read() as conn:
        row = store.find_unit_by_code(conn, principal.organization_id, canonical)
    if row is None:
        raise NotFoundError(f"unit {canonical} not found")
    return _to_view(rt, row)


def list_units(
    rt: Runtime,
    principal: Principal,
    *,
    limit: int = 50,
    offset: int = 0,
    batch_id: int | None = None,
    product_id: int | None = None,
    disposition: Disposition | None = None,
    event_id: str | None = None,
    code_prefix: str | None = None,
) -> Page[UnitView]:
    """Units the caller owns or holds, newest last, with filters and pagination."""
    limit, offset = check_page(limit, offset)
    prefix = code_prefix.strip().upper() if code_prefix else None
    with rt.db.read() as conn:
        rows, total = store.list_units(
            conn,
            principal.organization_id,
            limit=limit,
            offset=offset,
            batch_id=batch_id,
            product_id=product_id,
            disposition=disposition,
            event_id=expand_event_id(event_id) if event_id else None,
            code_prefix=prefix,
        )
    return Page(tuple(_to_view(rt, r) for r in rows), total, limit, offset)
