"""What every service needs, built once per process and passed down."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from unitrace.adapters.clock import Clock, system_clock
from unitrace.adapters.files import FileStore
from unitrace.config import Settings
from unitrace.storage.engine import Database


@dataclass
class Runtime:
    settings: Settings
    db: Database
    files: FileStore
    clock: Clock = field(default=system_clock)
    # Per-process caches of services (the public lookup's batch facts): name -> cache.
    caches: dict[str, Any] = field(default_factory=dict)

    def close(self) -> None:
        self.db.dispose()


def build_runtime(settings: Settings, *, clock: Clock = system_clock) -> Runtime:
    """Connect to the configured database and file store (nothing is created or migrated)."""
    return Runtime(
        settings=settings,
        db=Database.from_url(settings.sqlalchemy_url),
        files=FileStore(settings.data_dir / "files"),
        clock=clock,
    )


def upgrade_database(rt: Runtime) -> tuple[str | None, str | None]:
    """Migrate the schema to the latest revision; returns (before, after) revisions."""
    from unitrace.storage import migrate  # Alembic is heavy: only load it when migrating

    before = migrate.current_revision(rt.db)
    migrate.upgrade(rt.db)
    return before, migrate.current_revision(rt.db)


def database_status(rt: Runtime) -> tuple[str | None, str | None]:
    """(current revision, latest revision)."""
    from unitrace.storage import migrate

    return migrate.current_revision(rt.db), migrate.head_revision()
