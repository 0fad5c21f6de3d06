"""Case and pallet labels as PDF, ZPL and SVG.

The geometry is :func:`unitrace.domain.container_labels.plan_container_label`'s; the QR code
is drawn exactly as the unit-label renderers draw it (PDF: vector runs on the printer's dot
grid; ZPL: ``^BQN`` at the magnification ``zpl_qr_geometry`` gives; SVG: one path), so the
pre-flight check (``adapters.preflight`` on the plan's QR area layout) checks what prints.
Container jobs are small — a label per case or pallet — so the PDF is built in memory.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from typing import BinaryIO, TextIO
from xml.sax.saxutils import escape, quoteattr

from unitrace.adapters.pdf import (
    CAP_HEIGHT,
    TextLine,
    fit_text,
    pdf_string,
    qr_corner,
    text_width,
    winansi,
)
from unitrace.adapters.qr import DARK_RUN, qr_raster, raster_runs
from unitrace.adapters.zpl import BY_HEIGHT, EC_LEVEL, escape_field, zpl_qr_geometry
from unitrace.domain.container_labels import (
    QR_FACE,
    ContainerLabel,
    ContainerPlan,
    TextSlot,
    plan_container_label,
)
from unitrace.domain.labels import INCH, QUIET_ZONE_MODULES, LabelError, Layout

__all__ = [
    "render_container_pdf",
    "render_container_svg",
    "render_container_zpl",
    "write_container_svg_zip",
]

# Lines that must show whole: set smaller rather than cut.
_SHRINK = frozenset({"kind", "code", "sscc"})
_FONT = "Helvetica, Arial, 'Liberation Sans', sans-serif"
_ZPL_CHAR_EM = 0.6  # see adapters.zpl: font 0 averages about half an em a character


def _num(value: float, places: int = 4) -> str:
    text = f"{value:.{places}f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _plan(layout: Layout, label: ContainerLabel, dpi: int) -> tuple[ContainerPlan, int, bytes]:
    size, raster = qr_raster(label.payload)
    return plan_container_label(layout, label, size, dpi=dpi), size, raster


def slot_line(slot: TextSlot) -> TextLine:
    """A slot's text in Helvetica, fitted to its box, relative to the label."""
    size = slot.size
    if slot.role in _SHRINK:
        data = winansi(slot.text)
        em = text_width(data, 1.0)
        size = min(size, slot.box.width / em) if em else size
    else:
        data = fit_text(slot.text, size, slot.box.width)
    width = text_width(data, size)
    x = slot.box.x + ((slot.box.width - width) / 2 if slot.centered else 0.0)
    return TextLine(x, slot.box.y + (slot.box.height - CAP_HEIGHT * size) / 2, size, data)


# --- PDF ----------------------------------------------------------------------------------


def _pdf_text(line: TextLine, dx: float, dy: float) -> str:
    shown = pdf_string(line.text).decode("latin-1")
    x, y = _num(line.x + dx), _num(line.y + dy)
    return f"BT /F1 {_num(line.size)} Tf {x} {y} Td {shown} Tj ET\n"


def _pdf_label(layout: Layout, label: ContainerLabel, index: int, dpi: int) -> str:
    plan, size, raster = _plan(layout, label, dpi)
    left, bottom = layout.positions()[index % layout.per_page]
    area_x, area_y = plan.qr_origin(index)
    area_top = layout.page_height - area_y - plan.qr_area.height
    x, down = qr_corner(plan.qr, area_x, area_top)
    m = plan.qr.qr.module
    quiet = QUIET_ZONE_MODULES * m
    stride = size + 2 * QUIET_ZONE_MODULES
    parts = [f"q {_num(m)} 0 0 {_num(-m)} {_num(x - quiet)} "]
    parts.append(f"{_num(layout.page_height - down + quiet)} cm\n")
    for run in DARK_RUN.finditer(raster):
        row, column = divmod(run.start(), stride)
        parts.append(f"{column} {row} {run.end() - run.start()} 1 re\n")
    parts.append("f\nQ\n")
    parts.extend(_pdf_text(slot_line(slot), left, bottom) for slot in plan.slots)
    return "".join(parts)


def render_container_pdf(
    out: BinaryIO, layout: Layout, labels: Sequence[ContainerLabel], *, dpi: int = 300
) -> int:
    """Write a PDF of one label per container to ``out``; return the number of labels.

    Every label is drawn before a byte is written: one that cannot print (``LabelError``)
    leaves ``out`` untouched.
    """
    if not labels:
        raise LabelError("there are no labels to print")
    per = layout.per_page
    pages = [
        "".join(_pdf_label(layout, label, start + i, dpi) for i, label in enumerate(chunk))
        for start in range(0, len(labels), per)
        for chunk in [labels[start : start + per]]
    ]
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"",  # the page tree, once the pages are numbered
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Producer (unitrace) /Title (Case and pallet labels) >>",
    ]
    kids = []
    for content in pages:
        data = content.encode("latin-1")
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(data), data))
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /Resources << /Font << /F1 3 0 R >> >> "
            b"/Contents %d 0 R >>" % len(objects)
        )
        kids.append(len(objects))
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d /MediaBox [0 0 %s %s] >>" % (
        b" ".join(b"%d 0 R" % k for k in kids),
        len(kids),
        _num(layout.page_width).encode(),
        _num(layout.page_height).encode(),
    )
    buffer = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(buffer))
        buffer += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    start = len(buffer)
    buffer += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    buffer += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    buffer += b"trailer\n<< /Size %d /Root 1 0 R /Info 4 0 R >>\n" % (len(objects) + 1)
    buffer += b"startxref\n%d\n%%%%EOF\n" % start
    out.write(buffer)
    return len(labels)


# --- ZPL ----------------------------------------------------------------------------------


def _dots(points: float, dpi: int) -> int:
    return round(points * dpi / INCH)


def _zpl_text(slot: TextSlot, label_height: float, dpi: int) -> str:
    width = _dots(slot.box.width, dpi)
    font = max(_dots(slot.size, dpi), 8)
    text = slot.text
    fits = max(int(width / (font * _ZPL_CHAR_EM)), 4)
    if slot.role in _SHRINK:
        font = max(min(font, int(width / (max(len(text), 1) * _ZPL_CHAR_EM))), 8)
    elif len(text) > fits:
        text = text[: fits - 3].rstrip() + "..."
    box_height = _dots(slot.box.height, dpi)
    top = _dots(label_height - slot.box.y - slot.box.height, dpi) + max((box_height - font) // 2, 0)
    align = "C" if slot.centered else "L"
    data = escape_field(text.replace("\\", "\\\\"))
    return f"^FO{_dots(slot.box.x, dpi)},{top}^A0N,{font}^FB{width},1,0,{align}^FH^FD{data}^FS"


def _zpl_label(layout: Layout, label: ContainerLabel, dpi: int) -> str:
    if not label.payload.isascii():
        raise LabelError(f"{label.code}: a ZPL QR payload must be ASCII")
    plan, _size, _raster = _plan(layout, label, dpi)
    qr = zpl_qr_geometry(plan.qr_layout, QR_FACE, label.payload, dpi=dpi)
    area = plan.qr_area
    x = _dots(area.x, dpi) + qr.x
    y = _dots(layout.label_height - area.y - area.height, dpi) + qr.y
    texts = "".join(_zpl_text(slot, layout.label_height, dpi) for slot in plan.slots)
    return (
        f"^XA^CI28^PW{_dots(layout.label_width, dpi)}^LL{_dots(layout.label_height, dpi)}"
        f"^LH0,0^BY2,3,{BY_HEIGHT}^FO{x},{y - BY_HEIGHT}^BQN,2,{qr.magnification},{EC_LEVEL}"
        f"^FH^FD{EC_LEVEL}A,{escape_field(label.payload)}^FS{texts}^XZ\n"
    )


def render_container_zpl(
    out: TextIO, layout: Layout, labels: Sequence[ContainerLabel], *, dpi: int = 203
) -> int:
    """Write one ZPL format per container to ``out``; return the number of labels."""
    formats = [_zpl_label(layout, label, dpi) for label in labels]  # all, before writing
    out.write("".join(formats))
    return len(formats)


# --- SVG ----------------------------------------------------------------------------------


def render_container_svg(layout: Layout, label: ContainerLabel, *, dpi: int = 300) -> str:
    """One container label as an SVG document at true size."""
    plan, size, raster = _plan(layout, label, dpi)
    width, height = layout.label_width, layout.label_height
    area = plan.qr_area
    # The QR corner as the PDF places it on a one-label page (the area's own top-left).
    x, down = qr_corner(plan.qr, area.x, height - area.y - area.height)
    path = "".join(f"M{c} {r}h{n}v1h-{n}z" for r, c, n in raster_runs(size, raster))
    texts = []
    for slot in plan.slots:
        line = slot_line(slot)
        shown = escape(line.text.decode("cp1252"))
        texts.append(
            f'<text x="{_num(line.x)}" y="{_num(height - line.y)}" '
            f'font-size="{_num(line.size)}">{shown}</text>'
        )
    title = f"{label.kind} {label.texts()['code'][0]}"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" '
        f'width="{_num(width / INCH, 6)}in" height="{_num(height / INCH, 6)}in" '
        f'viewBox="0 0 {_num(width)} {_num(height)}" role="img" aria-label={quoteattr(title)}>'
        f"<title>{escape(title)}</title>"
        f'<rect width="{_num(width)}" height="{_num(height)}" fill="#fff"/>'
        f'<path transform="translate({_num(x)} {_num(down)}) scale({_num(plan.qr.qr.module, 5)})" '
        f'fill="#000" shape-rendering="crispEdges" d="{path}"/>'
        f'<g fill="#000" font-family="{_FONT}">{"".join(texts)}</g>'
        "</svg>\n"
    )


def write_container_svg_zip(
    out: BinaryIO, layout: Layout, labels: Sequence[ContainerLabel], *, dpi: int = 300
) -> int:
    """A ZIP of one ``{code}.svg`` per container; return the number of labels."""
    files = [
        (f"{label.code}.svg", render_container_svg(layout, label, dpi=dpi)) for label in labels
    ]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, svg in files:
            archive.writestr(name, svg)
    out.write(buffer.getvalue())
    return len(files)
