"""One label as SVG (the web preview and consumer sharing), a QR code as PNG, and a ZIP of SVGs.

The SVG is the same label as the PDF: same plan, same snapped QR corner, same Helvetica
text cut to the same width. It is drawn at true size (``width``/``height`` in inches, a
``viewBox`` in points), so a browser or a print of it shows the label as it will print.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterable
from typing import BinaryIO
from xml.sax.saxutils import escape, quoteattr

from PIL import Image

from unitrace.adapters.pdf import TextLine, code_line, face_lines, qr_corner
from unitrace.adapters.qr import qr_raster, raster_runs
from unitrace.domain.labels import (
    INCH,
    QUIET_ZONE_MODULES,
    LabelError,
    LabelFace,
    LabelUnit,
    Layout,
    plan_label,
)

_FONT = "Helvetica, Arial, 'Liberation Sans', sans-serif"
_PROGRESS_EVERY = 100


def _num(value: float, places: int = 4) -> str:
    text = f"{value:.{places}f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _text(line: TextLine, label_height: float) -> str:
    # No-break spaces keep the double spaces between fields in every SVG renderer.
    shown = escape(line.text.decode("cp1252").replace("  ", " \u00a0"))
    return (
        f'<text x="{_num(line.x)}" y="{_num(label_height - line.y)}" '
        f'font-size="{_num(line.size)}">{shown}</text>'
    )


def render_label_svg(layout: Layout, face: LabelFace, unit: LabelUnit, *, dpi: int = 300) -> str:
    """The whole label for ``unit`` as an SVG document; raises ``LabelError`` if it cannot print."""
    size, raster = qr_raster(unit.payload)
    plan = plan_label(layout, face, size, dpi=dpi)
    width, height = layout.label_width, layout.label_height
    x, down = qr_corner(plan, 0.0, 0.0)
    path = "".join(f"M{c} {r}h{n}v1h-{n}z" for r, c, n in raster_runs(size, raster))
    texts = [_text(code_line(plan, unit.human_code), height)]
    texts += [_text(line, height) for line in face_lines(plan, face)]
    title = unit.human_code
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" xml:space="preserve" '
        f'width="{_num(width / INCH, 6)}in" height="{_num(height / INCH, 6)}in" '
        f'viewBox="0 0 {_num(width)} {_num(height)}" role="img" aria-label={quoteattr(title)}>'
        f"<title>{escape(title)}</title>"
        f'<rect width="{_num(width)}" height="{_num(height)}" fill="#fff"/>'
        f'<path transform="translate({_num(x)} {_num(down)}) scale({_num(plan.qr.module, 5)})" '
        f'fill="#000" shape-rendering="crispEdges" d="{path}"/>'
        f'<g fill="#000" font-family="{_FONT}" style="white-space:pre">{"".join(texts)}</g>'
        "</svg>\n"
    )


def render_qr_png(payload: str, *, module_px: int = 8) -> bytes:
    """The QR code of ``payload`` with its quiet zone as a black-and-white PNG."""
    if module_px < 1:
        raise LabelError(f"module_px must be at least 1, got {module_px}")
    size, raster = qr_raster(payload)
    side = size + 2 * QUIET_ZONE_MODULES
    image = Image.frombytes("L", (side, side), raster).convert("1")
    if module_px > 1:
        image = image.resize((side * module_px, side * module_px), Image.Resampling.NEAREST)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def write_svg_zip(
    out: BinaryIO,
    layout: Layout,
    face: LabelFace,
    units: Iterable[LabelUnit],
    *,
    dpi: int = 300,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Stream a ZIP of one ``{code}.svg`` per unit to ``out``; return the number of labels.

    Each file is compressed and written as soon as it is drawn (``out`` need not be
    seekable); the ZIP's central directory, written last, is the only per-file state kept.
    """
    written = 0
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for unit in units:
            archive.writestr(f"{unit.code}.svg", render_label_svg(layout, face, unit, dpi=dpi))
            written += 1
            if progress is not None and written % _PROGRESS_EVERY == 0:
                progress(written)
    if progress is not None and written % _PROGRESS_EVERY:
        progress(written)
    return written
