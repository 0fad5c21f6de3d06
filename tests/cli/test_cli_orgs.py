"""Operator commands: organizations, locations, users and API keys."""

from __future__ import annotations

import json

import pytest

from tests.cli.conftest import BRAND, Unitrace, ok
from unitrace.domain.model import Principal
from unitrace.errors import AuthenticationError
from unitrace.services import access
from unitrace.services.runtime import Runtime


def test_an_operator_registers_an_organization_and_sees_it_in_the_json_list(
    unitrace: Unitrace,
) -> None:
    created = unitrace(
        "orgs", "create", "--name", "Blue Ridge", "--kind", "brand",
        "--license", "CCL-1", "--market", "ca", "--gs1-prefix", "0950600",
    )  # fmt: skip

    ok(created)
    assert "Blue Ridge" in created.stdout
    listed = json.loads(ok(unitrace("orgs", "list", "--json")).stdout)
    assert [(o["name"], o["kind"], o["market"], o["gs1_company_prefix"]) for o in listed] == [
        ("Blue Ridge", "brand", "CA", "0950600")
    ]


def test_a_duplicate_organization_is_refused_on_stderr(
    unitrace: Unitrace, brand: Principal
) -> None:
    result = unitrace(
        "orgs", "create", "--name", BRAND, "--kind", "brand", "--license", "X", "--market", "CA"
    )

    assert result.exit_code == 1
    assert result.stderr == f"Error: an organization named {BRAND!r} already exists\n"
    assert result.stdout == ""


def test_every_invalid_field_is_reported_on_its_own_line(unitrace: Unitrace) -> None:
    result = unitrace(
        "orgs", "create", "--name", "Nameless", "--kind", "retailer",
        "--license", " ", "--market", "", "--gs1-prefix", "12",
    )  # fmt: skip

    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "Error: the organization is not valid",
        "  license_number: a license number is required",
        "  market: a market (state or jurisdiction) is required",
        "  gs1_company_prefix: a GS1 company prefix has 6 to 12 digits",
    ]


def test_an_unknown_org_is_an_error_with_exit_code_1(unitrace: Unitrace, brand: Principal) -> None:
    result = unitrace("locations", "list", "--org", "Nobody Inc")

    assert result.exit_code == 1
    assert result.stderr == "Error: no organization is named 'Nobody Inc'\n"


def test_the_org_comes_from_unitrace_org_when_not_given(
    unitrace: Unitrace, brand: Principal
) -> None:
    result = unitrace("locations", "list", "--json", env={"UNITRACE_ORG": BRAND.upper()})

    locations = json.loads(ok(result).stdout)
    assert [loc["organization_id"] for loc in locations] == [brand.organization_id]


def test_a_command_without_any_org_is_a_usage_error(unitrace: Unitrace, brand: Principal) -> None:
    result = unitrace("locations", "list")

    assert result.exit_code == 2
    assert "--org" in result.stderr


def test_a_location_is_added_and_listed(unitrace: Unitrace, brand: Principal) -> None:
    ok(
        unitrace(
            "locations", "create", "--org", BRAND, "--name", "Davis Store", "--kind", "store",
            "--city", "Davis", "--address", "2 Elm St", "--gln", "0950600000019",
        )
    )  # fmt: skip

    listed = json.loads(ok(unitrace("locations", "list", "--org", BRAND, "--json")).stdout)
    store = next(loc for loc in listed if loc["name"] == "Davis Store")
    assert (store["kind"], store["city"], store["gln"]) == ("store", "Davis", "0950600000019")


def test_a_location_with_a_bad_gln_is_refused(unitrace: Unitrace, brand: Principal) -> None:
    result = unitrace(
        "locations", "create", "--org", BRAND, "--name", "X", "--kind", "store",
        "--gln", "0950600000018",
    )  # fmt: skip

    assert result.exit_code == 1
    assert result.stderr.startswith("Error: GLN 0950600000018 has check digit 8; expected 9")


def test_a_user_gets_a_prompted_password_that_is_never_echoed(
    unitrace: Unitrace, brand: Principal, rt: Runtime
) -> None:
    password = "a long enough secret"

    result = unitrace(
        "users", "create", "--org", BRAND, "--email", "Ann@Acme.example",
        "--name", "Ann", "--role", "operator",
        input=f"{password}\n{password}\n",
    )  # fmt: skip

    ok(result)
    assert password not in result.output
    user = access.authenticate_password(rt, email="ann@acme.example", password=password)
    assert (user.name, user.role, user.organization_id) == (
        "Ann",
        "operator",
        brand.organization_id,
    )
    users = json.loads(ok(unitrace("users", "list", "--org", BRAND, "--json")).stdout)
    assert "ann@acme.example" in [u["email"] for u in users]


def test_a_mistyped_password_confirmation_is_asked_again(
    unitrace: Unitrace, brand: Principal, rt: Runtime
) -> None:
    result = unitrace(
        "users", "create", "--org", BRAND, "--email", "bo@acme.example", "--name", "Bo",
        "--role", "viewer",
        input="first password\nsecond password\nthird password\nthird password\n",
    )  # fmt: skip

    ok(result)
    user = access.authenticate_password(rt, email="bo@acme.example", password="third password")
    assert user.role == "viewer"


def test_a_short_password_is_refused(unitrace: Unitrace, brand: Principal) -> None:
    result = unitrace(
        "users", "create", "--org", BRAND, "--email", "cy@acme.example", "--name", "Cy",
        "--role", "admin", "--password", "short",
    )  # fmt: skip

    assert result.exit_code == 1
    assert result.stderr == "Error: passwords need at least 10 characters\n"


def test_an_api_key_is_shown_once_works_and_can_be_revoked(
    unitrace: Unitrace, brand: Principal, rt: Runtime
) -> None:
    created = ok(
        unitrace("apikeys", "create", "--org", BRAND, "--name", "POS", "--role", "operator")
    )
    secret = next(line for line in created.stdout.splitlines() if line.startswith("ut_"))
    assert "Store this key now" in created.stderr
    principal = access.authenticate_api_key(rt, secret)
    assert (principal.organization_id, principal.role) == (brand.organization_id, "operator")

    keys = json.loads(ok(unitrace("apikeys", "list", "--org", BRAND, "--json")).stdout)
    assert [(k["name"], k["revoked_at"]) for k in keys] == [("POS", None)]
    assert secret not in json.dumps(keys)

    revoked = ok(unitrace("apikeys", "revoke", "--org", BRAND, str(principal.api_key_id)))
    assert f"API key {principal.api_key_id} revoked." in revoked.stdout
    with pytest.raises(AuthenticationError):
        access.authenticate_api_key(rt, secret)


def test_an_api_key_created_with_json_carries_its_secret(
    unitrace: Unitrace, brand: Principal, rt: Runtime
) -> None:
    created = json.loads(
        ok(unitrace("apikeys", "create", "--org", BRAND, "--name", "ERP", "--role", "viewer",
                    "--json")).stdout
    )  # fmt: skip

    assert access.authenticate_api_key(rt, created["secret"]).api_key_id == created["id"]


def test_revoking_an_unknown_api_key_fails(unitrace: Unitrace, brand: Principal) -> None:
    result = unitrace("apikeys", "revoke", "--org", BRAND, "9999")

    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ")


def test_an_organization_made_private_answers_public_scans_like_an_unknown_code(
    unitrace: Unitrace, rt: Runtime, brand: Principal
) -> None:
    from tests.factories import make_batch
    from unitrace.domain.codes import generate_code
    from unitrace.services import serialization, verification

    batch = make_batch(rt, brand)
    done = serialization.commission_units(rt, brand, batch_id=batch.id, quantity=1)
    (code,) = serialization.iter_commissioned_codes(rt, brand, event_id=done.event_id)
    assert verification.verify(rt, code).verdict == "authentic"

    shown = json.loads(
        ok(unitrace("orgs", "visibility", str(brand.organization_id), "--private", "--json")).stdout
    )
    assert shown["public_verification"] is False
    private = verification.public_record(rt, verification.verify(rt, code))
    unknown = verification.public_record(rt, verification.verify(rt, generate_code()))
    assert private["verdict"] == "unknown"
    assert {k: v for k, v in private.items() if k != "code"} == {
        k: v for k, v in unknown.items() if k != "code"
    }
    listed = ok(unitrace("orgs", "list")).stdout
    assert "private" in listed

    ok(unitrace("orgs", "visibility", str(brand.organization_id), "--public"))
    assert verification.verify(rt, code).verdict == "authentic"
    missing = unitrace("orgs", "visibility", "999999", "--public")
    assert missing.exit_code == 1 and "not found" in missing.stderr
