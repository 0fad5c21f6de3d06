"""Case and pallet labels through the service, on both databases: every label decoded back.

PDF pages are rasterized with pypdfium2 and SVG QR paths painted at 300 dpi for zxing-cpp;
ZPL is read for its ``^BQN`` field data. Whatever the format, the decoded text must read
back with ``parse_scan`` as the container's code, or its SSCC when it has one.
"""

from __future__ import annotations

import io
import re
import zipfile
from xml.etree import ElementTree

import pypdfium2 as pdfium
import pytest
import zxingcpp
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw
from sqlalchemy import select

from tests.factories import as_role, make_batch, make_org, make_product
from unitrace.adapters.container_labels import render_container_svg
from unitrace.domain.codes import format_code, generate_codes
from unitrace.domain.container_labels import (
    ContainerLabel,
    container_payload,
    plan_container_label,
)
from unitrace.domain.labels import LAYOUTS, LabelError, PrintTemplate, get_layout
from unitrace.domain.model import CheckStatus, LabelFormat, Principal, Role
from unitrace.domain.scan import ScanKind, parse_scan, sscc_check_digit
from unitrace.errors import NotFoundError, PermissionDeniedError, ValidationError
from unitrace.services import container_labels, containers, labels, serialization
from unitrace.services.runtime import Runtime
from unitrace.storage.schema import print_jobs

SSCC = "00614141123456789" + sscc_check_digit("00614141123456789")
_RUN = re.compile(r"M(\d+) (\d+)h(\d+)v1h-(\d+)z")
_TRANSFORM = re.compile(r"translate\(([\d.]+) ([\d.]+)\) scale\(([\d.]+)\)")
SVG_NS = "{http://www.w3.org/2000/svg}"


def commission(rt: Runtime, brand: Principal, quantity: int, name: str = "Blue Dream") -> list[str]:
    product = make_product(rt, brand, name=name)
    batch = make_batch(rt, brand, product)
    result = serialization.commission_units(rt, brand, batch_id=batch.id, quantity=quantity)
    return sorted(serialization.iter_commissioned_codes(rt, brand, event_id=result.event_id))


def new(rt: Runtime, brand: Principal, kind: str, sscc: str | None = None) -> str:
    return containers.create_containers(rt, brand, kind=kind, sscc=sscc)[0].code


def render(
    rt: Runtime, brand: Principal, codes: list[str], fmt: LabelFormat, layout: str = "roll-4x6"
) -> bytes:
    out = io.BytesIO()
    container_labels.render_container_labels(rt, brand, codes, fmt=fmt, layout=layout, out=out)
    return out.getvalue()


def pdf_decoded(data: bytes) -> list[tuple[list[str], str]]:
    """Per page: the QR texts zxing-cpp reads at 300 dpi, and the page's text."""
    pdf = pdfium.PdfDocument(data)
    try:
        pages = []
        for page in pdf:
            image = page.render(scale=300 / 72, grayscale=True).to_pil()
            found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
            pages.append(([f.text for f in found], page.get_textpage().get_text_range()))
        return pages
    finally:
        pdf.close()


def svg_decoded(svg: str) -> str:
    """Paint the SVG's QR path at 300 dpi and decode it."""
    root = ElementTree.fromstring(svg)  # noqa: S314 - our own output
    (path,) = root.iter(f"{SVG_NS}path")
    placement = _TRANSFORM.fullmatch(path.attrib["transform"])
    assert placement is not None
    x, y, module = (float(v) for v in placement.groups())
    width, height = (float(v) for v in root.attrib["viewBox"].split()[2:])
    scale = 300 / 72
    image = Image.new("L", (round(width * scale), round(height * scale)), 255)
    draw = ImageDraw.Draw(image)
    for column, row, length, _back in _RUN.findall(path.attrib["d"]):
        left = (x + int(column) * module) * scale
        top = (y + int(row) * module) * scale
        right, bottom = left + int(length) * module * scale, top + module * scale
        draw.rectangle((round(left), round(top), round(right) - 1, round(bottom) - 1), fill=0)
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    assert len(found) == 1
    return found[0].text


def zpl_payloads(zpl: str) -> list[str]:
    return re.findall(r"\^BQN,2,\d+,M\^FH\^FDMA,([^\^]+)\^FS", zpl)


def scanned(text: str) -> tuple[ScanKind, str]:
    scan = parse_scan(text)
    return scan.kind, scan.value


@pytest.fixture
def brand(rt: Runtime) -> Principal:
    return make_org(rt, name="Green Valley Farms")


def test_a_case_label_decodes_to_its_code_and_shows_the_product_and_lot_inside(
    rt: Runtime, brand: Principal
) -> None:
    codes = commission(rt, brand, 12, name="Blue Dream 3.5 g")
    case = new(rt, brand, "case")
    containers.pack(rt, brand, container=case, items=codes)
    [(qr, text)] = pdf_decoded(render(rt, brand, [case], LabelFormat.PDF))
    assert [scanned(t) for t in qr] == [(ScanKind.CODE, case)]
    assert qr == [f"https://id.example.test/{case}"]
    for shown in ("CASE", format_code(case), "Green Valley Farms", "12 units", "Blue Dream 3.5 g"):
        assert shown in text
    assert "Lot " in text and "Mixed" not in text


def test_a_mixed_pallet_with_an_sscc_decodes_to_its_sscc_and_says_mixed(
    rt: Runtime, brand: Principal
) -> None:
    first, second = commission(rt, brand, 5), commission(rt, brand, 7, name="Sour Diesel")
    cases = [new(rt, brand, "case"), new(rt, brand, "case")]
    containers.pack(rt, brand, container=cases[0], items=first)
    containers.pack(rt, brand, container=cases[1], items=second)
    pallet = new(rt, brand, "pallet", sscc=SSCC)
    containers.pack(rt, brand, container=pallet, items=cases)
    [(qr, text)] = pdf_decoded(render(rt, brand, [pallet], LabelFormat.PDF))
    assert qr == [f"https://id.example.test/00/{SSCC}"]
    assert scanned(qr[0]) == (ScanKind.SSCC, SSCC)
    for shown in ("PALLET", f"(00) {SSCC}", format_code(pallet), "12 units", "Mixed: 2 lots"):
        assert shown in text
    assert "Sour Diesel" not in text


def test_an_empty_case_says_so_and_every_format_decodes(rt: Runtime, brand: Principal) -> None:
    case = new(rt, brand, "case")
    [(qr, text)] = pdf_decoded(render(rt, brand, [case], LabelFormat.PDF))
    assert [scanned(t) for t in qr] == [(ScanKind.CODE, case)]
    assert "0 units" in text and "Empty" in text
    zpl = render(rt, brand, [case], LabelFormat.ZPL).decode()
    assert [scanned(p) for p in zpl_payloads(zpl)] == [(ScanKind.CODE, case)]
    assert "^FDEmpty^FS" in zpl and format_code(case) in zpl
    with zipfile.ZipFile(io.BytesIO(render(rt, brand, [case], LabelFormat.SVG_ZIP))) as archive:
        assert archive.namelist() == [f"{case}.svg"]
        svg = archive.read(f"{case}.svg").decode()
    assert scanned(svg_decoded(svg)) == (ScanKind.CODE, case)
    assert "Empty" in svg


def test_several_containers_on_a_sheet_each_decode_to_their_own_code(
    rt: Runtime, brand: Principal
) -> None:
    boxes = [new(rt, brand, "case") for _ in range(4)] + [new(rt, brand, "pallet", sscc=SSCC)]
    pages = pdf_decoded(render(rt, brand, boxes, LabelFormat.PDF, layout="letter-30up"))
    assert len(pages) == 1
    found = sorted(scanned(t) for t in pages[0][0])
    expected = sorted([(ScanKind.CODE, c) for c in boxes[:4]] + [(ScanKind.SSCC, SSCC)])
    assert found == expected
    zpl = render(rt, brand, boxes, LabelFormat.ZPL, layout="a4-24up").decode()
    assert sorted(scanned(p) for p in zpl_payloads(zpl)) == expected
    assert zpl.count("^XA") == 5


def test_the_print_is_recorded_as_a_container_job(rt: Runtime, brand: Principal) -> None:
    boxes = [new(rt, brand, "case"), new(rt, brand, "pallet")]
    out = io.BytesIO()
    job = container_labels.render_container_labels(rt, brand, boxes, fmt=LabelFormat.ZPL, out=out)
    assert job.template is PrintTemplate.CONTAINER
    assert job.selection == {"containers": boxes}
    assert (job.quantity, job.dpi, job.layout) == (2, 203, "roll-4x6")
    assert job.check_status is CheckStatus.PASSED and job.batch_id is None
    # The unit print-job list reads it back too.
    assert labels.list_print_jobs(rt, brand).items[0].id == job.id


def test_another_organizations_container_is_not_found_and_nothing_is_recorded(
    rt: Runtime, brand: Principal
) -> None:
    other = make_org(rt)
    theirs = new(rt, other, "case")
    with pytest.raises(NotFoundError):
        render(rt, brand, [theirs], LabelFormat.PDF)
    with pytest.raises(NotFoundError):
        container_labels.container_label_svg(rt, brand, theirs)
    with rt.db.read() as conn:
        assert conn.execute(select(print_jobs.c.id)).first() is None


def test_a_viewer_may_see_the_label_but_not_record_a_print(rt: Runtime, brand: Principal) -> None:
    case = new(rt, brand, "case")
    viewer = as_role(brand, Role.VIEWER)
    svg = container_labels.container_label_svg(rt, viewer, case)
    assert scanned(svg_decoded(svg)) == (ScanKind.CODE, case)
    with pytest.raises(PermissionDeniedError):
        render(rt, viewer, [case], LabelFormat.PDF)


def test_units_csv_and_small_layouts_are_refused(rt: Runtime, brand: Principal) -> None:
    unit = commission(rt, brand, 1)[0]
    case = new(rt, brand, "case")
    with pytest.raises(ValidationError, match="units, not cases"):
        render(rt, brand, [unit], LabelFormat.PDF)
    with pytest.raises(ValidationError, match="csv"):
        render(rt, brand, [case], LabelFormat.CSV)
    with pytest.raises(ValidationError, match="unknown container layout"):
        render(rt, brand, [case], LabelFormat.PDF, layout="roll-1x1")
    assert "roll-1x1" not in [x.name for x in container_labels.list_container_layouts()]


@settings(max_examples=25, deadline=None)
@given(
    layout=st.sampled_from([x.name for x in container_labels.list_container_layouts()]),
    dpi=st.sampled_from([203, 300, 600]),
    with_sscc=st.booleans(),
    units=st.integers(0, 10**6),
    seed=st.integers(0, 2**32 - 1),
)
def test_every_container_layout_prints_a_qr_that_decodes_to_the_scan_target(
    layout: str, dpi: int, with_sscc: bool, units: int, seed: int
) -> None:
    code = generate_codes(1, token_bytes=lambda n: seed.to_bytes(8, "big")[:n].ljust(n, b"\0"))[0]
    sscc = SSCC if with_sscc else None
    label = ContainerLabel(
        code=code,
        payload=container_payload("https://id.example.test", code, sscc),
        kind="pallet",
        sscc=sscc,
        organization="A brand whose name is much longer than any label is wide, really",
        total_units=units,
        lots=3,
    )
    svg = render_container_svg(get_layout(layout), label, dpi=dpi)
    expected = (ScanKind.SSCC, SSCC) if with_sscc else (ScanKind.CODE, code)
    assert scanned(svg_decoded(svg)) == expected


def test_layouts_too_small_for_a_container_label_are_refused_by_the_plan() -> None:
    label = ContainerLabel("0" * 14, "https://id.example.test/x", "case", None, "Org", 0)
    with pytest.raises(LabelError, match="too small"):
        plan_container_label(LAYOUTS["roll-1.5x1"], label, 25)
