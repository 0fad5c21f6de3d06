"""``unitrace db``: migrating a database and reporting its revision."""

from __future__ import annotations

from pathlib import Path

from tests.cli.conftest import Unitrace, ok
from unitrace.cli.output import redact_url


def test_db_upgrade_migrates_a_fresh_database_and_is_idempotent(
    unitrace: Unitrace, tmp_path: Path
) -> None:
    env: dict[str, str | None] = {"UNITRACE_DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.db'}"}

    first = ok(unitrace("db", "upgrade", env=env))
    second = ok(unitrace("db", "upgrade", env=env))

    assert f"Database: sqlite:///{tmp_path / 'fresh.db'}" in first.stdout
    assert "Upgraded: (empty database) → " in first.stdout
    assert "Already at the latest revision" in second.stdout
    status = ok(unitrace("db", "status", env=env))
    assert "Up to date." in status.stdout


def test_db_status_says_when_a_database_needs_an_upgrade(
    unitrace: Unitrace, tmp_path: Path
) -> None:
    env: dict[str, str | None] = {"UNITRACE_DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.db'}"}

    status = ok(unitrace("db", "status", env=env))

    assert "Current revision: (empty database)" in status.stdout
    assert "Needs an upgrade: run `unitrace db upgrade`." in status.stdout


def test_the_database_url_option_overrides_the_environment(
    unitrace: Unitrace, tmp_path: Path
) -> None:
    chosen = tmp_path / "chosen.db"

    ok(unitrace("--database-url", f"sqlite:///{chosen}", "db", "upgrade"))

    assert chosen.exists()
    status = ok(unitrace("--database-url", f"sqlite:///{chosen}", "db", "status"))
    assert "Up to date." in status.stdout


def test_a_command_on_an_unmigrated_database_says_to_run_db_upgrade(
    unitrace: Unitrace, tmp_path: Path
) -> None:
    env: dict[str, str | None] = {"UNITRACE_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}"}

    result = unitrace("orgs", "list", env=env)

    assert result.exit_code == 1
    assert "has no unitrace schema" in result.stderr
    assert "Run `unitrace db upgrade` first." in result.stderr
    assert result.stdout == ""


def test_a_password_in_a_printed_database_url_is_masked() -> None:
    assert redact_url("postgresql://ut:s3cret@db:5432/x") == "postgresql://ut:***@db:5432/x"
    assert redact_url("postgresql://ut@db/x") == "postgresql://ut@db/x"
    assert redact_url("sqlite:///./unitrace.db") == "sqlite:///./unitrace.db"


def test_an_invalid_setting_is_reported_by_its_variable_name(unitrace: Unitrace) -> None:
    result = unitrace("orgs", "list", env={"UNITRACE_PORT": "eighty"})

    assert result.exit_code == 1
    assert result.stderr.startswith("Error: UNITRACE_PORT: ")
