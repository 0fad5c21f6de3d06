"""PDF labels: rasterized with PDFium at printer resolution, every QR decoded with zxing-cpp."""

from __future__ import annotations

import io
import itertools
import math
import re
import tempfile
import tracemalloc
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import pypdfium2 as pdfium
import pytest
import zxingcpp
from PIL import Image

from tests.labels import FINISHED, QR_ONLY, iter_units, make_units
from unitrace.adapters.pdf import qr_corner, render_pdf
from unitrace.adapters.qr import encode_qr
from unitrace.domain.labels import (
    LAYOUTS,
    QUIET_ZONE_MODULES,
    LabelError,
    LabelFace,
    LabelPlan,
    LabelTemplate,
    LabelUnit,
    Layout,
    QrForm,
    get_layout,
    plan_label,
)

# Digital-link payloads are 33×33 modules: too many for a finished-goods 1-inch square label.
REFUSED = {"letter-1x1", "a4-1x1", "roll-1x1"}


def render(
    layout: Layout, face: LabelFace, units: Sequence[LabelUnit], dpi: int, **options: object
) -> bytes:
    out = io.BytesIO()
    assert render_pdf(out, layout, face, units, dpi=dpi, **options) == len(units)  # type: ignore[arg-type]
    return out.getvalue()


@dataclass
class Page:
    image: Image.Image
    text: pdfium.PdfTextPage
    height: float  # points
    scale: float  # pixels per point


@dataclass
class Document:
    pdf: pdfium.PdfDocument
    dpi: int

    def __len__(self) -> int:
        return len(self.pdf)

    def page(self, index: int) -> Page:
        page = self.pdf[index]
        bitmap = page.render(
            scale=self.dpi / 72,
            grayscale=True,
            may_draw_forms=False,
            no_smoothtext=True,
            no_smoothpath=True,
            no_smoothimage=True,
        )
        return Page(bitmap.to_pil(), page.get_textpage(), page.get_height(), self.dpi / 72)


OpenPdf = Callable[[bytes, int], Document]


@pytest.fixture
def open_pdf() -> Iterator[OpenPdf]:
    """Open PDF bytes for rasterizing at a resolution; closes every document afterwards."""
    opened: list[pdfium.PdfDocument] = []

    def _open(data: bytes, dpi: int) -> Document:
        opened.append(pdfium.PdfDocument(data))
        return Document(opened[-1], dpi)

    yield _open
    for pdf in opened:
        pdf.close()


def label_image(page: Page, layout: Layout, spot: int) -> Image.Image:
    x, y = layout.positions()[spot]
    s = page.scale
    top = page.height - y - layout.label_height
    box = (x * s, top * s, (x + layout.label_width) * s, (top + layout.label_height) * s)
    return page.image.crop(tuple(round(v) for v in box))  # type: ignore[arg-type]


def decoded(image: Image.Image) -> list[str]:
    return [
        found.text for found in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    ]


def label_text(page: Page, layout: Layout, spot: int) -> list[str]:
    x, y = layout.positions()[spot]
    text = page.text.get_text_bounded(x, y, x + layout.label_width, y + layout.label_height)
    return [line.strip() for line in text.replace("\r", "").split("\n") if line.strip()]


def modules_seen(page: Page, plan: LabelPlan, layout: Layout, spot: int) -> tuple[bytes, ...]:
    """The module matrix read back from the raster: the centre pixel of every module."""
    x, y = layout.positions()[spot]
    left, down = qr_corner(plan, x, page.height - y - layout.label_height)
    step = plan.qr.module * page.scale
    px = page.image.load()
    assert px is not None
    return tuple(
        bytes(
            int(
                px[left * page.scale + (c + 0.5) * step, down * page.scale + (r + 0.5) * step] < 128
            )
            for c in range(plan.qr.modules)
        )
        for r in range(plan.qr.modules)
    )


def quiet_zone_is_blank(page: Page, plan: LabelPlan, layout: Layout, spot: int) -> bool:
    """Every pixel between the symbol and four modules out from it is white."""
    x, y = layout.positions()[spot]
    left, down = qr_corner(plan, x, page.height - y - layout.label_height)
    s, m = page.scale, plan.qr.module
    quiet = QUIET_ZONE_MODULES * m
    x0, y0 = round((left - quiet) * s), round((down - quiet) * s)
    x1, y1 = round((left + plan.qr.size + quiet) * s), round((down + plan.qr.size + quiet) * s)
    # The symbol itself, grown by one pixel for rounding at its edge.
    sx0, sy0 = round(left * s) - 1, round(down * s) - 1
    sx1, sy1 = round((left + plan.qr.size) * s) + 1, round((down + plan.qr.size) * s) + 1
    px = page.image.load()
    assert px is not None
    return all(
        px[i, j] == 255
        for j in range(y0, y1)
        for i in range(x0, x1)
        if not (sx0 <= i < sx1 and sy0 <= j < sy1)
    )


def shows(line: str, extracted: list[str]) -> bool:
    """``line`` appears whole, or cut with an ellipsis (PDFium folds runs of spaces)."""
    line = " ".join(line.split())
    return any(
        got == line or (got.endswith("…") and len(got) > 1 and line.startswith(got[:-1].rstrip()))
        for got in (" ".join(text.split()) for text in extracted)
    )


# --- every layout, both templates, both thermal/office resolutions ------------------------------


CASES = [
    pytest.param(name, face, id=f"{name}-{face.template}")
    for name in LAYOUTS
    for face in (QR_ONLY, FINISHED)
    if not (face is FINISHED and name in REFUSED)
]


@pytest.mark.parametrize("dpi", [203, 300])
@pytest.mark.parametrize(("name", "face"), CASES)
def test_every_label_scans_to_its_payload_and_shows_its_code(
    name: str, face: LabelFace, dpi: int, open_pdf: OpenPdf
) -> None:
    layout = get_layout(name)
    units = make_units(layout.per_page + 1)
    doc = open_pdf(render(layout, face, units, dpi), dpi)
    assert len(doc) == 2 == math.ceil(len(units) / layout.per_page)
    plan = plan_label(layout, face, encode_qr(units[0].payload).size, dpi=dpi)
    for index, unit in enumerate(units):
        page_index, spot = divmod(index, layout.per_page)
        if spot == 0:
            page = doc.page(page_index)
        assert decoded(label_image(page, layout, spot)) == [unit.payload], (index, unit.code)
        assert modules_seen(page, plan, layout, spot) == encode_qr(unit.payload).rows
        text = label_text(page, layout, spot)
        assert unit.human_code in text
        assert all(shows(line, text) for line in face.lines())
    first_page = doc.page(0)
    assert all(
        quiet_zone_is_blank(first_page, plan, layout, spot) for spot in {0, layout.per_page - 1}
    )


@pytest.mark.parametrize("dpi", [203, 300])
def test_every_module_prints_as_the_same_whole_number_of_dots(dpi: int, open_pdf: OpenPdf) -> None:
    # Labels on this sheet start at 0.1875 in: 38.06 dots at 203 dpi. The QR corner is
    # snapped to the dot grid, so no module comes out one dot wider or narrower.
    layout = get_layout("letter-30up")
    units = make_units(30)
    page = open_pdf(render(layout, FINISHED, units, dpi), dpi).page(0)
    plan = plan_label(layout, FINISHED, encode_qr(units[0].payload).size, dpi=dpi)
    dots = plan.qr.dots_per_module
    px = page.image.load()
    assert px is not None
    for spot in range(layout.per_page):
        x, y = layout.positions()[spot]
        left, down = qr_corner(plan, x, page.height - y - layout.label_height)
        row = round((down + plan.qr.module / 2) * page.scale)  # through the top finder patterns
        start = round(left * page.scale)
        dark = [px[start + i, row] < 128 for i in range(plan.qr.modules * dots)]  # type: ignore[operator]
        runs = [len(list(group)) for _, group in itertools.groupby(dark)]
        assert all(length % dots == 0 for length in runs), (spot, runs)
        assert runs[0] == 7 * dots and runs[-1] == 7 * dots


@pytest.mark.parametrize("name", sorted(REFUSED))
@pytest.mark.parametrize("dpi", [203, 300])
def test_a_payload_too_long_for_the_label_is_refused_before_writing(name: str, dpi: int) -> None:
    out = io.BytesIO()
    with pytest.raises(LabelError, match=f"does not fit the {name} layout at {dpi} dpi"):
        render_pdf(out, get_layout(name), FINISHED, make_units(3), dpi=dpi)
    assert out.getvalue() == b""


def test_the_short_url_fits_a_finished_goods_square_at_300_dpi(open_pdf: OpenPdf) -> None:
    layout = get_layout("roll-1x1")
    units = make_units(2, form=QrForm.SHORT_URL)
    doc = open_pdf(render(layout, FINISHED, units, 300), 300)
    assert [decoded(label_image(doc.page(i), layout, 0)) for i in range(2)] == [
        [u.payload] for u in units
    ]


def test_labels_made_for_300_dpi_also_scan_from_a_203_dpi_raster(open_pdf: OpenPdf) -> None:
    layout = get_layout("letter-30up")
    units = make_units(30)
    page = open_pdf(render(layout, FINISHED, units, 300), 203).page(0)
    assert [decoded(label_image(page, layout, i)) for i in range(30)] == [
        [u.payload] for u in units
    ]


# --- structure ----------------------------------------------------------------------------------


def content_streams(data: bytes) -> list[bytes]:
    """Every Flate stream of the file, decompressed, in file order."""
    found = []
    for match in re.finditer(rb"/Length (\d+) /Filter /FlateDecode", data):
        start = data.index(b"stream\n", match.end()) + len(b"stream\n")
        found.append(zlib.decompress(data[start : start + int(match.group(1))]))
    return found


def test_the_qr_is_one_rect_per_dark_run_filled_once_and_the_face_is_drawn_once() -> None:
    layout = get_layout("letter-30up")
    units = make_units(30)
    data = render(layout, FINISHED, units, 300)
    assert data.count(b"/Subtype /Form") == 1
    form, page = content_streams(data)
    assert b"Green Valley Farms" in form and b"Green Valley Farms" not in page
    assert page.count(b"/Face33 Do") == 30
    assert page.count(b"\nf\n") == 30
    first = page.split(b"f\nQ\n")[0]
    assert first.count(b" re\n") == len(list(encode_qr(units[0].payload).runs()))
    assert re.search(rb"q 1\.2 0 0 -1\.2 [\d.]+ [\d.]+ cm\n", first)  # 5 dots of 1/300 in


def test_the_cross_reference_table_points_at_every_object() -> None:
    data = render(get_layout("roll-2x1"), FINISHED, make_units(300), 203)
    start = int(re.search(rb"startxref\n(\d+)\n%%EOF\n$", data).group(1))  # type: ignore[union-attr]
    assert data[start:].startswith(b"xref\n0 ")
    count = int(data[start:].split(b"\n")[1].split()[1])
    entries = data[start:].split(b"\n")[3 : 2 + count]
    assert count > 600  # a page and its content per label, plus the tree and resources
    for number, entry in enumerate(entries, start=1):
        offset = int(entry[:10])
        assert data[offset:].startswith(b"%d 0 obj\n" % number), number


def test_roll_pages_are_the_size_of_the_label(open_pdf: OpenPdf) -> None:
    doc = open_pdf(render(get_layout("roll-4x6"), QR_ONLY, make_units(3), 203), 203)
    assert len(doc) == 3
    assert [doc.pdf[i].get_size() for i in range(3)] == [(288.0, 432.0)] * 3


@pytest.mark.parametrize(("count", "pages"), [(1, 1), (30, 1), (31, 2), (601, 21)])
def test_page_count_is_labels_over_labels_per_page_rounded_up(
    count: int, pages: int, open_pdf: OpenPdf
) -> None:
    data = render(get_layout("letter-30up"), QR_ONLY, make_units(count), 300)
    assert len(open_pdf(data, 300)) == pages


def test_long_rolls_keep_a_balanced_page_tree(open_pdf: OpenPdf) -> None:
    data = render(get_layout("roll-1.5x1"), QR_ONLY, make_units(600, form=QrForm.SHORT_URL), 300)
    doc = open_pdf(data, 300)
    assert len(doc) == 600
    assert data.count(b"/Type /Pages") == 4  # the root and three nodes of at most 256 pages
    last = doc.page(599)
    assert decoded(label_image(last, get_layout("roll-1.5x1"), 0)) == [
        make_units(600, form=QrForm.SHORT_URL)[599].payload
    ]


def test_no_units_are_refused_before_writing() -> None:
    out = io.BytesIO()
    with pytest.raises(LabelError, match="no labels to print"):
        render_pdf(out, get_layout("letter-30up"), QR_ONLY, [])
    assert out.getvalue() == b""


def test_progress_reports_the_running_count_after_every_page() -> None:
    seen: list[int] = []
    render_pdf(
        io.BytesIO(), get_layout("letter-30up"), QR_ONLY, make_units(65), progress=seen.append
    )
    assert seen == [30, 60, 65]


# --- text ---------------------------------------------------------------------------------------


def test_the_code_is_centred_under_the_qr(open_pdf: OpenPdf) -> None:
    layout = get_layout("roll-2x1")
    (unit,) = make_units(1)
    doc = open_pdf(render(layout, QR_ONLY, [unit], 300), 300)
    text = doc.page(0).text
    assert text.get_text_range() == unit.human_code
    boxes = [text.get_charbox(i) for i in range(text.count_chars())]
    centre = (boxes[0][0] + boxes[-1][2]) / 2
    plan = plan_label(layout, QR_ONLY, encode_qr(unit.payload).size, dpi=300)
    assert centre == pytest.approx(plan.qr.x + plan.qr.size / 2, abs=0.6)
    assert max(box[3] for box in boxes) < plan.qr.y - QUIET_ZONE_MODULES * plan.qr.module


def test_a_line_too_long_for_the_box_is_cut_with_an_ellipsis_inside_the_box(
    open_pdf: OpenPdf,
) -> None:
    layout = get_layout("letter-2x1")
    (unit,) = make_units(1)
    doc = open_pdf(render(layout, FINISHED, [unit], 300), 300)
    page = doc.page(0)
    lines = label_text(page, layout, 0)
    cut = [line for line in lines if line.endswith("…")]
    assert cut and cut[-1].startswith("Keep out of")
    plan = plan_label(layout, FINISHED, encode_qr(unit.payload).size, dpi=300)
    assert plan.text is not None
    right = layout.positions()[0][0] + plan.text.x + plan.text.width
    boxes = [page.text.get_charbox(i) for i in range(page.text.count_chars())]
    assert max(box[2] for box in boxes) <= right + 0.01


def test_characters_helvetica_cannot_show_are_replaced(open_pdf: OpenPdf) -> None:
    layout = get_layout("roll-4x6")
    face = LabelFace(LabelTemplate.FINISHED_GOODS, "Ωmega Gärten", "Crème (brûlée) \\ 5 g")
    doc = open_pdf(render(layout, face, make_units(1), 203), 203)
    lines = label_text(doc.page(0), layout, 0)
    assert "?mega Gärten" in lines
    assert "Crème (brûlée) \\ 5 g" in lines


# --- speed paths and memory ---------------------------------------------------------------------


def test_worker_processes_write_the_same_document_as_one_process() -> None:
    layout = get_layout("letter-30up")
    units = make_units(130)
    assert render(layout, FINISHED, units, 300, workers=2) == render(
        layout, FINISHED, units, 300, workers=1
    )


def test_a_label_error_in_a_worker_process_reaches_the_caller() -> None:
    with pytest.raises(LabelError, match="does not fit the roll-1x1 layout"):
        render_pdf(io.BytesIO(), get_layout("roll-1x1"), FINISHED, make_units(4), workers=2)


@pytest.mark.slow
def test_rendering_twenty_thousand_labels_keeps_memory_flat() -> None:
    layout = get_layout("letter-30up")
    with tempfile.TemporaryFile() as out:
        tracemalloc.start()
        try:
            count = render_pdf(out, layout, FINISHED, iter_units(20_000, form=QrForm.SHORT_URL))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        size = out.tell()
    assert count == 20_000
    assert size > 5_000_000
    assert peak < size / 5, (peak, size)
