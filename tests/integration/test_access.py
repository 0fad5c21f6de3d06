"""Users, passwords, sessions, API keys and organization scoping."""

from __future__ import annotations

import pytest

from tests.factories import PASSWORD, as_role, make_org
from unitrace.adapters.clock import FixedClock
from unitrace.domain.model import LocationKind, OrganizationKind, Role
from unitrace.errors import (
    AuthenticationError,
    ConflictError,
    PermissionDeniedError,
    ValidationError,
)
from unitrace.services import access, organizations
from unitrace.services.runtime import Runtime
from unitrace.storage.schema import users


def test_passwords_are_stored_as_argon2id_hashes_never_in_clear(rt: Runtime) -> None:
    admin = make_org(rt)
    with rt.db.read() as conn:
        stored = conn.execute(users.select().where(users.c.id == admin.user_id)).one()
    assert stored.password_hash.startswith("$argon2id$")
    assert PASSWORD not in stored.password_hash


def test_login_accepts_the_right_password_with_any_email_case(rt: Runtime) -> None:
    admin = make_org(rt)
    user = access.authenticate_password(rt, email=admin.display.upper(), password=PASSWORD)
    assert user.id == admin.user_id


def test_a_wrong_password_and_an_unknown_email_fail_the_same_way(rt: Runtime) -> None:
    admin = make_org(rt)
    with pytest.raises(AuthenticationError) as wrong:
        access.authenticate_password(rt, email=admin.display, password="nope nope nope")
    with pytest.raises(AuthenticationError) as unknown:
        access.authenticate_password(rt, email="nobody@example.test", password="nope nope nope")
    assert str(wrong.value) == str(unknown.value)


def test_a_deactivated_user_can_no_longer_log_in_or_use_a_session(rt: Runtime) -> None:
    admin = make_org(rt)
    colleague = access.create_user(
        rt,
        admin,
        organization_id=0,
        email="c@x.example",
        name="C",
        password=PASSWORD,
        role=Role.OPERATOR,
    )
    assert colleague.organization_id == admin.organization_id  # the admin's own org, always
    session = access.start_session(rt, colleague)
    access.set_user_active(rt, admin, user_id=colleague.id, active=False)
    with pytest.raises(AuthenticationError):
        access.authenticate_password(rt, email="c@x.example", password=PASSWORD)
    with pytest.raises(AuthenticationError):
        access.resolve_session(rt, session.token)


def test_sessions_expire_and_end_at_logout(rt: Runtime, clock: FixedClock) -> None:
    admin = make_org(rt)
    user = access.authenticate_password(rt, email=admin.display, password=PASSWORD)
    session = access.start_session(rt, user)
    principal, csrf = access.resolve_session(rt, session.token)
    assert principal.user_id == user.id and csrf == session.csrf_token
    clock.advance(hours=rt.settings.session_hours, seconds=1)
    with pytest.raises(AuthenticationError):
        access.resolve_session(rt, session.token)
    second = access.start_session(rt, user)
    access.end_session(rt, second.token)
    with pytest.raises(AuthenticationError):
        access.resolve_session(rt, second.token)


def test_short_passwords_and_duplicate_emails_are_refused(rt: Runtime) -> None:
    admin = make_org(rt)
    with pytest.raises(ValidationError, match="10 characters"):
        access.create_user(
            rt,
            admin,
            organization_id=0,
            email="s@x.example",
            name="S",
            password="short",
            role=Role.VIEWER,
        )
    with pytest.raises(ConflictError):
        access.create_user(
            rt,
            admin,
            organization_id=0,
            email=admin.display.upper(),
            name="D",
            password=PASSWORD,
            role=Role.VIEWER,
        )


def test_an_api_key_authenticates_until_revoked_and_is_stored_only_as_a_hash(rt: Runtime) -> None:
    admin = make_org(rt)
    issued = access.create_api_key(rt, admin, name="POS", role=Role.OPERATOR)
    principal = access.authenticate_api_key(rt, issued.secret)
    assert principal.organization_id == admin.organization_id and principal.role is Role.OPERATOR
    with rt.db.read() as conn:
        dump = str(conn.exec_driver_sql("SELECT * FROM api_keys").all())
    assert issued.secret not in dump and issued.secret.split("_", 2)[2] not in dump
    access.revoke_api_key(rt, admin, api_key_id=issued.key.id)
    with pytest.raises(AuthenticationError):
        access.authenticate_api_key(rt, issued.secret)


@pytest.mark.parametrize("bad", ["", "ut_", "ut_abc", "Bearer x", "ut_000000000000_guess"])
def test_malformed_or_guessed_api_keys_are_refused(rt: Runtime, bad: str) -> None:
    make_org(rt)
    with pytest.raises(AuthenticationError, match="invalid API key"):
        access.authenticate_api_key(rt, bad)


def test_a_tampered_api_key_secret_is_refused(rt: Runtime) -> None:
    issued = access.create_api_key(rt, make_org(rt), name="k", role=Role.VIEWER)
    tampered = issued.secret[:-1] + ("A" if issued.secret[-1] != "A" else "B")
    with pytest.raises(AuthenticationError):
        access.authenticate_api_key(rt, tampered)


def test_only_admins_manage_users_keys_and_locations(rt: Runtime) -> None:
    operator = as_role(make_org(rt), Role.OPERATOR)
    with pytest.raises(PermissionDeniedError):
        access.create_api_key(rt, operator, name="k", role=Role.ADMIN)
    with pytest.raises(PermissionDeniedError):
        access.list_users(rt, operator)
    with pytest.raises(PermissionDeniedError):
        organizations.create_location(
            rt, operator, organizations.LocationDraft("Store", LocationKind.STORE)
        )


def test_an_organization_sees_only_its_own_locations_and_gln_is_check_digit_validated(
    rt: Runtime,
) -> None:
    a, b = make_org(rt), make_org(rt, kind=OrganizationKind.RETAILER)
    organizations.create_location(
        rt, b, organizations.LocationDraft("Store 1", LocationKind.STORE, gln="9506000134352")
    )
    assert [loc.name for loc in organizations.list_locations(rt, b)][-1] == "Store 1"
    assert all(
        loc.organization_id == a.organization_id for loc in organizations.list_locations(rt, a)
    )
    with pytest.raises(ValidationError, match="check digit"):
        organizations.create_location(
            rt, b, organizations.LocationDraft("Store 2", LocationKind.STORE, gln="9506000134353")
        )


def test_organizations_need_a_name_license_and_market(rt: Runtime) -> None:
    with pytest.raises(ValidationError) as exc:
        organizations.create_organization(
            rt, organizations.OrganizationDraft(" ", OrganizationKind.BRAND, "", "", "12")
        )
    assert {d["field"] for d in exc.value.details} == {
        "name",
        "license_number",
        "market",
        "gs1_company_prefix",
    }


def test_an_api_keys_last_use_is_recorded_at_most_once_a_minute(
    rt: Runtime, clock: FixedClock
) -> None:
    admin = make_org(rt)
    issued = access.create_api_key(rt, admin, name="POS", role=Role.OPERATOR)
    assert access.list_api_keys(rt, admin)[0].last_used_at is None
    first_use = clock.now
    access.authenticate_api_key(rt, issued.secret)
    clock.advance(seconds=30)
    access.authenticate_api_key(rt, issued.secret)
    assert access.list_api_keys(rt, admin)[0].last_used_at == first_use
    clock.advance(minutes=2)
    access.authenticate_api_key(rt, issued.secret)
    assert access.list_api_keys(rt, admin)[0].last_used_at == clock.now
