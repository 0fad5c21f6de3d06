"""Products, batches, lab results and Certificates of Analysis."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy.exc import IntegrityError

from unitrace.domain.gs1 import InvalidGtinError, is_cset82, normalize_gtin
from unitrace.domain.labels import LabelTemplate, QrForm
from unitrace.domain.model import (
    CONTENT_UNITS,
    PRODUCT_CATEGORIES,
    Analyte,
    Batch,
    Document,
    LabStatus,
    Page,
    Panel,
    PanelResult,
    Principal,
    Product,
    Role,
)
from unitrace.errors import ConflictError, NotFoundError, ValidationError
from unitrace.services.access import require
from unitrace.services.runtime import Runtime
from unitrace.storage import catalog as store

CATEGORIES = PRODUCT_CATEGORIES
__all__ = ["CATEGORIES", "CONTENT_UNITS"]
ANALYTE_UNITS = ("%", "mg/g", "mg/unit", "mg/ml", "ppm")
MAX_PAGE = 500
COA_TYPES = {"application/pdf": b"%PDF-", "image/png": b"\x89PNG", "image/jpeg": b"\xff\xd8\xff"}


def check_page(limit: int, offset: int) -> tuple[int, int]:
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationError(f"limit must be between 1 and {MAX_PAGE}")
    if offset < 0:
        raise ValidationError("offset cannot be negative")
    return limit, offset


@dataclass(frozen=True)
class ProductDraft:
    name: str
    category: str
    strain: str | None = None
    net_content: Decimal | None = None
    net_content_unit: str | None = None
    gtin: str | None = None
    description: str = ""
    ingredients: str = ""
    warnings: str = ""
    image_url: str | None = None
    label_template: LabelTemplate = LabelTemplate.QR_ONLY
    qr_form: QrForm = QrForm.DIGITAL_LINK


def _choice(value: object, choices: type[LabelTemplate] | type[QrForm]) -> str | None:
    """The value of a label setting, or None when it is not one of ``choices``."""
    return value if isinstance(value, str) and value in {c.value for c in choices} else None


def clean_product(draft: ProductDraft) -> dict[str, object]:
    problems: list[dict[str, str]] = []

    def bad(field_name: str, message: str) -> None:
        problems.append({"field": field_name, "message": message})

    name = draft.name.strip()
    if not name:
        bad("name", "a product needs a name")
    elif len(name) > 200:
        bad("name", "a product name has at most 200 characters")
    if draft.category not in CATEGORIES:
        bad("category", f"'{draft.category}' is not a category; use one of {', '.join(CATEGORIES)}")
    gtin = None
    if draft.gtin and draft.gtin.strip():
        try:
            gtin = normalize_gtin(draft.gtin.strip())
        except InvalidGtinError as exc:
            bad("gtin", str(exc))
    if draft.net_content is not None:
        if draft.net_content <= 0:
            bad("net_content", "net content must be greater than zero")
        if draft.net_content_unit not in CONTENT_UNITS:
            bad("net_content_unit", f"use one of {', '.join(CONTENT_UNITS)}")
    if draft.image_url and not draft.image_url.startswith(("https://", "http://", "/")):
        bad("image_url", "an image URL starts with https://")
    template = _choice(draft.label_template, LabelTemplate)
    if template is None:
        bad("label_template", "choose qr_only or finished_goods")
    qr_form = _choice(draft.qr_form, QrForm)
    if qr_form is None:
        bad("qr_form", "choose digital_link or short_url")
    if problems:
        raise ValidationError("the product is not valid", details=problems)
    return {
        "name": name,
        "category": draft.category,
        "strain": (draft.strain or "").strip() or None,
        "net_content": draft.net_content,
        "net_content_unit": draft.net_content_unit if draft.net_content is not None else None,
        "gtin": gtin,
        "description": draft.description.strip(),
        "ingredients": draft.ingredients.strip(),
        "warnings": draft.warnings.strip(),
        "image_url": draft.image_url or None,
        "label_template": template,
        "qr_form": qr_form,
    }


def _product_conflict(values: dict[str, object], exc: IntegrityError) -> ConflictError:
    if values.get("gtin") and "gtin" in str(exc.orig).lower():
        return ConflictError(f"GTIN {values['gtin']} is already used by another product")
    return ConflictError(f"you already have a product named {values['name']!r}")


def create_product(rt: Runtime, principal: Principal, draft: ProductDraft) -> Product:
    """Define a sellable item (SKU) of the caller's brand."""
    require(principal, Role.OPERATOR)
    values = clean_product(draft)
    try:
        with rt.db.transaction() as conn:
            pid = store.insert_product(
                conn, organization_id=principal.organization_id, created_at=rt.clock(), **values
            )
            return store.get_product(conn, principal.organization_id, pid)
    except IntegrityError as exc:
        raise _product_conflict(values, exc) from exc


def update_product(
    rt: Runtime, principal: Principal, *, product_id: int, draft: ProductDraft
) -> Product:
    require(principal, Role.OPERATOR)
    values = clean_product(draft)
    try:
        with rt.db.transaction() as conn:
            store.update_product(conn, principal.organization_id, product_id, **values)
            return store.get_product(conn, principal.organization_id, product_id)
    except IntegrityError as exc:
        raise _product_conflict(values, exc) from exc


def get_product(rt: Runtime, principal: Principal, product_id: int) -> Product:
    with rt.db.read() as conn:
        return store.get_product(conn, principal.organization_id, product_id)


def list_products(
    rt: Runtime,
    principal: Principal,
    *,
    limit: int = 50,
    offset: int = 0,
    search: str | None = None,
) -> Page[Product]:
    limit, offset = check_page(limit, offset)
    with rt.db.read() as conn:
        items, total = store.list_products(
            conn, principal.organization_id, limit=limit, offset=offset, search=search
        )
    return Page(tuple(items), total, limit, offset)


@dataclass(frozen=True)
class LabResultsDraft:
    status: LabStatus
    lab_name: str | None = None
    tested_on: dt.date | None = None
    analytes: tuple[Analyte, ...] = ()
    panels: tuple[Panel, ...] = ()


@dataclass(frozen=True)
class BatchDraft:
    product_id: int
    lot_number: str
    produced_on: dt.date | None = None
    expires_on: dt.date | None = None
    source_batch_ids: tuple[int, ...] = ()
    lab: LabResultsDraft = field(default_factory=lambda: LabResultsDraft(LabStatus.PENDING))


def _check_lab(lab: LabResultsDraft, today: dt.date) -> list[dict[str, str]]:
    problems: list[dict[str, str]] = []

    def bad(field_name: str, message: str) -> None:
        problems.append({"field": field_name, "message": message})

    seen: set[tuple[str, str]] = set()
    for i, analyte in enumerate(lab.analytes):
        key = (analyte.kind.value, analyte.name.strip().lower())
        if not analyte.name.strip():
            bad(f"lab.analytes[{i}].name", "an analyte needs a name")
        if key in seen:
            bad(f"lab.analytes[{i}].name", f"{analyte.name} is listed twice")
        seen.add(key)
        if analyte.amount < 0:
            bad(f"lab.analytes[{i}].amount", "an amount cannot be negative")
        if analyte.unit not in ANALYTE_UNITS:
            bad(f"lab.analytes[{i}].unit", f"use one of {', '.join(ANALYTE_UNITS)}")
        if analyte.unit == "%" and analyte.amount > 100:
            bad(f"lab.analytes[{i}].amount", f"{analyte.amount}% is more than 100%")
    names = [p.name.strip().lower() for p in lab.panels]
    for i, panel in enumerate(lab.panels):
        if not panel.name.strip():
            bad(f"lab.panels[{i}].name", "a panel needs a name")
        elif names.count(panel.name.strip().lower()) > 1:
            bad(f"lab.panels[{i}].name", f"panel {panel.name} is listed twice")
    if lab.status is not LabStatus.PENDING:
        if not (lab.lab_name or "").strip():
            bad("lab.lab_name", "a tested batch names the lab that tested it")
        if lab.tested_on is None:
            bad("lab.tested_on", "a tested batch has a test date")
    if lab.tested_on and lab.tested_on > today:
        bad("lab.tested_on", "the test date is in the future")
    failed = [p.name for p in lab.panels if p.result is PanelResult.FAIL]
    if lab.status is LabStatus.PASSED and failed:
        bad("lab.status", f"a batch with failed panels ({', '.join(failed)}) cannot pass")
    return problems


def check_batch(draft: BatchDraft, today: dt.date) -> list[dict[str, str]]:
    problems = _check_lab(draft.lab, today)
    lot = draft.lot_number.strip()
    if not lot:
        problems.append({"field": "lot_number", "message": "a batch needs a lot number"})
    elif len(lot) > 20 or not is_cset82(lot):
        problems.append(
            {
                "field": "lot_number",
                "message": "a lot number has 1-20 characters from the GS1 set "
                "(letters, digits and !\"%&'()*+,-./:;<=>?_)",
            }
        )
    if draft.produced_on and draft.expires_on and draft.expires_on <= draft.produced_on:
        problems.append({"field": "expires_on", "message": "expiry must be after production"})
    if draft.produced_on and draft.produced_on > today:
        problems.append({"field": "produced_on", "message": "the production date is in the future"})
    return problems


def _lab_args(lab: LabResultsDraft) -> dict[str, object]:
    return {
        "status": lab.status,
        "lab_name": (lab.lab_name or "").strip() or None,
        "tested_on": lab.tested_on,
        "analytes": [Analyte(a.kind, a.name.strip(), a.amount, a.unit) for a in lab.analytes],
        "panels": [Panel(p.name.strip(), p.result, p.notes.strip()) for p in lab.panels],
    }


def create_batch(rt: Runtime, principal: Principal, draft: BatchDraft) -> Batch:
    """Record a production run of one of the caller's products, with its lab results."""
    require(principal, Role.OPERATOR)
    now = rt.clock()
    problems = check_batch(draft, now.date())
    if problems:
        raise ValidationError("the batch is not valid", details=problems)
    lot = draft.lot_number.strip()
    try:
        with rt.db.transaction() as conn:
            store.get_product(conn, principal.organization_id, draft.product_id)
            sources = tuple(dict.fromkeys(draft.source_batch_ids))
            missing = set(sources) - store.existing_batch_ids(
                conn, principal.organization_id, sources
            )
            if missing:
                raise ValidationError(
                    "source batches not found",
                    details=[
                        {"field": "source_batch_ids", "message": f"batch {m} not found"}
                        for m in sorted(missing)
                    ],
                )
            batch_id = store.insert_batch(
                conn,
                organization_id=principal.organization_id,
                product_id=draft.product_id,
                lot_number=lot,
                produced_on=draft.produced_on,
                expires_on=draft.expires_on,
                created_at=now,
            )
            store.insert_batch_sources(conn, batch_id, sources)
            store.replace_lab_results(conn, batch_id, **_lab_args(draft.lab))  # type: ignore[arg-type]
            return store.get_batch(conn, principal.organization_id, batch_id)
    except IntegrityError as exc:
        raise ConflictError(f"this product already has a batch with lot number {lot}") from exc


def record_lab_results(
    rt: Runtime, principal: Principal, *, batch_id: int, lab: LabResultsDraft
) -> Batch:
    """Replace a batch's lab results (a retest). Units already made keep their codes."""
    require(principal, Role.OPERATOR)
    problems = _check_lab(lab, rt.clock().date())
    if problems:
        raise ValidationError("the lab results are not valid", details=problems)
    with rt.db.transaction() as conn:
        store.lock_batch_row(conn, principal.organization_id, batch_id)
        store.replace_lab_results(conn, batch_id, **_lab_args(lab))  # type: ignore[arg-type]
        return store.get_batch(conn, principal.organization_id, batch_id)


def get_batch(rt: Runtime, principal: Principal, batch_id: int) -> Batch:
    with rt.db.read() as conn:
        return store.get_batch(conn, principal.organization_id, batch_id)


def list_batches(
    rt: Runtime,
    principal: Principal,
    *,
    limit: int = 50,
    offset: int = 0,
    product_id: int | None = None,
    lab_status: LabStatus | None = None,
) -> Page[Batch]:
    limit, offset = check_page(limit, offset)
    with rt.db.read() as conn:
        items, total = store.list_batches(
            conn,
            principal.organization_id,
            limit=limit,
            offset=offset,
            product_id=product_id,
            lab_status=lab_status,
        )
    return Page(tuple(items), total, limit, offset)


def _sniff(content: bytes, content_type: str) -> str:
    for known, magic in COA_TYPES.items():
        if content.startswith(magic):
            return known
    raise ValidationError(
        f"a COA must be a PDF, PNG or JPEG file (got {content_type or 'an unknown type'})"
    )


def attach_coa(
    rt: Runtime,
    principal: Principal,
    *,
    batch_id: int,
    filename: str,
    content_type: str,
    content: bytes,
) -> Batch:
    """Store a Certificate of Analysis file and link it to the batch (replacing any earlier one)."""
    require(principal, Role.OPERATOR)
    if not content:
        raise ValidationError("the COA file is empty")
    if len(content) > rt.settings.max_upload_bytes:
        raise ValidationError(
            f"the COA file is larger than the limit of {rt.settings.max_upload_bytes:,} bytes"
        )
    sniffed = _sniff(content, content_type)
    safe_name = "".join(c for c in filename if c.isprintable() and c not in '/\\"')[:200] or "coa"
    with rt.db.transaction() as conn:
        store.lock_batch_row(conn, principal.organization_id, batch_id)
        digest = rt.files.put(content)
        doc_id = store.insert_document(
            conn,
            organization_id=principal.organization_id,
            filename=safe_name,
            content_type=sniffed,
            sha256=digest,
            size=len(content),
            created_at=rt.clock(),
        )
        store.set_batch_coa(conn, batch_id, doc_id)
        return store.get_batch(conn, principal.organization_id, batch_id)


def read_coa(rt: Runtime, principal: Principal, *, batch_id: int) -> tuple[Document, bytes]:
    """The batch's COA document and its bytes."""
    batch = get_batch(rt, principal, batch_id)
    if batch.coa is None:
        raise NotFoundError(f"batch {batch_id} has no Certificate of Analysis")
    return batch.coa, rt.files.get(batch.coa.sha256)
