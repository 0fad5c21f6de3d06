"""The real app under uvicorn on a loopback port, called over real HTTP with httpx."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import uvicorn

from tests.factories import make_batch
from unitrace.domain.model import Principal, Role
from unitrace.services import access
from unitrace.services.runtime import Runtime
from unitrace.web.app import create_app

RETRIES = 8


@pytest.fixture
def base_url(rt: Runtime) -> Iterator[str]:
    """Serve ``create_app(runtime=rt)`` from a background thread until the test ends."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))  # port 0: the OS picks a free port, and we already hold it
    config = uvicorn.Config(
        create_app(runtime=rt), lifespan="off", ws="none", log_level="warning", access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        for _ in range(500):
            if server.started:
                break
            thread.join(0.01)
        assert server.started, "uvicorn did not start"
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@pytest.fixture
def api(rt: Runtime, brand: Principal, base_url: str) -> Iterator[httpx.Client]:
    """An httpx client holding an operator key of ``brand``."""
    secret = access.create_api_key(rt, brand, name="integration", role=Role.OPERATOR).secret
    with httpx.Client(
        base_url=base_url, headers={"Authorization": f"Bearer {secret}"}, timeout=30
    ) as client:
        yield client


def test_health_answers_over_http_without_a_key(rt: Runtime, base_url: str) -> None:
    response = httpx.get(f"{base_url}/api/v1/health")

    assert response.status_code == 200
    assert response.json()["database"] == rt.db.dialect


def test_a_missing_key_is_refused_over_http(base_url: str) -> None:
    response = httpx.get(f"{base_url}/api/v1/units")

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["error"]["code"] == "unauthenticated"


def test_a_commissioning_and_its_csv_travel_over_http(
    rt: Runtime, brand: Principal, api: httpx.Client
) -> None:
    batch = make_batch(rt, brand)

    result = api.post("/api/v1/units/commission", json={"batch_id": batch.id, "quantity": 30})
    with api.stream("GET", f"/api/v1/commissionings/{result.json()['key']}/codes") as stream:
        lines = [line for line in stream.iter_lines() if line]

    assert result.status_code == 201
    assert lines[0] == "code,short_url"
    assert len(lines) == 31


def test_concurrent_retries_with_one_idempotency_key_create_one_set_of_units(
    rt: Runtime, brand: Principal, api: httpx.Client
) -> None:
    batch = make_batch(rt, brand)
    body = {"batch_id": batch.id, "quantity": 500}
    start = threading.Barrier(RETRIES)

    def send(_: int) -> httpx.Response:
        start.wait()  # release every request at the same moment
        return api.post(
            "/api/v1/units/commission", json=body, headers={"Idempotency-Key": "pos-order-77"}
        )

    with ThreadPoolExecutor(RETRIES) as pool:
        responses = list(pool.map(send, range(RETRIES)))

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * (RETRIES - 1) + [201]
    assert len({r.json()["event_id"] for r in responses}) == 1
    assert sum(r.json()["replayed"] for r in responses) == RETRIES - 1
    units = api.get("/api/v1/units", params={"batch_id": batch.id, "limit": 1}).json()
    assert units["total"] == 500
