"""The Imports page: a broken file's problem table, a check-only run, an import, the list,
templates; the form's token; another organization's import is not found."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.factories import make_batch, make_org, make_product
from tests.web.test_pages import email_of, hidden, log_in
from unitrace.domain.model import Principal
from unitrace.services import catalog
from unitrace.services.runtime import Runtime

GOOD = b"name,category\nBlue Dream 3.5 g,flower\n"
BROKEN = b"name,category\nOne,<b>pizza</b>\n"


def _send(client: TestClient, token: str, body: bytes, action: str) -> str:
    answer = client.post(
        "/imports",
        data={"csrf_token": token, "kind": "products", "action": action},
        files={"file": ("products.csv", body, "text/csv")},
    )
    assert answer.status_code == (422 if body is BROKEN else 200), answer.text
    return answer.text


def test_upload_check_and_import_from_the_imports_page(
    rt: Runtime, app: FastAPI, brand: Principal
) -> None:
    with TestClient(app, follow_redirects=False) as client:
        assert log_in(client, email_of(brand)).status_code == 303
        page = client.get("/imports")
        assert page.status_code == 200
        assert 'href="/imports" aria-current="page"' in page.text
        assert 'href="/imports/templates/sales"' in page.text
        token = hidden(page.text, "csrf_token")

        refused = client.post("/imports", data={"kind": "products", "action": "import"},
                              files={"file": ("p.csv", GOOD, "text/csv")})  # fmt: skip
        assert refused.status_code == 403

        bad = _send(client, token, BROKEN, "import")
        assert "1 problem in the file: nothing was imported" in bad
        assert "&lt;b&gt;pizza&lt;/b&gt;" in bad and "<b>pizza" not in bad
        assert '<td class="mono">category</td>' in bad
        checked = _send(client, token, GOOD, "check")
        assert "1 row checked: no problems" in checked
        assert catalog.list_products(rt, brand).total == 0
        done = _send(client, token, GOOD, "import")
        assert "1 row imported" in done
        assert catalog.list_products(rt, brand).total == 1
        again = _send(client, token, GOOD, "import")
        assert "imported before" in again and catalog.list_products(rt, brand).total == 1

        listing = client.get("/imports").text
        ids = re.findall(r'<a href="/imports/(\d+)">', listing)
        assert len(ids) == 2  # the invalid import and the applied one; a check is not kept
        shown = client.get(f"/imports/{ids[-1]}").text
        assert "Problems in import" in shown and "pizza" in shown
        template = client.get("/imports/templates/products")
        assert template.headers["content-type"].startswith("text/csv")
        assert template.text.startswith("name,category,")

    stranger = make_org(rt)
    with TestClient(app, follow_redirects=False) as client:
        assert log_in(client, email_of(stranger)).status_code == 303
        assert client.get(f"/imports/{ids[0]}").status_code == 404
        assert "Blue Dream" not in client.get("/imports").text


def test_guessable_serials_are_imported_from_the_page_only_with_the_box_ticked(
    rt: Runtime, app: FastAPI, brand: Principal
) -> None:
    batch = make_batch(rt, brand, make_product(rt, brand, gtin="09506000134352"))
    body = "lot_number,serial\n" + "".join(f"{batch.lot_number},{n}\n" for n in (5, 6, 7, 8))
    with TestClient(app, follow_redirects=False) as client:
        assert log_in(client, email_of(brand)).status_code == 303
        page = client.get("/imports")
        assert 'name="allow_guessable"' in page.text
        token = hidden(page.text, "csrf_token")
        sent = {"csrf_token": token, "kind": "serials", "action": "import"}
        files = {"file": ("serials.csv", body.encode(), "text/csv")}
        refused = client.post("/imports", data=sent, files=files)
        assert refused.status_code == 422 and "count up by 1" in refused.text
        done = client.post("/imports", data=sent | {"allow_guessable": "yes"}, files=files)
        assert done.status_code == 200 and "4 rows imported" in done.text
