"""SVG labels, PNG QR codes and the ZIP of SVGs: geometry rebuilt, rasterized and decoded.

No SVG rasterizer ships with the project, so the test reads the SVG back as data: it
rebuilds the module matrix from the QR ``<path>`` and compares it with ``encode_qr``, and it
paints the path's rectangles at 300 dpi, exactly as the SVG transform places them, for
zxing-cpp to decode.
"""

from __future__ import annotations

import io
import re
import zipfile
from xml.etree import ElementTree

import pytest
import zxingcpp
from PIL import Image, ImageDraw

from tests.labels import FINISHED, QR_ONLY, make_units
from unitrace.adapters.pdf import CAP_HEIGHT, DESCENT, text_width, winansi
from unitrace.adapters.qr import encode_qr
from unitrace.adapters.svg import render_label_svg, render_qr_png, write_svg_zip
from unitrace.domain.labels import (
    LAYOUTS,
    QUIET_ZONE_MODULES,
    LabelError,
    LabelFace,
    LabelUnit,
    QrForm,
    get_layout,
)

SVG = "{http://www.w3.org/2000/svg}"
RUN = re.compile(r"M(\d+) (\d+)h(\d+)v1h-(\d+)z")
TRANSFORM = re.compile(r"translate\(([\d.]+) ([\d.]+)\) scale\(([\d.]+)\)")


class Qr:
    """The QR ``<path>`` of an SVG label: its placement and its runs."""

    def __init__(self, svg: ElementTree.Element) -> None:
        (path,) = svg.iter(f"{SVG}path")
        placement = TRANSFORM.fullmatch(path.attrib["transform"])
        assert placement is not None
        self.x, self.y, self.module = (float(v) for v in placement.groups())
        data = path.attrib["d"]
        assert "".join(m.group(0) for m in RUN.finditer(data)) == data  # nothing but runs
        self.runs = [(int(c), int(r), int(n)) for c, r, n, back in RUN.findall(data) if n == back]
        assert len(self.runs) == data.count("M")

    def matrix(self, size: int) -> tuple[bytes, ...]:
        rows = [bytearray(size) for _ in range(size)]
        for column, row, length in self.runs:
            rows[row][column : column + length] = b"\x01" * length
        return tuple(bytes(row) for row in rows)

    def box(self, size: int) -> tuple[float, float, float, float]:
        """The symbol with its quiet zone: left, top, right, bottom (points, y down)."""
        quiet = QUIET_ZONE_MODULES * self.module
        side = size * self.module
        return self.x - quiet, self.y - quiet, self.x + side + quiet, self.y + side + quiet


def parse(svg: str) -> ElementTree.Element:
    return ElementTree.fromstring(svg)  # noqa: S314 - our own output


def paint(qr: Qr, width: float, height: float, dpi: int = 300) -> Image.Image:
    """The path's rectangles at ``dpi``, as an SVG renderer places them."""
    s = dpi / 72
    image = Image.new("L", (round(width * s), round(height * s)), 255)
    draw = ImageDraw.Draw(image)
    for column, row, length in qr.runs:
        left, top = qr.x + column * qr.module, qr.y + row * qr.module
        right, bottom = left + length * qr.module, top + qr.module
        draw.rectangle(
            (round(left * s), round(top * s), round(right * s) - 1, round(bottom * s) - 1), 0
        )
    return image


def texts(svg: ElementTree.Element) -> list[tuple[float, float, float, str]]:
    return [
        (float(t.attrib["x"]), float(t.attrib["y"]), float(t.attrib["font-size"]), t.text or "")
        for t in svg.iter(f"{SVG}text")
    ]


def decode(image: Image.Image) -> list[str]:
    return [b.text for b in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)]


# --- SVG ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", LAYOUTS)
@pytest.mark.parametrize("face", [QR_ONLY, FINISHED], ids=["qr_only", "finished_goods"])
def test_an_svg_label_is_true_size_and_its_qr_decodes(name: str, face: LabelFace) -> None:
    layout = get_layout(name)
    (unit,) = make_units(1, form=QrForm.SHORT_URL)
    svg = parse(render_label_svg(layout, face, unit, dpi=300))
    width, height = svg.attrib["width"], svg.attrib["height"]
    assert width.endswith("in") and height.endswith("in")
    assert float(width[:-2]) == pytest.approx(layout.label_width / 72, abs=1e-6)
    assert float(height[:-2]) == pytest.approx(layout.label_height / 72, abs=1e-6)
    view = [float(v) for v in svg.attrib["viewBox"].split()]
    assert view == pytest.approx([0, 0, layout.label_width, layout.label_height])
    matrix = encode_qr(unit.payload)
    qr = Qr(svg)
    assert qr.matrix(matrix.size) == matrix.rows
    assert qr.module * 300 / 72 == pytest.approx(round(qr.module * 300 / 72))  # whole dots
    assert decode(paint(qr, layout.label_width, layout.label_height)) == [unit.payload]


@pytest.mark.parametrize("name", ["letter-30up", "a4-24up", "roll-1.5x1", "roll-4x6"])
def test_svg_text_shows_the_code_and_the_block_and_stays_out_of_the_quiet_zone(name: str) -> None:
    layout = get_layout(name)
    (unit,) = make_units(1)
    svg = parse(render_label_svg(layout, FINISHED, unit, dpi=203))
    left, top, right, bottom = Qr(svg).box(encode_qr(unit.payload).size)
    shown = texts(svg)
    assert shown[0][3] == unit.human_code
    block = [text.replace("\u00a0", " ") for _, _, _, text in shown[1:]]
    assert len(block) == len(FINISHED.lines())
    for got, line in zip(block, FINISHED.lines(), strict=True):
        assert got == line or (got.endswith("…") and line.startswith(got[:-1].rstrip()))
    for x, y, size, text in shown:
        width = text_width(winansi(text), size)
        assert x >= 0 and x + width <= layout.label_width + 0.01, text
        clear = (
            x >= right
            or x + width <= left
            or y + DESCENT * size <= top
            or y - CAP_HEIGHT * size >= bottom
        )
        assert clear, text
    assert shown[0][1] - CAP_HEIGHT * shown[0][2] >= bottom  # the code sits under the QR


def test_svg_text_is_escaped() -> None:
    face = LabelFace(FINISHED.template, 'Brand <script>&"', "Product")
    (unit,) = make_units(1)
    svg = render_label_svg(get_layout("roll-4x6"), face, unit)
    assert "<script>" not in svg
    assert texts(parse(svg))[1][3] == 'Brand <script>&"'


def test_an_svg_label_that_cannot_print_is_refused() -> None:
    (unit,) = make_units(1)
    with pytest.raises(LabelError, match="does not fit the roll-1x1 layout at 203 dpi"):
        render_label_svg(get_layout("roll-1x1"), FINISHED, unit, dpi=203)


# --- PNG ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("module_px", [1, 3, 8])
def test_a_png_qr_decodes_and_keeps_its_quiet_zone(module_px: int) -> None:
    (unit,) = make_units(1)
    size = encode_qr(unit.payload).size
    image = Image.open(io.BytesIO(render_qr_png(unit.payload, module_px=module_px)))
    side = (size + 2 * QUIET_ZONE_MODULES) * module_px
    assert image.format == "PNG" and image.size == (side, side)
    grey = image.convert("L")
    border = QUIET_ZONE_MODULES * module_px
    assert grey.crop((0, 0, side, border)).getextrema() == (255, 255)
    assert grey.crop((0, 0, border, side)).getextrema() == (255, 255)
    assert grey.crop((side - border, 0, side, side)).getextrema() == (255, 255)
    assert grey.crop((0, side - border, side, side)).getextrema() == (255, 255)
    # Scale up tiny renders as a phone camera would see them.
    assert decode(grey.resize((side * 4 // module_px,) * 2, Image.Resampling.NEAREST)) == [
        unit.payload
    ]


def test_png_modules_must_be_at_least_one_pixel() -> None:
    with pytest.raises(LabelError, match="module_px must be at least 1"):
        render_qr_png("https://id.example.com/X", module_px=0)


def test_an_empty_payload_is_refused() -> None:
    with pytest.raises(LabelError, match="cannot encode"):
        render_qr_png("")


# --- ZIP of SVGs --------------------------------------------------------------------------------


class Sink:
    """A write-only stream, like an HTTP response body: no seek, no tell."""

    def __init__(self) -> None:
        self.data = bytearray()

    def write(self, chunk: bytes) -> int:
        self.data += chunk
        return len(chunk)

    def flush(self) -> None:
        pass


def test_a_zip_of_svgs_streams_one_file_per_unit_named_by_code() -> None:
    units = make_units(250)
    sink = Sink()
    seen: list[int] = []
    count = write_svg_zip(sink, get_layout("letter-30up"), FINISHED, units, progress=seen.append)  # type: ignore[arg-type]
    assert count == 250 and seen == [100, 200, 250]
    with zipfile.ZipFile(io.BytesIO(bytes(sink.data))) as archive:
        assert archive.namelist() == [f"{u.code}.svg" for u in units]
        assert all(info.compress_type == zipfile.ZIP_DEFLATED for info in archive.infolist())
        for unit in (units[0], units[-1]):
            svg = parse(archive.read(f"{unit.code}.svg").decode())
            assert Qr(svg).matrix(encode_qr(unit.payload).size) == encode_qr(unit.payload).rows
            assert texts(svg)[0][3] == unit.human_code


def test_a_zip_of_svgs_refuses_a_label_that_cannot_print() -> None:
    with pytest.raises(LabelError):
        write_svg_zip(io.BytesIO(), get_layout("a4-1x1"), FINISHED, make_units(2), dpi=203)


def test_the_qr_matrix_marks_dark_modules_with_one_and_lists_its_runs() -> None:
    matrix = encode_qr("https://id.example.com/7WBHYD4AWGP3R2")
    assert matrix.size == len(matrix.rows) == len(matrix.rows[0])
    assert set(b"".join(matrix.rows)) == {0, 1}
    assert matrix.rows[0][:8] == b"\x01" * 7 + b"\x00"  # the top-left finder pattern
    rebuilt = [bytearray(matrix.size) for _ in range(matrix.size)]
    for row, column, length in matrix.runs():
        rebuilt[row][column : column + length] = b"\x01" * length
    assert tuple(bytes(r) for r in rebuilt) == matrix.rows


def test_the_error_correction_level_changes_the_symbol() -> None:
    payload = LabelUnit("7WBHYD4AWGP3R2", "https://id.example.com/7WBHYD4AWGP3R2").payload
    assert (
        encode_qr(payload, "L").size <= encode_qr(payload, "M").size < encode_qr(payload, "H").size
    )
    with pytest.raises(LabelError, match="error-correction level"):
        encode_qr(payload, "X")
