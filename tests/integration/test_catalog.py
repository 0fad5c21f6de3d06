"""Products, batches, lab results and COAs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from tests.factories import as_role, make_batch, make_org, make_product, passed_lab
from unitrace.domain.model import Analyte, AnalyteKind, LabStatus, Panel, PanelResult, Role
from unitrace.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from unitrace.services import catalog
from unitrace.services.catalog import LabResultsDraft, ProductDraft
from unitrace.services.demo import _coa_pdf
from unitrace.services.runtime import Runtime


def fields(exc: pytest.ExceptionInfo[ValidationError]) -> set[str]:
    return {d["field"] for d in exc.value.details}


def test_a_product_gtin_is_normalized_to_fourteen_digits(rt: Runtime) -> None:
    brand = make_org(rt)
    assert make_product(rt, brand, gtin="4006381333931").gtin == "04006381333931"


def test_a_product_with_a_wrong_gtin_check_digit_is_refused_naming_the_field(rt: Runtime) -> None:
    brand = make_org(rt)
    with pytest.raises(ValidationError) as exc:
        make_product(rt, brand, gtin="4006381333932", category="nonsense")
    assert fields(exc) == {"gtin", "category"}
    assert "check digit" in next(d["message"] for d in exc.value.details if d["field"] == "gtin")


def test_two_products_cannot_share_a_gtin_or_a_name_within_a_brand(rt: Runtime) -> None:
    a, b = make_org(rt), make_org(rt)
    make_product(rt, a, name="Jar", gtin="09506000134352")
    with pytest.raises(ConflictError, match="GTIN"):
        make_product(rt, b, gtin="09506000134352")
    with pytest.raises(ConflictError, match="named"):
        make_product(rt, a, name="Jar")
    assert make_product(rt, b, name="Jar").name == "Jar"  # names are per brand


def test_products_are_listed_searched_and_paged_per_organization(rt: Runtime) -> None:
    a, b = make_org(rt), make_org(rt)
    for name in ("Blue Dream", "Blue Haze", "OG Kush"):
        make_product(rt, a, name=name)
    make_product(rt, b, name="Blue Other")
    page = catalog.list_products(rt, a, search="blue", limit=1)
    assert page.total == 2 and [p.name for p in page.items] == ["Blue Dream"]
    assert catalog.list_products(rt, a, limit=50).total == 3


def test_a_product_can_be_updated_only_by_its_brand(rt: Runtime) -> None:
    a, b = make_org(rt), make_org(rt)
    product = make_product(rt, a)
    draft = ProductDraft(name="Renamed", category="vape")
    assert catalog.update_product(rt, a, product_id=product.id, draft=draft).name == "Renamed"
    with pytest.raises(NotFoundError):
        catalog.update_product(rt, b, product_id=product.id, draft=draft)


def test_a_viewer_cannot_create_products(rt: Runtime) -> None:
    with pytest.raises(PermissionDeniedError):
        make_product(rt, as_role(make_org(rt), Role.VIEWER))


def test_a_batch_keeps_its_lab_results_sources_and_dates(rt: Runtime) -> None:
    brand = make_org(rt)
    parent = make_batch(rt, brand)
    batch = make_batch(rt, brand, source_batch_ids=(parent.id,))
    assert batch.released and batch.lab.lab_name == "Evergreen Labs"
    assert batch.lab.total("total_thc") == Decimal("21.5")
    assert batch.source_batch_ids == (parent.id,)
    assert {a.kind for a in batch.lab.analytes} == {AnalyteKind.CANNABINOID, AnalyteKind.TERPENE}
    assert catalog.get_batch(rt, brand, batch.id) == batch


def test_a_batch_with_bad_dates_lab_data_and_lot_reports_every_problem_at_once(
    rt: Runtime,
) -> None:
    brand = make_org(rt)
    lab = LabResultsDraft(
        status=LabStatus.PASSED,
        lab_name="",
        tested_on=dt.date(2027, 1, 1),
        analytes=(Analyte(AnalyteKind.CANNABINOID, "thc", Decimal("120"), "%"),),
        panels=(Panel("microbials", PanelResult.FAIL),),
    )
    with pytest.raises(ValidationError) as exc:
        make_batch(
            rt,
            brand,
            lot_number="LOT WITH SPACE",
            produced_on=dt.date(2026, 11, 10),
            expires_on=dt.date(2026, 11, 1),
            lab=lab,
        )
    assert fields(exc) >= {
        "lot_number",
        "expires_on",
        "lab.lab_name",
        "lab.tested_on",
        "lab.status",
        "lab.analytes[0].amount",
    }


def test_a_duplicate_lot_for_the_same_product_is_a_conflict(rt: Runtime) -> None:
    brand = make_org(rt)
    product = make_product(rt, brand)
    make_batch(rt, brand, product=product, lot_number="L1")
    with pytest.raises(ConflictError, match="L1"):
        make_batch(rt, brand, product=product, lot_number="L1")


def test_a_batch_cannot_use_another_brands_product_or_source_batch(rt: Runtime) -> None:
    a, b = make_org(rt), make_org(rt)
    foreign_product = make_product(rt, b)
    with pytest.raises(NotFoundError):
        make_batch(rt, a, product=foreign_product)
    foreign_batch = make_batch(rt, b)
    with pytest.raises(ValidationError, match="source"):
        make_batch(rt, a, source_batch_ids=(foreign_batch.id,))


def test_a_retest_replaces_the_lab_results(rt: Runtime) -> None:
    brand = make_org(rt)
    batch = make_batch(rt, brand)
    failed = LabResultsDraft(
        status=LabStatus.FAILED,
        lab_name="Lab 2",
        tested_on=dt.date(2026, 11, 23),
        panels=(Panel("pesticides", PanelResult.FAIL, "bifenazate 0.3 ppm"),),
    )
    updated = catalog.record_lab_results(rt, brand, batch_id=batch.id, lab=failed)
    assert not updated.released and updated.lab.analytes == ()
    assert updated.lab.panels == (Panel("pesticides", PanelResult.FAIL, "bifenazate 0.3 ppm"),)


def test_batches_are_filtered_by_product_and_lab_status(rt: Runtime) -> None:
    brand = make_org(rt)
    product = make_product(rt, brand)
    make_batch(rt, brand, product=product)
    make_batch(rt, brand, product=product, lab=LabResultsDraft(status=LabStatus.PENDING))
    make_batch(rt, brand)
    assert catalog.list_batches(rt, brand, product_id=product.id).total == 2
    pending = catalog.list_batches(rt, brand, lab_status=LabStatus.PENDING)
    assert pending.total == 1 and pending.items[0].lab.status is LabStatus.PENDING


def test_a_coa_round_trips_byte_for_byte_and_only_for_its_brand(rt: Runtime) -> None:
    a, b = make_org(rt), make_org(rt)
    batch = make_batch(rt, a)
    pdf = _coa_pdf("L-9")
    updated = catalog.attach_coa(
        rt,
        a,
        batch_id=batch.id,
        filename="../../COA.pdf",
        content_type="application/pdf",
        content=pdf,
    )
    assert updated.coa is not None and updated.coa.size == len(pdf)
    assert "/" not in updated.coa.filename
    doc, content = catalog.read_coa(rt, a, batch_id=batch.id)
    assert content == pdf and doc.content_type == "application/pdf"
    with pytest.raises(NotFoundError):
        catalog.read_coa(rt, b, batch_id=batch.id)


def test_a_coa_that_is_not_a_pdf_or_image_is_refused_and_nothing_is_linked(rt: Runtime) -> None:
    brand = make_org(rt)
    batch = make_batch(rt, brand)
    with pytest.raises(ValidationError, match="PDF"):
        catalog.attach_coa(
            rt,
            brand,
            batch_id=batch.id,
            filename="x.pdf",
            content_type="application/pdf",
            content=b"<html>not a pdf</html>",
        )
    assert catalog.get_batch(rt, brand, batch.id).coa is None
    with pytest.raises(NotFoundError, match="no Certificate"):
        catalog.read_coa(rt, brand, batch_id=batch.id)


def test_lab_results_can_be_recorded_by_an_operator_but_not_a_viewer(rt: Runtime) -> None:
    brand = make_org(rt)
    batch = make_batch(rt, brand)
    catalog.record_lab_results(
        rt, as_role(brand, Role.OPERATOR), batch_id=batch.id, lab=passed_lab()
    )
    with pytest.raises(PermissionDeniedError):
        catalog.record_lab_results(
            rt, as_role(brand, Role.VIEWER), batch_id=batch.id, lab=passed_lab()
        )
