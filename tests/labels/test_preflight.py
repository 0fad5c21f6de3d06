"""The pre-flight scan check: good labels pass, and every kind of bad label is caught."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from unitrace.adapters.preflight import (
    _MAX_DECODE_DOTS,
    DID_NOT_DECODE,
    DIFFERENT_TEXT,
    PreflightReport,
    _pdf_grid,
    preflight_check,
)
from unitrace.adapters.qr import QrMatrix, encode_qr
from unitrace.domain.codes import generate_codes
from unitrace.domain.labels import (
    INCH,
    LAYOUTS,
    LabelError,
    LabelFace,
    LabelTemplate,
    LabelUnit,
    Layout,
    QrForm,
    plan_label,
    qr_payload,
)

QR_ONLY = LabelFace(LabelTemplate.QR_ONLY, "Brand", "Product")
FINISHED = LabelFace(
    LabelTemplate.FINISHED_GOODS,
    "Brand",
    "Product",
    strain="Blue Dream",
    net_content="3.5 g",
    lot="LOT-1",
    thc="Total THC 21.5 %",
)
SQUARE = {"letter-1x1", "a4-1x1", "roll-1x1"}


def units(n: int, *, form: QrForm = QrForm.SHORT_URL, seed: int = 1) -> list[LabelUnit]:
    codes = generate_codes(n, token_bytes=random.Random(seed).randbytes)
    return [
        LabelUnit(c, qr_payload("https://u.example", c, form=form, gtin="09506000134352", lot="L1"))
        for c in codes
    ]


@pytest.mark.parametrize("fmt", ["pdf", "zpl"])
@pytest.mark.parametrize("dpi", [203, 300, 600])
@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_good_labels_pass_on_every_layout(name: str, dpi: int, fmt: str) -> None:
    layout = LAYOUTS[name]
    # A page and one more label, so every position on a sheet is drawn.
    batch = units(layout.per_page + 1 if fmt == "pdf" else 2, form=QrForm.DIGITAL_LINK)
    face = QR_ONLY if name in SQUARE else FINISHED
    report = preflight_check(layout, face, batch, dpi=dpi, fmt=fmt)
    assert report == PreflightReport(fmt, dpi, name, len(batch), ())
    assert report.ok


@pytest.mark.parametrize("dpi", [203, 300, 600])
def test_every_module_of_a_pdf_label_is_drawn_the_same_number_of_dots(dpi: int) -> None:
    # Rounding halves to even would make modules alternate a dot wider and narrower wherever
    # a QR corner falls exactly between two dots (it does on the 4 × 6 in roll at 600 dpi).
    for layout in LAYOUTS.values():
        plan = plan_label(layout, QR_ONLY, 29, dpi=dpi)
        drawn = min(plan.qr.dots_per_module, _MAX_DECODE_DOTS)  # big modules drawn smaller
        for origin in layout.positions():
            grid = _pdf_grid(plan, origin, dpi)
            assert set(grid.columns) == set(grid.rows) == {drawn}, (layout.name, origin)
            assert grid.margin == 6 * drawn  # quiet zone and two modules of blank label


def test_a_label_too_small_for_its_qr_fails_with_the_reason() -> None:
    tiny = Layout("tiny", "0.4 in square", "roll", 0.4 * INCH, 0.4 * INCH, 0.4 * INCH, 0.4 * INCH)
    (unit,) = units(1, form=QrForm.DIGITAL_LINK)
    report = preflight_check(tiny, QR_ONLY, [unit], dpi=203)
    assert not report.ok
    (failure,) = report.failures
    assert (failure.code, failure.payload, failure.decoded) == (unit.code, unit.payload, None)
    assert failure.reason.startswith("cannot print: a 33×33 QR code does not fit the tiny layout")


def test_a_label_that_fits_only_some_payloads_fails_only_those() -> None:
    batch = units(4)
    long = LabelUnit(batch[2].code, batch[2].payload + "?" + "x" * 120)
    report = preflight_check(LAYOUTS["roll-1x1"], QR_ONLY, [*batch[:2], long, batch[3]], dpi=203)
    assert report.checked == 4
    assert [f.code for f in report.failures] == [long.code]


def test_a_qr_that_encodes_another_text_is_reported_with_what_it_decoded_to() -> None:
    batch = units(5)
    wrong = batch[3]

    def faulty(payload: str) -> QrMatrix:  # a renderer that puts the wrong text in one QR
        return encode_qr(payload + "X" if payload == wrong.payload else payload)

    report = preflight_check(LAYOUTS["letter-30up"], QR_ONLY, batch, dpi=300, encoder=faulty)
    (failure,) = report.failures
    assert failure.code == wrong.code
    assert failure.reason == DIFFERENT_TEXT
    assert failure.decoded == wrong.payload + "X"


@pytest.mark.parametrize("fmt", ["pdf", "zpl"])
def test_a_qr_that_cannot_be_read_is_reported_as_not_decoding(fmt: str) -> None:
    batch = units(3)

    def smudged(payload: str) -> QrMatrix:  # finder patterns printed solid black
        matrix = encode_qr(payload)
        if payload != batch[1].payload:
            return matrix
        rows = [b"\x01" * 8 + row[8:-8] + b"\x01" * 8 for row in matrix.rows]
        return QrMatrix(matrix.size, tuple(rows))

    report = preflight_check(LAYOUTS["roll-2x1"], QR_ONLY, batch, dpi=203, fmt=fmt, encoder=smudged)
    (failure,) = report.failures
    assert (failure.code, failure.decoded, failure.reason) == (batch[1].code, None, DID_NOT_DECODE)


def test_progress_counts_up_to_every_label_checked() -> None:
    seen: list[int] = []
    report = preflight_check(
        LAYOUTS["roll-2x1"], QR_ONLY, units(600), dpi=203, progress=seen.append
    )
    assert report.checked == 600 and report.ok
    assert seen == sorted(seen) and seen[-1] == 600 and len(seen) > 1


def encoder_telling_its_process(payload: str) -> QrMatrix:
    """Refuses payloads ending in "/pid", naming the process that checked them."""
    if payload.endswith("/pid"):
        raise LabelError(f"checked in process {os.getpid()}")
    return encode_qr(payload)


def test_worker_processes_give_the_same_report_in_the_same_order() -> None:
    batch = units(2_200)
    for i in (5, 1_000, 2_150):  # too long for a 1-inch label at 203 dpi
        batch[i] = LabelUnit(batch[i].code, batch[i].payload + "/" + "x" * 100)
    batch[1_500] = LabelUnit(batch[1_500].code, batch[1_500].payload + "/pid")

    def stream() -> Iterator[LabelUnit]:
        yield from batch

    layout, encoder = LAYOUTS["roll-1x1"], encoder_telling_its_process
    inline = preflight_check(layout, QR_ONLY, batch, dpi=203, workers=1, encoder=encoder)
    pooled = preflight_check(layout, QR_ONLY, stream(), dpi=203, workers=2, encoder=encoder)
    assert [f.code for f in pooled.failures] == [batch[i].code for i in (5, 1_000, 1_500, 2_150)]
    assert pooled.failures[2].reason != f"cannot print: checked in process {os.getpid()}"
    assert inline.failures[2].reason == f"cannot print: checked in process {os.getpid()}"
    assert pooled.failures[:2] + pooled.failures[3:] == inline.failures[:2] + inline.failures[3:]
    assert pooled.checked == inline.checked == 2_200


def test_a_script_without_the_main_guard_still_gets_its_report(tmp_path: Path) -> None:
    script = tmp_path / "check.py"
    script.write_text(
        "from unitrace.adapters.preflight import preflight_check\n"
        "from unitrace.domain.labels import LabelFace, LabelTemplate, LabelUnit, get_layout\n"
        "units = [LabelUnit('X', f'https://u.example/{i}') for i in range(2_200)]\n"
        "face = LabelFace(LabelTemplate.QR_ONLY, 'Brand', 'Product')\n"
        "report = preflight_check(get_layout('roll-2x1'), face, units, dpi=203, workers=2)\n"
        "print(report.ok, report.checked)\n"
    )
    done = subprocess.run(  # noqa: S603 - our own interpreter on our own script
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.splitlines()[-1] == "True 2200"


def test_an_unknown_format_is_refused() -> None:
    with pytest.raises(LabelError, match="pdf, zpl"):
        preflight_check(LAYOUTS["roll-2x1"], QR_ONLY, units(1), dpi=203, fmt="svg")
