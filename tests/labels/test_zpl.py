"""ZPL output, checked by parsing it as a printer would and drawing the QR it describes.

No ZPL renderer is installed here (and none is fetched), so the tests parse every format with
the small parser below and draw the QR the printer would (zxing-cpp at the format's error
correction, ``magnification`` dots per module, at the field origin) on a blank label.
"""

from __future__ import annotations

import datetime as dt
import io
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import zxingcpp
from PIL import Image

from unitrace.adapters.zpl import (
    BY_HEIGHT,
    qr_modules_upper_bound,
    render_zpl,
    zpl_qr_geometry,
)
from unitrace.domain.codes import format_code, generate_codes
from unitrace.domain.labels import (
    LAYOUTS,
    PRINTER_DPIS,
    QUIET_ZONE_MODULES,
    LabelError,
    LabelFace,
    LabelTemplate,
    LabelUnit,
    Layout,
    QrForm,
    qr_payload,
)

KNOWN_COMMANDS = {"XA", "CI", "PW", "LL", "LH", "BY", "FO", "BQ", "FH", "FD", "FS", "A0", "FB"}
FIELD_COMMANDS = {"BQ", "FH", "A0", "FB"}
QR = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)

QR_ONLY = LabelFace(LabelTemplate.QR_ONLY, "Crème Farms", "Blue Dream")
FINISHED = LabelFace(
    LabelTemplate.FINISHED_GOODS,
    "Crème Brûlée Farms",
    "Ωmega Kush",
    strain="Blue Dream",
    net_content="3.5 g",
    lot="LOT-2026-11",
    packaged_on=dt.date(2026, 11, 20),
    expires_on=dt.date(2027, 11, 20),
    thc="Total THC 21.5 %",
    cbd="CBD 0.1 %",
    warnings="Keep out of reach of children.",
)


def units(n: int, *, form: QrForm = QrForm.SHORT_URL) -> list[LabelUnit]:
    codes = generate_codes(n, token_bytes=random.Random(n).randbytes)
    return [
        LabelUnit(c, qr_payload("https://u.example", c, form=form, gtin="09506000134352", lot="L1"))
        for c in codes
    ]


# --- a small ZPL parser ---------------------------------------------------------------------


@dataclass
class Field:
    origin: tuple[int, int]
    commands: dict[str, str]
    data: str  # after ^FH hex decoding, as UTF-8 text


@dataclass
class Format:
    commands: dict[str, str]  # label-level commands (PW, LL, CI, BY…)
    fields: list[Field]

    def qr(self) -> Field:
        (qr,) = [f for f in self.fields if "BQ" in f.commands]
        return qr

    def texts(self) -> list[Field]:
        return [f for f in self.fields if "A0" in f.commands]

    def ints(self, command: str) -> list[int]:
        return [int(x) for x in self.commands[command].split(",")]


def unhex(data: str) -> str:
    raw = re.sub(rb"_([0-9A-Fa-f]{2})", lambda m: bytes([int(m[1], 16)]), data.encode())
    return raw.decode("utf-8")


def parse_zpl(text: str) -> Iterator[Format]:
    """Formats in ``text``; fails on anything a printer would not take as we mean it."""
    assert "~" not in text, "a raw ~ starts a control command"
    current: Format | None = None
    field: Field | None = None
    hex_next = False
    for piece in text.split("^")[1:]:
        command, params = piece[:2], piece[2:]
        if command == "XA":
            assert current is None, "^XA inside a format"
            current = Format({}, [])
            continue
        assert current is not None, f"^{command} outside ^XA … ^XZ"
        if command == "XZ":
            assert field is None, "format ends inside a field"
            assert params.strip() == ""
            yield current
            current = None
            continue
        assert command in KNOWN_COMMANDS, f"unknown command ^{command}"
        if command == "FO":
            assert field is None, "^FO inside a field"
            x, y = (int(v) for v in params.split(","))
            field = Field((x, y), {}, "")
        elif command in FIELD_COMMANDS:
            assert field is not None, f"^{command} outside a field"
            field.commands[command] = params
            hex_next = hex_next or command == "FH"
        elif command == "FD":
            assert field is not None and hex_next, "^FD without ^FO and ^FH"
            assert "\n" not in params and "\r" not in params
            field.data = unhex(params)
        elif command == "FS":
            assert field is not None
            current.fields.append(field)
            field, hex_next = None, False
        else:
            assert field is None, f"^{command} inside a field"
            current.commands[command] = params
    assert current is None, "^XA without ^XZ"


def render(layout: Layout, face: LabelFace, batch: list[LabelUnit], dpi: int) -> list[Format]:
    out = io.StringIO()
    assert render_zpl(out, layout, face, batch, dpi=dpi) == len(batch)
    return list(parse_zpl(out.getvalue()))


def printed_label(fmt: Format) -> tuple[Image.Image, tuple[int, int, int]]:
    """The label bitmap with the QR drawn as the printer would; and (x, y, side) in dots."""
    width, height = fmt.ints("PW")[0], fmt.ints("LL")[0]
    qr = fmt.qr()
    orientation, model, magnification, ec = qr.commands["BQ"].split(",")
    assert (orientation, model, ec) == ("N", "2", "M")
    assert 1 <= int(magnification) <= 10
    mode, payload = qr.data.split(",", 1)
    assert mode == "MA"  # error correction M, automatic input
    symbol = zxingcpp.create_barcode(payload, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    image = Image.fromarray(symbol.to_image(scale=int(magnification), add_quiet_zones=False))
    label = Image.new("L", (width, height), 255)
    # Firmware sinks an ^FO QR by the ^BY bar height; the format pins it.
    x, y = qr.origin[0], qr.origin[1] + fmt.ints("BY")[2]
    label.paste(image, (x, y))
    return label, (x, y, image.width)


def boxes_overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def text_box(field: Field) -> tuple[int, int, int, int]:
    font = int(field.commands["A0"].split(",")[1])
    width, lines, spacing = (int(v) for v in field.commands["FB"].split(",")[:3])
    x, y = field.origin
    return x, y, x + width, y + lines * font + (lines - 1) * spacing


# --- the tests ------------------------------------------------------------------------------

SQUARE = {"letter-1x1", "a4-1x1", "roll-1x1"}
# A finished-goods 1-inch square has room for a short-URL QR only, and not at 203 dpi
# (test_a_payload_too_long_for_the_label_is_refused).
CASES = [
    (name, dpi, face)
    for name in LAYOUTS
    for dpi in PRINTER_DPIS
    for face in (QR_ONLY, FINISHED)
    if not (name in SQUARE and dpi == 203 and face is FINISHED)
]


@pytest.mark.parametrize(("name", "dpi", "face"), CASES)
def test_every_layout_prints_labels_whose_qr_decodes_to_the_payload(
    name: str, dpi: int, face: LabelFace
) -> None:
    layout = LAYOUTS[name]
    form = QrForm.SHORT_URL if name in SQUARE and face is FINISHED else QrForm.DIGITAL_LINK
    batch = units(3, form=form)
    formats = render(layout, face, batch, dpi)
    assert len(formats) == 3
    for fmt, unit in zip(formats, batch, strict=True):
        assert fmt.commands["CI"] == "28"
        assert fmt.ints("PW") == [round(layout.label_width * dpi / 72)]
        assert fmt.ints("LL") == [round(layout.label_height * dpi / 72)]
        assert fmt.qr().data == f"MA,{unit.payload}"
        label, (x, y, side) = printed_label(fmt)
        magnification = int(fmt.qr().commands["BQ"].split(",")[2])
        quiet = QUIET_ZONE_MODULES * magnification
        assert x - quiet >= 0 and y - quiet >= 0
        assert x + side + quiet <= label.width and y + side + quiet <= label.height
        found = zxingcpp.read_barcode(label, formats=QR)
        assert found is not None and found.text == unit.payload
        code, *rest = fmt.texts()
        assert code.data == unit.human_code
        qr_and_quiet = (x - quiet, y - quiet, x + side + quiet, y + side + quiet)
        for text in fmt.texts():
            box = text_box(text)
            assert box[0] >= 0 and box[2] <= label.width and box[3] <= label.height
            assert not boxes_overlap(box, qr_and_quiet)
        assert len(rest) == (1 if face is FINISHED else 0)


def test_a_finished_goods_label_keeps_its_utf8_text() -> None:
    (fmt,) = render(LAYOUTS["roll-4x6"], FINISHED, units(1), 300)
    block = fmt.texts()[1]
    lines = block.data.split("\\&")
    assert lines[:2] == ["Crème Brûlée Farms", "Ωmega Kush"]
    assert "Blue Dream · 3.5 g" in lines
    assert "Pkg 2026-11-20  Exp 2027-11-20" in lines
    assert lines[-1] == "Keep out of reach of children."
    assert int(block.commands["FB"].split(",")[1]) == len(lines)


def test_text_that_does_not_fit_is_cut_with_an_ellipsis_inside_the_block() -> None:
    face = LabelFace(
        LabelTemplate.FINISHED_GOODS, "Brand", "Product", warnings="Warning text. " * 60
    )
    (fmt,) = render(LAYOUTS["roll-2x1"], face, units(1), 203)
    block = fmt.texts()[1]
    lines = block.data.split("\\&")
    assert len(lines) == int(block.commands["FB"].split(",")[1]) < 20
    assert lines[-1].endswith("...")
    assert text_box(block)[3] <= fmt.ints("LL")[0]


def test_field_data_escapes_caret_tilde_underscore_and_backslash() -> None:
    face = LabelFace(LabelTemplate.FINISHED_GOODS, "A^B~C_D\\E", "^XZ^XA")
    batch = [LabelUnit(generate_codes(1)[0], "https://u.example/a_41~c^d")]
    out = io.StringIO()
    render_zpl(out, LAYOUTS["roll-2x1"], face, batch)
    (fmt,) = parse_zpl(out.getvalue())  # one format: nothing in the data ended it
    assert fmt.qr().data == "MA,https://u.example/a_41~c^d"
    lines = fmt.texts()[1].data.split("\\&")
    assert lines[:2] == ["A^B~C_D\\\\E", "^XZ^XA"]  # ^FB reads "\\" as one backslash


def test_the_fast_path_prints_exactly_what_the_per_label_path_prints() -> None:
    batch = units(50)
    odd = LabelUnit(batch[0].code.lower(), batch[0].payload)  # not canonical: slow path
    fast, slow = io.StringIO(), io.StringIO()
    render_zpl(fast, LAYOUTS["roll-2x1"], FINISHED, batch)
    render_zpl(slow, LAYOUTS["roll-2x1"], FINISHED, [*batch, odd])
    fast_lines, slow_lines = fast.getvalue().splitlines(), slow.getvalue().splitlines()
    assert slow_lines[:50] == fast_lines
    (odd_format,) = parse_zpl(slow_lines[50])
    assert odd_format.texts()[0].data == format_code(batch[0].code)


def test_payloads_of_different_qr_sizes_get_their_own_geometry() -> None:
    short, long = units(2)
    long = LabelUnit(long.code, long.payload + "/" + "x" * 60)
    assert qr_modules_upper_bound(long.payload) > qr_modules_upper_bound(short.payload)
    layout = LAYOUTS["roll-2x1"]
    formats = render(layout, QR_ONLY, [short, long], 300)
    for fmt, unit in zip(formats, (short, long), strict=True):
        geometry = zpl_qr_geometry(layout, QR_ONLY, unit.payload, dpi=300)
        assert fmt.qr().origin == (geometry.x, geometry.y - BY_HEIGHT)
        assert fmt.qr().commands["BQ"] == f"N,2,{geometry.magnification},M"
        label, _ = printed_label(fmt)
        found = zxingcpp.read_barcode(label, formats=QR)
        assert found is not None and found.text == unit.payload


def test_magnification_stops_at_ten_and_the_symbol_stays_centred() -> None:
    layout = LAYOUTS["roll-4x6"]
    (fmt,) = render(layout, QR_ONLY, units(1), 600)
    assert fmt.qr().commands["BQ"] == "N,2,10,M"
    _, (x, _, side) = printed_label(fmt)
    assert abs((x + side / 2) - fmt.ints("PW")[0] / 2) <= 10


def test_module_upper_bound_matches_byte_mode_encoding_and_bounds_any_encoding() -> None:
    for n in (1, 14, 15, 26, 27, 62, 63, 300, 2331):
        text = "a" * n
        symbol = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
        assert qr_modules_upper_bound(text) == symbol.to_image(scale=1).shape[0] - 8
    upper = "HTTPS://U.EXAMPLE/ABCDEFGHJKMNPQ"  # alphanumeric mode: denser than bytes
    symbol = zxingcpp.create_barcode(upper, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    assert symbol.to_image(scale=1).shape[0] - 8 < qr_modules_upper_bound(upper)
    with pytest.raises(LabelError):
        qr_modules_upper_bound("a" * 2332)


@pytest.mark.parametrize(("form", "dpi"), [(QrForm.SHORT_URL, 203), (QrForm.DIGITAL_LINK, 300)])
def test_a_payload_too_long_for_the_label_is_refused(form: QrForm, dpi: int) -> None:
    (unit,) = units(1, form=form)
    with pytest.raises(LabelError, match="does not fit"):
        render(LAYOUTS["roll-1x1"], FINISHED, [unit], dpi)


def test_a_non_ascii_payload_is_refused_rather_than_garbled() -> None:
    unit = LabelUnit(generate_codes(1)[0], "https://ü.example/x")
    with pytest.raises(LabelError, match="ASCII"):
        render(LAYOUTS["roll-2x1"], QR_ONLY, [unit], 203)


def test_labels_stream_in_chunks_and_report_progress() -> None:
    seen: list[int] = []
    out = io.StringIO()
    count = render_zpl(out, LAYOUTS["roll-2x1"], QR_ONLY, iter(units(10_000)), progress=seen.append)
    assert count == 10_000 == out.getvalue().count("^XA") == out.getvalue().count("^XZ")
    assert seen == sorted(seen) and seen[-1] == 10_000 and len(seen) > 1


def test_a_generator_is_consumed_lazily() -> None:
    written: list[int] = []

    class Sink(io.StringIO):
        def write(self, s: str) -> int:
            written.append(s.count("^XA"))
            return super().write(s)

    def failing() -> Iterator[LabelUnit]:
        yield from units(5_000)
        raise RuntimeError("the database went away")

    with pytest.raises(RuntimeError):
        render_zpl(Sink(), LAYOUTS["roll-2x1"], QR_ONLY, failing())
    assert written and 0 < sum(written) < 5_000  # labels went out before the end was read


def test_no_units_print_nothing() -> None:
    out = io.StringIO()
    assert render_zpl(out, LAYOUTS["roll-2x1"], QR_ONLY, []) == 0
    assert out.getvalue() == ""
