"""``unitrace labels containers``: case and pallet labels from the command line."""

from __future__ import annotations

import re
from pathlib import Path

import pypdfium2
import pytest
import zxingcpp

from tests.cli.conftest import BRAND, Unitrace, ok
from tests.factories import make_org
from unitrace.domain.labels import PrintTemplate
from unitrace.domain.model import Principal
from unitrace.domain.scan import ScanKind, parse_scan
from unitrace.services import containers, labels
from unitrace.services.runtime import Runtime


def test_labels_containers_writes_a_pdf_whose_qr_codes_scan_back_to_each_container(
    unitrace: Unitrace, rt: Runtime, brand: Principal, tmp_path: Path
) -> None:
    boxes = [v.code for v in containers.create_containers(rt, brand, kind="case", count=2)]
    folder = tmp_path / "labels"
    folder.mkdir()
    out = folder / "cases.pdf"

    result = ok(unitrace("labels", "containers", *boxes, "--org", BRAND, "--output", str(out)))

    pdf = pypdfium2.PdfDocument(out.read_bytes())
    read = []
    for page in pdf:
        image = page.render(scale=300 / 72, grayscale=True).to_pil()
        read += [parse_scan(f.text) for f in zxingcpp.read_barcodes(image)]
    pdf.close()
    assert [(s.kind, s.value) for s in read] == [(ScanKind.CODE, c) for c in boxes]
    job = labels.list_print_jobs(rt, brand).items[0]
    assert job.template is PrintTemplate.CONTAINER and job.selection == {"containers": boxes}
    assert f"Wrote 2 case and pallet labels (scan-checked) to {out}; print job {job.id}." in (
        result.stdout
    )
    assert [p.name for p in folder.iterdir()] == ["cases.pdf"]  # no temporary file left


def test_labels_containers_zpl_without_output_is_named_after_the_job(
    unitrace: Unitrace,
    rt: Runtime,
    brand: Principal,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    pallet = containers.create_containers(rt, brand, kind="pallet")[0].code

    ok(unitrace("labels", "containers", pallet, "--org", BRAND, "--format", "zpl"))

    job = labels.list_print_jobs(rt, brand).items[0]
    zpl = (tmp_path / f"containers-job{job.id}.zpl").read_text()
    assert re.findall(r"\^FDMA,([^\^]+)\^FS", zpl) == [f"https://id.example.test/{pallet}"]
    assert "PALLET" in zpl


def test_labels_containers_refuses_another_organizations_case_and_a_bad_format(
    unitrace: Unitrace, rt: Runtime, brand: Principal, tmp_path: Path
) -> None:
    theirs = containers.create_containers(rt, make_org(rt), kind="case")[0].code
    out = tmp_path / "x.pdf"

    refused = unitrace("labels", "containers", theirs, "--org", BRAND, "--output", str(out))
    bad = unitrace("labels", "containers", theirs, "--org", BRAND, "--format", "csv")

    assert refused.exit_code != 0 and "not found" in refused.output
    assert bad.exit_code != 0 and "pdf, zpl or svg" in bad.output
    assert not out.exists() and labels.list_print_jobs(rt, brand).total == 0
