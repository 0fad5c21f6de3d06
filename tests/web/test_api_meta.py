"""The API describes itself: health without a key, OpenAPI and interactive docs."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from unitrace import __version__
from unitrace.config import Settings
from unitrace.services.runtime import Runtime, build_runtime
from unitrace.web.app import create_app

MAIN_PATHS = {
    "/api/v1/health": {"get"},
    "/api/v1/inventory-counts": {"get", "post"},
    "/api/v1/inventory-counts/accuracy": {"get"},
    "/api/v1/inventory-counts/{count_id}": {"get"},
    "/api/v1/inventory-counts/{count_id}/differences.csv": {"get"},
    "/api/v1/inventory-counts/{count_id}/scans": {"post"},
    "/api/v1/inventory-counts/{count_id}/close": {"post"},
    "/api/v1/inventory-counts/{count_id}/resolve": {"post"},
    "/api/v1/organization": {"get", "patch"},
    "/api/v1/locations": {"get", "post"},
    "/api/v1/locations/{location_id}": {"patch"},
    "/api/v1/users": {"get", "post"},
    "/api/v1/users/{user_id}": {"patch"},
    "/api/v1/api-keys": {"get", "post"},
    "/api/v1/api-keys/{api_key_id}": {"delete"},
    "/api/v1/products": {"get", "post"},
    "/api/v1/products/{product_id}": {"get", "patch"},
    "/api/v1/batches": {"get", "post"},
    "/api/v1/batches/{batch_id}": {"get"},
    "/api/v1/batches/{batch_id}/lab-results": {"put"},
    "/api/v1/batches/{batch_id}/coa": {"get", "post"},
    "/api/v1/units": {"get"},
    "/api/v1/units/commission": {"post"},
    "/api/v1/units/{code}": {"get"},
    "/api/v1/commissionings/{event_id}/codes": {"get"},
    "/api/v1/labels/{fmt}": {"post"},
    "/api/v1/labels/check": {"post"},
    "/api/v1/labels/preview.svg": {"get"},
    "/api/v1/labels/layouts": {"get"},
    "/api/v1/units/{code}/qr.png": {"get"},
    "/api/v1/units/{code}/label.svg": {"get"},
    "/api/v1/print-jobs": {"get"},
    "/api/v1/print-jobs/{job_id}": {"get"},
    "/api/v1/batches/{batch_id}/label-status": {"get"},
    "/api/v1/containers": {"get", "post"},
    "/api/v1/containers/{code}": {"get"},
    "/api/v1/containers/{code}/pack": {"post"},
    "/api/v1/containers/{code}/unpack": {"post"},
    "/api/v1/containers/labels": {"post"},
    "/api/v1/containers/{code}/label.svg": {"get"},
    "/api/v1/shipments": {"get", "post"},
    "/api/v1/shipments/{shipment_id}": {"get"},
    "/api/v1/shipments/{shipment_id}/items": {"post"},
    "/api/v1/shipments/{shipment_id}/items/remove": {"post"},
    "/api/v1/shipments/{shipment_id}/ship": {"post"},
    "/api/v1/shipments/{shipment_id}/void": {"post"},
    "/api/v1/shipments/{shipment_id}/undo-receipt": {"post"},
    "/api/v1/audit/verify": {"get"},
    "/api/v1/containers/{code}/events": {"get"},
    "/api/v1/shipments/{shipment_id}/events": {"get"},
    "/api/v1/units/{code}/events": {"get"},
    "/api/v1/webhooks": {"get", "post"},
    "/api/v1/exports/{kind}": {"get"},
    "/api/v1/webhooks/{webhook_id}": {"get", "delete"},
    "/api/v1/webhooks/{webhook_id}/deliveries": {"get"},
    "/api/v1/webhooks/{webhook_id}/rotate-secret": {"post"},
    "/api/v1/shipments/{shipment_id}/cancel": {"post"},
    "/api/v1/shipments/{shipment_id}/scans": {"get"},
    "/api/v1/shipments/{shipment_id}/receive": {"post"},
    "/api/v1/shipments/{shipment_id}/receipt": {"get"},
    "/api/v1/receiving/scans": {"post"},
    "/api/v1/sales": {"post"},
    "/api/v1/sales/undo": {"post"},
    "/api/v1/returns": {"post"},
    "/api/v1/units/dispositions": {"post"},
    "/api/v1/units/relocations": {"post"},
    "/api/v1/recalls": {"get", "post"},
    "/api/v1/recalls/held": {"get"},
    "/api/v1/recalls/confirm": {"post"},
    "/api/v1/recalls/{recall_id}": {"get", "put", "delete"},
    "/api/v1/recalls/{recall_id}/preview": {"get"},
    "/api/v1/recalls/{recall_id}/activate": {"post"},
    "/api/v1/recalls/{recall_id}/report": {"get"},
    "/api/v1/recalls/{recall_id}/report.csv": {"get"},
    "/api/v1/recalls/{recall_id}/events": {"get"},
    "/api/v1/recalls/{recall_id}/held": {"get"},
    "/api/v1/recalls/{recall_id}/release": {"post"},
    "/api/v1/recalls/{recall_id}/destroy": {"post"},
    "/api/v1/recalls/{recall_id}/close": {"post"},
    "/api/v1/imports": {"get"},
    "/api/v1/imports/{kind}": {"post"},
    "/api/v1/imports/{import_id}": {"get"},
    "/api/v1/imports/templates/{kind}": {"get"},
    "/api/v1/alerts": {"get"},
    "/api/v1/alerts/{alert_id}": {"get"},
    "/api/v1/alerts/{alert_id}/investigate": {"post"},
    "/api/v1/problem-reports": {"get"},
    "/api/v1/problem-reports/{report_id}": {"get"},
    "/api/v1/problem-reports/{report_id}/close": {"post"},
    "/api/v1/lookup": {"get"},
    "/api/v1/reports/sell-through": {"get"},
    "/api/v1/reports/scans": {"get"},
}


def test_health_needs_no_key_and_names_the_database(rt: Runtime, client: TestClient) -> None:
    response = client.get("/api/v1/health")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "version": __version__,
        "database": rt.db.dialect,
    }
    assert rt.db.dialect in ("sqlite", "postgresql")


def test_health_is_503_when_the_database_cannot_be_reached(tmp_path: Path) -> None:
    unreachable = Settings(
        database_url=f"sqlite:///{tmp_path}/no/such/directory/unitrace.db", data_dir=tmp_path
    )
    runtime = build_runtime(unreachable)
    try:
        response = TestClient(create_app(runtime=runtime)).get("/api/v1/health")
    finally:
        runtime.close()

    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "version": __version__,
        "database": "sqlite",
    }


def test_the_openapi_document_lists_every_endpoint(client: TestClient) -> None:
    response = client.get("/api/v1/openapi.json")

    assert response.status_code == 200
    paths = response.json()["paths"]
    api_paths = {p: set(ops) for p, ops in paths.items() if p.startswith("/api/v1/")}
    assert api_paths == MAIN_PATHS


def test_the_openapi_document_declares_api_keys_and_the_error_shape(client: TestClient) -> None:
    document = client.get("/api/v1/openapi.json").json()

    schemes = document["components"]["securitySchemes"]
    assert schemes["ApiKeyBearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "Authorization: Bearer ut_…",
    }
    assert schemes["ApiKeyHeader"]["name"] == "X-API-Key"
    not_found = document["paths"]["/api/v1/products/{product_id}"]["get"]["responses"]["404"]
    assert not_found["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorPublic"
    }
    assert "security" not in document["paths"]["/api/v1/health"]["get"]


def test_the_interactive_docs_load_the_openapi_document(client: TestClient) -> None:
    response = client.get("/docs")

    assert response.status_code == 200
    assert "text/html" in response.headers["content-type"]
    assert "/api/v1/openapi.json" in response.text


def test_an_unknown_api_path_is_a_json_404(client: TestClient) -> None:
    response = client.get("/api/v1/nothing-here")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
