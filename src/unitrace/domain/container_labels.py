"""What goes on a case or pallet label, and where.

A container label carries the QR code of the container's scan target — its GS1 Digital
Link ``{resolver}/00/{sscc}`` when it has an SSCC, its short URL ``{resolver}/{code}``
otherwise — with the kind (CASE / PALLET), the code and SSCC in large type, the owning
organization and what the container held when the label was printed.

The QR code is placed by :func:`unitrace.domain.labels.plan_label` on a *QR area*: a layout
whose "labels" are the QR boxes of the real labels, at the same pitch on the page. Renderers
and the pre-flight scan check take the QR geometry from that one plan, so what is checked is
what is printed. Pure: no rendering here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from unitrace.domain.codes import format_code
from unitrace.domain.gs1 import short_link
from unitrace.domain.labels import (
    INCH,
    MM,
    Box,
    LabelError,
    LabelFace,
    LabelPlan,
    LabelTemplate,
    LabelUnit,
    Layout,
    plan_label,
)

DEFAULT_CONTAINER_LAYOUT = "roll-4x6"
# Smaller labels cannot show the code, SSCC, organization and contents legibly.
MIN_LABEL_WIDTH = 50 * MM
MIN_LABEL_HEIGHT = 25 * MM
# The QR area is laid out as a QR-only label: no text block, only its own code band.
QR_FACE = LabelFace(template=LabelTemplate.QR_ONLY, brand="", product_name="")
# A 4 × 6 in label's inner box, the reference the tall design is drawn for.
_TALL_W, _TALL_H = 4 * INCH - 0.1 * INCH, 6 * INCH - 0.1 * INCH


def container_payload(base_url: str, code: str, sscc: str | None) -> str:
    """What a container's QR code encodes: ``{base}/00/{sscc}``, or ``{base}/{code}``."""
    if sscc:
        return f"{base_url.strip().rstrip('/')}/00/{sscc}"
    return short_link(base_url, code)


@dataclass(frozen=True)
class ContainerLabel:
    """One case or pallet label: its scan target and what is printed around it."""

    code: str  # canonical code, as stored
    payload: str  # what the QR code encodes (container_payload)
    kind: str  # "case" or "pallet"
    sscc: str | None
    organization: str  # the owner's name
    total_units: int  # units inside at any depth, when printed
    product_name: str | None = None  # set when every unit inside is of one batch
    lot: str | None = None
    lots: int = 0  # batches of the units inside

    @property
    def unit(self) -> LabelUnit:
        """The code and payload, as the QR renderers and the scan check take them."""
        return LabelUnit(self.code, self.payload)

    def texts(self) -> dict[str, list[str]]:
        """The printed text by role: kind, organization, code, sscc, summary."""
        count = f"{self.total_units:,} unit{'s' if self.total_units != 1 else ''}"
        if self.lots == 1 and self.product_name:
            summary = [count, self.product_name, f"Lot {self.lot}" if self.lot else ""]
        elif self.lots > 1:
            summary = [count, f"Mixed: {self.lots:,} lots"]
        else:
            summary = [count, "Empty"]
        return {
            "kind": [self.kind.upper()],
            "organization": [self.organization],
            "code": [format_code(self.code)],
            "sscc": [f"(00) {self.sscc}"] if self.sscc else [],
            "summary": [line for line in summary if line],
        }


@dataclass(frozen=True)
class TextSlot:
    """A line of text: its box on the label (points, origin bottom-left) and font size.

    Renderers shrink ``code``/``sscc``/``kind`` lines to fit the box and cut others with an
    ellipsis.
    """

    role: str
    text: str
    box: Box
    size: float
    centered: bool


@dataclass(frozen=True)
class ContainerPlan:
    layout: Layout
    qr_layout: Layout  # the QR areas of every label on the page, as a grid of labels
    qr_area: Box  # the QR area on one label
    qr: LabelPlan  # the QR within its area (plan_label on qr_layout)
    slots: tuple[TextSlot, ...]

    def qr_origin(self, index: int) -> tuple[float, float]:
        """Bottom-left of label ``index``'s QR area on its page."""
        spots = self.qr_layout.positions()
        return spots[index % len(spots)]


def is_container_layout(layout: Layout) -> bool:
    return layout.label_width >= MIN_LABEL_WIDTH - 0.01 and (
        layout.label_height >= MIN_LABEL_HEIGHT - 0.01
    )


def container_layouts(layouts: dict[str, Layout]) -> tuple[Layout, ...]:
    """The layouts whose labels are large enough for a case or pallet label."""
    return tuple(layout for layout in layouts.values() if is_container_layout(layout))


def _band(area_height: float) -> float:
    """The code band plan_label keeps under a QR-only code (see ``plan_label``)."""
    return (6.0 if area_height < 0.9 * INCH else 7.0) * 1.3


def qr_area_layout(layout: Layout, area: Box) -> Layout:
    """A layout whose labels are ``area`` of every label of ``layout``, at the same pitch."""
    return replace(
        layout,
        name=layout.name,
        label_width=area.width,
        label_height=area.height,
        margin_left=layout.margin_left + area.x,
        margin_top=layout.margin_top + layout.label_height - area.y - area.height,
        gap_x=layout.label_width + layout.gap_x - area.width,
        gap_y=layout.label_height + layout.gap_y - area.height,
        padding=0.0,
    )


def _tall(layout: Layout, texts: dict[str, list[str]]) -> tuple[Box, list[TextSlot]]:
    pad = layout.padding
    inner_w, inner_h = layout.label_width - 2 * pad, layout.label_height - 2 * pad
    s = min(inner_w / _TALL_W, inner_h / _TALL_H)
    slots: list[TextSlot] = []
    top = layout.label_height - pad

    def line(role: str, text: str, height: float, size: float) -> None:
        nonlocal top
        top -= height * s
        slots.append(TextSlot(role, text, Box(pad, top, inner_w, height * s), size * s, True))

    for text in texts["kind"]:
        line("kind", text, 40, 32)
    for text in texts["organization"]:
        line("organization", text, 20, 14)
    below = (32 + 28 + 3 * 19 + 6) * s  # code, SSCC, three summary lines, a little air
    area_h = top - 4 * s - pad - below
    side = min(inner_w, area_h - _band(area_h))
    area = Box(pad + (inner_w - side) / 2, top - 4 * s - area_h, side, area_h)
    top = area.y
    for text in texts["code"]:
        line("code", text, 32, 26)
    for text in texts["sscc"]:
        line("sscc", text, 28, 22)
    for text in texts["summary"][:3]:
        line("summary", text, 19, 14)
    return area, slots


_WIDE_WEIGHTS = {"kind": 1.2, "code": 1.3, "sscc": 1.1, "organization": 1.0, "summary": 1.0}


def _wide(layout: Layout, texts: dict[str, list[str]]) -> tuple[Box, list[TextSlot]]:
    pad = layout.padding
    inner_h = layout.label_height - 2 * pad
    side = inner_h - _band(inner_h)
    area = Box(pad, pad, side, inner_h)
    column_x = pad + side + 0.04 * INCH
    column_w = layout.label_width - pad - column_x
    order = ("kind", "code", "sscc", "organization", "summary")
    lines = [(role, text) for role in order for text in texts[role]]
    weights = sum(_WIDE_WEIGHTS[role] for role, _ in lines)
    base = min(9.0, inner_h / (weights * 1.2))
    if base < 4.0:
        raise LabelError(f"the {layout.name} labels are too small for a case or pallet label")
    slots: list[TextSlot] = []
    top = layout.label_height - pad
    for role, text in lines:
        height = _WIDE_WEIGHTS[role] * base * 1.2
        top -= height
        box = Box(column_x, top, column_w, height)
        slots.append(TextSlot(role, text, box, _WIDE_WEIGHTS[role] * base, False))
    return area, slots


def plan_container_label(
    layout: Layout, label: ContainerLabel, modules: int, *, dpi: int = 300
) -> ContainerPlan:
    """Lay out ``label`` for a QR code of ``modules`` modules printed at ``dpi``.

    Tall labels (the 4 × 6 in shipping label) stack the kind, the organization, the QR code,
    the code, the SSCC and the contents; wide ones put the text right of the QR code. Raises
    ``LabelError`` when the layout is too small or the QR code cannot print reliably on it.
    """
    if not is_container_layout(layout):
        raise LabelError(
            f"the {layout.name} labels are too small for a case or pallet label; use one at "
            f"least {MIN_LABEL_WIDTH / MM:.0f} × {MIN_LABEL_HEIGHT / MM:.0f} mm"
        )
    texts = label.texts()
    tall = layout.label_height > layout.label_width
    area, slots = _tall(layout, texts) if tall else _wide(layout, texts)
    qr_layout = qr_area_layout(layout, area)
    qr = plan_label(qr_layout, QR_FACE, modules, dpi=dpi)
    return ContainerPlan(layout, qr_layout, area, qr, tuple(slots))
