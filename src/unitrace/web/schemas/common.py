"""Building blocks shared by every schema module: limits, base classes, errors, pages, health."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Generic, Literal, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, StringConstraints

MAX_ID = 2**31 - 1  # the database's INTEGER
NO_NUL = r"^[^\x00]*$"  # PostgreSQL text cannot hold NUL


def text(max_length: int, *, min_length: int = 0) -> Any:
    return StringConstraints(min_length=min_length, max_length=max_length, pattern=NO_NUL)


Name = Annotated[str, text(200, min_length=1)]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
# Decimals travel as JSON numbers (21.5, not "21.5"): what integrators expect from a lab value.
JsonDecimal = Annotated[Decimal, PlainSerializer(float, return_type=float, when_used="json")]
T = TypeVar("T")


class Schema(BaseModel):
    """Request bodies refuse unknown fields, so a typo is an error rather than ignored."""

    model_config = ConfigDict(extra="forbid")


def refuse_null(value: object) -> object:
    # In an update, leaving a field out keeps it; null would erase a value that is required.
    if value is None:
        raise ValueError("leave this field out to keep it; it cannot be null")
    return value


class Public(BaseModel):
    # Responses read a domain object's attributes of the same names (nested ones included);
    # a response whose fields differ from its domain type overrides ``of``.
    model_config = ConfigDict(from_attributes=True)

    @classmethod
    def of(cls, obj: object) -> Self:
        return cls.model_validate(obj)


class ItemsPublic(Public, Generic[T]):
    items: list[T]

    @classmethod
    def of(cls, obj: object) -> Self:
        """``obj`` is the list of domain objects."""
        return cls.model_validate({"items": obj})


class PagePublic(Public, Generic[T]):
    total: int = Field(description="How many items match the filters, across all pages.")
    limit: int
    offset: int
    items: list[T]


# --- errors and health ------------------------------------------------------------------


class ErrorDetail(BaseModel):
    code: str = Field(examples=["not_found"])
    message: str = Field(examples=["product 42 not found"])
    details: Any = Field(
        default=None,
        description="Field-level problems as [{field, message}] for validation errors.",
    )


class ErrorPublic(BaseModel):
    """Every error the API returns has this shape."""

    error: ErrorDetail


class HealthPublic(BaseModel):
    status: Literal["ok", "unavailable"]
    version: str
    database: str = Field(examples=["sqlite", "postgresql"])
