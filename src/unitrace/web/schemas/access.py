"""Users and API keys of the caller's organization."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import Field

from unitrace.domain.model import ApiKey, Role
from unitrace.web.schemas.common import ItemsPublic, Name, Public, Schema, text


class UserPublic(Public):
    id: int
    email: str
    name: str
    role: Role
    is_active: bool
    created_at: dt.datetime


class UsersPublic(ItemsPublic[UserPublic]): ...


class UserCreate(Schema):
    email: Annotated[str, text(320, min_length=3)] = Field(examples=["sam@example.com"])
    name: Annotated[str, text(200)] = ""
    password: Annotated[str, text(200, min_length=1)]
    role: Role = Role.VIEWER


class UserUpdate(Schema):
    is_active: bool


class ApiKeyPublic(Public):
    id: int
    name: str
    prefix: str = Field(description="The public part of the key, to recognise it in lists.")
    role: Role
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


class ApiKeysPublic(ItemsPublic[ApiKeyPublic]): ...


class ApiKeyCreate(Schema):
    name: Name
    role: Role = Role.OPERATOR


class ApiKeyCreatedPublic(ApiKeyPublic):
    secret: str = Field(
        description="The full key. Shown only in this response: store it now.",
        examples=["ut_3f9a1c2b7d4e_Jx…"],
    )

    @classmethod
    def created(cls, key: ApiKey, secret: str) -> ApiKeyCreatedPublic:
        return cls(**ApiKeyPublic.of(key).model_dump(), secret=secret)
