"""Liveness: is this process up, and can it reach its database?"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import SQLAlchemyError

from unitrace import __version__
from unitrace.services.runtime import Runtime
from unitrace.storage import migrate


@dataclass(frozen=True)
class Health:
    ok: bool
    version: str
    database: str  # "sqlite" or "postgresql"


def check_health(rt: Runtime) -> Health:
    """Report the version and database backend; ``ok`` is False when the database is unreachable.

    Reading the schema revision is a real round trip to the database, cheap enough for a
    load balancer to call every few seconds.
    """
    try:
        migrate.current_revision(rt.db)
    except SQLAlchemyError:
        ok = False
    else:
        ok = True
    return Health(ok=ok, version=__version__, database=rt.db.dialect)
