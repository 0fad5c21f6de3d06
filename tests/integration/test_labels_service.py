"""Labels through the service: selections, outputs, the scan check, print jobs and reprints."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from decimal import Decimal
from typing import Any

import pypdfium2
import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import insert, text, update
from sqlalchemy.exc import IntegrityError

from tests.factories import as_role, make_batch, make_org, make_product
from unitrace.adapters.clock import FixedClock
from unitrace.adapters.preflight import PreflightFailure, PreflightReport
from unitrace.domain.codes import format_code
from unitrace.domain.gs1 import build_digital_link, short_link
from unitrace.domain.labels import LabelTemplate, QrForm
from unitrace.domain.model import (
    Batch,
    CheckStatus,
    LabelFormat,
    Principal,
    PrintJob,
    Product,
    Role,
)
from unitrace.errors import (
    NotFoundError,
    PermissionDeniedError,
    PreflightFailedError,
    ValidationError,
)
from unitrace.services import catalog, labels, serialization, units
from unitrace.services.labels import SAMPLE_CODE, LabelOptions, LabelSelection
from unitrace.services.runtime import Runtime
from unitrace.storage import migrate
from unitrace.storage.engine import Database
from unitrace.storage.schema import containers
from unitrace.storage.schema import units as units_table

GTIN = "09506000134352"
BASE = "https://id.example.test"


@pytest.fixture
def brand(rt: Runtime) -> Principal:
    return make_org(rt, name="Sunrise Farms")


def serialized(
    rt: Runtime, brand: Principal, quantity: int = 5, **product_values: Any
) -> tuple[Product, Batch]:
    product = make_product(rt, brand, **product_values)
    batch = make_batch(rt, brand, product)
    serialization.commission_units(rt, brand, batch_id=batch.id, quantity=quantity)
    return product, catalog.get_batch(rt, brand, batch.id)


def codes_of(rt: Runtime, brand: Principal, batch_id: int) -> list[str]:
    page = units.list_units(rt, brand, batch_id=batch_id, limit=500)
    return [view.unit.code for view in page.items]


def render(
    rt: Runtime,
    principal: Principal,
    selection: LabelSelection,
    fmt: LabelFormat = LabelFormat.CSV,
    **options: Any,
) -> tuple[PrintJob, bytes]:
    out = io.BytesIO()
    job = labels.render_labels(
        rt,
        principal,
        selection=selection,
        options=LabelOptions(fmt=fmt, **options),
        out=out,
    )
    return job, out.getvalue()


def csv_rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def decoded_qr_texts(pdf: bytes, page_index: int = 0) -> set[str]:
    page = pypdfium2.PdfDocument(pdf)[page_index]
    image = page.render(scale=300 / 72).to_pil()
    return {result.text for result in zxingcpp.read_barcodes(image)}


# --- selections ---------------------------------------------------------------------------


def test_a_whole_batch_is_labelled_in_commissioning_order_and_recorded_as_one_print_job(
    rt: Runtime, brand: Principal
) -> None:
    _product, batch = serialized(rt, brand, 7)

    job, data = render(rt, brand, LabelSelection(batch_id=batch.id))

    assert [row["code"] for row in csv_rows(data)] == codes_of(rt, brand, batch.id)
    assert (job.quantity, job.batch_id, job.lot_number) == (7, batch.id, batch.lot_number)
    assert job.selection == {"batch_id": batch.id}
    assert job.format is LabelFormat.CSV and job.check_status is CheckStatus.NOT_CHECKED
    assert job.actor == brand.display and job.actor_user_id == brand.user_id
    status = labels.label_status(rt, brand, batch_id=batch.id)
    assert (status.units, status.printed, status.not_printed, status.jobs) == (7, 7, 0, 1)


def test_a_range_labels_the_nth_units_in_commissioning_order(rt: Runtime, brand: Principal) -> None:
    _product, batch = serialized(rt, brand, 10)

    job, data = render(rt, brand, LabelSelection(batch_id=batch.id, first=3, count=4))

    assert [row["code"] for row in csv_rows(data)] == codes_of(rt, brand, batch.id)[2:6]
    assert job.quantity == 4
    assert job.selection == {"batch_id": batch.id, "first": 3, "count": 4}
    assert labels.label_status(rt, brand, batch_id=batch.id).printed == 4


def test_a_range_from_a_unit_on_runs_to_the_last_unit(rt: Runtime, brand: Principal) -> None:
    _product, batch = serialized(rt, brand, 6)

    _job, data = render(rt, brand, LabelSelection(batch_id=batch.id, first=5))

    assert [row["code"] for row in csv_rows(data)] == codes_of(rt, brand, batch.id)[4:]


@pytest.mark.parametrize(
    ("first", "count", "field"), [(4, 5, "count"), (9, None, "first"), (9, 1, "first")]
)
def test_a_range_past_the_last_unit_is_refused_and_nothing_is_recorded(
    rt: Runtime, brand: Principal, first: int, count: int | None, field: str
) -> None:
    _product, batch = serialized(rt, brand, 6)

    with pytest.raises(ValidationError) as caught:
        render(rt, brand, LabelSelection(batch_id=batch.id, first=first, count=count))

    assert caught.value.details[0]["field"] == field
    assert labels.list_print_jobs(rt, brand).total == 0


def test_a_batch_without_units_cannot_be_labelled(rt: Runtime, brand: Principal) -> None:
    batch = make_batch(rt, brand)

    with pytest.raises(ValidationError, match="no units yet"):
        render(rt, brand, LabelSelection(batch_id=batch.id))


@pytest.mark.parametrize(
    "selection",
    [
        LabelSelection(),
        LabelSelection(batch_id=1, codes=("X",)),
        LabelSelection(codes=("X",), first=2),
        LabelSelection(batch_id=1, count=0),
        LabelSelection(codes=()),
    ],
)
def test_a_selection_names_exactly_one_thing_to_label(
    rt: Runtime, brand: Principal, selection: LabelSelection
) -> None:
    with pytest.raises(ValidationError):
        render(rt, brand, selection)


def test_explicit_codes_are_normalized_deduplicated_and_printed_in_the_order_given(
    rt: Runtime, brand: Principal
) -> None:
    _product, batch = serialized(rt, brand, 5)
    codes = codes_of(rt, brand, batch.id)
    typed = (format_code(codes[3]).lower(), codes[0], codes[3])

    job, data = render(rt, brand, LabelSelection(codes=typed))

    assert [row["code"] for row in csv_rows(data)] == [codes[3], codes[0]]
    assert (job.quantity, job.selection, job.batch_id) == (2, {"codes": 2}, batch.id)


def test_every_unknown_or_foreign_code_is_reported_at_once_and_nothing_is_printed(
    rt: Runtime, brand: Principal
) -> None:
    _product, batch = serialized(rt, brand, 3)
    other = make_org(rt, name="Moonrise Cannabis")
    _other_product, other_batch = serialized(rt, other, 1)
    foreign = codes_of(rt, other, other_batch.id)[0]
    unknown = SAMPLE_CODE
    out = io.BytesIO()

    with pytest.raises(ValidationError) as caught:
        labels.render_labels(
            rt,
            brand,
            selection=LabelSelection(codes=(codes_of(rt, brand, batch.id)[0], foreign, unknown)),
            options=LabelOptions(LabelFormat.CSV),
            out=out,
        )

    assert [d["message"] for d in caught.value.details] == [
        f"{foreign}: not found",
        f"{unknown}: not found",
    ]
    assert out.getvalue() == b""
    assert labels.list_print_jobs(rt, brand).total == 0


def test_malformed_codes_are_all_reported_with_their_position(
    rt: Runtime, brand: Principal
) -> None:
    with pytest.raises(ValidationError) as caught:
        render(rt, brand, LabelSelection(codes=("nonsense", SAMPLE_CODE, "")))

    assert [d["field"] for d in caught.value.details] == ["codes[0]", "codes[2]"]


def test_codes_of_two_batches_are_refused(rt: Runtime, brand: Principal) -> None:
    _p1, first = serialized(rt, brand, 1)
    _p2, second = serialized(rt, brand, 1)
    codes = (*codes_of(rt, brand, first.id), *codes_of(rt, brand, second.id))

    with pytest.raises(ValidationError, match="one batch at a time"):
        render(rt, brand, LabelSelection(codes=codes))


def test_another_organizations_batch_is_not_found(rt: Runtime, brand: Principal) -> None:
    _product, batch = serialized(rt, brand, 1)
    other = make_org(rt)

    with pytest.raises(NotFoundError):
        render(rt, other, LabelSelection(batch_id=batch.id))


def _pack(rt: Runtime, brand: Principal, codes: list[str]) -> int:
    """A case holding ``codes`` (no service packs units yet: the rows are written directly)."""
    now = dt.datetime(2026, 11, 24, tzinfo=dt.UTC)
    with rt.db.transaction() as conn:
        case_id = conn.execute(
            insert(containers).values(
                code="CASE0001",
                organization_id=brand.organization_id,
                kind="case",
                custodian_organization_id=brand.organization_id,
                created_at=now,
                updated_at=now,
            )
        ).inserted_primary_key[0]
        conn.execute(
            update(units_table)
            .where(units_table.c.code.in_(codes))
            .values(parent_container_id=case_id)
        )
    return int(case_id)


def test_a_container_selection_labels_the_units_packed_in_it(rt: Runtime, brand: Principal) -> None:
    _product, batch = serialized(rt, brand, 5)
    packed = codes_of(rt, brand, batch.id)[1:4]
    case_id = _pack(rt, brand, packed)

    job, data = render(rt, brand, LabelSelection(container_id=case_id))

    assert [row["code"] for row in csv_rows(data)] == packed
    assert job.selection == {"container_id": case_id}


def test_an_empty_or_unknown_container_cannot_be_labelled(rt: Runtime, brand: Principal) -> None:
    case_id = _pack(rt, brand, [])

    with pytest.raises(ValidationError, match="holds no units"):
        render(rt, brand, LabelSelection(container_id=case_id))
    with pytest.raises(NotFoundError):
        render(rt, brand, LabelSelection(container_id=case_id + 1))


# --- what goes on the label ----------------------------------------------------------------


def test_the_csv_carries_the_finished_goods_fields_and_the_qr_payload(
    rt: Runtime, brand: Principal
) -> None:
    product, batch = serialized(
        rt, brand, 2, gtin=GTIN, label_template=LabelTemplate.FINISHED_GOODS, warnings="21+ only"
    )

    _job, data = render(rt, brand, LabelSelection(batch_id=batch.id))

    row = csv_rows(data)[0]
    code = row["code"]
    assert row["qr_payload"] == build_digital_link(BASE, GTIN, lot=batch.lot_number, serial=code)
    assert row["human_code"] == format_code(code)
    assert (row["brand"], row["product"], row["strain"]) == (
        "Sunrise Farms",
        product.name,
        "Blue Dream",
    )
    assert (row["net_content"], row["lot"]) == ("3.5 g", batch.lot_number)
    assert (row["packaged_on"], row["expires_on"]) == ("2026-11-01", "2027-11-01")
    assert (row["thc"], row["cbd"], row["warnings"]) == ("THC 21.5 %", "CBD 0.3 %", "21+ only")


def test_the_short_url_form_or_a_missing_gtin_gives_short_url_payloads(
    rt: Runtime, brand: Principal
) -> None:
    _p1, chosen = serialized(rt, brand, 1, gtin=GTIN, qr_form=QrForm.SHORT_URL)
    _p2, no_gtin = serialized(rt, brand, 1)

    for batch in (chosen, no_gtin):
        row = csv_rows(render(rt, brand, LabelSelection(batch_id=batch.id))[1])[0]
        assert row["qr_payload"] == short_link(BASE, row["code"])


def test_a_new_product_gets_a_qr_only_label_with_a_digital_link_until_changed(
    rt: Runtime, brand: Principal
) -> None:
    product = make_product(rt, brand)
    assert (product.label_template, product.qr_form) == (LabelTemplate.QR_ONLY, QrForm.DIGITAL_LINK)

    draft = catalog.ProductDraft(
        name=product.name,
        category=product.category,
        qr_form=QrForm.SHORT_URL,
        label_template=LabelTemplate.FINISHED_GOODS,
    )
    changed = catalog.update_product(rt, brand, product_id=product.id, draft=draft)

    assert catalog.get_product(rt, brand, product.id) == changed
    assert (changed.label_template, changed.qr_form) == (
        LabelTemplate.FINISHED_GOODS,
        QrForm.SHORT_URL,
    )


# --- the formats ---------------------------------------------------------------------------


def test_a_pdf_sheet_holds_30_labels_a_page_whose_qr_codes_decode_to_their_payloads(
    rt: Runtime, brand: Principal
) -> None:
    _product, batch = serialized(rt, brand, 31, gtin=GTIN)
    codes = codes_of(rt, brand, batch.id)

    job, pdf = render(rt, brand, LabelSelection(batch_id=batch.id), LabelFormat.PDF)

    assert pdf.startswith(b"%PDF-") and len(pypdfium2.PdfDocument(pdf)) == 2
    expected = {build_digital_link(BASE, GTIN, lot=batch.lot_number, serial=c) for c in codes}
    assert decoded_qr_texts(pdf, 0) | decoded_qr_texts(pdf, 1) == expected
    assert (job.format, job.layout, job.dpi) == (LabelFormat.PDF, "letter-30up", 300)


def test_zpl_has_one_format_per_label_at_203_dpi_by_default(rt: Runtime, brand: Principal) -> None:
    _product, batch = serialized(rt, brand, 4)

    job, zpl = render(
        rt, brand, LabelSelection(batch_id=batch.id), LabelFormat.ZPL, layout="roll-2x1"
    )

    text = zpl.decode("utf-8")
    assert text.count("^XA") == text.count("^XZ") == 4
    assert all(short_link(BASE, c) in text for c in codes_of(rt, brand, batch.id))
    assert (job.format, job.dpi) == (LabelFormat.ZPL, 203)


def test_the_svg_zip_holds_one_label_per_unit_named_by_its_code(
    rt: Runtime, brand: Principal
) -> None:
    _product, batch = serialized(rt, brand, 3)

    job, data = render(rt, brand, LabelSelection(batch_id=batch.id), LabelFormat.SVG_ZIP)

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        assert all(archive.read(n).lstrip().startswith(b"<") for n in names)
    assert names == [f"{c}.svg" for c in codes_of(rt, brand, batch.id)]
    assert labels.filename_for(job) == f"labels-{batch.lot_number}-job{job.id}.zip"


def test_page_margins_are_recorded_with_the_job(rt: Runtime, brand: Principal) -> None:
    _product, batch = serialized(rt, brand, 1)

    job, _pdf = render(
        rt,
        brand,
        LabelSelection(batch_id=batch.id),
        LabelFormat.PDF,
        margin_left_mm=Decimal("6.5"),
        margin_top_mm=Decimal("12"),
    )

    assert (job.margin_left_mm, job.margin_top_mm) == (Decimal("6.5"), Decimal("12"))


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"layout": "letter-99up"}, "layout"),
        ({"dpi": 150}, "dpi"),
        ({"margin_left_mm": Decimal("-1")}, "margin_left_mm"),
        ({"margin_top_mm": Decimal("200")}, "margin_top_mm"),
        ({"margin_left_mm": Decimal("60")}, "layout"),  # 3 labels no longer fit across
    ],
)
def test_bad_label_options_are_refused_per_field(
    rt: Runtime, brand: Principal, options: dict[str, Any], field: str
) -> None:
    _product, batch = serialized(rt, brand, 1)

    with pytest.raises(ValidationError) as caught:
        render(rt, brand, LabelSelection(batch_id=batch.id), LabelFormat.PDF, **options)

    assert caught.value.details[0]["field"] == field
    assert labels.list_print_jobs(rt, brand).total == 0


def test_a_qr_code_too_fine_for_the_label_is_refused_before_anything_is_written(
    rt: Runtime, brand: Principal
) -> None:
    _product, batch = serialized(
        rt, brand, 1, gtin=GTIN, label_template=LabelTemplate.FINISHED_GOODS
    )
    out = io.BytesIO()

    with pytest.raises(ValidationError, match="does not fit"):
        labels.render_labels(
            rt,
            brand,
            selection=LabelSelection(batch_id=batch.id),
            options=LabelOptions(LabelFormat.PDF, "a4-1x1", 203),
            out=out,
        )

    assert out.getvalue() == b""


# --- the scan check --------------------------------------------------------------------------


def test_a_checked_job_is_recorded_as_passed(rt: Runtime, brand: Principal) -> None:
    _product, batch = serialized(rt, brand, 3, gtin=GTIN)

    job, _zpl = render(
        rt, brand, LabelSelection(batch_id=batch.id), LabelFormat.ZPL, layout="roll-2x1", check=True
    )

    assert job.check_status is CheckStatus.PASSED and job.check_failures == 0


def test_a_failed_scan_check_refuses_the_job_writes_nothing_and_names_every_label(
    rt: Runtime, brand: Principal
) -> None:
    _product, batch = serialized(
        rt, brand, 3, gtin=GTIN, label_template=LabelTemplate.FINISHED_GOODS
    )
    out = io.BytesIO()

    with pytest.raises(PreflightFailedError) as caught:
        labels.render_labels(
            rt,
            brand,
            selection=LabelSelection(batch_id=batch.id),
            options=LabelOptions(LabelFormat.PDF, "a4-1x1", 203, check=True),
            out=out,
        )

    assert caught.value.code == "preflight_failed"
    assert sorted(d["code"] for d in caught.value.details) == sorted(codes_of(rt, brand, batch.id))
    assert out.getvalue() == b""
    assert labels.list_print_jobs(rt, brand).total == 0


def test_check_labels_reports_without_recording_anything(rt: Runtime, brand: Principal) -> None:
    _product, batch = serialized(rt, brand, 4)
    viewer = as_role(brand, Role.VIEWER)
    seen: list[tuple[str, int, int]] = []

    report = labels.check_labels(
        rt,
        viewer,
        selection=LabelSelection(batch_id=batch.id),
        options=LabelOptions(layout="roll-1x1", dpi=203),
        progress=lambda *step: seen.append(step),
    )

    assert report.ok and (report.checked, report.layout, report.dpi) == (4, "roll-1x1", 203)
    assert seen[-1] == ("check", 4, 4)
    assert labels.list_print_jobs(rt, brand).total == 0


def test_refuse_failures_lists_each_failing_label() -> None:
    failure = PreflightFailure("ABC", "https://x/ABC", None, "did not decode")
    report = PreflightReport("pdf", 203, "roll-1x1", 10, (failure,))

    with pytest.raises(PreflightFailedError, match="1 of 10 labels") as caught:
        labels.refuse_failures(report)

    assert caught.value.details == [
        {"code": "ABC", "payload": "https://x/ABC", "decoded": None, "reason": "did not decode"}
    ]


# --- print jobs and reprints ------------------------------------------------------------------


def test_a_viewer_cannot_print_labels(rt: Runtime, brand: Principal) -> None:
    _product, batch = serialized(rt, brand, 1)

    with pytest.raises(PermissionDeniedError):
        render(rt, as_role(brand, Role.VIEWER), LabelSelection(batch_id=batch.id))


def test_a_reprint_repeats_codes_of_the_original_job_and_never_makes_new_ones(
    rt: Runtime, brand: Principal
) -> None:
    _product, batch = serialized(rt, brand, 5)
    original, _data = render(rt, brand, LabelSelection(batch_id=batch.id))
    damaged = codes_of(rt, brand, batch.id)[1]
    out = io.BytesIO()

    reprint = labels.render_labels(
        rt,
        brand,
        selection=LabelSelection(codes=(damaged,)),
        options=LabelOptions(LabelFormat.CSV),
        out=out,
        reprint_of=original.id,
        reason="  torn on the roll ",
    )

    assert [row["code"] for row in csv_rows(out.getvalue())] == [damaged]
    assert (reprint.reprint_of_job_id, reprint.reason, reprint.is_reprint) == (
        original.id,
        "torn on the roll",
        True,
    )
    assert catalog.get_batch(rt, brand, batch.id).unit_count == 5
    status = labels.label_status(rt, brand, batch_id=batch.id)
    assert (status.printed, status.reprinted, status.jobs) == (5, 1, 2)
    history = labels.list_print_jobs(rt, brand, code=format_code(damaged))
    assert [job.id for job in history.items] == [reprint.id, original.id]


def test_a_reprint_needs_a_reason_and_only_codes_the_original_job_printed(
    rt: Runtime, brand: Principal
) -> None:
    _product, batch = serialized(rt, brand, 4)
    codes = codes_of(rt, brand, batch.id)
    original, _data = render(rt, brand, LabelSelection(batch_id=batch.id, count=2))

    def reprint(selection: LabelSelection, reason: str) -> None:
        labels.render_labels(
            rt,
            brand,
            selection=selection,
            options=LabelOptions(LabelFormat.CSV),
            out=io.BytesIO(),
            reprint_of=original.id,
            reason=reason,
        )

    with pytest.raises(ValidationError, match="say why"):
        reprint(LabelSelection(codes=(codes[0],)), " ")
    with pytest.raises(ValidationError) as caught:
        reprint(LabelSelection(codes=(codes[0], codes[3])), "smudged")
    assert caught.value.details == [
        {"field": "codes", "message": f"{codes[3]}: not in job {original.id}"}
    ]
    with pytest.raises(ValidationError, match="2 of these units were not printed"):
        reprint(LabelSelection(batch_id=batch.id), "smudged")
    with pytest.raises(NotFoundError):
        labels.render_labels(
            rt,
            brand,
            selection=LabelSelection(codes=(codes[0],)),
            options=LabelOptions(LabelFormat.CSV),
            out=io.BytesIO(),
            reprint_of=original.id + 100,
            reason="smudged",
        )
    assert labels.list_print_jobs(rt, brand).total == 1


def test_units_commissioned_while_labels_are_made_are_neither_printed_nor_recorded(
    rt: Runtime, brand: Principal
) -> None:
    _product, batch = serialized(rt, brand, 3)

    def commission_more(phase: str, _done: int, _total: int) -> None:
        if phase == "check":
            serialization.commission_units(rt, brand, batch_id=batch.id, quantity=2)

    out = io.BytesIO()
    job = labels.render_labels(
        rt,
        brand,
        selection=LabelSelection(batch_id=batch.id),
        options=LabelOptions(LabelFormat.CSV, check=True),
        out=out,
        progress=commission_more,
    )

    assert len(csv_rows(out.getvalue())) == job.quantity == 3
    status = labels.label_status(rt, brand, batch_id=batch.id)
    assert (status.units, status.printed) == (5, 3)


def test_print_jobs_are_listed_newest_first_by_batch_and_kept_from_other_organizations(
    rt: Runtime, brand: Principal, clock: FixedClock
) -> None:
    _p1, first = serialized(rt, brand, 2)
    _p2, second = serialized(rt, brand, 2)
    one, _ = render(rt, brand, LabelSelection(batch_id=first.id))
    clock.advance(minutes=5)
    two, _ = render(rt, brand, LabelSelection(batch_id=second.id))
    other = make_org(rt)

    assert [j.id for j in labels.list_print_jobs(rt, brand).items] == [two.id, one.id]
    assert [j.id for j in labels.list_print_jobs(rt, brand, batch_id=first.id).items] == [one.id]
    assert labels.get_print_job(rt, brand, one.id) == one
    assert labels.list_print_jobs(rt, other).total == 0
    with pytest.raises(NotFoundError):
        labels.get_print_job(rt, other, one.id)
    with pytest.raises(NotFoundError):
        labels.label_status(rt, other, batch_id=first.id)


# --- single labels and previews ------------------------------------------------------------------


def test_a_preview_shows_the_first_unit_or_a_sample_before_the_batch_has_units(
    rt: Runtime, brand: Principal
) -> None:
    _product, batch = serialized(rt, brand, 2)
    empty = make_batch(rt, brand)

    assert format_code(codes_of(rt, brand, batch.id)[0]) in labels.preview_svg(
        rt, brand, batch_id=batch.id
    )
    assert format_code(SAMPLE_CODE) in labels.preview_svg(
        rt, brand, batch_id=empty.id, layout="roll-2x1", dpi=203
    )


def test_a_units_qr_png_decodes_to_its_payload_for_the_owner_only(
    rt: Runtime, brand: Principal
) -> None:
    _product, batch = serialized(rt, brand, 1, gtin=GTIN)
    code = codes_of(rt, brand, batch.id)[0]

    png = labels.unit_qr_png(rt, brand, format_code(code).lower(), module_px=4)

    assert png.startswith(b"\x89PNG")
    decoded = [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]
    assert decoded == [build_digital_link(BASE, GTIN, lot=batch.lot_number, serial=code)]
    assert format_code(code) in labels.unit_label_svg(rt, brand, code)
    with pytest.raises(NotFoundError):
        labels.unit_qr_png(rt, make_org(rt), code)
    with pytest.raises(ValidationError):
        labels.unit_qr_png(rt, brand, "not a code")


def test_every_layout_is_listed() -> None:
    names = [layout.name for layout in labels.list_layouts()]

    assert {"letter-30up", "a4-24up", "roll-2x1", "roll-4x6"} <= set(names)


def test_a_product_label_setting_that_does_not_exist_is_refused(
    rt: Runtime, brand: Principal
) -> None:
    draft = catalog.ProductDraft(name="Odd", category="flower", qr_form="qr_code")  # type: ignore[arg-type]

    with pytest.raises(ValidationError) as caught:
        catalog.create_product(rt, brand, draft)

    assert caught.value.details == [
        {"field": "qr_form", "message": "choose digital_link or short_url"}
    ]


# --- the migration --------------------------------------------------------------------------


def test_migration_0002_gives_existing_products_the_default_label_settings(db_url: str) -> None:
    db = Database.from_url(db_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        migrate.downgrade(db, "0001")
        with db.transaction() as conn:  # a product and a batch made before labels existed
            conn.execute(text(
                "INSERT INTO organizations (name, kind, license_number, market, created_at) "
                "VALUES ('Old Farm', 'brand', 'L-1', 'CA', '2026-01-01 00:00:00+00');"
            ))  # fmt: skip
            conn.execute(text(
                "INSERT INTO products (organization_id, name, category, created_at) "
                "SELECT id, 'Old Kush', 'flower', '2026-01-01 00:00:00+00' FROM organizations"
            ))  # fmt: skip
            conn.execute(text(
                "INSERT INTO batches (organization_id, product_id, lot_number, created_at) "
                "SELECT organization_id, id, 'OLD-1', '2026-01-01 00:00:00+00' FROM products"
            ))  # fmt: skip

        migrate.upgrade(db)

        with db.read() as conn:
            row = conn.execute(text("SELECT label_template, qr_form FROM products")).one()
        assert tuple(row) == ("qr_only", "digital_link")
        with pytest.raises(IntegrityError), db.transaction() as conn:
            conn.execute(text("UPDATE products SET qr_form = 'barcode'"))
    finally:
        db.dispose()
