"""What goes on a label and where: layouts, QR sizing, the finished-goods text, payloads."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from unitrace.domain.labels import (
    INCH,
    LAYOUTS,
    MIN_MODULE_DOTS,
    MIN_MODULE_MM,
    MM,
    PRINTER_DPIS,
    QUIET_ZONE_MODULES,
    Box,
    LabelError,
    LabelFace,
    LabelPlan,
    LabelTemplate,
    LabelUnit,
    Layout,
    QrForm,
    get_layout,
    plan_label,
    qr_payload,
)

CODE = "7WBHYD4AWGP3R2"
GTIN = "09506000134352"
# Module counts of the QR codes unitrace prints: version 2 to version 6.
MODULES = (25, 29, 33, 37, 41)

QR_ONLY = LabelFace(LabelTemplate.QR_ONLY, "Green Valley Farms", "Blue Dream 3.5 g")
FINISHED = LabelFace(
    LabelTemplate.FINISHED_GOODS,
    "Green Valley Farms",
    "Blue Dream Pre-Roll 5-pack",
    strain="Blue Dream",
    net_content="3.5 g",
    lot="LOT-2026-001",
    packaged_on=dt.date(2026, 11, 1),
    expires_on=dt.date(2027, 11, 1),
    thc="Total THC 21.5 %",
    cbd="Total CBD 0.1 %",
    warnings="Keep out of reach of children.",
)


def plans() -> list[tuple[Layout, LabelFace, int, int, LabelPlan]]:
    """Every plan that lays out, over layouts × templates × printer resolutions × QR sizes."""
    found = []
    for layout, face, dpi, modules in itertools.product(
        LAYOUTS.values(), (QR_ONLY, FINISHED), PRINTER_DPIS, MODULES
    ):
        try:
            found.append((layout, face, dpi, modules, plan_label(layout, face, modules, dpi=dpi)))
        except LabelError:
            continue
    return found


PLANS = plans()


def inside(inner: Box, outer: Box, slack: float = 1e-6) -> bool:
    return (
        inner.x >= outer.x - slack
        and inner.y >= outer.y - slack
        and inner.x + inner.width <= outer.x + outer.width + slack
        and inner.y + inner.height <= outer.y + outer.height + slack
    )


def overlap(a: Box, b: Box) -> bool:
    return (
        a.x < b.x + b.width - 1e-6
        and b.x < a.x + a.width - 1e-6
        and a.y < b.y + b.height - 1e-6
        and b.y < a.y + a.height - 1e-6
    )


def qr_with_quiet_zone(plan: LabelPlan) -> Box:
    quiet = QUIET_ZONE_MODULES * plan.qr.module
    return Box(
        plan.qr.x - quiet, plan.qr.y - quiet, plan.qr.size + 2 * quiet, plan.qr.size + 2 * quiet
    )


# --- layouts ------------------------------------------------------------------------------------


@pytest.mark.parametrize("layout", LAYOUTS.values(), ids=LAYOUTS.keys())
def test_every_layout_puts_all_its_labels_on_the_page_without_overlap(layout: Layout) -> None:
    layout.validate()
    page = Box(0, 0, layout.page_width, layout.page_height)
    labels = [Box(x, y, layout.label_width, layout.label_height) for x, y in layout.positions()]
    assert len(labels) == layout.per_page == layout.columns * layout.rows
    assert all(inside(label, page, slack=0.01) for label in labels)
    assert not any(overlap(a, b) for a, b in itertools.combinations(labels, 2))


def test_sheet_labels_run_left_to_right_then_top_to_bottom() -> None:
    layout = get_layout("letter-30up")
    spots = layout.positions()
    top_row = layout.page_height - 0.5 * INCH - 1 * INCH
    assert spots[0] == pytest.approx((0.1875 * INCH, top_row))
    assert spots[1] == pytest.approx(((0.1875 + 2.625 + 0.125) * INCH, top_row))
    assert spots[3] == pytest.approx((0.1875 * INCH, top_row - 1 * INCH))
    assert spots[-1][1] == pytest.approx(layout.page_height - 0.5 * INCH - 10 * INCH)


def test_the_sheets_named_in_the_issue_are_available() -> None:
    letter = get_layout("letter-30up")
    assert (letter.page_width, letter.page_height) == (8.5 * INCH, 11 * INCH)
    assert (letter.label_width, letter.label_height, letter.per_page) == (189.0, 72.0, 30)
    a4 = {name for name, layout in LAYOUTS.items() if layout.page_width == pytest.approx(210 * MM)}
    assert len(a4) >= 2
    sizes = {(lay.label_width / INCH, lay.label_height / INCH) for lay in LAYOUTS.values()}
    assert {(1.0, 1.0), (2.0, 1.0), (1.5, 1.0), (4.0, 6.0)} <= sizes


@pytest.mark.parametrize("name", ["roll-2x1", "roll-1.5x1", "roll-1x1", "roll-4x6"])
def test_a_roll_has_one_label_per_page_the_size_of_the_page(name: str) -> None:
    layout = get_layout(name)
    assert layout.kind == "roll"
    assert layout.positions() == [(0.0, 0.0)]
    assert (layout.page_width, layout.page_height) == (layout.label_width, layout.label_height)


def test_margins_can_be_changed_within_the_page() -> None:
    layout = get_layout("letter-30up").with_margins(left=0.125 * INCH, top=0.25 * INCH)
    assert layout.positions()[0] == pytest.approx((0.125 * INCH, 11 * INCH - 1.25 * INCH))
    assert get_layout("letter-30up").margin_left == 0.1875 * INCH  # the original is unchanged


def test_margins_that_push_labels_off_the_page_are_refused() -> None:
    with pytest.raises(LabelError, match="do not fit on the page"):
        get_layout("letter-30up").with_margins(left=1 * INCH)
    with pytest.raises(LabelError, match="do not fit on the page"):
        get_layout("a4-40up").with_margins(top=5 * MM)


def test_negative_margins_are_refused() -> None:
    with pytest.raises(LabelError, match="cannot be negative"):
        get_layout("letter-2x1").with_margins(top=-1)


def test_an_unknown_layout_is_refused_with_the_list_of_choices() -> None:
    with pytest.raises(LabelError, match="unknown layout 'letter-99up'; choose one of letter-30up"):
        get_layout("letter-99up")


# --- plan_label: QR sizing ----------------------------------------------------------------------


def test_qr_modules_are_whole_printer_dots_never_below_the_printable_minimum() -> None:
    assert len(PLANS) > 150
    for layout, _, dpi, _, plan in PLANS:
        dots = plan.qr.module * dpi / INCH
        assert dots == pytest.approx(plan.qr.dots_per_module), layout.name
        assert plan.qr.dots_per_module >= MIN_MODULE_DOTS
        assert plan.qr.module >= MIN_MODULE_MM * MM
        assert plan.qr.dpi == dpi


def test_the_qr_takes_the_largest_module_that_fits() -> None:
    for layout, face, dpi, modules, plan in PLANS:
        bigger = (plan.qr.dots_per_module + 1) * INCH / dpi
        side = (modules + 2 * QUIET_ZONE_MODULES) * bigger
        fits_wider = side <= layout.label_width - 2 * layout.padding
        fits_taller = side + plan.code_text.height <= layout.label_height - 2 * layout.padding
        assert not (fits_wider and fits_taller and face is QR_ONLY), layout.name


def test_the_qr_its_quiet_zone_and_the_text_stay_inside_the_label_and_apart() -> None:
    for layout, _, _, _, plan in PLANS:
        pad = layout.padding
        printable = Box(pad, pad, layout.label_width - 2 * pad, layout.label_height - 2 * pad)
        qr = qr_with_quiet_zone(plan)
        assert inside(qr, printable), layout.name
        assert inside(plan.code_text, printable)
        assert not overlap(qr, plan.code_text)
        if plan.text is not None:
            assert inside(plan.text, printable)
            assert not overlap(qr, plan.text)
            assert not overlap(plan.code_text, plan.text)


def test_the_code_sits_under_the_qr_code() -> None:
    for _, _, _, _, plan in PLANS:
        qr = qr_with_quiet_zone(plan)
        assert plan.code_text.y + plan.code_text.height <= qr.y + 1e-6
        centre = plan.qr.x + plan.qr.size / 2
        assert plan.code_text.x <= centre <= plan.code_text.x + plan.code_text.width


def test_a_wide_finished_goods_label_keeps_a_full_width_band_for_the_code() -> None:
    # 17 characters at 7 pt need about 70 pt, more than the QR code is wide.
    plan = plan_label(get_layout("letter-30up"), FINISHED, 33, dpi=300)
    assert plan.code_text.width == pytest.approx(189 - 2 * 3.6)
    assert plan.text is not None and plan.text.x == pytest.approx(
        plan.qr.x + plan.qr.size + 4 * plan.qr.module
    )


def test_the_finished_goods_text_fits_its_box_at_the_planned_size() -> None:
    for layout, face, _, _, plan in PLANS:
        if face is QR_ONLY:
            assert plan.text is None and plan.text_font_size == 0
            continue
        assert plan.text is not None
        assert 4.5 <= plan.text_font_size <= 9
        assert len(face.lines()) * 1.2 * plan.text_font_size <= plan.text.height + 1e-6, layout.name


def test_what_prints_on_a_coarse_printer_also_prints_on_a_finer_one() -> None:
    for layout, face, modules in itertools.product(LAYOUTS.values(), (QR_ONLY, FINISHED), MODULES):
        try:
            plan_label(layout, face, modules, dpi=203)
        except LabelError:
            continue
        for dpi in (300, 600):
            assert plan_label(layout, face, modules, dpi=dpi).qr.dots_per_module >= MIN_MODULE_DOTS


def test_a_payload_too_long_for_the_label_is_refused_with_what_it_needs() -> None:
    with pytest.raises(LabelError) as raised:
        plan_label(get_layout("roll-1x1"), FINISHED, 33, dpi=203)
    message = str(raised.value)
    assert "a 33×33 QR code does not fit the roll-1x1 layout at 203 dpi" in message
    assert "short-URL QR form" in message


def test_the_same_payload_fits_a_larger_label() -> None:
    assert plan_label(get_layout("roll-2x1"), FINISHED, 33, dpi=203).qr.dots_per_module == 3


def test_a_long_payload_fits_a_case_label_but_not_a_unit_label() -> None:
    assert plan_label(get_layout("roll-4x6"), QR_ONLY, 177, dpi=203).qr.dots_per_module == 4
    with pytest.raises(LabelError, match="177×177"):
        plan_label(get_layout("roll-2x1"), QR_ONLY, 177, dpi=600)


@pytest.mark.parametrize("dpi", [72, 150, 1200])
def test_an_unsupported_printer_resolution_is_refused(dpi: int) -> None:
    with pytest.raises(LabelError, match=f"{dpi} dpi is not supported"):
        plan_label(get_layout("roll-2x1"), QR_ONLY, 25, dpi=dpi)


# --- label content ------------------------------------------------------------------------------


def test_a_qr_only_label_has_no_text_block() -> None:
    assert QR_ONLY.lines() == []
    assert plan_label(get_layout("roll-2x1"), QR_ONLY, 29).text is None


def test_the_finished_goods_block_lists_brand_product_details_lot_dates_potency_warnings() -> None:
    assert FINISHED.lines() == [
        "Green Valley Farms",
        "Blue Dream Pre-Roll 5-pack",
        "Blue Dream · 3.5 g",
        "Lot LOT-2026-001",
        "Pkg 2026-11-01  Exp 2027-11-01",
        "Total THC 21.5 %  Total CBD 0.1 %",
        "Keep out of reach of children.",
    ]


def test_missing_finished_goods_fields_leave_no_empty_lines() -> None:
    face = LabelFace(
        LabelTemplate.FINISHED_GOODS, "Brand", "Gummies", net_content="10 pcs", cbd="CBD 5 mg"
    )
    assert face.lines() == ["Brand", "Gummies", "10 pcs", "CBD 5 mg"]
    only_expiry = LabelFace(
        LabelTemplate.FINISHED_GOODS, "Brand", "Tincture", expires_on=dt.date(2027, 1, 31)
    )
    assert only_expiry.lines() == ["Brand", "Tincture", "Exp 2027-01-31"]


def test_the_human_readable_code_is_grouped_in_fours() -> None:
    assert LabelUnit(CODE, "https://x.test/" + CODE).human_code == "7WBH-YD4A-WGP3-R2"


def test_the_payload_is_a_gs1_digital_link_when_the_product_has_a_gtin_and_the_brand_chose_it() -> (
    None
):
    payload = qr_payload(
        "https://id.example.com/", CODE, form=QrForm.DIGITAL_LINK, gtin=GTIN, lot="LOT/7"
    )
    assert payload == f"https://id.example.com/01/{GTIN}/10/LOT%2F7/21/{CODE}"


def test_the_payload_falls_back_to_the_short_url_without_a_gtin() -> None:
    payload = qr_payload(
        "https://id.example.com", CODE, form=QrForm.DIGITAL_LINK, gtin=None, lot="L1"
    )
    assert payload == f"https://id.example.com/{CODE}"


def test_the_short_url_form_is_used_when_chosen_even_with_a_gtin() -> None:
    payload = qr_payload(
        "https://u.example.com/", CODE.lower(), form=QrForm.SHORT_URL, gtin=GTIN, lot="L1"
    )
    assert payload == f"https://u.example.com/{CODE}"
