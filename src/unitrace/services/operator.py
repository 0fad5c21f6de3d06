"""The installation operator: acting for an organization from the command line.

Whoever runs ``unitrace`` on the server already holds the database credentials, so the CLI
does not log in: it names an organization and acts with that organization's admin role.
"""

from __future__ import annotations

from unitrace.domain.model import Principal, Role
from unitrace.errors import NotFoundError
from unitrace.services.runtime import Runtime
from unitrace.storage import orgs as store


def operator_principal(rt: Runtime, organization_name: str) -> Principal:
    """An admin principal for the organization called ``organization_name`` (any case).

    Raises ``NotFoundError`` when no organization has that name.
    """
    name = organization_name.strip()
    with rt.db.read() as conn:
        org = store.find_organization_by_name(conn, name) if name else None
    if org is None:
        raise NotFoundError(f"no organization is named {name!r}")
    return Principal(
        organization_id=org.id, role=Role.ADMIN, display=f"installation operator for {org.name}"
    )
