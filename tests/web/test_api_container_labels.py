"""Case and pallet labels over the API: files whose QR codes scan back, print jobs, access."""

from __future__ import annotations

import re
from contextlib import contextmanager

import pypdfium2
import zxingcpp
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.web.conftest import Headers
from tests.web.test_api_shipments import API, commission, container, ok
from tests.web.test_pages_supply import signed_in_as
from unitrace.domain.model import Principal
from unitrace.domain.scan import ScanKind, parse_scan
from unitrace.services import containers
from unitrace.services.runtime import Runtime


def empty_case(client: TestClient, headers: Headers) -> str:
    (created,) = ok(client.post(f"{API}/containers", json={"kind": "case"}, headers=headers), 201)[
        "items"
    ]
    return str(created["code"])


def test_a_pallet_label_pdf_scans_back_and_is_recorded_as_a_print_job(
    client: TestClient, operator: Headers
) -> None:
    case = container(client, operator, "case", commission(client, operator, 6))
    pallet = container(client, operator, "pallet", [case])

    response = client.post(f"{API}/containers/labels", json={"codes": [pallet]}, headers=operator)

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    pdf = pypdfium2.PdfDocument(response.content)
    page = pdf[0]
    image = page.render(scale=300 / 72, grayscale=True).to_pil()
    text = page.get_textpage().get_text_range()
    found = [parse_scan(f.text) for f in zxingcpp.read_barcodes(image)]
    pdf.close()
    assert [(s.kind, s.value) for s in found] == [(ScanKind.CODE, pallet)]
    assert "PALLET" in text and "6 units" in text
    job = ok(client.get(f"{API}/print-jobs/{response.headers['X-Print-Job-Id']}", headers=operator))
    assert (job["template"], job["selection"], job["quantity"]) == (
        "container",
        {"containers": [pallet]},
        1,
    )


def test_zpl_and_the_single_svg_carry_the_container_payload(
    client: TestClient, operator: Headers, viewer: Headers
) -> None:
    case = empty_case(client, operator)

    zpl = client.post(
        f"{API}/containers/labels", json={"codes": [case], "format": "zpl"}, headers=operator
    )
    svg = client.get(f"{API}/containers/{case}/label.svg", headers=viewer)

    assert zpl.status_code == 200, zpl.text
    payloads = re.findall(r"\^FDMA,([^\^]+)\^FS", zpl.text)
    assert [parse_scan(p).value for p in payloads] == [case]
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    assert "CASE" in svg.text and "Empty" in svg.text


def test_a_viewer_cannot_print_and_another_organizations_case_is_not_found(
    client: TestClient, operator: Headers, viewer: Headers, outsider: Headers
) -> None:
    case = empty_case(client, operator)

    as_viewer = client.post(f"{API}/containers/labels", json={"codes": [case]}, headers=viewer)
    as_outsider = client.post(f"{API}/containers/labels", json={"codes": [case]}, headers=outsider)
    svg = client.get(f"{API}/containers/{case}/label.svg", headers=outsider)
    small = client.post(
        f"{API}/containers/labels", json={"codes": [case], "layout": "roll-1x1"}, headers=operator
    )

    assert as_viewer.status_code == 403
    assert as_outsider.status_code == 404 and svg.status_code == 404
    assert small.status_code == 422
    assert ok(client.get(f"{API}/print-jobs", headers=operator))["total"] == 0


def test_the_container_page_links_to_its_label_which_opens_in_the_browser(
    app: FastAPI, rt: Runtime, brand: Principal
) -> None:
    case = containers.create_containers(rt, brand, kind="case")[0].code
    with contextmanager(signed_in_as)(app, brand) as browser:
        page = browser.get(f"/containers/{case}")
        label = browser.get(f"/containers/{case}/label.svg")

    assert f'href="/containers/{case}/label.svg"' in page.text and "Print label" in page.text
    assert label.status_code == 200 and label.headers["content-type"].startswith("image/svg")
    assert "CASE" in label.text
