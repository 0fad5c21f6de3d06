"""``unitrace products`` and ``unitrace batches``: the catalog from the command line."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from tests.cli.conftest import BRAND, Unitrace, ok
from tests.factories import make_batch, make_product
from unitrace.domain.model import Principal
from unitrace.services import catalog
from unitrace.services.runtime import Runtime

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\n%%EOF\n"


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def test_a_product_is_created_listed_and_shown(unitrace: Unitrace, brand: Principal) -> None:
    created = json.loads(
        ok(
            unitrace(
                "products", "create", "--org", BRAND, "--name", "Blue Dream 3.5 g",
                "--category", "flower", "--strain", "Blue Dream", "--net-content", "3.5",
                "--unit", "g", "--gtin", "09506000134352", "--warnings", "Adults only.", "--json",
            )
        ).stdout
    )  # fmt: skip

    assert (created["name"], created["net_content"], created["gtin"]) == (
        "Blue Dream 3.5 g", "3.5", "09506000134352",
    )  # fmt: skip
    page = json.loads(ok(unitrace("products", "list", "--org", BRAND, "--json")).stdout)
    assert [p["id"] for p in page["items"]] == [created["id"]]
    assert page["total"] == 1
    shown = ok(unitrace("products", "show", str(created["id"]), "--org", BRAND))
    assert "Blue Dream 3.5 g" in shown.stdout
    assert "Adults only." in shown.stdout


def test_a_product_gets_its_label_template_and_qr_form(
    unitrace: Unitrace, brand: Principal
) -> None:
    created = json.loads(
        ok(
            unitrace(
                "products", "create", "--org", BRAND, "--name", "Tube", "--category", "pre_roll",
                "--label-template", "finished_goods", "--qr-form", "short_url", "--json",
            )
        ).stdout
    )  # fmt: skip
    assert (created["label_template"], created["qr_form"]) == ("finished_goods", "short_url")
    shown = ok(unitrace("products", "show", str(created["id"]), "--org", BRAND)).stdout
    assert "finished_goods" in shown
    assert "short_url" in shown
    refused = unitrace(
        "products", "create", "--org", BRAND, "--name", "X", "--category", "flower",
        "--label-template", "poster",
    )  # fmt: skip
    assert refused.exit_code == 2


def test_products_can_be_searched_by_name(
    unitrace: Unitrace, brand: Principal, rt: Runtime
) -> None:
    make_product(rt, brand, name="Sour Diesel 1 g")
    make_product(rt, brand, name="OG Kush 1 g")

    page = json.loads(
        ok(unitrace("products", "list", "--org", BRAND, "--search", "kush", "--json")).stdout
    )

    assert [p["name"] for p in page["items"]] == ["OG Kush 1 g"]


def test_an_invalid_product_lists_each_bad_field(unitrace: Unitrace, brand: Principal) -> None:
    result = unitrace(
        "products", "create", "--org", BRAND, "--name", "Thing", "--category", "snack",
        "--gtin", "09506000134353",
    )  # fmt: skip

    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[0] == "Error: the product is not valid"
    assert lines[1].startswith("  category: 'snack' is not a category")
    assert lines[2].startswith("  gtin: ")


def test_another_organizations_product_is_not_found(
    unitrace: Unitrace, brand: Principal, rt: Runtime
) -> None:
    from tests.factories import make_org

    other = make_org(rt, name="Other Brand")
    theirs = make_product(rt, other)

    result = unitrace("products", "show", str(theirs.id), "--org", BRAND)

    assert result.exit_code == 1
    assert result.stderr == f"Error: product {theirs.id} not found\n"


def test_a_tested_batch_is_created_with_its_lab_results(
    unitrace: Unitrace, brand: Principal, rt: Runtime
) -> None:
    product = make_product(rt, brand)
    source = make_batch(rt, brand, product)
    today = _today()
    produced, expires = today - dt.timedelta(days=5), today + dt.timedelta(days=365)

    result = unitrace(
        "batches", "create", "--org", BRAND, "--product", str(product.id), "--lot", "GV-1",
        "--produced", str(produced), "--expires", str(expires),
        "--lab-status", "passed", "--lab-name", "Evergreen Labs", "--tested-on", str(today),
        "--thc", "21.5", "--cbd", "0.3", "--cannabinoid", "cbg=0.8",
        "--terpene", "myrcene=0.8", "--terpene", "limonene=0.4",
        "--panel", "microbials=pass", "--panel", "pesticides=PASS",
        "--source-batch", str(source.id), "--json",
    )  # fmt: skip

    batch = json.loads(ok(result).stdout)
    assert batch["lab"]["status"] == "passed"
    assert {(a["kind"], a["name"], a["amount"]) for a in batch["lab"]["analytes"]} == {
        ("cannabinoid", "total_thc", "21.5"),
        ("cannabinoid", "total_cbd", "0.3"),
        ("cannabinoid", "cbg", "0.8"),
        ("terpene", "myrcene", "0.8"),
        ("terpene", "limonene", "0.4"),
    }
    assert {(p["name"], p["result"]) for p in batch["lab"]["panels"]} == {
        ("microbials", "pass"), ("pesticides", "pass"),
    }  # fmt: skip
    assert batch["source_batch_ids"] == [source.id]
    assert catalog.get_batch(rt, brand, batch["id"]).released


def test_a_batch_without_lab_options_is_pending(
    unitrace: Unitrace, brand: Principal, rt: Runtime
) -> None:
    product = make_product(rt, brand)

    result = unitrace("batches", "create", "--org", BRAND, "--product", str(product.id),
                      "--lot", "P-1", "--json")  # fmt: skip

    assert json.loads(ok(result).stdout)["lab"]["status"] == "pending"


def test_a_malformed_terpene_is_a_usage_error(
    unitrace: Unitrace, brand: Principal, rt: Runtime
) -> None:
    product = make_product(rt, brand)

    result = unitrace("batches", "create", "--org", BRAND, "--product", str(product.id),
                      "--lot", "T-1", "--terpene", "myrcene")  # fmt: skip

    assert result.exit_code == 2
    assert "'myrcene' is not NAME=VALUE" in result.stderr
    assert catalog.list_batches(rt, brand).total == 0


def test_a_passed_batch_with_a_failed_panel_is_refused_with_details(
    unitrace: Unitrace, brand: Principal, rt: Runtime
) -> None:
    product = make_product(rt, brand)

    result = unitrace(
        "batches", "create", "--org", BRAND, "--product", str(product.id), "--lot", "F-1",
        "--lab-status", "passed", "--panel", "microbials=fail",
    )  # fmt: skip

    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "Error: the batch is not valid",
        "  lab.lab_name: a tested batch names the lab that tested it",
        "  lab.tested_on: a tested batch has a test date",
        "  lab.status: a batch with failed panels (microbials) cannot pass",
    ]


def test_lab_results_recorded_later_release_a_pending_batch(
    unitrace: Unitrace, brand: Principal, rt: Runtime
) -> None:
    pending = make_batch(rt, brand, lab=catalog.LabResultsDraft(catalog.LabStatus.PENDING))

    result = unitrace(
        "batches", "lab", str(pending.id), "--org", BRAND, "--lab-status", "passed",
        "--lab-name", "Evergreen Labs", "--tested-on", str(_today()), "--thc", "19.9",
    )  # fmt: skip

    ok(result)
    assert "Lab results recorded" in result.stdout
    batch = catalog.get_batch(rt, brand, pending.id)
    assert batch.released
    assert batch.lab.total("total_thc") is not None


def test_batches_are_listed_and_filtered_by_product(
    unitrace: Unitrace, brand: Principal, rt: Runtime
) -> None:
    first, second = make_product(rt, brand), make_product(rt, brand)
    wanted = make_batch(rt, brand, first)
    make_batch(rt, brand, second)

    page = json.loads(
        ok(unitrace("batches", "list", "--org", BRAND, "--product", str(first.id), "--json")).stdout
    )

    assert [b["id"] for b in page["items"]] == [wanted.id]
    table = ok(unitrace("batches", "list", "--org", BRAND)).stdout
    assert wanted.lot_number in table
    assert "2 batches" in table


def test_a_coa_is_attached_and_downloaded_byte_for_byte(
    unitrace: Unitrace, brand: Principal, rt: Runtime, tmp_path: Path
) -> None:
    batch = make_batch(rt, brand)
    source = tmp_path / "COA-lot.pdf"
    source.write_bytes(PDF)
    target = tmp_path / "downloaded.pdf"

    attached = ok(unitrace("batches", "coa", str(batch.id), str(source), "--org", BRAND))
    ok(unitrace("batches", "coa-download", str(batch.id), "--org", BRAND, "--output", str(target)))

    assert "Attached COA-lot.pdf" in attached.stdout
    assert target.read_bytes() == PDF
    shown = json.loads(
        ok(unitrace("batches", "show", str(batch.id), "--org", BRAND, "--json")).stdout
    )
    assert shown["coa"]["filename"] == "COA-lot.pdf"


def test_a_coa_that_is_not_a_pdf_or_image_is_refused(
    unitrace: Unitrace, brand: Principal, rt: Runtime, tmp_path: Path
) -> None:
    batch = make_batch(rt, brand)
    source = tmp_path / "coa.pdf"
    source.write_text("not really a pdf")

    result = unitrace("batches", "coa", str(batch.id), str(source), "--org", BRAND)

    assert result.exit_code == 1
    assert result.stderr.startswith("Error: a COA must be a PDF, PNG or JPEG file")
    assert catalog.get_batch(rt, brand, batch.id).coa is None


def test_downloading_a_missing_coa_says_so(
    unitrace: Unitrace, brand: Principal, rt: Runtime, tmp_path: Path
) -> None:
    batch = make_batch(rt, brand)

    result = unitrace("batches", "coa-download", str(batch.id), "--org", BRAND,
                      "--output", str(tmp_path / "x.pdf"))  # fmt: skip

    assert result.exit_code == 1
    assert result.stderr == f"Error: batch {batch.id} has no Certificate of Analysis\n"
    assert not (tmp_path / "x.pdf").exists()


def test_a_coa_download_that_cannot_be_written_is_an_error(
    unitrace: Unitrace, brand: Principal, rt: Runtime, tmp_path: Path
) -> None:
    batch = make_batch(rt, brand)
    catalog.attach_coa(rt, brand, batch_id=batch.id, filename="c.pdf",
                       content_type="application/pdf", content=PDF)  # fmt: skip

    result = unitrace("batches", "coa-download", str(batch.id), "--org", BRAND,
                      "--output", str(tmp_path / "missing" / "c.pdf"))  # fmt: skip

    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: cannot write {tmp_path / 'missing' / 'c.pdf'}: ")


def test_a_coa_can_be_streamed_to_stdout(unitrace: Unitrace, brand: Principal, rt: Runtime) -> None:
    batch = make_batch(rt, brand)
    catalog.attach_coa(rt, brand, batch_id=batch.id, filename="c.pdf",
                       content_type="application/pdf", content=PDF)  # fmt: skip

    result = ok(unitrace("batches", "coa-download", str(batch.id), "--org", BRAND, "--output", "-"))

    assert result.stdout_bytes == PDF
