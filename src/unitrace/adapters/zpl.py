"""ZPL II for Zebra thermal printers: one ``^XA … ^XZ`` format per label.

The printer draws the QR code itself (``^BQN``, Model 2), so what travels to the printer is a
few hundred bytes of text per label, not a bitmap. The geometry comes from
:func:`unitrace.domain.labels.plan_label` at the printer's resolution, like every other
output; a Zebra prints one label per format, so sheet layouts print their label size too.

Choices, and why:

* **Error correction M**, the level the PDF and SVG renderers use, so a label has the same
  number of modules in every format and ``plan_label`` sized it for that. Q would cost one or
  two QR versions more for a short URL and shrink the module on small labels; M already
  recovers 15 % damage, which is the ISO/IEC 18004 recommendation for general use.
* **Automatic input mode** (``^FDMA,``): the printer picks the encoding. We size the QR for the
  worst case, byte mode (:func:`qr_modules_upper_bound`); if the printer finds a denser
  encoding, the symbol is smaller and its quiet zone larger. Automatic mode cannot carry bytes
  0x80–0x9F and 0xE0–0xFF, so payloads must be ASCII (URLs are: Digital Link percent-encodes).
* **Magnification** = the plan's dots per module, at most 10 (the limit of older firmware);
  a larger plan is centred at magnification 10. ``^BQ`` draws no quiet zone: the plan keeps
  four modules around the symbol clear of anything else on the label.
* Zebra firmware moves an ``^FO``-placed QR down by the current ``^BY`` bar height, a value
  that persists in the printer between jobs. Every format pins it (``^BY2,3,10``, the power-up
  default) and raises the field origin by the same 10 dots, so the symbol lands where the plan
  says whatever ran before.
* Field data goes through ``^FH`` with ``_hh`` hex escapes for ``^``, ``~``, ``_`` and control
  characters; text is UTF-8 (``^CI28``).

Speed: everything that is the same on every label of a batch is rendered once per job into a
template, and the per-unit parts (payload, human-readable code) are the only substitutions.
"""

from __future__ import annotations

import math
import re
import textwrap
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import TextIO

from unitrace.domain.codes import ALPHABET, CODE_LENGTH
from unitrace.domain.labels import (
    INCH,
    LabelError,
    LabelFace,
    LabelPlan,
    LabelUnit,
    Layout,
    plan_label,
)

__all__ = [
    "EC_LEVEL",
    "MAX_MAGNIFICATION",
    "ZplQr",
    "escape_field",
    "qr_modules_upper_bound",
    "render_zpl",
    "zpl_qr_geometry",
]

EC_LEVEL = "M"
MAX_MAGNIFICATION = 10
# ^BY bar height pinned in every format; an ^FO QR field sinks by this many dots.
BY_HEIGHT = 10
# Font 0 (CG Triumvirate Bold Condensed) averages about half an em per character; 0.6 keeps
# our own wrapping a little ahead of the printer's, so ^FB never has to wrap a line further
# (it would overwrite the last line instead of dropping the excess).
_CHAR_WIDTH_EM = 0.6
_LINE_PITCH = 1.2
_CHUNK = 4096

# Byte-mode data capacity at error correction M, versions 1 to 40 (ISO/IEC 18004 table 7).
_BYTE_CAPACITY_M = (
    14, 26, 42, 62, 84, 106, 122, 152, 180, 213, 251, 287, 331, 362, 412, 450, 504, 560, 624,
    666, 711, 779, 857, 911, 997, 1059, 1125, 1190, 1264, 1370, 1452, 1538, 1628, 1722, 1809,
    1911, 1989, 2099, 2213, 2331,
)  # fmt: skip

_NEEDS_HEX = re.compile(r"[\x00-\x1f\x7f^~_]")
_CANONICAL_CODES = re.compile(f"(?:[{re.escape(ALPHABET)}]{{{CODE_LENGTH}}}\n)*")
# The fast path prints a canonical code as four slices, which is format_code for 14 characters.
_FAST_HUMAN_CODE = CODE_LENGTH == 14


def escape_field(text: str) -> str:
    """Field data safe after ``^FH``: ``^``, ``~``, ``_`` and control characters as ``_hh``."""
    return _NEEDS_HEX.sub(lambda m: f"_{ord(m.group()):02X}", text)


def qr_modules_upper_bound(payload: str) -> int:
    """Modules per side of the largest QR (level M) a printer can choose for ``payload``.

    Byte mode is the least dense encoding automatic mode can pick, so no printer makes the
    symbol larger than this.
    """
    return _modules_for_bytes(len(payload.encode()))


def _modules_for_bytes(size: int) -> int:
    version = bisect_left(_BYTE_CAPACITY_M, size) + 1
    if version > len(_BYTE_CAPACITY_M):
        raise LabelError(f"a QR code cannot hold {size} bytes at error correction {EC_LEVEL}")
    return 17 + 4 * version


@dataclass(frozen=True)
class ZplQr:
    """Where the printer draws a QR code on a ZPL label, in dots from the top-left corner."""

    x: int  # left edge of the first module
    y: int  # top edge of the first module (where it prints, before the ^BY correction)
    modules: int  # the size it was planned for (an upper bound, see qr_modules_upper_bound)
    magnification: int  # dots per module


def _dots(points: float, dpi: int) -> int:
    return round(points * dpi / INCH)


def _qr_from_plan(plan: LabelPlan, dpi: int) -> ZplQr:
    qr = plan.qr
    magnification = min(qr.dots_per_module, MAX_MAGNIFICATION)
    # A plan with larger modules than ^BQ can draw keeps its centre.
    inset = (qr.dots_per_module - magnification) * qr.modules // 2
    top = plan.layout.label_height - qr.y - qr.size
    return ZplQr(_dots(qr.x, dpi) + inset, _dots(top, dpi) + inset, qr.modules, magnification)


def zpl_qr_geometry(layout: Layout, face: LabelFace, payload: str, *, dpi: int) -> ZplQr:
    """The QR of ``payload`` as :func:`render_zpl` places it (raises ``LabelError`` if it
    cannot print reliably)."""
    modules = qr_modules_upper_bound(payload)
    return _qr_from_plan(plan_label(layout, face, modules, dpi=dpi), dpi)


@dataclass(frozen=True)
class _Template:
    """One label format split around its two per-unit parts."""

    head: str  # … ^FDMA,   then the payload
    mid: str  # ^FS … ^FD  then the human-readable code
    tail: str  # ^FS … ^XZ


def _fit_font(font: int, width: int, chars: int) -> int:
    """``font`` dots, or less if ``chars`` characters would not fit in ``width`` dots."""
    return max(min(font, math.floor(width / (chars * _CHAR_WIDTH_EM))), 8)


def _text_block(lines: list[str], width: int, font: int, max_lines: int) -> list[str]:
    """``lines`` wrapped to ``width`` dots; the last kept line ends in "..." if any was cut."""
    per_line = max(int(width / (font * _CHAR_WIDTH_EM)), 4)
    wrapped: list[str] = []
    for line in lines:
        for part in line.splitlines() or [""]:
            wrapped.extend(textwrap.wrap(part, per_line) or [""])
    if len(wrapped) > max_lines:
        wrapped = wrapped[:max_lines]
        wrapped[-1] = wrapped[-1][: per_line - 3].rstrip() + "..."
    return wrapped


def _field_block_data(lines: list[str]) -> str:
    # Inside ^FB, "\&" breaks the line and "\\" is a backslash.
    return "\\&".join(escape_field(line.replace("\\", "\\\\")) for line in lines)


def _template(layout: Layout, face: LabelFace, modules: int, dpi: int) -> _Template:
    plan = plan_label(layout, face, modules, dpi=dpi)
    qr = _qr_from_plan(plan, dpi)
    height = _dots(layout.label_height, dpi)
    head = (
        f"^XA^CI28^PW{_dots(layout.label_width, dpi)}^LL{height}^LH0,0^BY2,3,{BY_HEIGHT}"
        f"^FO{qr.x},{qr.y - BY_HEIGHT}^BQN,2,{qr.magnification},{EC_LEVEL}^FH^FD{EC_LEVEL}A,"
    )
    box = plan.code_text
    width = _dots(box.width, dpi)
    font = _fit_font(_dots(plan.code_font_size, dpi), width, CODE_LENGTH + 3)
    top = _dots(layout.label_height - box.y - box.height, dpi) + max(
        (_dots(box.height, dpi) - font) // 2, 0
    )
    mid = f"^FS^FO{_dots(box.x, dpi)},{top}^A0N,{font}^FB{width},1,0,C^FH^FD"
    return _Template(head, mid, "^FS" + _text_field(plan, face, dpi, height) + "^XZ\n")


def _text_field(plan: LabelPlan, face: LabelFace, dpi: int, label_height: int) -> str:
    box = plan.text
    if box is None:
        return ""
    font = max(_dots(plan.text_font_size, dpi), 8)
    spacing = round(font * (_LINE_PITCH - 1))
    max_lines = max((_dots(box.height, dpi) + spacing) // (font + spacing), 1)
    width = _dots(box.width, dpi)
    lines = _text_block(face.lines(), width, font, max_lines)
    top = label_height - _dots(box.y + box.height, dpi)
    return (
        f"^FO{_dots(box.x, dpi)},{top}^A0N,{font}^FB{width},{len(lines)},{spacing},L"
        f"^FH^FD{_field_block_data(lines)}^FS"
    )


class _Job:
    def __init__(self, layout: Layout, face: LabelFace, dpi: int) -> None:
        self.layout, self.face, self.dpi = layout, face, dpi
        self._by_modules: dict[int, _Template] = {}

    def template(self, payload: str) -> _Template:
        return self.template_for(qr_modules_upper_bound(payload))

    def template_for(self, modules: int) -> _Template:
        found = self._by_modules.get(modules)
        if found is None:
            found = _template(self.layout, self.face, modules, self.dpi)
            self._by_modules[modules] = found
        return found

    def render_chunk(self, units: list[LabelUnit]) -> str:
        payloads = [u.payload for u in units]
        codes = [u.code for u in units]
        joined = "".join(payloads)
        # The fast path, taken by whole chunks: ASCII payloads with nothing to escape, all of
        # one QR size, and canonical codes, whose human-readable form is four slices (what
        # format_code returns, without its 5 µs of re-validation per label).
        sizes = {_modules_for_bytes(n) for n in set(map(len, payloads))}
        if (
            _FAST_HUMAN_CODE
            and len(sizes) == 1
            and joined.isascii()
            and not _NEEDS_HEX.search(joined)
            and _CANONICAL_CODES.fullmatch("\n".join(codes) + "\n")
        ):
            t = self.template_for(sizes.pop())
            head, mid, tail = t.head, t.mid, t.tail
            return "".join(
                [
                    f"{head}{p}{mid}{c[:4]}-{c[4:8]}-{c[8:12]}-{c[12:]}{tail}"
                    for p, c in zip(payloads, codes, strict=True)
                ]
            )
        return "".join([self.render_one(u) for u in units])

    def render_one(self, unit: LabelUnit) -> str:
        if not unit.payload.isascii():
            raise LabelError(
                f"unit {unit.code}: a ZPL QR payload must be ASCII (percent-encode the URL)"
            )
        t = self.template(unit.payload)
        human = escape_field(unit.human_code)
        return f"{t.head}{escape_field(unit.payload)}{t.mid}{human}{t.tail}"


def _chunks(units: Iterable[LabelUnit]) -> Iterator[list[LabelUnit]]:
    it = iter(units)
    while chunk := list(islice(it, _CHUNK)):
        yield chunk


def render_zpl(
    out: TextIO,
    layout: Layout,
    face: LabelFace,
    units: Iterable[LabelUnit],
    *,
    dpi: int = 203,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write one ZPL format per unit to ``out``; return the number of labels written.

    Streams: ``units`` may be a generator of millions; memory stays constant. Raises
    ``LabelError`` when the QR cannot print reliably on this label at this resolution.
    """
    job = _Job(layout, face, dpi)
    count = 0
    for chunk in _chunks(units):
        out.write(job.render_chunk(chunk))
        count += len(chunk)
        if progress is not None:
            progress(count)
    return count
