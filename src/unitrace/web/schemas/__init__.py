"""The API's JSON shapes (pydantic v2), kept apart from the domain dataclasses.

Requests are ``XCreate`` / ``XUpdate``; responses are ``XPublic`` and pages of them
``XsPublic``. Converting in either direction is explicit: ``XCreate.to_draft()`` builds
the service's draft and ``XPublic.of(domain_object)`` renders a domain object (reading its
attributes of the same names), so a change to the database or the domain never silently
changes the API: a response field that loses its source is an error, not a null.

Length and size limits mirror the database columns, so an over-long value is a 422 here
rather than a database error later.
"""

from unitrace.web.schemas.access import (
    ApiKeyCreate,
    ApiKeyCreatedPublic,
    ApiKeyPublic,
    ApiKeysPublic,
    UserCreate,
    UserPublic,
    UsersPublic,
    UserUpdate,
)
from unitrace.web.schemas.catalog import (
    AnalyteCreate,
    AnalytePublic,
    BatchCreate,
    BatchesPublic,
    BatchPublic,
    DocumentPublic,
    LabResultsCreate,
    LabResultsPublic,
    PanelCreate,
    PanelPublic,
    ProductCreate,
    ProductPublic,
    ProductsPublic,
    ProductUpdate,
)
from unitrace.web.schemas.common import (
    MAX_ID,
    NO_NUL,
    ErrorDetail,
    ErrorPublic,
    HealthPublic,
    Id,
    JsonDecimal,
    Name,
    PagePublic,
)
from unitrace.web.schemas.organizations import (
    LocationCreate,
    LocationPublic,
    LocationsPublic,
    LocationUpdate,
    OrganizationPublic,
    OrganizationUpdate,
)
from unitrace.web.schemas.units import (
    CommissioningCreate,
    CommissioningPublic,
    UnitPublic,
    UnitsPublic,
)

__all__ = [
    "MAX_ID",
    "NO_NUL",
    "AnalyteCreate",
    "AnalytePublic",
    "ApiKeyCreate",
    "ApiKeyCreatedPublic",
    "ApiKeyPublic",
    "ApiKeysPublic",
    "BatchCreate",
    "BatchPublic",
    "BatchesPublic",
    "CommissioningCreate",
    "CommissioningPublic",
    "DocumentPublic",
    "ErrorDetail",
    "ErrorPublic",
    "HealthPublic",
    "Id",
    "JsonDecimal",
    "LabResultsCreate",
    "LabResultsPublic",
    "LocationCreate",
    "LocationPublic",
    "LocationUpdate",
    "LocationsPublic",
    "Name",
    "OrganizationPublic",
    "OrganizationUpdate",
    "PagePublic",
    "PanelCreate",
    "PanelPublic",
    "ProductCreate",
    "ProductPublic",
    "ProductUpdate",
    "ProductsPublic",
    "UnitPublic",
    "UnitsPublic",
    "UserCreate",
    "UserPublic",
    "UserUpdate",
    "UsersPublic",
]
