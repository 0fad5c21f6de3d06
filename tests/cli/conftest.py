"""CLI fixtures: the real ``unitrace`` app under typer's CliRunner, on the test database."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import pytest
from typer.testing import CliRunner, Result

from tests.factories import make_org
from unitrace.cli.main import app
from unitrace.config import Settings
from unitrace.domain.model import Principal
from unitrace.services.runtime import Runtime

BRAND = "Acme Farms"


class Unitrace(Protocol):
    def __call__(
        self, *args: str, input: str | None = None, env: dict[str, str | None] | None = None
    ) -> Result: ...


@pytest.fixture
def cli_env(app_settings: Settings) -> dict[str, str | None]:
    """The environment a CLI run sees: the test database and data directory, no default org."""
    return {
        "UNITRACE_DATABASE_URL": app_settings.database_url,
        "UNITRACE_DATA_DIR": str(app_settings.data_dir),
        "UNITRACE_RESOLVER_BASE_URL": app_settings.resolver_base_url,
        "UNITRACE_MAX_COMMISSION_QUANTITY": str(app_settings.max_commission_quantity),
        "UNITRACE_ORG": None,
    }


@pytest.fixture
def unitrace(cli_env: dict[str, str | None]) -> Unitrace:
    """Run ``unitrace ARGS…`` in-process; returns typer's Result (stdout, stderr, exit_code)."""
    runner = CliRunner()

    def run(
        *args: str, input: str | None = None, env: dict[str, str | None] | None = None
    ) -> Result:
        return runner.invoke(app, list(args), input=input, env={**cli_env, **(env or {})})

    return run


@pytest.fixture
def brand(rt: Runtime) -> Principal:
    """The admin of a brand called ``Acme Farms`` (with one location)."""
    return make_org(rt, name=BRAND)


def ok(result: Result) -> Result:
    """Assert the command succeeded, showing its output when it did not."""
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    return result


JsonLoader = Callable[[Result], object]
