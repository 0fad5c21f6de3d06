"""What every command receives through the typer context: settings, runtime, principal."""

from __future__ import annotations

from dataclasses import dataclass, field

import typer

from unitrace.cli.output import fail, redact_url
from unitrace.config import Settings
from unitrace.domain.model import Principal
from unitrace.services.operator import operator_principal
from unitrace.services.runtime import Runtime, build_runtime, database_status


@dataclass
class CliState:
    """Built once by the root callback; the runtime is connected on first use."""

    settings: Settings
    _runtime: Runtime | None = field(default=None, repr=False)
    _schema_checked: bool = field(default=False, repr=False)

    def runtime(self, *, require_schema: bool = True) -> Runtime:
        if self._runtime is None:
            self._runtime = build_runtime(self.settings)
        if require_schema and not self._schema_checked:
            _check_schema(self._runtime)
            self._schema_checked = True
        return self._runtime

    def close(self) -> None:
        if self._runtime is not None:
            self._runtime.close()
            self._runtime = None


def _check_schema(rt: Runtime) -> None:
    """Refuse to run against a database that is not at this code's schema revision.

    Without this, a command on a fresh or outdated database fails deep inside SQL.
    """
    current, head = database_status(rt)
    if current != head:
        found = f"revision {current}" if current else "no unitrace schema"
        raise fail(
            f"the database ({redact_url(rt.settings.database_url)}) has {found}; "
            f"this unitrace needs revision {head}. Run `unitrace db upgrade` first."
        )


def state(ctx: typer.Context) -> CliState:
    found = ctx.find_object(CliState)
    if found is None:  # pragma: no cover - the root callback always sets it
        raise RuntimeError("the unitrace root callback did not run")
    return found


def runtime(ctx: typer.Context, *, require_schema: bool = True) -> Runtime:
    """The runtime, connected on first use; checks the schema revision unless told not to."""
    return state(ctx).runtime(require_schema=require_schema)


def acting_for(ctx: typer.Context, org: str) -> tuple[Runtime, Principal]:
    """The runtime and the operator's admin principal for the organization named ``org``."""
    rt = runtime(ctx)
    return rt, operator_principal(rt, org)
