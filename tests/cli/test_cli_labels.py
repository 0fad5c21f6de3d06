"""``unitrace labels``: label files, the scan check, layouts, print jobs and label status."""

from __future__ import annotations

import csv
import io
import json
import os
import threading
import zipfile
from pathlib import Path

import pypdfium2
import pytest

from tests.cli.conftest import BRAND, Unitrace, ok
from tests.factories import make_batch, make_product
from unitrace.domain.codes import format_code
from unitrace.domain.labels import LabelTemplate
from unitrace.domain.model import Batch, Principal
from unitrace.services import labels, serialization, units
from unitrace.services.runtime import Runtime


@pytest.fixture
def batch(rt: Runtime, brand: Principal) -> Batch:
    made = make_batch(rt, brand)
    serialization.commission_units(rt, brand, batch_id=made.id, quantity=35)
    return made


def codes_of(rt: Runtime, brand: Principal, batch_id: int) -> list[str]:
    return [v.unit.code for v in units.list_units(rt, brand, batch_id=batch_id, limit=100).items]


def test_labels_pdf_writes_the_batch_to_a_file_and_records_the_print_job(
    unitrace: Unitrace, rt: Runtime, brand: Principal, batch: Batch, tmp_path: Path
) -> None:
    folder = tmp_path / "labels"
    folder.mkdir()
    out = folder / "sheet.pdf"

    result = ok(
        unitrace("labels", "pdf", "--org", BRAND, "--batch", str(batch.id), "--out", str(out))
    )

    assert len(pypdfium2.PdfDocument(out.read_bytes())) == 2  # 35 labels, 30 a sheet
    job = labels.list_print_jobs(rt, brand).items[0]
    assert f"Wrote 35 labels of lot {batch.lot_number} to {out}" in result.stdout
    assert f"print job {job.id}." in result.stdout
    assert [p.name for p in folder.iterdir()] == ["sheet.pdf"]  # no temporary file left


def test_without_out_the_file_is_named_after_the_lot_and_job(
    unitrace: Unitrace, batch: Batch, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    ok(unitrace("labels", "zpl", "--org", BRAND, "--batch", str(batch.id), "--layout", "roll-2x1"))

    written = tmp_path / f"labels-{batch.lot_number}-job1.zpl"
    assert written.read_text(encoding="utf-8").count("^XA") == 35


def test_a_range_goes_to_stdout_with_out_dash_and_the_summary_to_stderr(
    unitrace: Unitrace, rt: Runtime, brand: Principal, batch: Batch
) -> None:
    result = ok(
        unitrace(
            "labels", "csv", "--org", BRAND, "--batch", str(batch.id), "--first", "3",
            "--count", "2", "--out", "-",
        )
    )  # fmt: skip

    rows = list(csv.DictReader(io.StringIO(result.stdout.lstrip("\ufeff"))))
    assert [r["code"] for r in rows] == codes_of(rt, brand, batch.id)[2:4]
    assert "Wrote 2 labels" in result.stderr


def test_codes_are_read_from_a_file_like_the_one_commissioning_writes(
    unitrace: Unitrace, rt: Runtime, brand: Principal, batch: Batch, tmp_path: Path
) -> None:
    codes = codes_of(rt, brand, batch.id)
    listing = tmp_path / "codes.csv"
    listing.write_text(
        f"code,short_url\n{codes[4]},https://x/{codes[4]}\n\n# torn\n{format_code(codes[1])}\n"
    )
    out = tmp_path / "labels.zip"

    ok(unitrace("labels", "svg", "--org", BRAND, "--codes", str(listing), "--out", str(out)))

    assert zipfile.ZipFile(out).namelist() == [f"{codes[4]}.svg", f"{codes[1]}.svg"]


def test_a_reprint_is_logged_with_its_reason(
    unitrace: Unitrace, rt: Runtime, brand: Principal, batch: Batch, tmp_path: Path
) -> None:
    ok(
        unitrace(
            "labels",
            "csv",
            "--org",
            BRAND,
            "--batch",
            str(batch.id),
            "--out",
            str(tmp_path / "a.csv"),
        )
    )
    damaged = codes_of(rt, brand, batch.id)[0]

    ok(
        unitrace(
            "labels", "csv", "--org", BRAND, "--codes", "-", "--reprint-of", "1",
            "--reason", "torn", "--out", str(tmp_path / "b.csv"), input=damaged + "\n",
        )
    )  # fmt: skip

    jobs = json.loads(ok(unitrace("labels", "jobs", "--org", BRAND, "--json")).stdout)
    assert [(j["id"], j["reprint_of_job_id"], j["reason"]) for j in jobs["items"]] == [
        (2, 1, "torn"),
        (1, None, ""),
    ]
    by_code = json.loads(
        ok(unitrace("labels", "jobs", "--org", BRAND, "--code", damaged, "--json")).stdout
    )
    assert by_code["total"] == 2


def test_nothing_to_label_is_an_error(unitrace: Unitrace, brand: Principal) -> None:
    result = unitrace("labels", "pdf", "--org", BRAND)

    assert result.exit_code == 1
    assert "choose what to label" in result.stderr


def test_a_refused_job_leaves_no_file_behind(
    unitrace: Unitrace, rt: Runtime, brand: Principal, tmp_path: Path
) -> None:
    product = make_product(
        rt, brand, gtin="09506000134352", label_template=LabelTemplate.FINISHED_GOODS
    )
    made = make_batch(rt, brand, product)
    serialization.commission_units(rt, brand, batch_id=made.id, quantity=2)
    folder = tmp_path / "labels"
    folder.mkdir()
    out = folder / "labels.pdf"

    result = unitrace(
        "labels", "pdf", "--org", BRAND, "--batch", str(made.id), "--layout", "a4-1x1",
        "--dpi", "203", "--check", "--out", str(out),
    )  # fmt: skip

    assert result.exit_code == 1
    assert "did not scan back to their payload" in result.stderr
    assert list(folder.iterdir()) == []
    assert labels.list_print_jobs(rt, brand).total == 0


def test_labels_check_reports_success_and_exits_zero(unitrace: Unitrace, batch: Batch) -> None:
    result = ok(
        unitrace(
            "labels", "check", "--org", BRAND, "--batch", str(batch.id), "--format", "zpl",
            "--layout", "roll-1x1",
        )
    )  # fmt: skip

    assert "All 35 labels scan back to their payload on roll-1x1 at 203 dpi (zpl)." in result.stdout


def test_labels_check_lists_failures_and_exits_one(
    unitrace: Unitrace, rt: Runtime, brand: Principal
) -> None:
    product = make_product(
        rt, brand, gtin="09506000134352", label_template=LabelTemplate.FINISHED_GOODS
    )
    made = make_batch(rt, brand, product)
    serialization.commission_units(rt, brand, batch_id=made.id, quantity=3)

    result = unitrace(
        "labels", "check", "--org", BRAND, "--batch", str(made.id), "--layout", "a4-1x1",
        "--dpi", "203", "--margin-left", "15", "--margin-top", "20", "--json",
    )  # fmt: skip

    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert (report["ok"], report["checked"], len(report["failures"])) == (False, 3, 3)


def test_labels_layouts_lists_every_layout(unitrace: Unitrace) -> None:
    table = ok(unitrace("labels", "layouts")).stdout
    listing = json.loads(ok(unitrace("labels", "layouts", "--json")).stdout)

    assert "letter-30up" in table and "2.625 × 1 in (66.7 × 25.4 mm)" in table
    roll = next(x for x in listing if x["name"] == "roll-4x6")
    assert (roll["kind"], roll["per_page"], roll["label_height_mm"]) == ("roll", 1, 152.4)


def test_labels_status_counts_printed_units(
    unitrace: Unitrace, batch: Batch, tmp_path: Path
) -> None:
    ok(
        unitrace(
            "labels", "csv", "--org", BRAND, "--batch", str(batch.id), "--count", "10",
            "--out", str(tmp_path / "x.csv"),
        )
    )  # fmt: skip

    text = ok(unitrace("labels", "status", "--org", BRAND, "--batch", str(batch.id))).stdout
    data = json.loads(
        ok(unitrace("labels", "status", "--org", BRAND, "--batch", str(batch.id), "--json")).stdout
    )

    assert "35 units, 10 with a printed label, 25 without" in text
    assert (data["printed"], data["not_printed"], data["jobs"]) == (10, 25, 1)


def test_labels_jobs_prints_a_table(unitrace: Unitrace, batch: Batch, tmp_path: Path) -> None:
    ok(
        unitrace(
            "labels",
            "pdf",
            "--org",
            BRAND,
            "--batch",
            str(batch.id),
            "--out",
            str(tmp_path / "a.pdf"),
        )
    )

    table = ok(unitrace("labels", "jobs", "--org", BRAND)).stdout

    assert "1 print jobs" in table and batch.lot_number in table and "letter-30up" in table


def test_a_pipe_or_device_is_written_in_place_not_replaced(
    unitrace: Unitrace, batch: Batch, tmp_path: Path
) -> None:
    pipe = tmp_path / "printer"
    os.mkfifo(pipe)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(pipe.read_bytes()))
    reader.start()

    ok(unitrace("labels", "zpl", "--org", BRAND, "--batch", str(batch.id), "--layout", "roll-2x1",
                "--out", str(pipe)))  # fmt: skip

    reader.join(timeout=10)
    assert received[0].count(b"^XA") == 35
    assert pipe.is_fifo()
