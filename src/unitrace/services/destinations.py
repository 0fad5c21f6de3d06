"""Where a shipment may go: the organizations that receive, with their locations."""

from __future__ import annotations

from dataclasses import dataclass

from unitrace.domain.lifecycle import RULES, Operation
from unitrace.domain.model import Location, Organization, Principal
from unitrace.services.runtime import Runtime
from unitrace.storage import orgs as store


@dataclass(frozen=True)
class Destination:
    organization: Organization
    locations: tuple[Location, ...]


def list_destinations(rt: Runtime, principal: Principal) -> list[Destination]:
    """Every organization that may receive shipments (the caller's own first), with its
    locations: what a shipper chooses from. Names and places only, nothing of their stock."""
    receivers = RULES[Operation.RECEIVE].kinds
    with rt.db.read() as conn:
        found = [
            Destination(org, tuple(store.list_locations(conn, org.id)))
            for org in store.list_organizations(conn)
            if org.kind in receivers
        ]
    found.sort(key=lambda d: (d.organization.id != principal.organization_id, d.organization.name))
    return [d for d in found if d.locations]
