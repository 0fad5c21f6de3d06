"""Fixtures for the web tests: the real app on the ``rt`` database, and API keys by role."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.factories import make_org
from unitrace.domain.model import Principal, Role
from unitrace.services import access
from unitrace.services.runtime import Runtime
from unitrace.web.app import create_app

Headers = dict[str, str]
HeadersFor = Callable[..., Headers]


@pytest.fixture
def app(rt: Runtime) -> FastAPI:
    return create_app(runtime=rt)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """A client with no credentials: each request says who it is through its headers."""
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def headers_for(rt: Runtime) -> HeadersFor:
    """``headers_for(principal, role)``: an API key of that organization, as request headers."""

    def issue(principal: Principal, role: Role = Role.ADMIN) -> Headers:
        created = access.create_api_key(
            rt, None, name=f"{role.value} key", role=role, organization_id=principal.organization_id
        )
        return {"Authorization": f"Bearer {created.secret}"}

    return issue


@pytest.fixture
def brand(rt: Runtime) -> Principal:
    """The admin of a brand, with one facility."""
    return make_org(rt, name="Sunrise Farms")


@pytest.fixture
def other_brand(rt: Runtime) -> Principal:
    """The admin of an unrelated brand: it must never see Sunrise Farms' data."""
    return make_org(rt, name="Moonrise Cannabis")


@pytest.fixture
def admin(brand: Principal, headers_for: HeadersFor) -> Headers:
    return headers_for(brand, Role.ADMIN)


@pytest.fixture
def operator(brand: Principal, headers_for: HeadersFor) -> Headers:
    return headers_for(brand, Role.OPERATOR)


@pytest.fixture
def viewer(brand: Principal, headers_for: HeadersFor) -> Headers:
    return headers_for(brand, Role.VIEWER)


@pytest.fixture
def outsider(other_brand: Principal, headers_for: HeadersFor) -> Headers:
    """An admin key of the other brand."""
    return headers_for(other_brand, Role.ADMIN)
