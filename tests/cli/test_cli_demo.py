"""``unitrace demo load`` and the server banner's demo detection."""

from __future__ import annotations

import json

from tests.cli.conftest import Unitrace, ok
from tests.factories import make_org
from unitrace.services.demo import DEMO_LOGINS
from unitrace.services.runtime import Runtime


def test_the_demo_loads_into_an_empty_database_and_prints_the_logins(unitrace: Unitrace) -> None:
    result = ok(unitrace("demo", "load", "--units-per-batch", "3"))

    assert "Demo data loaded: 6 serialized units." in result.stdout
    assert all(login.email in result.stdout for login in DEMO_LOGINS)
    orgs = json.loads(ok(unitrace("orgs", "list", "--json")).stdout)
    assert DEMO_LOGINS[0].organization in [o["name"] for o in orgs]


def test_the_demo_is_not_loaded_over_existing_data(unitrace: Unitrace, rt: Runtime) -> None:
    make_org(rt, name="Already Here")

    result = ok(unitrace("demo", "load", "--if-empty"))

    assert result.stdout == "The database already has data; demo not loaded.\n"
    orgs = json.loads(ok(unitrace("orgs", "list", "--json")).stdout)
    assert [o["name"] for o in orgs] == ["Already Here"]


def test_forcing_the_demo_twice_fails_cleanly(unitrace: Unitrace) -> None:
    ok(unitrace("demo", "load", "--units-per-batch", "1"))

    result = unitrace("demo", "load", "--force", "--units-per-batch", "1")

    assert result.exit_code == 1
    assert result.stderr.startswith("Error: an organization named 'Green Valley Farms'")
