"""Access: users, passwords, API keys, web sessions and the role check.

Passwords are hashed with Argon2id (argon2-cffi defaults, RFC 9106 low-memory profile).
API keys and session tokens are 256-bit random secrets, so a fast SHA-256 of them is
enough to store: there is nothing to brute-force. Keys are shown once, at creation.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.exc import IntegrityError

from unitrace.domain.model import ApiKey, Principal, Role, User
from unitrace.errors import (
    AuthenticationError,
    ConflictError,
    PermissionDeniedError,
    ValidationError,
)
from unitrace.services.runtime import Runtime
from unitrace.storage import access as store

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the e-mail is unknown, so both paths cost one Argon2 check."""
    return _hasher.hash(secrets.token_urlsafe(16))


API_KEY_PREFIX = "ut_"
MIN_PASSWORD_LENGTH = 10
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


def require(principal: Principal, role: Role) -> None:
    """Raise unless ``principal`` has at least ``role`` in its organization."""
    if not principal.allows(role):
        raise PermissionDeniedError(f"this action needs the {role.value} role")


def _sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(f"passwords need at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


def _normalize_email(email: str) -> str:
    email = email.strip().lower()
    if "@" not in email or email.startswith("@") or email.endswith("@") or " " in email:
        raise ValidationError(f"'{email}' is not an e-mail address")
    return email


def create_user(
    rt: Runtime,
    principal: Principal | None,
    *,
    organization_id: int,
    email: str,
    name: str,
    password: str,
    role: Role,
) -> User:
    """Add a user. ``principal`` None means the installation operator (CLI, demo loader)."""
    if principal is not None:
        require(principal, Role.ADMIN)
        organization_id = principal.organization_id
    email = _normalize_email(email)
    password_hash = hash_password(password)
    try:
        with rt.db.transaction() as conn:
            user_id = store.insert_user(
                conn,
                organization_id=organization_id,
                email=email,
                name=name.strip() or email,
                password_hash=password_hash,
                role=role.value,
                created_at=rt.clock(),
            )
            return store.get_user(conn, organization_id, user_id)
    except IntegrityError as exc:
        raise ConflictError(f"a user with e-mail {email} already exists") from exc


def list_users(rt: Runtime, principal: Principal) -> list[User]:
    require(principal, Role.ADMIN)
    with rt.db.read() as conn:
        return store.list_users(conn, principal.organization_id)


def set_user_active(rt: Runtime, principal: Principal, *, user_id: int, active: bool) -> User:
    require(principal, Role.ADMIN)
    if user_id == principal.user_id and not active:
        raise ValidationError("you cannot deactivate yourself")
    with rt.db.transaction() as conn:
        store.update_user(conn, principal.organization_id, user_id, is_active=active)
        return store.get_user(conn, principal.organization_id, user_id)


def principal_for_user(user: User) -> Principal:
    return Principal(
        organization_id=user.organization_id, role=user.role, user_id=user.id, display=user.email
    )


def authenticate_password(rt: Runtime, *, email: str, password: str) -> User:
    """The active user with these credentials; one generic error for every failure."""
    with rt.db.read() as conn:
        found = store.find_user_credentials(conn, email.strip().lower())
    stored_hash = found[1] if found else _dummy_hash()
    try:
        _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        found = None
    if found is None or not found[0].is_active:
        raise AuthenticationError("wrong e-mail or password")
    return found[0]


@dataclass(frozen=True)
class NewSession:
    token: str
    csrf_token: str
    expires_at: dt.datetime
    user: User


def start_session(rt: Runtime, user: User) -> NewSession:
    """Open a web session: the token goes in a cookie and is stored only as a hash."""
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    now = rt.clock()
    expires = now + dt.timedelta(hours=rt.settings.session_hours)
    with rt.db.transaction() as conn:
        store.delete_expired_sessions(conn, now)
        store.insert_session(
            conn,
            user_id=user.id,
            token_hash=_sha256(token),
            csrf_token=csrf,
            created_at=now,
            expires_at=expires,
        )
    return NewSession(token=token, csrf_token=csrf, expires_at=expires, user=user)


def resolve_session(rt: Runtime, token: str) -> tuple[Principal, str]:
    """The principal and CSRF token behind a session cookie."""
    with rt.db.read() as conn:
        found = store.find_session(conn, _sha256(token), rt.clock())
    if found is None:
        raise AuthenticationError("your session has ended; please log in again")
    user, csrf = found
    return principal_for_user(user), csrf


def end_session(rt: Runtime, token: str) -> None:
    with rt.db.transaction() as conn:
        store.delete_session(conn, _sha256(token))


@dataclass(frozen=True)
class NewApiKey:
    key: ApiKey
    secret: str  # shown once; only its hash is stored


def create_api_key(
    rt: Runtime,
    principal: Principal | None,
    *,
    name: str,
    role: Role,
    organization_id: int | None = None,
) -> NewApiKey:
    """Issue an API key ``ut_<prefix>_<secret>``; the full key is returned only now."""
    if principal is not None:
        require(principal, Role.ADMIN)
        organization_id = principal.organization_id
    if organization_id is None:
        raise ValidationError("an API key belongs to an organization")
    prefix = secrets.token_hex(6)
    secret = f"{API_KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    with rt.db.transaction() as conn:
        key_id = store.insert_api_key(
            conn,
            organization_id=organization_id,
            name=name.strip() or "API key",
            prefix=prefix,
            secret_hash=_sha256(secret),
            role=role.value,
            created_by_user_id=principal.user_id if principal else None,
            created_at=rt.clock(),
        )
        key = next(k for k in store.list_api_keys(conn, organization_id) if k.id == key_id)
    return NewApiKey(key=key, secret=secret)


def authenticate_api_key(rt: Runtime, secret: str) -> Principal:
    """The principal of a live API key; one generic error for every failure."""
    parts = secret.strip().split("_", 2)
    if len(parts) != 3 or parts[0] + "_" != API_KEY_PREFIX:
        raise AuthenticationError("invalid API key")
    with rt.db.read() as conn:
        found = store.find_api_key_by_prefix(conn, parts[1])
    if found is None or not hmac.compare_digest(found[1], _sha256(secret.strip())):
        raise AuthenticationError("invalid API key")
    key = found[0]
    if key.revoked_at is not None:
        raise AuthenticationError("invalid API key")
    now = rt.clock()
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
        # Recorded at most once a minute per key: a write on every call would cost more
        # than the call itself.
        with rt.db.transaction() as conn:
            store.touch_api_key(conn, key.id, now)
    return Principal(
        organization_id=key.organization_id,
        role=key.role,
        api_key_id=key.id,
        display=f"API key {key.name}",
    )


def list_api_keys(rt: Runtime, principal: Principal) -> list[ApiKey]:
    require(principal, Role.ADMIN)
    with rt.db.read() as conn:
        return store.list_api_keys(conn, principal.organization_id)


def revoke_api_key(rt: Runtime, principal: Principal, *, api_key_id: int) -> None:
    require(principal, Role.ADMIN)
    with rt.db.transaction() as conn:
        store.revoke_api_key(conn, principal.organization_id, api_key_id, rt.clock())
