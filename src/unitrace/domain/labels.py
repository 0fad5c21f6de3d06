"""What goes on a label, and where: label content, sheet and roll layouts, QR sizing.

Pure: no rendering here. Renderers (PDF, SVG, PNG, ZPL) and the pre-flight scan check all
take their geometry from this module, so what is checked is what is printed.

Units: PDF points (1/72 inch), origin at the bottom-left of the page, y upwards.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field, replace
from enum import StrEnum

from unitrace.domain.codes import format_code
from unitrace.domain.gs1 import build_digital_link, short_link

INCH = 72.0
MM = 72.0 / 25.4
QUIET_ZONE_MODULES = 4  # ISO/IEC 18004: four modules of light margin on every side
PRINTER_DPIS = (203, 300, 600)
# A QR module narrower than this many printer dots does not print reliably on thermal
# printers (dot gain and head wear eat a one- or two-dot module).
MIN_MODULE_DOTS = 3
# Whatever the printer, modules below ~0.25 mm defeat phone cameras at arm's length.
MIN_MODULE_MM = 0.25


class LabelTemplate(StrEnum):
    """A brand's choice per product: just the code, or the full finished-goods label."""

    QR_ONLY = "qr_only"
    FINISHED_GOODS = "finished_goods"


class PrintTemplate(StrEnum):
    """What a print job printed: a product's label template, or case and pallet labels."""

    QR_ONLY = "qr_only"
    FINISHED_GOODS = "finished_goods"
    CONTAINER = "container"


class QrForm(StrEnum):
    """What the QR code carries."""

    DIGITAL_LINK = "digital_link"  # https://{resolver}/01/{gtin}/10/{lot}/21/{code}
    SHORT_URL = "short_url"  # https://{resolver}/{code}: fewer modules, fits tiny packages


class LabelError(ValueError):
    """A label cannot be laid out as asked (too small for its QR code, bad margins…)."""


def qr_payload(base_url: str, code: str, *, form: QrForm, gtin: str | None, lot: str | None) -> str:
    """The URL encoded in a unit's QR code.

    GS1 Digital Link only when the product has a GTIN and the brand chose it; the short
    URL otherwise.
    """
    if form is QrForm.DIGITAL_LINK and gtin:
        return build_digital_link(base_url, gtin, lot=lot, serial=code)
    return short_link(base_url, code)


@dataclass(frozen=True)
class LabelFace:
    """Everything printed on the labels of one batch except the code itself.

    It is the same on every label of a batch, so renderers draw it once (a PDF form
    XObject, a ZPL template) and stamp only the per-unit parts.
    """

    template: LabelTemplate
    brand: str
    product_name: str
    strain: str | None = None
    net_content: str | None = None  # "3.5 g"
    lot: str | None = None
    packaged_on: dt.date | None = None
    expires_on: dt.date | None = None
    thc: str | None = None  # "Total THC 21.5 %"
    cbd: str | None = None
    warnings: str = ""

    def lines(self) -> list[str]:
        """The finished-goods text block, top to bottom (empty for a QR-only label)."""
        if self.template is LabelTemplate.QR_ONLY:
            return []
        lines = [self.brand, self.product_name]
        details = " · ".join(x for x in (self.strain, self.net_content) if x)
        if details:
            lines.append(details)
        if self.lot:
            lines.append(f"Lot {self.lot}")
        dates = []
        if self.packaged_on:
            dates.append(f"Pkg {self.packaged_on.isoformat()}")
        if self.expires_on:
            dates.append(f"Exp {self.expires_on.isoformat()}")
        if dates:
            lines.append("  ".join(dates))
        potency = "  ".join(x for x in (self.thc, self.cbd) if x)
        if potency:
            lines.append(potency)
        if self.warnings:
            lines.append(self.warnings)
        return lines


@dataclass(frozen=True)
class LabelUnit:
    """The per-unit part of a label."""

    code: str  # canonical code, as stored
    payload: str  # what the QR code encodes
    serial: str | None = None  # the serial its brand printed, when it made its own

    @property
    def human_code(self) -> str:
        """The code as printed under the QR: groups of four, e.g. ``ABCD-EFGH-JKMN-PQ``; a
        brand's own serial as it is."""
        return self.serial if self.serial is not None else format_code(self.code)


@dataclass(frozen=True)
class Layout:
    """A sheet of labels in a grid, or a roll (one label per page)."""

    name: str
    description: str
    kind: str  # "sheet" or "roll"
    page_width: float
    page_height: float
    label_width: float
    label_height: float
    columns: int = 1
    rows: int = 1
    margin_left: float = 0.0
    margin_top: float = 0.0
    gap_x: float = 0.0
    gap_y: float = 0.0
    padding: float = 0.05 * INCH  # inside each label, kept clear of the die cut

    @property
    def per_page(self) -> int:
        return self.columns * self.rows

    def positions(self) -> list[tuple[float, float]]:
        """Bottom-left corner of each label on a page, in reading order (left→right, top→bottom)."""
        spots = []
        for row in range(self.rows):
            top = self.page_height - self.margin_top - row * (self.label_height + self.gap_y)
            for col in range(self.columns):
                left = self.margin_left + col * (self.label_width + self.gap_x)
                spots.append((left, top - self.label_height))
        return spots

    def with_margins(self, *, left: float | None = None, top: float | None = None) -> Layout:
        """The same layout with other page margins (points); refuses margins that overflow."""
        changed = replace(
            self,
            margin_left=self.margin_left if left is None else left,
            margin_top=self.margin_top if top is None else top,
        )
        changed.validate()
        return changed

    def validate(self) -> None:
        width = self.margin_left + self.columns * self.label_width + (self.columns - 1) * self.gap_x
        height = self.margin_top + self.rows * self.label_height + (self.rows - 1) * self.gap_y
        if self.margin_left < 0 or self.margin_top < 0:
            raise LabelError("margins cannot be negative")
        if width > self.page_width + 0.01 or height > self.page_height + 0.01:
            raise LabelError(
                f"layout {self.name}: labels and margins ({width / INCH:.2f} × "
                f"{height / INCH:.2f} in) do not fit on the page "
                f"({self.page_width / INCH:.2f} × {self.page_height / INCH:.2f} in)"
            )


LETTER = (8.5 * INCH, 11 * INCH)
A4 = (210 * MM, 297 * MM)


def _roll(name: str, description: str, width_in: float, height_in: float) -> Layout:
    w, h = width_in * INCH, height_in * INCH
    return Layout(name, description, "roll", w, h, w, h)


LAYOUTS: dict[str, Layout] = {
    layout.name: layout
    for layout in (
        Layout(
            "letter-30up",
            "US Letter, 30 labels of 2⅝ × 1 in (Avery 5160 / 8160)",
            "sheet",
            *LETTER,
            2.625 * INCH,
            1 * INCH,
            3,
            10,
            margin_left=0.1875 * INCH,
            margin_top=0.5 * INCH,
            gap_x=0.125 * INCH,
        ),
        Layout(
            "letter-2x1",
            "US Letter, 40 labels of 2 × 1 in",
            "sheet",
            *LETTER,
            2 * INCH,
            1 * INCH,
            4,
            10,
            margin_left=0.25 * INCH,
            margin_top=0.5 * INCH,
            gap_x=0.0 * INCH,
        ),
        Layout(
            "letter-1x1",
            "US Letter, 63 square labels of 1 × 1 in",
            "sheet",
            *LETTER,
            1 * INCH,
            1 * INCH,
            7,
            9,
            margin_left=0.5 * INCH,
            margin_top=0.75 * INCH,
            gap_x=0.125 * INCH,
            gap_y=0.125 * INCH,
        ),
        Layout(
            "a4-24up",
            "A4, 24 labels of 70 × 37 mm (Avery L7159-style)",
            "sheet",
            *A4,
            70 * MM,
            37 * MM,
            3,
            8,
            margin_left=0.0,
            margin_top=0.5 * MM,
        ),
        Layout(
            "a4-40up",
            "A4, 40 labels of 52.5 × 29.7 mm",
            "sheet",
            *A4,
            52.5 * MM,
            29.7 * MM,
            4,
            10,
        ),
        Layout(
            "a4-1x1",
            "A4, 48 square labels of 25 × 25 mm",
            "sheet",
            *A4,
            25 * MM,
            25 * MM,
            6,
            8,
            margin_left=15 * MM,
            margin_top=20 * MM,
            gap_x=6 * MM,
            gap_y=7 * MM,
        ),
        _roll("roll-2x1", "Thermal roll, 2 × 1 in labels", 2, 1),
        _roll("roll-1.5x1", "Thermal roll, 1.5 × 1 in labels", 1.5, 1),
        _roll("roll-1x1", "Thermal roll, 1 × 1 in labels", 1, 1),
        _roll("roll-4x6", "Thermal roll, 4 × 6 in (cases and pallets)", 4, 6),
    )
}


def get_layout(name: str) -> Layout:
    try:
        return LAYOUTS[name]
    except KeyError:
        known = ", ".join(LAYOUTS)
        raise LabelError(f"unknown layout '{name}'; choose one of {known}") from None


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class QrPlacement:
    """Where a QR code sits on a label, and its module size snapped to printer dots."""

    x: float  # bottom-left of the first module (inside the quiet zone), relative to the label
    y: float
    modules: int  # modules per side, without the quiet zone
    module: float  # module size, points — a whole number of printer dots
    dots_per_module: int
    dpi: int

    @property
    def size(self) -> float:
        return self.modules * self.module


@dataclass(frozen=True)
class LabelPlan:
    """The geometry of one label: the QR, the human-readable code, the text block."""

    layout: Layout
    qr: QrPlacement
    code_text: Box  # the human-readable code, under the QR
    code_font_size: float
    text: Box | None  # the finished-goods block, right of the QR (None for QR-only)
    text_font_size: float = 0.0
    notes: tuple[str, ...] = field(default=())


def _font_for(box_height: float, lines: int, largest: float = 9.0, smallest: float = 4.5) -> float:
    """Largest font size at which ``lines`` lines of text fit in ``box_height``."""
    if lines == 0:
        return 0.0
    return max(min(largest, box_height / (lines * 1.2)), smallest)


def plan_label(layout: Layout, face: LabelFace, modules: int, *, dpi: int = 300) -> LabelPlan:
    """Lay out one label for a QR code of ``modules`` modules printed at ``dpi``.

    The QR takes the largest square that fits (with its quiet zone) in the label's QR area,
    its module snapped down to a whole number of printer dots. Raises ``LabelError`` when
    that module would be smaller than ``MIN_MODULE_DOTS`` dots or ``MIN_MODULE_MM`` — the
    payload is then too long for the label, and printing it would give codes that do not
    scan.
    """
    if dpi not in PRINTER_DPIS:
        raise LabelError(f"printer resolution {dpi} dpi is not supported; use 203, 300 or 600")
    pad = layout.padding
    inner_w, inner_h = layout.label_width - 2 * pad, layout.label_height - 2 * pad
    lines = face.lines()
    code_font = 6.0 if inner_h < 0.9 * INCH else 7.0
    code_band = code_font * 1.3
    # QR-only: the QR is centred above the code. Finished goods: the QR sits on the left
    # (or top on tall labels) and the text block takes the rest.
    wide = inner_w >= inner_h
    if lines and wide:
        qr_side = min(inner_h - code_band, inner_w * 0.45)
    elif lines:
        qr_side = min(inner_w, (inner_h - code_band) * 0.5)
    else:
        qr_side = min(inner_w, inner_h - code_band)
    dot = INCH / dpi
    total_modules = modules + 2 * QUIET_ZONE_MODULES
    dots = math.floor(qr_side / total_modules / dot + 1e-9)
    module = dots * dot
    if dots < MIN_MODULE_DOTS or module < MIN_MODULE_MM * MM:
        # The smallest module allowed, in whole dots like the module itself.
        need_dots = max(MIN_MODULE_DOTS, math.ceil(MIN_MODULE_MM * MM / dot - 1e-9))
        need = total_modules * need_dots * dot
        raise LabelError(
            f"a {modules}×{modules} QR code does not fit the {layout.name} layout at {dpi} dpi: "
            f"it needs {need / MM:.1f} mm of square space, the label offers {qr_side / MM:.1f} mm. "
            "Use a larger label, the short-URL QR form, or a QR-only template"
        )
    side = total_modules * module
    if lines and wide:
        qr_x, qr_y = pad, pad + code_band + (inner_h - code_band - side) / 2
        # The code band runs the label's width: a 17-character code at the code font is
        # wider than the QR code, so a band only as wide as the QR would shrink it to ~4 pt.
        code_box = Box(pad, pad, inner_w, code_band)
        text = Box(pad + side, pad + code_band, inner_w - side, inner_h - code_band)
    elif lines:
        qr_x, qr_y = pad + (inner_w - side) / 2, layout.label_height - pad - side
        code_box = Box(pad, qr_y - code_band, inner_w, code_band)
        text = Box(pad, pad, inner_w, code_box.y - pad)
    else:
        qr_x = pad + (inner_w - side) / 2
        qr_y = pad + code_band + (inner_h - code_band - side) / 2
        code_box = Box(pad, pad, inner_w, code_band)
        text = None
    quiet = QUIET_ZONE_MODULES * module
    placement = QrPlacement(qr_x + quiet, qr_y + quiet, modules, module, dots, dpi)
    text_font = _font_for(text.height, len(lines)) if text else 0.0
    return LabelPlan(layout, placement, code_box, code_font, text, text_font)
