"""Which units a label job covers, and what their labels say.

A ``LabelSelection`` names one batch (all of it or a range in commissioning order), a list
of codes, or a container; resolving it checks it against the database once and yields a
``ResolvedSelection``: the batch whose ``LabelFace`` every label shares, how many units, and
how to stream them again — set-wise (a ``UnitScope`` frozen at the highest unit id seen, so
units commissioned meanwhile are left out) or as the explicit codes, in the order given.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable
from contextlib import closing
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection

from unitrace.domain.codes import DATA_LENGTH, InvalidCodeError, check_character, normalize_code
from unitrace.domain.labels import LabelFace, LabelUnit, QrForm, qr_payload
from unitrace.domain.model import Batch, LabResults, Organization, Principal, Product
from unitrace.errors import NotFoundError, ValidationError
from unitrace.services.runtime import Runtime
from unitrace.storage import catalog as catalog_store
from unitrace.storage import labels as store
from unitrace.storage import orgs as org_store
from unitrace.storage.labels import UnitScope

MAX_CODES = 100_000  # an explicit list is for reprints and small runs; batches go set-wise
# Shown in a preview before the batch has units: a valid code, obviously not a real one.
SAMPLE_CODE = "0" * DATA_LENGTH + check_character("0" * DATA_LENGTH)


@dataclass(frozen=True)
class LabelSelection:
    """Which units to label — exactly one of: a batch (all its units, or ``first``/``count``
    in commissioning order, 1-based), an explicit list of ``codes``, or a container."""

    batch_id: int | None = None
    first: int | None = None
    count: int | None = None
    codes: tuple[str, ...] | None = None
    container_id: int | None = None

    def as_json(self) -> dict[str, Any]:
        """What a print job records (codes are counted: the job's units list them)."""
        if self.codes is not None:
            return {"codes": len(self.codes)}
        if self.container_id is not None:
            return {"container_id": self.container_id}
        picked = {"batch_id": self.batch_id, "first": self.first, "count": self.count}
        return {key: value for key, value in picked.items() if value is not None}


@dataclass(frozen=True)
class ResolvedSelection:
    """A selection checked against the database: its batch and how to read its units."""

    batch: Batch
    product: Product
    brand: Organization
    quantity: int
    scope: UnitScope | None = None  # set-wise selections
    codes: tuple[str, ...] = ()  # explicit codes, in the order given
    unit_ids: tuple[int, ...] = field(default=())
    serials: tuple[str | None, ...] = field(default=())  # of the codes: a brand's own serial


# --- selection ----------------------------------------------------------------------------


def _check_selection(selection: LabelSelection) -> None:
    chosen = [x is not None for x in (selection.batch_id, selection.codes, selection.container_id)]
    if sum(chosen) != 1:
        raise ValidationError(
            "choose exactly one of a batch, a list of codes or a container",
            details=[{"field": "selection", "message": "give batch_id, codes or container_id"}],
        )
    problems = []
    if selection.batch_id is None and (selection.first, selection.count) != (None, None):
        problems.append({"field": "first", "message": "first and count go with a batch"})
    for name in ("first", "count"):
        value = getattr(selection, name)
        if value is not None and value < 1:
            problems.append({"field": name, "message": f"{name} is 1 or more"})
    if selection.codes is not None and not 1 <= len(selection.codes) <= MAX_CODES:
        problems.append({"field": "codes", "message": f"give 1 to {MAX_CODES:,} codes"})
    if problems:
        raise ValidationError("the selection is not valid", details=problems)


def normalize_codes(raw: Iterable[str]) -> tuple[str, ...]:
    codes: dict[str, None] = {}  # de-duplicated, in the order given
    problems = []
    for i, text in enumerate(raw):
        try:
            codes[normalize_code(text)] = None
        except InvalidCodeError as exc:
            problems.append({"field": f"codes[{i}]", "message": f"{text!r}: {exc.message}"})
    if problems:
        raise ValidationError(f"{len(problems)} of the codes are not valid", details=problems)
    return tuple(codes)


def label_source(
    conn: Connection, organization_id: int, batch_id: int
) -> tuple[Batch, Product, Organization]:
    batch = catalog_store.get_batch(conn, organization_id, batch_id)
    product = catalog_store.get_product(conn, organization_id, batch.product_id)
    return batch, product, org_store.get_organization(conn, organization_id)


def _resolve_codes(conn: Connection, org: int, raw: tuple[str, ...]) -> ResolvedSelection:
    codes = normalize_codes(raw)
    found = store.find_units_by_codes(conn, org, codes)
    unknown = [c for c in codes if c not in found]
    if unknown:
        raise ValidationError(
            f"{len(unknown)} of the codes are not units of yours; nothing was printed",
            details=[{"field": "codes", "message": f"{c}: not found"} for c in unknown],
        )
    batch_ids = sorted({found[c][1] for c in codes})
    if len(batch_ids) > 1:
        raise ValidationError(
            "labels are printed one batch at a time; these codes belong to "
            f"{len(batch_ids)} batches ({', '.join(map(str, batch_ids))})",
            details=[{"field": "codes", "message": "give codes of one batch"}],
        )
    batch, product, brand = label_source(conn, org, batch_ids[0])
    ids = tuple(found[c][0] for c in codes)
    serials = tuple(found[c][2] for c in codes)
    return ResolvedSelection(
        batch, product, brand, len(codes), codes=codes, unit_ids=ids, serials=serials
    )


def _resolve_scope(conn: Connection, org: int, selection: LabelSelection) -> ResolvedSelection:
    if selection.container_id is not None:
        if not store.container_exists(conn, org, selection.container_id):
            raise NotFoundError(f"container {selection.container_id} not found")
        scope = UnitScope(org, container_id=selection.container_id)
    else:
        first = selection.first or 1
        scope = UnitScope(org, batch_id=selection.batch_id, offset=first - 1, limit=selection.count)
    quantity, max_id = store.measure_scope(conn, scope)
    if selection.batch_id is not None:
        batch_id = selection.batch_id
        batch, product, brand = label_source(conn, org, batch_id)
        _check_range(batch, selection)
    else:
        batch_ids = store.batches_of_scope(conn, scope) if quantity else []
        if len(batch_ids) != 1:
            what = "holds no units" if not batch_ids else "holds units of several batches"
            raise ValidationError(f"container {selection.container_id} {what}")
        batch, product, brand = label_source(conn, org, batch_ids[0])
    frozen = replace(scope, max_unit_id=max_id)
    return ResolvedSelection(batch, product, brand, quantity, scope=frozen)


def _check_range(batch: Batch, selection: LabelSelection) -> None:
    units, first = batch.unit_count, selection.first or 1
    if units == 0:
        raise ValidationError(f"batch {batch.lot_number} has no units yet; commission some first")
    if first > units:
        raise ValidationError(
            f"batch {batch.lot_number} has {units:,} units; there is no unit {first:,}",
            details=[{"field": "first", "message": f"at most {units:,}"}],
        )
    if selection.count is not None and first + selection.count - 1 > units:
        room = units - first + 1
        raise ValidationError(
            f"batch {batch.lot_number} has {units:,} units: {room:,} from unit {first:,} on",
            details=[{"field": "count", "message": f"at most {room:,} from unit {first:,}"}],
        )


def resolve_selection(
    rt: Runtime, principal: Principal, selection: LabelSelection
) -> ResolvedSelection:
    _check_selection(selection)
    with rt.db.read() as conn:
        if selection.codes is not None:
            return _resolve_codes(conn, principal.organization_id, selection.codes)
        return _resolve_scope(conn, principal.organization_id, selection)


def _iter_codes(
    rt: Runtime, resolved: ResolvedSelection
) -> Generator[tuple[str, str | None], None, None]:
    if resolved.scope is None:
        serials = resolved.serials or (None,) * len(resolved.codes)
        yield from zip(resolved.codes, serials, strict=True)
        return
    with rt.db.read() as conn:
        yield from store.iter_scope_codes(conn, resolved.scope)


# --- what is printed ----------------------------------------------------------------------


def _plain(amount: Decimal) -> str:
    return f"{amount.normalize():f}"


def _potency(label: str, lab: LabResults, name: str) -> str | None:
    for analyte in lab.analytes:
        if analyte.name.lower() == name:
            return f"{label} {_plain(analyte.amount)} {analyte.unit}"
    return None


def label_face(product: Product, batch: Batch, brand_name: str) -> LabelFace:
    """What every label of the batch shows besides its code."""
    net = None
    if product.net_content is not None:
        net = f"{_plain(product.net_content)} {product.net_content_unit or ''}".strip()
    return LabelFace(
        template=product.label_template,
        brand=brand_name,
        product_name=product.name,
        strain=product.strain,
        net_content=net,
        lot=batch.lot_number,
        packaged_on=batch.produced_on,
        expires_on=batch.expires_on,
        thc=_potency("THC", batch.lab, "total_thc"),
        cbd=_potency("CBD", batch.lab, "total_cbd"),
        warnings=product.warnings,
    )


def unit_maker(
    rt: Runtime, product: Product, batch: Batch
) -> Callable[[str, str | None], LabelUnit]:
    """Turns a stored code (and the serial its brand printed, if any) into its label unit:
    code and QR payload. A brand's own serial is always a Digital Link (the short URL is for
    unitrace codes only), its serial percent-encoded."""
    base = rt.settings.resolver_base_url
    form, gtin, lot = product.qr_form, product.gtin, batch.lot_number
    plain = _code_maker(base, form, gtin, lot)

    def make(code: str, serial: str | None = None) -> LabelUnit:
        if serial is None or gtin is None:
            return plain(code)
        link = qr_payload(base, serial, form=QrForm.DIGITAL_LINK, gtin=gtin, lot=lot)
        return LabelUnit(code, link, serial)

    return make


def _code_maker(base: str, form: QrForm, gtin: str | None, lot: str) -> Callable[[str], LabelUnit]:
    # The code is the last path segment of every payload of a batch, and stored codes are
    # [0-9A-Z] (nothing to escape): build the payload once and append each code, instead of
    # building and validating a Digital Link per label (80 % of the time of a ZPL job).
    sample = qr_payload(base, SAMPLE_CODE, form=form, gtin=gtin, lot=lot)
    prefix = sample.removesuffix(SAMPLE_CODE)
    if not prefix.endswith("/"):  # pragma: no cover - qr_payload would have changed shape
        return lambda code: LabelUnit(code, qr_payload(base, code, form=form, gtin=gtin, lot=lot))
    return lambda code: LabelUnit(code, prefix + code)


def iter_label_units(rt: Runtime, resolved: ResolvedSelection) -> Generator[LabelUnit, None, None]:
    """The selection's label units, streamed (close the generator to end its read)."""
    make = unit_maker(rt, resolved.product, resolved.batch)
    with closing(_iter_codes(rt, resolved)) as codes:
        for code, serial in codes:
            yield make(code, serial)
