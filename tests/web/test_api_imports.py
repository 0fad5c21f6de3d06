"""POST/GET /api/v1/imports: upload a CSV (checked whole, applied once), follow it, templates."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.factories import make_batch, make_product
from tests.web.conftest import Headers
from unitrace.domain.model import Principal
from unitrace.services import catalog
from unitrace.services.runtime import Runtime
from unitrace.web.app import create_app

GOOD = (
    "Name;Category;net_content;net_content_unit\r\n"
    "Blue Dream 3.5 g;flower;3.5;g\r\n"
    "Sour Diesel 1 g;flower;1;g\r\n"
).encode("cp1252")
BROKEN = b"name,category,net_content,net_content_unit\nOne,flower,12;5,g\nTwo,pizza,,\n"


def _post(client: TestClient, headers: Headers, body: bytes, query: str = "", **extra: str) -> Any:
    return client.post(
        f"/api/v1/imports/products{query}",
        headers={**headers, **extra},
        files={"file": ("products.csv", body, "text/csv")},
    )


def test_a_broken_file_is_refused_with_every_problem_and_a_good_one_is_applied_once(
    rt: Runtime,
    client: TestClient,
    brand: Principal,
    operator: Headers,
    outsider: Headers,
) -> None:
    bad = _post(client, operator, BROKEN)
    assert bad.status_code == 422
    error = bad.json()["error"]
    assert error["code"] == "invalid_file"
    assert error["details"]["status"] == "invalid"
    assert error["details"]["problem_count"] == 2
    assert [(p["line"], p["column"], p["value"]) for p in error["details"]["problems"]] == [
        (2, "net_content", "12;5"),
        (3, "category", "pizza"),
    ]
    assert catalog.list_products(rt, brand).total == 0

    checked = _post(client, operator, GOOD, "?dry_run=true")
    assert checked.status_code == 200
    assert checked.json()["status"] == "dry_run" and checked.json()["id"] is None
    assert checked.json()["result"] == {"created": 2}
    assert checked.json()["delimiter"] == ";"
    assert catalog.list_products(rt, brand).total == 0

    applied = _post(client, operator, GOOD, **{"Idempotency-Key": "k-1"})
    assert applied.status_code == 200, applied.text
    body = applied.json()
    assert (body["status"], body["rows"], body["replayed"]) == ("applied", 2, False)
    assert body["result"]["created"] == 2
    again = _post(client, operator, GOOD)
    assert again.status_code == 200
    assert (again.json()["id"], again.json()["replayed"]) == (body["id"], True)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert catalog.list_products(rt, brand).total == 2
    other_file = _post(client, operator, GOOD + b"Third;flower;;\r\n", **{"Idempotency-Key": "k-1"})
    assert other_file.status_code == 409

    shown = client.get(f"/api/v1/imports/{body['id']}", headers=operator)
    assert shown.status_code == 200
    assert (shown.json()["status"], shown.json()["rows"]) == ("applied", 2)
    listed = client.get("/api/v1/imports?limit=1", headers=operator).json()
    assert listed["total"] == 2 and listed["limit"] == 1
    assert [i["status"] for i in listed["items"]] == ["applied"]
    invalid_id = error["details"]["id"]
    for import_id in (body["id"], invalid_id, 999_999):
        hidden = client.get(f"/api/v1/imports/{import_id}", headers=outsider)
        assert hidden.status_code == 404
        assert hidden.json()["error"]["code"] == "not_found"
    assert client.get("/api/v1/imports", headers=outsider).json()["total"] == 0


def test_templates_unknown_kinds_and_the_size_limit(
    rt: Runtime, client: TestClient, operator: Headers
) -> None:
    csv = client.get("/api/v1/imports/templates/sales", headers=operator)
    assert csv.status_code == 200
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines()[0] == "code,store,sold_at,price"
    assert client.get("/api/v1/imports/templates/sales").status_code == 401
    unknown = client.get("/api/v1/imports/templates/nope", headers=operator)
    assert unknown.status_code == 422
    assert _post(client, operator, b"x" * 2048).status_code == 422
    small = Runtime(
        settings=rt.settings.model_copy(update={"import_max_bytes": 1024}),
        db=rt.db,
        files=rt.files,
        clock=rt.clock,
    )
    with TestClient(create_app(runtime=small)) as limited:
        big = _post(limited, operator, b"name,category\n" + b"A,flower\n" * 200)
    assert big.status_code == 413
    assert big.json()["error"]["code"] == "file_too_large"


def test_an_upload_declared_too_large_is_refused_before_it_is_read(
    rt: Runtime, operator: Headers
) -> None:
    small = Runtime(
        settings=rt.settings.model_copy(update={"import_max_bytes": 1024}),
        db=rt.db,
        files=rt.files,
        clock=rt.clock,
    )
    body = b"name,category\n" + b"A,flower\n" * 20_000  # 180 kB: past the limit and framing
    with TestClient(create_app(runtime=small)) as limited:
        big = _post(limited, operator, body)
        page = limited.post(
            "/imports", content=b"x" * 200_000, headers={"content-type": "text/csv"}
        )
        imports_listed = limited.get("/api/v1/imports", headers=operator).json()
    assert big.status_code == 413
    assert big.json()["error"] == {
        "code": "file_too_large",
        "message": f"the upload is {int(big.request.headers['content-length']):,} bytes; "
        "files of at most 1,024 bytes are accepted",
        "details": None,
    }
    assert page.status_code == 413 and "files of at most 1,024 bytes" in page.text
    assert imports_listed["total"] == 0  # nothing was recorded: the endpoint never ran


def test_guessable_serials_need_allow_guessable_and_then_say_so(
    rt: Runtime, client: TestClient, brand: Principal, operator: Headers
) -> None:
    batch = make_batch(rt, brand, make_product(rt, brand, gtin="09506000134352"))
    body = "lot_number,serial\n" + "".join(f"{batch.lot_number},SN{n:06d}\n" for n in range(5))

    def post(query: str = "") -> Any:
        return client.post(
            f"/api/v1/imports/serials{query}",
            headers=operator,
            files={"file": ("serials.csv", body.encode(), "text/csv")},
        )

    refused = post()
    assert refused.status_code == 422
    problems = refused.json()["error"]["details"]["problems"]
    assert [(p["line"], p["column"]) for p in problems] == [(2, "serial"), (2, "serial")]
    assert "count up by 1" in problems[1]["message"]
    accepted = post("?allow_guessable=true")
    assert accepted.status_code == 200, accepted.text
    result = accepted.json()["result"]
    assert (result["units"], result["guessable"], result["allow_guessable"]) == (5, True, True)


def test_a_unit_with_a_brands_serial_shows_it_in_the_api_and_the_scan_lookup(
    rt: Runtime, client: TestClient, brand: Principal, operator: Headers
) -> None:
    batch = make_batch(rt, brand, make_product(rt, brand, gtin="09506000134352"))
    body = f"lot_number,serial\n{batch.lot_number},Kq7-pX2m9RvT4w\n"
    done = client.post(
        "/api/v1/imports/serials",
        headers=operator,
        files={"file": ("serials.csv", body.encode(), "text/csv")},
    )
    assert done.status_code == 200, done.text
    found = client.get(
        "/api/v1/lookup",
        params={"scan": "https://brand.example/01/09506000134352/21/Kq7-pX2m9RvT4w"},
        headers=operator,
    )
    assert found.status_code == 200, found.text
    unit = found.json()
    assert (unit["external_serial"], unit["serial_guessable"]) == ("Kq7-pX2m9RvT4w", False)
    assert unit["digital_link"].endswith(f"/10/{batch.lot_number}/21/Kq7-pX2m9RvT4w")
    assert unit["verification"]["weak_serial"] is False
    by_code = client.get(f"/api/v1/units/{unit['code']}", headers=operator).json()
    assert by_code["external_serial"] == "Kq7-pX2m9RvT4w"
